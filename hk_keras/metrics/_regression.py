"""Regression metrics: running means of per-sample errors."""

from typing import Optional

import jax.numpy as jnp

from ..losses import _regression as losses
from ..losses._checks import aligned
from ._reduction import Mean
from ._reduction import MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis: int = -1):
  """Per-sample cosine similarity (positive: 1 means the same direction).

  Args:
    y_true: targets.
    y_pred: predictions.
    axis: the feature axis.

  Returns:
    The similarities, reduced over `axis`.
  """
  return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(MeanMetricWrapper):
  """Running weighted mean of `mean((y_true - y_pred) ** 2, axis=-1)`.

  Args:
    name: defaults to `"mean_squared_error"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(MeanSquaredError()(jnp.array([[0., 1.]]), jnp.array([[1., 1.]])))
    0.5
  """

  def __init__(self, name: str = "mean_squared_error",
               dtype: Optional[str] = None):
    super().__init__(losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
  """Running weighted mean of `mean(abs(y_true - y_pred), axis=-1)`.

  Args:
    name: defaults to `"mean_absolute_error"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(MeanAbsoluteError()(jnp.array([[0., 1.]]), jnp.array([[2., 1.]])))
    1.0
  """

  def __init__(self, name: str = "mean_absolute_error",
               dtype: Optional[str] = None):
    super().__init__(losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
  """Running weighted mean of the absolute percentage error.

  Args:
    name: defaults to `"mean_absolute_percentage_error"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = MeanAbsolutePercentageError()
    >>> float(m(jnp.array([[2., 4.]]), jnp.array([[1., 4.]])))
    25.0
  """

  def __init__(self, name: str = "mean_absolute_percentage_error",
               dtype: Optional[str] = None):
    super().__init__(losses.mean_absolute_percentage_error, name=name,
                     dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
  """Running weighted mean of the squared logarithmic error.

  Args:
    name: defaults to `"mean_squared_logarithmic_error"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = MeanSquaredLogarithmicError()
    >>> round(float(m(jnp.array([[0.]]), jnp.array([[1.]]))), 4)
    0.4805
  """

  def __init__(self, name: str = "mean_squared_logarithmic_error",
               dtype: Optional[str] = None):
    super().__init__(losses.mean_squared_logarithmic_error, name=name,
                     dtype=dtype)


class LogCoshError(MeanMetricWrapper):
  """Running weighted mean of `log(cosh(y_pred - y_true))`.

  Args:
    name: defaults to `"logcosh"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> round(float(LogCoshError()(jnp.array([[0.]]), jnp.array([[1.]]))), 4)
    0.4338
  """

  def __init__(self, name: str = "logcosh", dtype: Optional[str] = None):
    super().__init__(losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
  """Running weighted mean of the cosine similarity (1 = same direction).

  Args:
    name: defaults to `"cosine_similarity"`.
    dtype: defaults to `"float32"`.
    axis: the feature axis, default -1.

  Example:
    >>> import jax.numpy as jnp
    >>> m = CosineSimilarity()
    >>> float(m(jnp.array([[1., 0.], [0., 1.]]), jnp.array([[2., 0.], [1., 0.]])))
    0.5
  """

  def __init__(self, name: str = "cosine_similarity",
               dtype: Optional[str] = None, axis: int = -1):
    super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
  """Square root of the running weighted mean of squared errors.

  Args:
    name: defaults to `"root_mean_squared_error"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = RootMeanSquaredError()
    >>> float(m(jnp.array([[0., 0.]]), jnp.array([[3., 4.]])))
    3.535533905029297
  """

  def __init__(self, name: str = "root_mean_squared_error",
               dtype: Optional[str] = None):
    super().__init__(name=name, dtype=dtype)

  def update(self, state, y_true, y_pred, sample_weight=None):
    y_true = jnp.asarray(y_true, self.dtype)
    y_pred = jnp.asarray(y_pred, self.dtype)
    y_true, y_pred = aligned("RootMeanSquaredError", y_true, y_pred)
    return super().update(state, jnp.square(y_pred - y_true),
                          sample_weight=sample_weight)

  def result(self, state):
    return jnp.sqrt(super().result(state))
