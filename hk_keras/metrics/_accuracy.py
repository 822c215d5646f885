"""Accuracy metrics: exact, binary, categorical, sparse and top-k."""

from typing import Optional

import jax.numpy as jnp

from ..losses._reduction import squeeze_or_expand_to_same_rank
from ._reduction import MeanMetricWrapper


def _float_pair(y_true, y_pred):
  y_pred = jnp.asarray(y_pred)
  if not jnp.issubdtype(y_pred.dtype, jnp.floating):
    y_pred = y_pred.astype(jnp.float32)
  return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def accuracy(y_true, y_pred):
  """1.0 where `y_true == y_pred` exactly, else 0.0 (per element).

  Args:
    y_true: targets.
    y_pred: predictions (already thresholded or arg-maxed).

  Returns:
    Float32 matches, shaped like the aligned inputs.
  """
  y_true, y_pred = _float_pair(y_true, y_pred)
  y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
  return (y_true == y_pred).astype(jnp.float32)


def binary_accuracy(y_true, y_pred, threshold: float = 0.5):
  """1.0 where `(y_pred > threshold) == y_true`, per element.

  Args:
    y_true: 0/1 targets.
    y_pred: probabilities (or any score compared with `threshold`).
    threshold: decision threshold.

  Returns:
    Float32 matches, shaped like the aligned inputs.
  """
  y_true = jnp.asarray(y_true)
  y_pred = jnp.asarray(y_pred)
  y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
  y_pred = (y_pred > threshold).astype(y_true.dtype)
  return (y_true == y_pred).astype(jnp.float32)


def categorical_accuracy(y_true, y_pred):
  """1.0 where `argmax(y_true) == argmax(y_pred)` over the last axis.

  Args:
    y_true: one-hot targets, same shape as `y_pred`.
    y_pred: class scores.

  Returns:
    Float32 matches, shape `y_pred.shape[:-1]`.

  Raises:
    ValueError: if `y_true` is not shaped like `y_pred`.
  """
  y_true, y_pred = _float_pair(y_true, y_pred)
  if y_true.shape != y_pred.shape:
    hint = ("; use sparse_categorical_accuracy for integer class indices"
            if y_true.shape in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,))
            else "")
    raise ValueError(
        "categorical_accuracy expects one-hot targets with the same shape as "
        f"y_pred {tuple(y_pred.shape)}, got y_true shape "
        f"{tuple(y_true.shape)}{hint}.")
  return (jnp.argmax(y_true, axis=-1) == jnp.argmax(y_pred, axis=-1)).astype(
      jnp.float32)


def _check_sparse(metric_name, y_true, y_pred):
  class_free = y_pred.shape[:-1]
  if y_true.shape not in (class_free, class_free + (1,)):
    hint = ("; use categorical_accuracy for one-hot targets"
            if y_true.shape == y_pred.shape else "")
    raise ValueError(
        f"{metric_name} expects integer class indices of shape {class_free} "
        f"or {class_free + (1,)}, got y_true shape {tuple(y_true.shape)} with "
        f"y_pred shape {tuple(y_pred.shape)}{hint}.")


def sparse_categorical_accuracy(y_true, y_pred):
  """1.0 where the integer target equals `argmax(y_pred)` over the last axis.

  Args:
    y_true: class indices, shape `y_pred.shape[:-1]` (or with a trailing 1).
    y_pred: class scores.

  Returns:
    Float32 matches, shape `y_pred.shape[:-1]`.

  Raises:
    ValueError: if `y_true` is not shaped like class indices.
  """
  y_true, y_pred = _float_pair(y_true, y_pred)
  _check_sparse("sparse_categorical_accuracy", y_true, y_pred)
  if y_true.ndim == y_pred.ndim:
    y_true = jnp.squeeze(y_true, -1)
  predicted = jnp.argmax(y_pred, axis=-1).astype(y_true.dtype)
  return (y_true == predicted).astype(jnp.float32)


def _in_top_k(labels, scores, k):
  """Whether the score of each label ranks within the top `k` (ties count)."""
  at_label = jnp.take_along_axis(scores, labels[..., None], axis=-1)
  at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
  rank = 1 + jnp.sum(scores > at_label, axis=-1)
  return rank <= k


