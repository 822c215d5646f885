"""What `compile` configures: per-output losses, loss weights and metrics.

Resolution happens at trace time, when the shapes of targets and predictions
are known (this is how "accuracy" becomes binary, sparse or categorical
accuracy, as in Keras).
"""
from typing import Any, List, NamedTuple, Optional

import jax
import jax.numpy as jnp

from .. import losses as losses_lib
from .._core import _replica
from . import _output_mask

_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")  # resolved from shapes, like accuracy


class CompiledMetric(NamedTuple):
  log_name: str
  output_index: int
  metric: Any
  # Keras 3: `metrics=` ignore sample (and class) weights, `weighted_metrics=`
  # use them.
  weighted: bool = False


def _flatten(tree, names):
  """Model outputs or targets -> list aligned with `names`."""
  if isinstance(tree, dict):
    missing = [n for n in names if n not in tree]
    if missing:
      raise ValueError(
          f"Expected a dict with keys {names} (one per model output); missing "
          f"{missing}. Received keys: {sorted(tree)}.")
    return [tree[n] for n in names]
  if isinstance(tree, (list, tuple)):
    if len(tree) != len(names):
      raise ValueError(
          f"The model has {len(names)} output(s) {names} but received "
          f"{len(tree)} target arrays. Pass one target per output.")
    return list(tree)
  if len(names) != 1:
    raise ValueError(
        f"The model has {len(names)} outputs {names}: pass targets as a list "
        "or a dict keyed by output name.")
  return [tree]


def _per_output(config, names, what):
  """A loss/metric setting -> list with one entry per output."""
  if isinstance(config, dict):
    unknown = sorted(set(config) - set(names))
    if unknown:
      raise ValueError(
          f"{what} has keys {unknown} that are not model outputs. Output names "
          f"are: {names}.")
    return [config.get(n) for n in names]
  if isinstance(config, (list, tuple)) and len(names) > 1:
    if len(config) != len(names):
      raise ValueError(
          f"{what} is a list of {len(config)} entries, but the model has "
          f"{len(names)} outputs {names}. Pass one entry per output or a "
          "dict keyed by output name.")
    return list(config)
  return [config] * len(names)


