"""Binary, categorical and sparse categorical crossentropy."""

from typing import Optional
import warnings

import jax
import jax.numpy as jnp

from ._checks import aligned
from ._checks import as_float_pair
from ._loss import LossFunctionWrapper
from ._reduction import epsilon
from ._reduction import squeeze_or_expand_to_same_rank


def _log_probs(y_pred, from_logits: bool, axis: int):
  """Log-probabilities over `axis`, from logits or from (unnormalised) probs."""
  if from_logits:
    return jax.nn.log_softmax(y_pred, axis=axis)
  y_pred = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
  return jnp.log(jnp.clip(y_pred, epsilon(), 1.0 - epsilon()))


def binary_crossentropy(y_true,
                        y_pred,
                        from_logits: bool = False,
                        label_smoothing: float = 0.0,
                        axis: int = -1):
  """Per-sample binary crossentropy, averaged over `axis`.

  Probabilities are clipped to `[1e-7, 1 - 1e-7]` when `from_logits=False`.

  Args:
    y_true: 0/1 targets, same shape as `y_pred` (or `(N,)` with `(N, 1)`).
    y_pred: probabilities, or logits when `from_logits=True`.
    from_logits: whether `y_pred` holds logits.
    label_smoothing: in `[0, 1]`; targets become
      `y_true * (1 - label_smoothing) + 0.5 * label_smoothing`.
    axis: the axis averaged over.

  Returns:
    The losses, reduced over `axis`.

  Raises:
    ValueError: if the shapes of `y_true` and `y_pred` differ.
  """
  y_true, y_pred = aligned("BinaryCrossentropy", y_true, y_pred,
                           same_shape=True)
  if label_smoothing:
    y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
  if from_logits:
    bce = (-1.0 * y_true * jax.nn.log_sigmoid(y_pred)
           - (1.0 - y_true) * jax.nn.log_sigmoid(-y_pred))
  else:
    y_pred = jnp.clip(y_pred, epsilon(), 1.0 - epsilon())
    bce = y_true * jnp.log(y_pred)
    bce = -(bce + (1.0 - y_true) * jnp.log(1.0 - y_pred))
  return jnp.mean(bce, axis=axis)


def _looks_sparse(y_true_shape, y_pred_shape, axis: int) -> bool:
  class_free = tuple(d for i, d in enumerate(y_pred_shape) if i != axis)
  return tuple(y_true_shape) in (class_free, class_free + (1,))


def categorical_crossentropy(y_true,
                             y_pred,
                             from_logits: bool = False,
                             label_smoothing: float = 0.0,
                             axis: int = -1):
  """Per-sample categorical crossentropy against one-hot targets.

  When `from_logits=False`, `y_pred` is renormalised to sum to 1 over `axis`
  and clipped to `[1e-7, 1 - 1e-7]` before the logarithm.

  Args:
    y_true: one-hot (or soft) targets, same shape as `y_pred`.
    y_pred: probabilities, or logits when `from_logits=True`.
    from_logits: whether `y_pred` holds logits.
    label_smoothing: in `[0, 1]`; targets become
      `y_true * (1 - label_smoothing) + label_smoothing / num_classes`.
    axis: the class axis.

  Returns:
    The losses, with `axis` reduced.

  Raises:
    ValueError: if `y_true` is not shaped like `y_pred` (integer labels get a
      hint to use `SparseCategoricalCrossentropy`).
  """
  if isinstance(axis, bool):
    raise ValueError(f"`axis` must be an int. Received: axis={axis!r}")
  y_true, y_pred = as_float_pair(y_true, y_pred)
  y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
  if y_true.shape != y_pred.shape:
    hint = ("use SparseCategoricalCrossentropy for integer class indices"
            if y_pred.ndim and _looks_sparse(y_true.shape, y_pred.shape,
                                             axis % y_pred.ndim)
            else "make the targets one-hot with the same shape as y_pred")
    raise ValueError(
        "CategoricalCrossentropy expects one-hot targets with the same shape "
        f"as y_pred {tuple(y_pred.shape)}, got y_true shape "
        f"{tuple(y_true.shape)}; {hint}.")
  if y_pred.ndim == 0:
    raise ValueError("CategoricalCrossentropy expects y_pred of rank >= 1, "
                     "got a scalar.")
  if y_pred.shape[axis] == 1:
    warnings.warn(
        "categorical_crossentropy expects y_pred of shape (batch_size, "
        f"num_classes) with num_classes > 1, got {tuple(y_pred.shape)}; the "
        "loss is always 0. Use binary_crossentropy for two classes.",
        stacklevel=2)
  if label_smoothing:
    num_classes = jnp.asarray(y_true.shape[axis], y_pred.dtype)
    y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
  return -jnp.sum(y_true * _log_probs(y_pred, from_logits, axis), axis=axis)


def _sparse_labels(y_true, y_pred, axis: int):
  """Checks and squeezes integer targets; returns them as `int32`."""
  y_true = jnp.asarray(y_true)
  y_pred = jnp.asarray(y_pred)
  if y_pred.ndim == 0:
    raise ValueError("SparseCategoricalCrossentropy expects y_pred of rank "
                     ">= 1 with a class axis, got a scalar.")
  class_free = tuple(d for i, d in enumerate(y_pred.shape) if i != axis)
  if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
    y_true = jnp.squeeze(y_true, axis)
  if y_true.shape != class_free:
    expected = f"{class_free} or {class_free + (1,)}"
    hint = ("; use CategoricalCrossentropy for one-hot targets"
            if y_true.shape == y_pred.shape else "")
    raise ValueError(
        "SparseCategoricalCrossentropy expects integer class indices of shape "
        f"{expected}, got y_true shape {tuple(y_true.shape)} with y_pred "
        f"shape {tuple(y_pred.shape)}{hint}.")
  return y_true.astype(jnp.int32)