def top_k_categorical_accuracy(y_true, y_pred, k: int = 5):
  """1.0 where the one-hot target's class is among the `k` highest scores.

  Args:
    y_true: one-hot targets, same shape as `y_pred`.
    y_pred: class scores.
    k: how many top classes count as a hit.

  Returns:
    Float32 hits, shape `y_pred.shape[:-1]`.

  Raises:
    ValueError: if `y_true` is not shaped like `y_pred`.
  """
  y_true, y_pred = _float_pair(y_true, y_pred)
  if y_true.shape != y_pred.shape:
    raise ValueError(
        "top_k_categorical_accuracy expects one-hot targets with the same "
        f"shape as y_pred {tuple(y_pred.shape)}, got y_true shape "
        f"{tuple(y_true.shape)}; use sparse_top_k_categorical_accuracy for "
        "integer class indices.")
  labels = jnp.argmax(y_true, axis=-1).astype(jnp.int32)
  return _in_top_k(labels, y_pred, k).astype(jnp.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k: int = 5,
                                      from_sorted_ids: bool = False):
  """1.0 where the integer target is among the `k` highest scores.

  Args:
    y_true: class indices, shape `y_pred.shape[:-1]` (or with a trailing 1).
    y_pred: class scores; or, with `from_sorted_ids=True`, class ids sorted
      by decreasing score (only the first `k` columns are used).
    k: how many top classes count as a hit.
    from_sorted_ids: whether `y_pred` holds sorted class ids.

  Returns:
    Float32 hits, shaped like `y_true` (without a trailing 1 when `y_true`
    has the rank of `y_pred`).
  """
  y_pred = jnp.asarray(y_pred)
  if from_sorted_ids:
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    if y_true.ndim == y_pred.ndim:
      y_true = jnp.squeeze(y_true, -1)
    hits = jnp.any(y_true[..., None] == y_pred[..., :k], axis=-1)
    return hits.astype(jnp.float32)
  if not jnp.issubdtype(y_pred.dtype, jnp.floating):
    y_pred = y_pred.astype(jnp.float32)
  y_true = jnp.asarray(y_true)
  _check_sparse("sparse_top_k_categorical_accuracy", y_true, y_pred)
  labels = y_true.astype(jnp.int32)
  if labels.ndim == y_pred.ndim:
    labels = jnp.squeeze(labels, -1)
  return _in_top_k(labels, y_pred, k).astype(jnp.float32)


class Accuracy(MeanMetricWrapper):
  """How often predictions equal targets exactly.

  Args:
    name: defaults to `"accuracy"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = Accuracy()
    >>> float(m(jnp.array([1, 2, 3, 4]), jnp.array([0, 2, 3, 4])))
    0.75
  """

  def __init__(self, name: str = "accuracy", dtype: Optional[str] = None):
    super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
  """How often `y_pred > threshold` matches 0/1 targets.

  Args:
    name: defaults to `"binary_accuracy"`.
    dtype: defaults to `"float32"`.
    threshold: decision threshold, default 0.5.

  Example:
    >>> import jax.numpy as jnp
    >>> m = BinaryAccuracy()
    >>> float(m(jnp.array([[1.], [1.], [0.], [0.]]),
    ...         jnp.array([[0.98], [0.4], [0.2], [0.6]])))
    0.5
  """

  def __init__(self, name: str = "binary_accuracy",
               dtype: Optional[str] = None, threshold: float = 0.5):
    super().__init__(binary_accuracy, name=name, dtype=dtype,
                     threshold=threshold)
    self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
  """How often the arg-max of `y_pred` matches the one-hot target.

  Args:
    name: defaults to `"categorical_accuracy"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = CategoricalAccuracy()
    >>> float(m(jnp.array([[0., 0., 1.], [0., 1., 0.]]),
    ...         jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0.]])))
    0.5
  """

  def __init__(self, name: str = "categorical_accuracy",
               dtype: Optional[str] = None):
    super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
  """How often the arg-max of `y_pred` matches the integer target.

  Args:
    name: defaults to `"sparse_categorical_accuracy"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = SparseCategoricalAccuracy()
    >>> float(m(jnp.array([2, 1]), jnp.array([[0.1, 0.6, 0.3],
    ...                                        [0.05, 0.95, 0.]])))
    0.5
  """

  def __init__(self, name: str = "sparse_categorical_accuracy",
               dtype: Optional[str] = None):
    super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
  """How often the one-hot target's class is among the top `k` predictions.

  Args:
    k: number of top classes that count, default 5.
    name: defaults to `"top_k_categorical_accuracy"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = TopKCategoricalAccuracy(k=1)
    >>> float(m(jnp.array([[0., 0., 1.], [0., 1., 0.]]),
    ...         jnp.array([[0.1, 0.9, 0.8], [0.05, 0.95, 0.]])))
    0.5
  """

  def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy",
               dtype: Optional[str] = None):
    super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
    self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
  """How often the integer target is among the top `k` predictions.

  Args:
    k: number of top classes that count, default 5.
    name: defaults to `"sparse_top_k_categorical_accuracy"`.
    dtype: defaults to `"float32"`.
    from_sorted_ids: whether `y_pred` holds class ids sorted by score.

  Example:
    >>> import jax.numpy as jnp
    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> float(m(jnp.array([2, 1]), jnp.array([[0.1, 0.9, 0.8],
    ...                                        [0.05, 0.95, 0.]])))
    0.5
  """

  def __init__(self, k: int = 5,
               name: str = "sparse_top_k_categorical_accuracy",
               dtype: Optional[str] = None, from_sorted_ids: bool = False):
    super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype,
                     k=k, from_sorted_ids=from_sorted_ids)
    self.k = k
    self.from_sorted_ids = from_sorted_ids


