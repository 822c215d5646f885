"""Softmax over an axis."""

import jax
import jax.numpy as jnp


def _at_least_float32(x):
  """Half-precision logits are upcast: softmax outputs (probabilities fed to
  losses) stay float32 under mixed precision."""
  x = jnp.asarray(x)
  if jnp.issubdtype(x.dtype, jnp.floating) and jnp.finfo(x.dtype).bits < 32:
    x = x.astype(jnp.float32)
  return x


def softmax(x, axis: int = -1) -> jax.Array:
  """Softmax `exp(x) / sum(exp(x))` along `axis`; the result sums to 1.

  float16/bfloat16 inputs give float32 outputs (mixed precision keeps
  probabilities in full precision).

  >>> softmax(jnp.array([0., 0.]))
  Array([0.5, 0.5], dtype=float32)
  """
  return jax.nn.softmax(_at_least_float32(x), axis=axis)


def log_softmax(x, axis: int = -1) -> jax.Array:
  """Logarithm of softmax along `axis`, computed stably.

  >>> log_softmax(jnp.array([0., 0.]))
  Array([-0.6931472, -0.6931472], dtype=float32)
  """
  return jax.nn.log_softmax(_at_least_float32(x), axis=axis)
