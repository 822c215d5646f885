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

  def __init__(self, loss, loss_weights=None, metrics=None, output_names=None):
    self.loss_config = loss
    self.loss_weights_config = loss_weights
    self.metrics_config = metrics
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
    if self.metrics_config is not None:
      from .. import metrics as metrics_lib
      entries = _per_output(self.metrics_config, self.output_names, "metrics") \
          if isinstance(self.metrics_config, dict) or (
              len(self.output_names) > 1 and self.metrics_config and
              isinstance(self.metrics_config[0], (list, tuple))) \
          else [self.metrics_config] * len(self.output_names)
      for group in entries:
        for m in (group or []):
          if m not in _ACCURACY and m not in _CROSSENTROPY:
            metrics_lib.get(m)

  @property
  def multi_output(self):
    return len(self.output_names) > 1

  def build(self, y_true, y_pred):
    """Resolves losses and metrics for these (traced) targets/predictions."""
    if self.losses is not None:
      return
    from .. import metrics as metrics_lib
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
    config = self.metrics_config or []
    if isinstance(config, dict) or (self.multi_output and config and
                                    isinstance(config[0], (list, tuple))):
      groups = _per_output(config, self.output_names, "metrics")
    else:
      groups = [config] * len(self.output_names)
    compiled = []
    for i, group in enumerate(groups):
      for identifier in group or []:
        metric = metrics_lib.resolve_metric(
            identifier, tuple(ys[i].shape), tuple(ps[i].shape),
            loss=self.losses[i])
        name = metric.name
        if self.multi_output:
          name = f"{self.output_names[i]}_{name}"
        compiled.append(CompiledMetric(name, i, metric))
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
      if _output_mask.applies_to_metric(m.metric):
        sw, _ = _output_mask.masked_weights(p, sws[m.output_index], mask, None,
                                            _with_mask)
      else:
        sw, _ = _with_mask(sws[m.output_index], mask, None)
      new.append(m.metric.update(state, ys[m.output_index],
                                 ps[m.output_index], sw))
    return tuple(new)

  def metric_results(self, states):
    return {m.log_name: m.metric.result(s)
            for m, s in zip(self.metrics or [], states)}


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
