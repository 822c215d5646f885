"""Plain random initializers: RandomNormal, RandomUniform, TruncatedNormal."""

from typing import Any, Dict, Optional

import jax
import jax.numpy as jnp

from ._base import (RandomInitializer, Shape, standardize_dtype,
                    standardize_shape)


def truncated_normal(key: jax.Array, shape: Shape, dtype: Any, mean: float,
                     stddev: float) -> jax.Array:
  """Normal samples cut at two standard deviations (Keras's convention)."""
  sample = jax.random.truncated_normal(key, -2.0, 2.0, shape, dtype)
  return sample * jnp.asarray(stddev, dtype) + jnp.asarray(mean, dtype)


class RandomNormal(RandomInitializer):
  """Samples from a normal distribution N(mean, stddev**2).

  Args:
    mean: Mean of the distribution.
    stddev: Standard deviation of the distribution.
    seed: Optional integer seed (see `RandomInitializer`).

  >>> RandomNormal(stddev=1.0, seed=0)((2, 3)).shape
  (2, 3)
  """

  def __init__(self, mean: float = 0.0, stddev: float = 0.05,
               seed: Optional[int] = None):
    self.mean = mean
    self.stddev = stddev
    super().__init__(seed=seed)

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    dtype = standardize_dtype(dtype)
    sample = jax.random.normal(self.next_key(), standardize_shape(shape), dtype)
    return sample * jnp.asarray(self.stddev, dtype) + jnp.asarray(
        self.mean, dtype)

  def get_config(self) -> Dict[str, Any]:
    return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(RandomInitializer):
  """Samples uniformly from `[minval, maxval)`.

  Args:
    minval: Lower bound.
    maxval: Upper bound (exclusive).
    seed: Optional integer seed (see `RandomInitializer`).

  >>> bool((RandomUniform(seed=0)((100,)) < 0.05).all())
  True
  """

  def __init__(self, minval: float = -0.05, maxval: float = 0.05,
               seed: Optional[int] = None):
    self.minval = minval
    self.maxval = maxval
    super().__init__(seed=seed)

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    return jax.random.uniform(self.next_key(), standardize_shape(shape),
                              standardize_dtype(dtype), minval=self.minval,
                              maxval=self.maxval)

  def get_config(self) -> Dict[str, Any]:
    return {"minval": self.minval, "maxval": self.maxval,
            **super().get_config()}


class TruncatedNormal(RandomInitializer):
  """Normal samples redrawn when more than two `stddev` from the `mean`.

  Note `stddev` is the standard deviation before truncation, as in Keras.

  Args:
    mean: Mean of the distribution.
    stddev: Standard deviation before truncation.
    seed: Optional integer seed (see `RandomInitializer`).

  >>> bool((abs(TruncatedNormal(seed=0)((100,))) <= 0.1).all())
  True
  """

  def __init__(self, mean: float = 0.0, stddev: float = 0.05,
               seed: Optional[int] = None):
    self.mean = mean
    self.stddev = stddev
    super().__init__(seed=seed)

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    return truncated_normal(self.next_key(), standardize_shape(shape),
                            standardize_dtype(dtype), self.mean, self.stddev)

  def get_config(self) -> Dict[str, Any]:
    return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}
