"""Confusion-matrix counts at thresholds, and Precision/Recall built on them.

`confusion_counts` is the pure core: it returns the weighted true/false
positive/negative counts of one batch at each threshold, following Keras 3
exactly (including its bucketed fast path for evenly spaced thresholds).
"""

from typing import Dict, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ..losses._reduction import EPSILON
from ..losses._reduction import divide_no_nan
from ..losses._reduction import squeeze_or_expand_to_same_rank
from ._metric import Metric

NEG_INF = -1e10
"""Score given to classes outside the top k, so no threshold accepts them."""

CONDITIONS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds, default: float):
  """Returns thresholds as a list of floats, checking they are in [0, 1].

  Raises:
    ValueError: if a threshold is outside `[0, 1]`.
  """
  if thresholds is None:
    return [default]
  values = list(thresholds) if isinstance(thresholds,
                                          (list, tuple, np.ndarray)) else [
                                              thresholds]
  bad = [t for t in values if t is None or t < 0 or t > 1]
  if bad:
    raise ValueError(f"Threshold values must be in [0, 1]. Received: {bad}")
  return [float(t) for t in values]


def evenly_distributed(thresholds: Sequence[float]) -> bool:
  """Whether thresholds are `i / (n - 1)` for `i = 0..n-1` (n >= 3)."""
  n = len(thresholds)
  if n < 3:
    return False
  even = np.arange(n, dtype=np.float32) / (n - 1)
  return bool(np.allclose(thresholds, even, atol=EPSILON))


def filter_top_k(x, k: int):
  """Keeps the top `k` scores of the last axis and sets the rest to NEG_INF."""
  _, top_idx = jax.lax.top_k(x, k)
  in_top = jnp.sum(jax.nn.one_hot(top_idx, x.shape[-1], dtype=x.dtype),
                   axis=-2)
  return x * in_top + NEG_INF * (1 - in_top)


def _bucketed_counts(y_true, y_pred, num_thresholds, with_epsilon, weights,
                     multi_label):
  """Counts for evenly spaced thresholds in O(N + T) with a segment sum."""
  y_pred = jnp.clip(y_pred, 0.0, 1.0)
  y_true = (y_true != 0).astype(y_pred.dtype)
  if not multi_label:
    y_true, y_pred = y_true.reshape(-1), y_pred.reshape(-1)
  true_labels = y_true * weights
  false_labels = (1.0 - y_true) * weights
  # A score p is above threshold i/(T-1) iff ceil(p * (T-1)) - 1 >= i.
  buckets = jnp.ceil(y_pred * (num_thresholds - 1.0)) - 1.0
  if with_epsilon:
    buckets = jnp.maximum(buckets, 0.0)
  buckets = buckets.astype(jnp.int32)

  def reverse_cumsum_of_buckets(labels, ids):
    per_bucket = jax.ops.segment_sum(labels, ids, num_thresholds)
    return jnp.flip(jnp.cumsum(jnp.flip(per_bucket)))

  if multi_label:
    per_label = jax.vmap(reverse_cumsum_of_buckets)
    tp = per_label(true_labels.T, buckets.T).T
    fp = per_label(false_labels.T, buckets.T).T
    total_true = jnp.sum(true_labels, axis=0)[None, :]
    total_false = jnp.sum(false_labels, axis=0)[None, :]
  else:
    tp = reverse_cumsum_of_buckets(true_labels, buckets)
    fp = reverse_cumsum_of_buckets(false_labels, buckets)
    total_true = jnp.sum(true_labels)
    total_false = jnp.sum(false_labels)
  return {"tp": tp, "fp": fp, "tn": total_false - fp, "fn": total_true - tp}


def _compared_counts(y_true, y_pred, thresholds, weights, multi_label):
  """Counts by comparing every score with every threshold."""
  if multi_label:
    preds = y_pred[None]
    labels = (y_true != 0)[None]
    thresh = jnp.reshape(thresholds, (-1, 1, 1))
    weights = None if weights is None else weights[None]
  else:
    preds = y_pred.reshape(1, -1)
    labels = (y_true != 0).reshape(1, -1)
    thresh = jnp.reshape(thresholds, (-1, 1))
    weights = None if weights is None else weights.reshape(1, -1)
  pred_pos = preds > thresh
  cells = {
      "tp": labels & pred_pos,
      "fp": ~labels & pred_pos,
      "tn": ~labels & ~pred_pos,
      "fn": labels & ~pred_pos,
  }

  def count(cell):
    if weights is None:
      return jnp.sum(cell.astype(y_pred.dtype), axis=1)
    return jnp.sum(jnp.where(cell, weights, 0.0), axis=1)

  return {key: count(cell) for key, cell in cells.items()}


