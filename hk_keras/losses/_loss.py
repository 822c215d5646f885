"""The `Loss` base class and the wrapper that turns a function into a loss."""

import re
from typing import Any, Callable, Dict, Optional

import jax.numpy as jnp

from . import _reduction
from ._reduction import squeeze_or_expand_to_same_rank


def to_snake_case(name: str) -> str:
  """`"MeanSquaredError"` -> `"mean_squared_error"` (Keras's naming rule)."""
  name = re.sub(r"\W+", "", name)
  name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
  return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def standardize_dtype(dtype) -> str:
  """Dtype name for a loss or metric; a `"mixed_*"` policy gives its compute
  dtype, as in Keras. `None` means `"float32"`."""
  if dtype is None:
    return "float32"
  name = getattr(dtype, "compute_dtype", dtype)  # A policy object.
  if isinstance(name, str) and name.startswith("mixed_"):
    name = name[len("mixed_"):]
  try:
    return jnp.dtype(name).name
  except TypeError:
    raise ValueError(
        f"Invalid dtype {dtype!r}: expected a dtype name such as 'float32' or "
        "'bfloat16', or a policy name such as 'mixed_bfloat16'.") from None


class Loss:
  """Base class of losses: per-sample values, then weighting and reduction.

  Subclasses implement `call(y_true, y_pred)` returning one loss value per
  sample (or per element); `__call__` casts the inputs to `dtype`, applies
  `sample_weight` and reduces as Keras 3 does. Everything is `jnp`, so a loss
  can be called inside `jax.jit` and differentiated.

  Args:
    name: name of the loss; defaults to the snake-cased class name.
    reduction: `"sum_over_batch_size"` (default; the weighted sum divided by
      the number of per-sample values), `"mean"` (same), `"sum"`,
      `"mean_with_sample_weight"` (weighted sum divided by the sum of the
      weights) or `None`/`"none"` (no reduction).
    dtype: dtype of the computation; defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> class MeanCube(Loss):
    ...   def call(self, y_true, y_pred):
    ...     return jnp.mean(jnp.abs(y_true - y_pred) ** 3, axis=-1)
    >>> float(MeanCube()(jnp.zeros((2, 3)), jnp.ones((2, 3))))
    1.0
  """

  def __init__(self,
               name: Optional[str] = None,
               reduction: Optional[str] = "sum_over_batch_size",
               dtype: Optional[str] = None):
    self.name = name or to_snake_case(type(self).__name__)
    self.reduction = _reduction.standardize_reduction(reduction)
    self.dtype = standardize_dtype(dtype)

  def __call__(self, y_true, y_pred, sample_weight=None):
    """Computes the reduced, weighted loss.

    Args:
      y_true: targets.
      y_pred: predictions.
      sample_weight: optional scalar, per-sample `(N,)`/`(N, 1)`, or
        per-element weights.

    Returns:
      A scalar, or the per-sample weighted losses when `reduction` is `None`.
    """
    y_true = jnp.asarray(y_true, self.dtype)
    y_pred = jnp.asarray(y_pred, self.dtype)
    values = self.call(y_true, y_pred)
    mask = self.compute_mask(y_true, y_pred)
    return _reduction.reduce_weighted_values(
        values,
        sample_weight=sample_weight,
        mask=mask,
        reduction=self.reduction,
        dtype=self.dtype)

  def call(self, y_true, y_pred):
    """Returns the per-sample losses; implemented by subclasses."""
    raise NotImplementedError(
        f"{type(self).__name__} must implement `call(y_true, y_pred)` "
        "returning the per-sample losses.")

  def compute_mask(self, y_true, y_pred):
    """Boolean array of valid loss entries, or `None` when all are valid."""
    del y_true, y_pred
    return None

  def get_config(self) -> Dict[str, Any]:
    """Returns the JSON-able constructor arguments."""
    return {"name": self.name, "reduction": self.reduction}

  @classmethod
  def from_config(cls, config: Dict[str, Any]):
    """Rebuilds a loss from `get_config()`'s output."""
    return cls(**config)

  def __repr__(self):
    return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
  """Makes a `Loss` out of a per-sample function `fn(y_true, y_pred, **kw)`.

  Targets and predictions whose ranks differ by a trailing axis of size 1 are
  aligned first (so `(N,)` targets work with `(N, 1)` predictions).

  Args:
    fn: the per-sample loss function.
    reduction: see `Loss`.
    name: name of the loss; defaults to `"loss_function_wrapper"`.
    dtype: see `Loss`.
    **kwargs: keyword arguments passed to `fn`.

  Example:
    >>> import jax.numpy as jnp
    >>> def l1(y_true, y_pred):
    ...   return jnp.sum(jnp.abs(y_true - y_pred), axis=-1)
    >>> float(LossFunctionWrapper(l1)(jnp.zeros((2, 3)), jnp.ones((2, 3))))
    3.0
  """

  def __init__(self,
               fn: Callable,
               reduction: Optional[str] = "sum_over_batch_size",
               name: Optional[str] = None,
               dtype: Optional[str] = None,
               **kwargs):
    super().__init__(name=name, reduction=reduction, dtype=dtype)
    self.fn = fn
    self._fn_kwargs = kwargs

  def call(self, y_true, y_pred):
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return self.fn(y_true, y_pred, **self._fn_kwargs)

  def get_config(self) -> Dict[str, Any]:
    config = super().get_config()
    if type(self) is LossFunctionWrapper:
      config["fn"] = function_name(self.fn)
    config.update(self._fn_kwargs)
    return config

  @classmethod
  def from_config(cls, config: Dict[str, Any], custom_objects=None):
    config = dict(config)
    if cls is LossFunctionWrapper:
      from ._registry import resolve_function  # pylint: disable=g-import-not-at-top
      config["fn"] = resolve_function(config["fn"], custom_objects)
    return cls(**config)

  def __repr__(self):
    return (f"<{type(self).__name__} name={self.name} "
            f"fn={getattr(self.fn, '__name__', self.fn)}>")


def function_name(fn: Callable) -> str:
  """The name a function is saved under; refuses lambdas and closures.

  Raises:
    ValueError: for lambdas and other functions without a usable name.
  """
  name = getattr(fn, "__name__", None)
  if not name or name == "<lambda>" or "<locals>" in getattr(
      fn, "__qualname__", ""):
    raise ValueError(
        f"Cannot serialize the function {fn!r}: lambdas and nested functions "
        "cannot be saved as config. Use a module-level function and pass it "
        "again through `custom_objects={name: fn}` when loading.")
  return name
