"""Weighted `Mean` and `Sum`, and `MeanMetricWrapper` for per-sample functions."""

from typing import Any, Callable, Dict, Optional

import jax.numpy as jnp

from ..losses._loss import function_name
from ..losses._reduction import apply_mask
from ..losses._reduction import divide_no_nan
from ..losses._reduction import squeeze_or_expand_to_same_rank
from ._metric import Metric


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
  """Weights `values` and reduces them to one value per sample.

  Follows Keras 3: the weights are aligned in rank with the values, values
  with more dimensions than the weights are first reduced over the extra
  trailing axes, weights with more than one dimension are reduced to one
  weight per sample.

  Args:
    values: per-sample or per-element values.
    sample_weight: optional weights.
    reduce_fn: `jnp.mean` or `jnp.sum`.
    dtype: dtype of the computation.

  Returns:
    `(values, sample_weight)` with `values` of rank <= 1.

  Raises:
    ValueError: if the weights cannot be broadcast to the values.
  """
  values = jnp.asarray(values).astype(dtype)
  if sample_weight is not None:
    sample_weight = jnp.asarray(sample_weight, dtype)
    original_shape = sample_weight.shape
    values, sample_weight = squeeze_or_expand_to_same_rank(
        values, sample_weight)
    weight_ndim, values_ndim = sample_weight.ndim, values.ndim
    if values_ndim > weight_ndim:
      values = reduce_fn(values, axis=tuple(range(weight_ndim, values_ndim)))
    try:
      sample_weight = jnp.broadcast_to(sample_weight, values.shape)
    except ValueError:
      raise ValueError(
          f"sample_weight of shape {tuple(original_shape)} cannot be "
          f"broadcast to the per-sample values of shape "
          f"{tuple(values.shape)}. Pass one weight per sample, shape "
          "(batch,) or (batch, 1), or weights shaped like the values."
      ) from None
    values = values * sample_weight
    if weight_ndim > 1:
      sample_weight = reduce_fn(sample_weight,
                                axis=tuple(range(1, weight_ndim)))
  if values.ndim > 1:
    values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
  return values, sample_weight


class Sum(Metric):
  """The (weighted) sum of the values seen.

  State: `{"total": f32[]}`.

  Args:
    name: defaults to `"sum"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = Sum()
    >>> state = m.update(m.init(), jnp.array([1., 3., 5., 7.]))
    >>> float(m.result(state))
    16.0
  """

  def __init__(self, name: str = "sum", dtype: Optional[str] = None):
    super().__init__(name=name, dtype=dtype)

  def init(self):
    return {"total": jnp.zeros((), self.dtype)}

  def update(self, state, values, sample_weight=None):
    values, _ = reduce_to_samplewise_values(values, sample_weight, jnp.sum,
                                            self.dtype)
    return {"total": state["total"] + jnp.sum(values)}

  def result(self, state):
    return state["total"]


class Mean(Metric):
  """The (weighted) mean of the values seen: `total / count`.

  With `sample_weight`, `total` sums `values * weight` and `count` sums the
  weights, so the result is the weighted mean over everything seen.

  State: `{"total": f32[], "count": f32[]}`.

  Args:
    name: defaults to `"mean"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = Mean()
    >>> m.update_state(jnp.array([1., 3., 5., 7.]),
    ...                sample_weight=jnp.array([1., 1., 0., 0.]))
    >>> float(m.result())
    2.0
  """

  def __init__(self, name: str = "mean", dtype: Optional[str] = None):
    super().__init__(name=name, dtype=dtype)

  def init(self):
    return {"total": jnp.zeros((), self.dtype),
            "count": jnp.zeros((), self.dtype)}

  def update(self, state, values, sample_weight=None):
    values, sample_weight = reduce_to_samplewise_values(
        values, sample_weight, jnp.mean, self.dtype)
    if sample_weight is not None:
      num_samples = jnp.sum(sample_weight)
    else:
      num_samples = values.shape[0] if values.ndim else 1
    return {
        "total": state["total"] + jnp.sum(values),
        "count": state["count"] + jnp.asarray(num_samples, self.dtype),
    }

  def result(self, state):
    return divide_no_nan(state["total"], state["count"])


class MeanMetricWrapper(Mean):
  """The weighted mean of a per-sample function `fn(y_true, y_pred, **kw)`.

  Args:
    fn: returns one value per sample (or per element) for a batch.
    name: defaults to `"mean_metric_wrapper"`.
    dtype: defaults to `"float32"`.
    **kwargs: keyword arguments passed to `fn`.

  Example:
    >>> import jax.numpy as jnp
    >>> def abs_error(y_true, y_pred):
    ...   return jnp.abs(y_true - y_pred)
    >>> m = MeanMetricWrapper(abs_error)
    >>> float(m(jnp.array([0., 0.]), jnp.array([1., 3.])))
    2.0
  """

  def __init__(self, fn: Callable, name: Optional[str] = None,
               dtype: Optional[str] = None, **kwargs):
    super().__init__(name=name or "mean_metric_wrapper", dtype=dtype)
    self._fn = fn
    self._fn_kwargs = kwargs

  @property
  def fn(self) -> Callable:
    """The wrapped per-sample function."""
    return self._fn

  def compute_mask(self, y_true, y_pred):
    """Boolean array of valid per-sample values, or `None` (all valid)."""
    del y_true, y_pred
    return None

  def update(self, state, y_true, y_pred, sample_weight=None):
    values = self._fn(y_true, y_pred, **self._fn_kwargs)
    mask = self.compute_mask(y_true, y_pred)
    sample_weight = apply_mask(sample_weight, mask, self.dtype, "sum")
    return super().update(state, values, sample_weight=sample_weight)

  def get_config(self) -> Dict[str, Any]:
    config = super().get_config()
    if type(self) is MeanMetricWrapper:
      config["fn"] = function_name(self._fn)
    config.update(self._fn_kwargs)
    return config

  @classmethod
  def from_config(cls, config: Dict[str, Any], custom_objects=None):
    config = dict(config)
    if cls is MeanMetricWrapper:
      from ._registry import resolve_function  # pylint: disable=g-import-not-at-top
      config["fn"] = resolve_function(config["fn"], custom_objects)
    return cls(**config)