def confusion_counts(y_true,
                     y_pred,
                     thresholds: Sequence[float],
                     *,
                     evenly: Optional[bool] = None,
                     top_k: Optional[int] = None,
                     class_id: Optional[int] = None,
                     sample_weight=None,
                     multi_label: bool = False,
                     label_weights=None,
                     dtype="float32") -> Dict[str, jax.Array]:
  """Weighted confusion-matrix counts of one batch at each threshold.

  A prediction is positive at threshold `t` when `y_pred > t`; `y_true` is
  positive when non-zero.

  Args:
    y_true: targets, shaped like `y_pred`.
    y_pred: scores in `[0, 1]`.
    thresholds: Python list of thresholds.
    evenly: whether the thresholds are evenly spaced on [0, 1] (uses the
      bucketed path as Keras does); computed when `None`.
    top_k: only the top `k` scores of the last axis count as positive.
    class_id: only this column of the last axis is counted.
    sample_weight: optional weights broadcastable to `y_true`.
    multi_label: keep the label axis (counts of shape `(T, L)`).
    label_weights: optional per-label weights (when not `multi_label`).
    dtype: dtype of the counts.

  Returns:
    `{"tp", "fp", "tn", "fn"}` arrays of shape `(T,)` (or `(T, L)`).

  Raises:
    ValueError: if `class_id` is used with rank-1 predictions.
  """
  if evenly is None:
    evenly = evenly_distributed(thresholds)
  with_epsilon = evenly and (thresholds[0] < 0.0 or thresholds[-1] > 1.0)
  y_true = jnp.asarray(y_true).astype(dtype)
  y_pred = jnp.asarray(y_pred).astype(dtype)
  y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
  if sample_weight is not None:
    sample_weight = jnp.expand_dims(jnp.asarray(sample_weight, dtype), -1)
    _, sample_weight = squeeze_or_expand_to_same_rank(
        y_true, sample_weight, expand_rank_1=False)
    # (N, 1) weights for (N,) data: Keras 3 fails here; drop the extra axes.
    while sample_weight.ndim > y_true.ndim and sample_weight.shape[-1] == 1:
      sample_weight = jnp.squeeze(sample_weight, -1)
  if top_k is not None:
    y_pred = filter_top_k(y_pred, top_k)
  if class_id is not None:
    if y_pred.ndim == 1:
      raise ValueError(
          "When class_id is provided, y_pred must be a 2D array with shape "
          f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}")
    y_true = y_true[..., class_id, None]
    y_pred = y_pred[..., class_id, None]
  if sample_weight is not None:
    try:
      sample_weight = jnp.broadcast_to(sample_weight, y_pred.shape)
    except ValueError:
      raise ValueError(
          f"sample_weight of shape {tuple(jnp.shape(sample_weight))} cannot "
          f"be broadcast to y_pred of shape {tuple(y_pred.shape)}. Pass one "
          "weight per sample, shape (batch,) or (batch, 1).") from None
  if label_weights is not None:
    label_weights = jnp.broadcast_to(
        jnp.asarray(label_weights, dtype)[None], y_pred.shape)
  if evenly:
    weights = jnp.asarray(1.0, dtype)
    if sample_weight is not None:
      weights = sample_weight
    if label_weights is not None:
      weights = weights * label_weights
    if not multi_label and weights.ndim:
      weights = weights.reshape(-1)
    return _bucketed_counts(y_true, y_pred, len(thresholds), with_epsilon,
                            weights, multi_label)
  weights = sample_weight
  if label_weights is not None and not multi_label:
    weights = label_weights if weights is None else weights * label_weights
  return _compared_counts(y_true, y_pred,
                          jnp.asarray(np.asarray(thresholds), dtype), weights,
                          multi_label)


class _ConfusionMatrixMetric(Metric):
  """Shared state handling of metrics that accumulate confusion counts."""

  _conditions: Sequence[str] = ()

  def __init__(self, thresholds=None, top_k=None, class_id=None, name=None,
               dtype=None, default_threshold=0.5):
    super().__init__(name=name, dtype=dtype)
    if isinstance(thresholds, (tuple, np.ndarray)):
      thresholds = [float(t) for t in thresholds]  # JSON-able config.
    self.init_thresholds = thresholds
    self.top_k = top_k
    self.class_id = class_id
    self.thresholds = parse_thresholds(thresholds, default_threshold)
    self._evenly = evenly_distributed(self.thresholds)

  def init(self):
    # Distinct arrays per leaf: a donated state must not alias buffers.
    return {key: jnp.zeros((len(self.thresholds),), self.dtype)
            for key in self._conditions}

  def update(self, state, y_true, y_pred, sample_weight=None):
    counts = confusion_counts(
        y_true, y_pred, self.thresholds, evenly=self._evenly,
        top_k=self.top_k, class_id=self.class_id,
        sample_weight=sample_weight, dtype=self.dtype)
    return {key: state[key] + counts[key] for key in self._conditions}

  def _squeeze(self, value):
    return value[0] if len(self.thresholds) == 1 else value


