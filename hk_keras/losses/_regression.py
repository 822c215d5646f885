"""Regression losses: squared, absolute, percentage, logarithmic, Huber, ..."""

from typing import Optional

import jax
import jax.numpy as jnp

from ._checks import aligned
from ._loss import LossFunctionWrapper
from ._reduction import epsilon


def mean_squared_error(y_true, y_pred):
  """Per-sample `mean((y_true - y_pred) ** 2, axis=-1)`.

  Args:
    y_true: targets, shape `(N, ..., D)` (or `(N,)` against `(N, 1)`).
    y_pred: predictions of the same (or broadcastable) shape.

  Returns:
    The losses, shape `(N, ...)`.

  Raises:
    ValueError: if the shapes cannot be aligned.
  """
  y_true, y_pred = aligned("MeanSquaredError", y_true, y_pred)
  return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
  """Per-sample `mean(abs(y_true - y_pred), axis=-1)`.

  Args:
    y_true: targets.
    y_pred: predictions.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("MeanAbsoluteError", y_true, y_pred)
  return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
  """Per-sample `100 * mean(abs((y_true - y_pred) / y_true), axis=-1)`.

  The denominator is `max(abs(y_true), 1e-7)`.

  Args:
    y_true: targets.
    y_pred: predictions.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("MeanAbsolutePercentageError", y_true, y_pred)
  diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), epsilon()))
  return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
  """Per-sample `mean((log(y_pred + 1) - log(y_true + 1)) ** 2, axis=-1)`.

  Values below `1e-7` are raised to `1e-7` before the logarithm.

  Args:
    y_true: targets.
    y_pred: predictions.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("MeanSquaredLogarithmicError", y_true, y_pred)
  first = jnp.log(jnp.maximum(y_pred, epsilon()) + 1.0)
  second = jnp.log(jnp.maximum(y_true, epsilon()) + 1.0)
  return jnp.mean(jnp.square(first - second), axis=-1)


def _l2_normalize(x, axis):
  inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
  return x * jnp.minimum(inv_norm, 1.0 / epsilon())


def cosine_similarity(y_true, y_pred, axis: int = -1):
  """Per-sample negative cosine similarity, `-sum(l2n(y_true) * l2n(y_pred))`.

  Lies in `[-1, 1]`; -1 means the vectors point the same way. A zero vector
  gives 0.

  Args:
    y_true: targets.
    y_pred: predictions.
    axis: the feature axis.

  Returns:
    The losses, reduced over `axis`.
  """
  y_true, y_pred = aligned("CosineSimilarity", y_true, y_pred)
  y_pred = _l2_normalize(y_pred, axis)
  y_true = _l2_normalize(y_true, axis)
  return -jnp.sum(y_true * y_pred, axis=axis)


def huber(y_true, y_pred, delta: float = 1.0):
  """Per-sample Huber loss: quadratic below `delta`, linear above.

  Args:
    y_true: targets.
    y_pred: predictions.
    delta: where the loss changes from quadratic to linear.

  Returns:
    `mean(0.5 * e**2 if |e| <= delta else delta * |e| - 0.5 * delta**2)` over
    the last axis, with `e = y_pred - y_true`.
  """
  y_true, y_pred = aligned("Huber", y_true, y_pred)
  delta = jnp.asarray(delta, y_pred.dtype)
  error = y_pred - y_true
  abs_error = jnp.abs(error)
  half = jnp.asarray(0.5, y_pred.dtype)
  return jnp.mean(
      jnp.where(abs_error <= delta, half * jnp.square(error),
                delta * abs_error - half * jnp.square(delta)),
      axis=-1)


def log_cosh(y_true, y_pred):
  """Per-sample `mean(log(cosh(y_pred - y_true)), axis=-1)`, computed stably.

  Args:
    y_true: targets.
    y_pred: predictions.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("LogCosh", y_true, y_pred)
  x = y_pred - y_true
  log2 = jnp.asarray(jnp.log(2.0), y_pred.dtype)
  return jnp.mean(x + jax.nn.softplus(-2.0 * x) - log2, axis=-1)


