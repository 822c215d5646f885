"""Area under the ROC or precision-recall curve, from thresholded counts."""

from typing import Optional, Sequence

import jax
import jax.numpy as jnp

from ..losses._reduction import EPSILON
from ..losses._reduction import divide_no_nan
from ._confusion import confusion_counts
from ._confusion import evenly_distributed
from ._metric import Metric

_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATIONS = ("interpolation", "majoring", "minoring")


def _parse_curve(curve) -> str:
  curve = getattr(curve, "value", curve)
  if curve not in ("roc", "ROC", "pr", "PR", "prgain", "PRGAIN"):
    raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values '
                     'are ["PR", "ROC", "PRGAIN"]')
  return _CURVES[curve.lower()]


def _parse_summation(method) -> str:
  method = getattr(method, "value", method)
  if method not in _SUMMATIONS + tuple(m.capitalize() for m in _SUMMATIONS):
    raise ValueError(
        f'Invalid AUC summation method value: "{method}". Expected values '
        f"are {list(_SUMMATIONS)}")
  return method.lower()


class AUC(Metric):
  """Approximate area under the ROC or PR curve, as Keras 3 computes it.

  Scores are compared with `num_thresholds` thresholds spread evenly over
  [0, 1] (plus one just below 0 and one just above 1); the confusion counts
  at each threshold are accumulated over batches and `result` integrates the
  curve with a Riemann sum.

  Args:
    num_thresholds: number of thresholds (> 1), default 200.
    curve: `"ROC"` (default), `"PR"` or `"PRGAIN"`.
    summation_method: `"interpolation"` (default; trapezoids for ROC, the
      Davis & Goadrich interpolation for PR), `"minoring"` or `"majoring"`.
    name: defaults to `"auc"`.
    dtype: defaults to `"float32"`.
    thresholds: optional explicit thresholds in [0, 1] (then
      `num_thresholds` is ignored).
    multi_label: keep one curve per label (last axis of 2-D `y_pred`) and
      average their areas; otherwise all entries are pooled.
    num_labels: number of labels when `multi_label=True` (needed by the pure
      `init`; the stateful facade can infer it from the first batch).
    label_weights: optional per-label weights.
    from_logits: apply a sigmoid to `y_pred` first.

  Example:
    >>> import jax.numpy as jnp
    >>> m = AUC(num_thresholds=3)
    >>> float(m(jnp.array([0., 0., 1., 1.]), jnp.array([0., 0.5, 0.3, 0.9])))
    0.75
  """

  def __init__(self,
               num_thresholds: int = 200,
               curve: str = "ROC",
               summation_method: str = "interpolation",
               name: Optional[str] = None,
               dtype: Optional[str] = None,
               thresholds: Optional[Sequence[float]] = None,
               multi_label: bool = False,
               num_labels: Optional[int] = None,
               label_weights=None,
               from_logits: bool = False):
    super().__init__(name=name, dtype=dtype)
    self.curve = _parse_curve(curve)
    self.summation_method = _parse_summation(summation_method)
    self._init_from_thresholds = thresholds is not None
    if thresholds is not None:
      inner = sorted(float(t) for t in thresholds)
      self.num_thresholds = len(inner) + 2
      self._evenly = evenly_distributed([0.0] + inner + [1.0])
    else:
      if num_thresholds <= 1:
        raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                         f"Received: num_thresholds={num_thresholds}")
      self.num_thresholds = num_thresholds
      inner = [(i + 1) * 1.0 / (num_thresholds - 1)
               for i in range(num_thresholds - 2)]
      self._evenly = True
    self._thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
    if num_labels and not multi_label:
      raise ValueError(
          "`num_labels` is needed only when `multi_label` is True.")
    self.multi_label = multi_label
    self.num_labels = num_labels
    self.label_weights = (None if label_weights is None else
                          jnp.asarray(label_weights, self.dtype))
    self.from_logits = from_logits

  @property
  def thresholds(self):
    """The thresholds, including the two end points."""
    return list(self._thresholds)

  def init(self):
    if self.multi_label:
      if not self.num_labels:
        raise ValueError(
            "AUC(multi_label=True) needs `num_labels` to create its state "
            "before it sees data; pass AUC(multi_label=True, num_labels=...).")
      shape = (self.num_thresholds, self.num_labels)
    else:
      shape = (self.num_thresholds,)
    # Distinct arrays per leaf: a donated state must not alias buffers.
    return {key: jnp.zeros(shape, self.dtype) for key in ("tp", "fp", "tn",
                                                          "fn")}

  def update(self, state, y_true, y_pred, sample_weight=None):
    y_pred = jnp.asarray(y_pred)
    if self.multi_label and y_pred.ndim != 2:
      raise ValueError(
          "`y_pred` must have rank 2 when `multi_label=True`. Found rank "
          f"{y_pred.ndim}. Full shape received for `y_pred`: "
          f"{tuple(y_pred.shape)}")
    if self.from_logits:
      y_pred = jax.nn.sigmoid(y_pred)
    counts = confusion_counts(
        y_true, y_pred, self._thresholds, evenly=self._evenly,
        sample_weight=sample_weight, multi_label=self.multi_label,
        label_weights=None if self.multi_label else self.label_weights,
        dtype=self.dtype)
    return {key: state[key] + counts[key] for key in state}

  def update_state(self, y_true, y_pred, sample_weight=None) -> None:
    if self.multi_label and not self.num_labels and self._state is None:
      self.num_labels = int(jnp.shape(y_pred)[-1])
    super().update_state(y_true, y_pred, sample_weight=sample_weight)

  def _average_over_labels(self, by_label):
    if self.label_weights is None:
      return jnp.mean(by_label)
    return divide_no_nan(jnp.sum(by_label * self.label_weights),
                         jnp.sum(self.label_weights))

  def _reduce(self, increments):
    if self.multi_label:
      return self._average_over_labels(jnp.sum(increments, axis=0))
    return jnp.sum(increments)

  def _interpolated_pr_auc(self, tp, fp, fn):
    """PR area with precision interpolated between thresholds (Davis &
    Goadrich 2006): TP and predicted positives vary linearly in each bucket."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, jnp.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    safe_ratio = jnp.where((p[:-1] > 0) & (p[1:] > 0),
                           divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)),
                           jnp.ones_like(p[1:]))
    increments = divide_no_nan(
        slope * (dtp + intercept * jnp.log(safe_ratio)),
        jnp.maximum(tp[1:] + fn[1:], 0))
    return self._reduce(increments)

  def result(self, state):
    tp, fp, tn, fn = state["tp"], state["fp"], state["tn"], state["fn"]
    if self.curve == "PR" and self.summation_method == "interpolation":
      return self._interpolated_pr_auc(tp, fp, fn)
    recall = divide_no_nan(tp, tp + fn)
    if self.curve == "ROC":
      x, y = divide_no_nan(fp, fp + tn), recall
    elif self.curve == "PR":
      x, y = recall, divide_no_nan(tp, tp + fp)
    else:  # PRGAIN: gains relative to a random classifier, clamped.
      scale = divide_no_nan(tp + fn, tn + fp)
      recall_gain = 1.0 - scale * divide_no_nan(fn, tp)
      precision_gain = 1.0 - scale * divide_no_nan(fp, tp)
      recall_gain = jnp.where(tp == 0.0, 0.0, recall_gain)
      precision_gain = jnp.where(tp == 0.0, 1.0, precision_gain)
      x, y = jnp.maximum(recall_gain, 0.0), precision_gain
    if self.summation_method == "interpolation":
      heights = (y[:-1] + y[1:]) / 2.0
    elif self.summation_method == "minoring":
      heights = jnp.minimum(y[:-1], y[1:])
    else:
      heights = jnp.maximum(y[:-1], y[1:])
    return self._reduce((x[:-1] - x[1:]) * heights)

  def get_config(self):
    config = {
        **super().get_config(),
        "num_thresholds": self.num_thresholds,
        "curve": self.curve,
        "summation_method": self.summation_method,
        "multi_label": self.multi_label,
        "num_labels": self.num_labels,
        "label_weights": (None if self.label_weights is None else
                          [float(w) for w in self.label_weights]),
        "from_logits": self.from_logits,
    }
    if self._init_from_thresholds:
      config["thresholds"] = self.thresholds[1:-1]
    return config