class Objective:
  """Losses and metrics of a compiled model, resolved on the first batch."""

  def __init__(self, loss, loss_weights=None, metrics=None, output_names=None,
               weighted_metrics=None):
    self.loss_config = loss
    self.loss_weights_config = loss_weights
    self.metrics_config = metrics
    self.weighted_metrics_config = weighted_metrics
    self.output_names = list(output_names or ["output"])
    self.losses: Optional[List[Any]] = None
    self.loss_weights: Optional[List[float]] = None
    self.metrics: Optional[List[CompiledMetric]] = None
    # Resolve loss names now so unknown names fail at compile time.
    self._validate()

  def _validate(self):
    if self.loss_config is None:
      return
    for l in _per_output(self.loss_config, self.output_names, "loss"):
      if l is not None:
        losses_lib.get(l)
    from .. import metrics as metrics_lib
    for config in (self.metrics_config, self.weighted_metrics_config):
      if config is None:
        continue
      for group in self._groups(config):
        for m in (group or []):
          if m not in _ACCURACY and m not in _CROSSENTROPY:
            metrics_lib.get(m)

  def _groups(self, config):
    """A metrics setting -> one list of metrics per output."""
    config = config or []
    if isinstance(config, dict) or (self.multi_output and config and
                                    isinstance(config[0], (list, tuple))):
      return _per_output(config, self.output_names, "metrics")
    return [config] * len(self.output_names)

  @property
  def multi_output(self):
    return len(self.output_names) > 1

  def build(self, y_true, y_pred):
    """Resolves losses and metrics for these (traced) targets/predictions."""
    if self.losses is not None:
      return
    from .. import metrics as metrics_lib
    if (self.loss_config is None and not self.metrics_config and
        not self.weighted_metrics_config):
      # Nothing compiled to resolve (a custom train_step computes its own
      # losses): any output structure is fine.
      self.losses = [None] * len(self.output_names)
      self.loss_weights = [1.0] * len(self.output_names)
      self.metrics = []
      return
    ys, ps = _flatten(y_true, self.output_names), _flatten(
        y_pred, self.output_names)
    self.losses = [None if l is None else losses_lib.get(l)
                   for l in _per_output(self.loss_config, self.output_names,
                                        "loss")]
    weights = self.loss_weights_config
    if weights is None:
      self.loss_weights = [1.0] * len(self.output_names)
    else:
      self.loss_weights = [1.0 if w is None else float(w) for w in
                           _per_output(weights, self.output_names,
                                       "loss_weights")]
    compiled = []
    for weighted, config in ((False, self.metrics_config),
                             (True, self.weighted_metrics_config)):
      for i, group in enumerate(self._groups(config)):
        for identifier in group or []:
          metric = metrics_lib.resolve_metric(
              identifier, tuple(ys[i].shape), tuple(ps[i].shape),
              loss=self.losses[i])
          name = metric.name
          if weighted and any(c.log_name == name for c in compiled):
            name = "weighted_" + name
          if self.multi_output:
            name = f"{self.output_names[i]}_{name}"
          compiled.append(CompiledMetric(name, i, metric, weighted))
    self.metrics = compiled
    for i, (loss, y, p) in enumerate(zip(self.losses, ys, ps)):
      if loss is not None and y is None:
        raise ValueError(
            f"The loss for output {self.output_names[i]!r} needs targets, but "
            "no y was given. Pass y to fit/evaluate (or yield (x, y) batches).")

  def compute_loss(self, y_true, y_pred, sample_weight=None, mask=None):
    """Total weighted loss and the per-output losses.

    Args:
      y_true, y_pred: targets and predictions (single, list or dict).
      sample_weight: optional weights (single or per output).
      mask: optional (batch,) 0/1 mask of real rows in a padded batch; the
        result then equals the loss of the real rows alone.

    Returns:
      (total_loss, list of per-output losses)
    """
    self.build(y_true, y_pred)
    if all(l is None for l in self.losses):
      return jnp.zeros((), jnp.float32), [None] * len(self.losses)
    ys = _flatten(y_true, self.output_names)
    ps = _flatten(y_pred, self.output_names)
    sws = (_flatten(sample_weight, self.output_names)
           if isinstance(sample_weight, (list, tuple, dict)) else
           [sample_weight] * len(ys))
    total = 0.0
    per_output = []
    for loss, w, y, p, sw in zip(self.losses, self.loss_weights, ys, ps, sws):
      if loss is None:
        per_output.append(None)
        continue
      sw, scale = _output_mask.masked_weights(p, sw, mask, loss, _with_mask)
      if mask is not None and _returns_scalar(loss, y, p):
        value = _per_row_loss(loss, y, p, sw) * scale
      else:
        value = loss(y, p, sample_weight=sw) * scale
      per_output.append(value)
      total = total + w * value
    return jnp.asarray(total, jnp.float32), per_output

  def init_metrics(self):
    return tuple(m.metric.init() for m in self.metrics or [])

  def update_metrics(self, states, y_true, y_pred, sample_weight=None,
                     mask=None):
    ys = _flatten(y_true, self.output_names)
    ps = _flatten(y_pred, self.output_names)
    sws = (_flatten(sample_weight, self.output_names)
           if isinstance(sample_weight, (list, tuple, dict)) else
           [sample_weight] * len(ys))
    new = []
    for m, state in zip(self.metrics, states):
      p = ps[m.output_index]
      base = sws[m.output_index] if m.weighted else None
      if _output_mask.applies_to_metric(m.metric):
        sw, _ = _output_mask.masked_weights(p, base, mask, None, _with_mask)
      else:
        sw, _ = _with_mask(base, mask, None)
      new.append(m.metric.update(state, ys[m.output_index],
                                 ps[m.output_index], sw))
    return tuple(new)

  def metric_results(self, states):
    return {m.log_name: m.metric.result(s)
            for m, s in zip(self.metrics or [], states)}


def _returns_scalar(loss, y, p) -> bool:
  """Whether a loss's unreduced values are one scalar for the batch (a
  custom `loss(y_true, y_pred)` that reduces by itself)."""
  call = getattr(loss, "call", None)
  if call is None:
    return False
  return jax.eval_shape(call, y, p).shape == ()


def _per_row_loss(loss, y, p, weights):
  """A scalar-valued loss on a padded batch: evaluated on each row alone,
  then reduced with the padding mask in `weights`, so padded rows never
  count (equal to the loss of the real rows for losses that average over
  samples, as Keras losses do)."""
  from ..losses import _reduction  # pylint: disable=g-import-not-at-top
  values = jax.vmap(lambda a, b: loss.call(a[None], b[None]))(y, p)
  return _reduction.reduce_weighted_values(
      values, sample_weight=weights, mask=None, reduction=loss.reduction,
      dtype=loss.dtype)


def _with_mask(sample_weight, mask, loss):
  """Folds a padding mask into sample weights; returns (weights, scale).

  For Keras's "sum_over_batch_size" reduction the padded rows still count
  in the divisor, so the scale `batch / real_rows` undoes that. Under pmap
  each replica holds a slice of the global batch and the gradients are
  averaged over replicas: the scale counts the real rows of all replicas, and
  a "sum" loss is multiplied by the replica count, so that the replicas'
  mean is the loss of the whole global batch.
  """
  reduction = getattr(loss, "reduction", None)
  scale = _replica.count() if reduction == "sum" else 1.0
  if mask is None:
    return sample_weight, scale
  if sample_weight is None:
    weights = mask
  else:
    sw = jnp.asarray(sample_weight, jnp.float32)
    weights = sw * jnp.reshape(mask, mask.shape + (1,) * (sw.ndim - 1))
  if reduction in ("sum_over_batch_size", "mean"):
    real = _replica.psum(jnp.sum(mask))  # over the global batch
    scale = mask.shape[0] * _replica.count() / jnp.maximum(real, 1.0)
  return weights, scale
