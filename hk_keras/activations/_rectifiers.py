"""Rectifier-style activations: relu and its relatives, elu, selu."""

from typing import Optional

import jax
import jax.numpy as jnp


def relu(x, negative_slope: float = 0.0, max_value: Optional[float] = None,
         threshold: float = 0.0) -> jax.Array:
  """Rectified linear unit, with Keras 3's optional slope, cap and threshold.

  With the defaults this is `max(x, 0)`. Values at or below `threshold`
  become `negative_slope * (x - threshold)`; the positive part is clipped to
  `max_value` when given.

  Args:
    x: Input array.
    negative_slope: Slope used for values below `threshold`.
    max_value: Largest value the positive part may take (None: no cap).
    threshold: Values not greater than this are damped.

  Returns:
    An array with the shape and dtype of `x`.

  >>> relu(jnp.array([-10., -5., 0., 5., 10.]), negative_slope=0.5)
  Array([-5. , -2.5,  0. ,  5. , 10. ], dtype=float32)
  """
  x = jnp.asarray(x)
  if negative_slope != 0.0 and max_value is None and threshold == 0:
    return jax.nn.leaky_relu(x, negative_slope=negative_slope)
  if threshold != 0:
    positive = jnp.where(x > jnp.asarray(threshold, x.dtype), x,
                         jnp.zeros_like(x))
  else:
    positive = jax.nn.relu(x)
  if max_value is not None:
    positive = jnp.clip(positive, jnp.asarray(0, x.dtype),
                        jnp.asarray(max_value, x.dtype))
  if negative_slope != 0.0:
    positive = positive - negative_slope * jax.nn.relu(threshold - x)
  return positive


def relu6(x) -> jax.Array:
  """ReLU capped at 6: `min(max(x, 0), 6)`.

  >>> relu6(jnp.array([-1., 3., 9.]))
  Array([0., 3., 6.], dtype=float32)
  """
  return jax.nn.relu6(jnp.asarray(x))


def leaky_relu(x, negative_slope: float = 0.2) -> jax.Array:
  """Leaky ReLU: `x` if `x >= 0` else `negative_slope * x` (Keras default 0.2).

  >>> leaky_relu(jnp.array([-1., 2.]))
  Array([-0.2,  2. ], dtype=float32)
  """
  return jax.nn.leaky_relu(jnp.asarray(x), negative_slope=negative_slope)


def elu(x, alpha: float = 1.0) -> jax.Array:
  """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`.

  >>> elu(jnp.array([0., 1.]))
  Array([0., 1.], dtype=float32)
  """
  return jax.nn.elu(jnp.asarray(x), alpha=alpha)


def selu(x) -> jax.Array:
  """Scaled ELU with the self-normalising constants (pair with lecun_normal).

  >>> selu(jnp.array([0.]))
  Array([0.], dtype=float32)
  """
  return jax.nn.selu(jnp.asarray(x))
