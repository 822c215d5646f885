"""Deterministic initializers: Zeros, Ones, Constant, Identity."""

from typing import Any, Dict

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Initializer, Shape, standardize_dtype, standardize_shape


class Zeros(Initializer):
  """Fills the weight with 0.

  >>> Zeros()((2,), "float32")
  Array([0., 0.], dtype=float32)
  """

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    return jnp.zeros(standardize_shape(shape), standardize_dtype(dtype))


class Ones(Initializer):
  """Fills the weight with 1.

  >>> Ones()((2,), "float32")
  Array([1., 1.], dtype=float32)
  """

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    return jnp.ones(standardize_shape(shape), standardize_dtype(dtype))


class Constant(Initializer):
  """Fills the weight with `value` (a scalar, or an array broadcast to shape).

  Args:
    value: A number or array-like broadcastable to the weight shape.

  >>> Constant(0.5)((2,))
  Array([0.5, 0.5], dtype=float32)
  """

  def __init__(self, value: Any = 0.0):
    if isinstance(value, (np.ndarray, jax.Array)):
      value = np.asarray(value).tolist()
    elif isinstance(value, np.generic):
      value = value.item()
    self.value = value

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    dtype = standardize_dtype(dtype)
    shape = standardize_shape(shape)
    return jnp.broadcast_to(jnp.asarray(self.value, dtype), shape)

  def get_config(self) -> Dict[str, Any]:
    return {"value": self.value}


class Identity(Initializer):
  """`gain` times the identity matrix (2-D weights only; may be rectangular).

  Args:
    gain: Multiplier of the identity.

  Raises:
    ValueError: When called with a shape that is not 2-D.

  >>> Identity()((2, 2))
  Array([[1., 0.],
         [0., 1.]], dtype=float32)
  """

  def __init__(self, gain: float = 1.0):
    self.gain = gain

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    shape = standardize_shape(shape)
    if len(shape) != 2:
      raise ValueError(
          "Identity can only initialize 2-D weights. Received: "
          f"shape={shape} of rank {len(shape)}.")
    dtype = standardize_dtype(dtype)
    return jnp.asarray(self.gain, dtype) * jnp.eye(*shape, dtype=dtype)

  def get_config(self) -> Dict[str, Any]:
    return {"gain": self.gain}
