"""The random draws of `keras.random`, on `jax.random` with Keras's rules."""
from typing import Optional, Sequence

import jax
import jax.numpy as jnp

from ..config import _settings
from ._seed_generator import draw_seed


def _float(dtype):
  return jnp.dtype(dtype or _settings.floatx())


def _shape(shape, fn):
  if isinstance(shape, int):
    return (shape,)
  try:
    shape = tuple(int(d) for d in shape)
  except TypeError:
    raise ValueError(
        f"{fn}: `shape` must be a tuple of ints. Received: shape={shape!r}"
    ) from None
  return shape


def normal(shape: Sequence[int], mean=0.0, stddev=1.0, dtype=None,
           seed=None) -> jax.Array:
  """Samples from a normal distribution, `mean + stddev * N(0, 1)`.

  Args:
    shape: the output shape.
    mean: the mean.
    stddev: the standard deviation.
    dtype: a float dtype; default `hk_keras.config.floatx()`.
    seed: an int, a `SeedGenerator`, a JAX key or None (see
      `SeedGenerator`).

  >>> normal((2, 3), seed=0).shape
  (2, 3)
  """
  key = draw_seed(seed)
  sample = jax.random.normal(key, _shape(shape, "normal"), _float(dtype))
  return sample * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
  """Samples uniformly from `[minval, maxval)` (float dtypes only).

  Raises:
    ValueError: for an integer dtype (use `randint`).
  """
  dtype = _float(dtype)
  if not jnp.issubdtype(dtype, jnp.floating):
    raise ValueError(
        "uniform: `dtype` must be a floating point type; for integers use "
        f"hk_keras.random.randint. Received: dtype={dtype.name}")
  return jax.random.uniform(draw_seed(seed), _shape(shape, "uniform"), dtype,
                            minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
  """Normal samples truncated to two standard deviations around `mean`."""
  sample = jax.random.truncated_normal(
      draw_seed(seed), -2.0, 2.0, _shape(shape, "truncated_normal"),
      _float(dtype))
  return sample * stddev + mean


def randint(shape, minval, maxval, dtype="int32", seed=None):
  """Integers drawn uniformly from `[minval, maxval)`."""
  dtype = jnp.dtype(dtype)
  if not jnp.issubdtype(dtype, jnp.integer):
    raise ValueError(
        "randint: `dtype` must be an integer type. Received: "
        f"dtype={dtype.name}")
  return jax.random.randint(draw_seed(seed), _shape(shape, "randint"),
                            minval, maxval, dtype)


def categorical(logits, num_samples: int, dtype="int32", seed=None):
  """Draws `num_samples` class indices per row of 2D `logits`.

  Returns:
    An array of shape `(batch, num_samples)`.

  Raises:
    ValueError: if `logits` is not 2D.
  """
  logits = jnp.asarray(logits)
  if logits.ndim != 2:
    raise ValueError(
        "categorical: `logits` must have shape (batch_size, num_classes). "
        f"Received: logits.shape={logits.shape}")
  out_shape = (logits.shape[0], int(num_samples))
  out = jax.random.categorical(draw_seed(seed), logits[..., None],
                               axis=1, shape=out_shape)
  return out.astype(dtype)


def dropout(inputs, rate: float, noise_shape=None, seed=None):
  """Zeroes entries with probability `rate`, scales the rest by
  `1 / (1 - rate)`; `noise_shape` (None entries: the input's size) shares
  the mask along axes of size 1."""
  inputs = jnp.asarray(inputs)
  if not 0.0 <= rate <= 1.0:
    raise ValueError(
        f"dropout: `rate` must be in [0, 1]. Received: rate={rate!r}")
  if rate == 1.0:
    return jnp.zeros_like(inputs)
  if rate == 0.0:
    return inputs
  if noise_shape is None:
    noise_shape = inputs.shape
  else:
    noise_shape = tuple(inputs.shape[i] if d is None else d
                        for i, d in enumerate(noise_shape))
  keep = 1.0 - rate
  mask = jax.random.bernoulli(draw_seed(seed), keep, noise_shape)
  mask = jnp.broadcast_to(mask, inputs.shape)
  return jax.lax.select(mask, inputs / keep, jnp.zeros_like(inputs))


def shuffle(x, axis: int = 0, seed=None):
  """A random permutation of `x` along `axis`."""
  return jax.random.permutation(draw_seed(seed), jnp.asarray(x), axis,
                                independent=True)


def gamma(shape, alpha, dtype=None, seed=None):
  """Samples from Gamma(`alpha`, 1)."""
  return jax.random.gamma(draw_seed(seed), alpha, _shape(shape, "gamma"),
                          _float(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
  """Samples from Binomial(`counts`, `probabilities`) as floats."""
  return jax.random.binomial(draw_seed(seed), jnp.asarray(counts),
                             jnp.asarray(probabilities),
                             _shape(shape, "binomial"), _float(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):  # pylint: disable=redefined-outer-name
  """Samples from Beta(`alpha`, `beta`)."""
  return jax.random.beta(draw_seed(seed), jnp.asarray(alpha),
                         jnp.asarray(beta), _shape(shape, "beta"),
                         _float(dtype))
