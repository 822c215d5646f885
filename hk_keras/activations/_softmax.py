"""Softmax over an axis."""

import jax
import jax.numpy as jnp


def softmax(x, axis: int = -1) -> jax.Array:
  """Softmax `exp(x) / sum(exp(x))` along `axis`; the result sums to 1.

  >>> softmax(jnp.array([0., 0.]))
  Array([0.5, 0.5], dtype=float32)
  """
  return jax.nn.softmax(jnp.asarray(x), axis=axis)


def log_softmax(x, axis: int = -1) -> jax.Array:
  """Logarithm of softmax along `axis`, computed stably.

  >>> log_softmax(jnp.array([0., 0.]))
  Array([-0.6931472, -0.6931472], dtype=float32)
  """
  return jax.nn.log_softmax(jnp.asarray(x), axis=axis)
