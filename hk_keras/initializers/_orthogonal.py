"""The Orthogonal initializer."""

from typing import Any, Dict, Optional

import jax
import jax.numpy as jnp
import numpy as np

from ._base import (RandomInitializer, Shape, standardize_dtype,
                    standardize_shape)


class Orthogonal(RandomInitializer):
  """A (semi-)orthogonal matrix times `gain`, from the QR of a normal sample.

  The weight is viewed as a matrix `(prod(shape[:-1]), shape[-1])`; its
  columns (or rows, whichever are fewer) are orthonormal, with the sign
  fixed so the distribution is uniform over orthogonal matrices.

  Args:
    gain: Multiplier of the orthogonal matrix.
    seed: Optional integer seed (see `RandomInitializer`).

  Raises:
    ValueError: When called with a shape of rank below 2.

  >>> q = Orthogonal(seed=0)((4, 4))
  >>> bool(jnp.allclose(q.T @ q, jnp.eye(4), atol=1e-5))
  True
  """

  def __init__(self, gain: float = 1.0, seed: Optional[int] = None):
    self.gain = gain
    super().__init__(seed=seed)

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    shape = standardize_shape(shape)
    if len(shape) < 2:
      raise ValueError(
          "Orthogonal needs a weight of rank 2 or more. Received: "
          f"shape={shape} of rank {len(shape)}.")
    dtype = standardize_dtype(dtype)
    rows = int(np.prod(shape[:-1], dtype=np.int64))
    cols = shape[-1]
    sample = jax.random.normal(self.next_key(),
                               (max(rows, cols), min(rows, cols)), dtype)
    q, r = jnp.linalg.qr(sample)
    q = q * jnp.sign(jnp.diag(r))[None, :]
    if rows < cols:
      q = q.T
    return jnp.asarray(self.gain, dtype) * q.reshape(shape)

  def get_config(self) -> Dict[str, Any]:
    return {"gain": self.gain, **super().get_config()}
