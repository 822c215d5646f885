"""Global seeding, as `keras.utils.set_random_seed`, feeding Haiku RNG keys."""
import random

import jax
import numpy as np

_global_key = None


def set_random_seed(seed: int) -> None:
  """Seeds Python, NumPy and hk_keras's own JAX key stream.

  The same seed on the same device setup gives bit-identical weight
  initialisation, shuffling, dropout and training.

  Args:
    seed: a non-negative integer.

  Raises:
    TypeError: if `seed` is not an integer.

  >>> import hk_keras
  >>> hk_keras.utils.set_random_seed(0)
  """
  global _global_key
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
    raise TypeError(
        f"set_random_seed expects an integer seed. Received: seed={seed!r} of "
        f"type {type(seed).__name__}.")
  random.seed(int(seed))
  np.random.seed(int(seed) % (2**32))
  _global_key = jax.random.PRNGKey(int(seed))


def next_rng_key() -> jax.Array:
  """Returns a fresh key from the global stream (seeded or, if unseeded, random)."""
  global _global_key
  if _global_key is None:
    _global_key = jax.random.PRNGKey(np.random.SeedSequence().entropy % (2**63))
  _global_key, key = jax.random.split(_global_key)
  return key
