"""Element-wise squashing and smooth activations."""

import jax
import jax.numpy as jnp


def sigmoid(x) -> jax.Array:
  """Logistic sigmoid `1 / (1 + exp(-x))`.

  >>> sigmoid(jnp.array([0.]))
  Array([0.5], dtype=float32)
  """
  return jax.nn.sigmoid(jnp.asarray(x))


def hard_sigmoid(x) -> jax.Array:
  """Keras 3's hard sigmoid: `relu6(x + 3) / 6` (0 below -3, 1 above 3).

  Keras 2 used `0.2 * x + 0.5`; Keras 3 (and this package) use `x / 6 + 0.5`.

  >>> hard_sigmoid(jnp.array([-4., 0., 4.]))
  Array([0. , 0.5, 1. ], dtype=float32)
  """
  return jax.nn.hard_sigmoid(jnp.asarray(x))


def hard_silu(x) -> jax.Array:
  """Hard SiLU (hard swish): `x * hard_sigmoid(x)`.

  >>> hard_silu(jnp.array([-4., 4.]))
  Array([-0.,  4.], dtype=float32)
  """
  return jax.nn.hard_silu(jnp.asarray(x))


hard_swish = hard_silu


def silu(x) -> jax.Array:
  """SiLU (swish): `x * sigmoid(x)`.

  >>> silu(jnp.array([0.]))
  Array([0.], dtype=float32)
  """
  return jax.nn.silu(jnp.asarray(x))


swish = silu


def gelu(x, approximate: bool = False) -> jax.Array:
  """Gaussian error linear unit `x * P(X <= x)`, X ~ N(0, 1).

  Keras 3 defaults to the exact (erf) form; `jax.nn.gelu` defaults to the
  tanh approximation. This function follows Keras.

  Args:
    x: Input array.
    approximate: Use the tanh approximation instead of erf.

  >>> gelu(jnp.array([0.]))
  Array([0.], dtype=float32)
  """
  return jax.nn.gelu(jnp.asarray(x), approximate=approximate)


def tanh(x) -> jax.Array:
  """Hyperbolic tangent.

  >>> tanh(jnp.array([0.]))
  Array([0.], dtype=float32)
  """
  return jnp.tanh(jnp.asarray(x))


def softplus(x) -> jax.Array:
  """Softplus `log(exp(x) + 1)`, computed stably.

  >>> softplus(jnp.array([0.]))
  Array([0.6931472], dtype=float32)
  """
  return jax.nn.softplus(jnp.asarray(x))


def softsign(x) -> jax.Array:
  """Softsign `x / (abs(x) + 1)`.

  >>> softsign(jnp.array([1.]))
  Array([0.5], dtype=float32)
  """
  return jax.nn.soft_sign(jnp.asarray(x))


def mish(x) -> jax.Array:
  """Mish `x * tanh(softplus(x))`.

  >>> mish(jnp.array([0.]))
  Array([0.], dtype=float32)
  """
  x = jnp.asarray(x)
  return x * jnp.tanh(jax.nn.softplus(x))


def exponential(x) -> jax.Array:
  """Exponential `exp(x)`.

  >>> exponential(jnp.array([0.]))
  Array([1.], dtype=float32)
  """
  return jnp.exp(jnp.asarray(x))


def linear(x):
  """Identity: returns `x` unchanged (the activation used for None).

  >>> linear(3.0)
  3.0
  """
  return x