def sparse_categorical_crossentropy(y_true,
                                    y_pred,
                                    from_logits: bool = False,
                                    ignore_class: Optional[int] = None,
                                    axis: int = -1):
  """Per-sample crossentropy against integer class indices.

  Args:
    y_true: class indices of shape `y_pred.shape` without `axis` (or with a
      size-1 axis there).
    y_pred: probabilities, or logits when `from_logits=True`.
    from_logits: whether `y_pred` holds logits.
    ignore_class: optional class index whose entries get a loss of 0.
      (`SparseCategoricalCrossentropy` also leaves them out of the mean.)
      Any other label outside `[0, num_classes)` gets a NaN loss (Keras on
      JAX gives 0), so `compile(debug=True)` stops training there.
    axis: the class axis of `y_pred`.

  Returns:
    The losses, shape `y_pred.shape` without `axis`.

  Raises:
    ValueError: if `y_true` is not shaped like class indices (one-hot targets
      get a hint to use `CategoricalCrossentropy`).
  """
  y_pred = jnp.asarray(y_pred)
  if not jnp.issubdtype(y_pred.dtype, jnp.floating):
    y_pred = y_pred.astype(jnp.float32)
  axis = axis % max(y_pred.ndim, 1)
  labels = _sparse_labels(y_true, y_pred, axis)
  valid = None
  if ignore_class is not None:
    valid = labels != ignore_class
    labels = jnp.where(valid, labels, 0)
    # Ignored rows get a harmless distribution so no NaN reaches gradients.
    y_pred = jnp.where(jnp.expand_dims(valid, axis), y_pred, 1.0)
  log_prob = _log_probs(y_pred, from_logits, axis)
  one_hot = jax.nn.one_hot(labels, y_pred.shape[axis], axis=axis,
                           dtype=jnp.bool_)
  res = -jnp.sum(jnp.where(one_hot, log_prob, 0.0), axis=axis)
  # A label outside [0, num_classes) has no class to score: NaN (Keras on
  # JAX silently gives 0), so the loss shows it and compile(debug=True)
  # raises at that step.
  out_of_range = (labels < 0) | (labels >= y_pred.shape[axis])
  if valid is not None:
    out_of_range = out_of_range & valid
  res = jnp.where(out_of_range, jnp.nan, res)
  if valid is not None:
    res = jnp.where(valid, res, 0.0)
  return res


class BinaryCrossentropy(LossFunctionWrapper):
  """Crossentropy between 0/1 targets and predicted probabilities (or logits).

  Args:
    from_logits: whether `y_pred` holds logits (recommended: numerically
      stabler) rather than probabilities.
    label_smoothing: squeezes targets towards 0.5 by this amount.
    axis: the axis averaged over, default -1.
    reduction: see `Loss`.
    name: defaults to `"binary_crossentropy"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> round(float(loss(jnp.array([[1.], [0.]]), jnp.array([[0.], [0.]]))), 4)
    0.6931
  """

  def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
               axis: int = -1, reduction="sum_over_batch_size",
               name="binary_crossentropy", dtype: Optional[str] = None):
    super().__init__(binary_crossentropy, reduction=reduction, name=name,
                     dtype=dtype, from_logits=from_logits,
                     label_smoothing=label_smoothing, axis=axis)
    self.from_logits = from_logits
    self.label_smoothing = label_smoothing
    self.axis = axis


class CategoricalCrossentropy(LossFunctionWrapper):
  """Crossentropy between one-hot targets and predicted class probabilities.

  Args:
    from_logits: whether `y_pred` holds logits rather than probabilities.
    label_smoothing: mixes the targets with the uniform distribution.
    axis: the class axis, default -1.
    reduction: see `Loss`.
    name: defaults to `"categorical_crossentropy"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = CategoricalCrossentropy()
    >>> round(float(loss(jnp.array([[0., 1.]]), jnp.array([[0.5, 0.5]]))), 4)
    0.6931
  """

  def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
               axis: int = -1, reduction="sum_over_batch_size",
               name="categorical_crossentropy", dtype: Optional[str] = None):
    super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                     dtype=dtype, from_logits=from_logits,
                     label_smoothing=label_smoothing, axis=axis)
    self.from_logits = from_logits
    self.label_smoothing = label_smoothing
    self.axis = axis


class SparseCategoricalCrossentropy(LossFunctionWrapper):
  """Crossentropy between integer class indices and predicted probabilities.

  Entries whose target is `ignore_class` are excluded: they get a loss of 0
  and do not count in the `"sum_over_batch_size"` mean.

  Args:
    from_logits: whether `y_pred` holds logits rather than probabilities.
    ignore_class: optional class index to ignore (e.g. a "void" label).
    reduction: see `Loss`.
    axis: the class axis of `y_pred`, default -1.
    name: defaults to `"sparse_categorical_crossentropy"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss(jnp.array([1]), jnp.array([[0., 0.]]))), 4)
    0.6931
  """

  def __init__(self, from_logits: bool = False,
               ignore_class: Optional[int] = None,
               reduction="sum_over_batch_size", axis: int = -1,
               name="sparse_categorical_crossentropy",
               dtype: Optional[str] = None):
    super().__init__(sparse_categorical_crossentropy, reduction=reduction,
                     name=name, dtype=dtype, from_logits=from_logits,
                     ignore_class=ignore_class, axis=axis)
    self.from_logits = from_logits
    self.ignore_class = ignore_class
    self.axis = axis

  def compute_mask(self, y_true, y_pred):
    if self.ignore_class is None:
      return None
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    axis = self.axis % max(jnp.ndim(y_pred), 1)
    return _sparse_labels(y_true, y_pred, axis) != self.ignore_class