class _ConditionCount(_ConfusionMatrixMetric):
  """Weighted count of one confusion-matrix cell at each threshold."""

  def __init__(self, thresholds=None, name=None, dtype=None):
    super().__init__(thresholds=thresholds, name=name, dtype=dtype)

  def result(self, state):
    return self._squeeze(state[self._conditions[0]])

  def get_config(self):
    return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
  """Weighted count of true positives (`y_pred > threshold`, `y_true` != 0).

  Args:
    thresholds: a float or list of floats in [0, 1]; default 0.5. With a
      list, the result has one count per threshold.
    name: defaults to `"true_positives"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(TruePositives()(jnp.array([0, 1, 1, 1]), jnp.array([1, 0, 1, 1])))
    2.0
  """
  _conditions = ("tp",)


class FalsePositives(_ConditionCount):
  """Weighted count of false positives.

  Args:
    thresholds: a float or list of floats in [0, 1]; default 0.5.
    name: defaults to `"false_positives"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(FalsePositives()(jnp.array([0, 1, 0, 0]), jnp.array([0, 0, 1, 1])))
    2.0
  """
  _conditions = ("fp",)


class TrueNegatives(_ConditionCount):
  """Weighted count of true negatives.

  Args:
    thresholds: a float or list of floats in [0, 1]; default 0.5.
    name: defaults to `"true_negatives"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(TrueNegatives()(jnp.array([0, 1, 0, 0]), jnp.array([1, 1, 0, 0])))
    2.0
  """
  _conditions = ("tn",)


class FalseNegatives(_ConditionCount):
  """Weighted count of false negatives.

  Args:
    thresholds: a float or list of floats in [0, 1]; default 0.5.
    name: defaults to `"false_negatives"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(FalseNegatives()(jnp.array([0, 1, 1, 1]), jnp.array([0, 1, 0, 0])))
    2.0
  """
  _conditions = ("fn",)


class _TruePositiveRatio(_ConfusionMatrixMetric):
  """`tp / (tp + other)` at thresholds: Precision (other=fp), Recall (fn)."""
  _other = ""

  def __init__(self, thresholds=None, top_k: Optional[int] = None,
               class_id: Optional[int] = None, name: Optional[str] = None,
               dtype: Optional[str] = None):
    super().__init__(thresholds=thresholds, top_k=top_k, class_id=class_id,
                     name=name, dtype=dtype,
                     default_threshold=0.5 if top_k is None else NEG_INF)

  def result(self, state):
    return self._squeeze(
        divide_no_nan(state["tp"], state["tp"] + state[self._other]))

  def get_config(self):
    return {**super().get_config(), "thresholds": self.init_thresholds,
            "top_k": self.top_k, "class_id": self.class_id}


class Precision(_TruePositiveRatio):
  """`tp / (tp + fp)` over everything seen, at one or more thresholds.

  Args:
    thresholds: a float or list of floats in [0, 1]. Default 0.5, or no
      threshold at all when `top_k` is set.
    top_k: only the `k` highest scores of each sample count as positive.
    class_id: only this class (column of the last axis) is measured.
    name: defaults to `"precision"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(Precision()(jnp.array([0, 1, 1, 1]), jnp.array([1, 0, 1, 1])))
    0.6666666865348816
  """
  _conditions = ("tp", "fp")
  _other = "fp"


class Recall(_TruePositiveRatio):
  """`tp / (tp + fn)` over everything seen, at one or more thresholds.

  Args:
    thresholds: a float or list of floats in [0, 1]. Default 0.5, or no
      threshold at all when `top_k` is set.
    top_k: only the `k` highest scores of each sample count as positive.
    class_id: only this class (column of the last axis) is measured.
    name: defaults to `"recall"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(Recall()(jnp.array([0, 1, 1, 1]), jnp.array([1, 0, 1, 1])))
    0.6666666865348816
  """
  _conditions = ("tp", "fn")
  _other = "fn"