class MeanSquaredError(LossFunctionWrapper):
  """Mean of squared errors, `mean((y_true - y_pred) ** 2)`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"mean_squared_error"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(MeanSquaredError()(jnp.array([[0., 1.]]), jnp.array([[1., 1.]])))
    0.5
  """

  def __init__(self, reduction="sum_over_batch_size",
               name="mean_squared_error", dtype: Optional[str] = None):
    super().__init__(mean_squared_error, reduction=reduction, name=name,
                     dtype=dtype)


class MeanAbsoluteError(LossFunctionWrapper):
  """Mean of absolute errors, `mean(abs(y_true - y_pred))`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"mean_absolute_error"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(MeanAbsoluteError()(jnp.array([[0., 1.]]), jnp.array([[2., 1.]])))
    1.0
  """

  def __init__(self, reduction="sum_over_batch_size",
               name="mean_absolute_error", dtype: Optional[str] = None):
    super().__init__(mean_absolute_error, reduction=reduction, name=name,
                     dtype=dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
  """`100 * mean(abs((y_true - y_pred) / y_true))`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"mean_absolute_percentage_error"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = MeanAbsolutePercentageError()
    >>> float(loss(jnp.array([[2., 4.]]), jnp.array([[1., 4.]])))
    25.0
  """

  def __init__(self, reduction="sum_over_batch_size",
               name="mean_absolute_percentage_error",
               dtype: Optional[str] = None):
    super().__init__(mean_absolute_percentage_error, reduction=reduction,
                     name=name, dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
  """`mean((log(y_true + 1) - log(y_pred + 1)) ** 2)`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"mean_squared_logarithmic_error"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = MeanSquaredLogarithmicError()
    >>> round(float(loss(jnp.array([[0.]]), jnp.array([[1.]]))), 4)
    0.4805
  """

  def __init__(self, reduction="sum_over_batch_size",
               name="mean_squared_logarithmic_error",
               dtype: Optional[str] = None):
    super().__init__(mean_squared_logarithmic_error, reduction=reduction,
                     name=name, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
  """Negative cosine similarity between targets and predictions.

  Args:
    axis: the feature axis, default -1.
    reduction: see `Loss`.
    name: defaults to `"cosine_similarity"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(CosineSimilarity()(jnp.array([[1., 0.]]), jnp.array([[2., 0.]])))
    -1.0
  """

  def __init__(self, axis: int = -1, reduction="sum_over_batch_size",
               name="cosine_similarity", dtype: Optional[str] = None):
    super().__init__(cosine_similarity, reduction=reduction, name=name,
                     dtype=dtype, axis=axis)


class Huber(LossFunctionWrapper):
  """Huber loss: squared error below `delta`, absolute error above.

  Args:
    delta: where the loss changes from quadratic to linear, default 1.0.
    reduction: see `Loss`.
    name: defaults to `"huber_loss"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(Huber()(jnp.array([[0., 0.]]), jnp.array([[0.5, 3.]])))
    1.3125
  """

  def __init__(self, delta: float = 1.0, reduction="sum_over_batch_size",
               name="huber_loss", dtype: Optional[str] = None):
    super().__init__(huber, reduction=reduction, name=name, dtype=dtype,
                     delta=delta)


class LogCosh(LossFunctionWrapper):
  """Logarithm of the hyperbolic cosine of the prediction error.

  Args:
    reduction: see `Loss`.
    name: defaults to `"log_cosh"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> round(float(LogCosh()(jnp.array([[0.]]), jnp.array([[1.]]))), 4)
    0.4338
  """

  def __init__(self, reduction="sum_over_batch_size", name="log_cosh",
               dtype: Optional[str] = None):
    super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)
