"""`SeedGenerator` and the seed forms of `hk_keras.random` (`seed=`).

A seed is turned into a JAX key by `draw_seed`:

* an int `s` gives the raw key `uint32[s, 0]`, the key Keras 3's JAX backend
  uses, so an int seed draws exactly the numbers Keras draws;
* a JAX key (raw `uint32[2]` or typed) is used as it is;
* a `SeedGenerator` gives its next key;
* `None` gives the next key of Haiku's RNG stream inside a model (the
  `rng` of `apply`, i.e. the step RNG in `fit`), else of hk_keras's global
  stream, which `hk_keras.utils.set_random_seed` seeds.
"""
import random as python_random
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .._core import _naming

_TRACED_WITHOUT_SEED = (
    "hk_keras.random: a random op with seed=None was traced by jax.jit outside "
    "an hk_keras model, so its numbers would be frozen into the compiled "
    "function. Pass a JAX key as seed= (e.g. an argument of the jitted "
    "function), or call it inside a layer's `call`, where it draws from the "
    "model's RNG (the `rng` given to `apply`, the step RNG in `fit`).")

_NO_RNG = (
    "hk_keras.random: a random op drew inside a model run without an RNG key "
    "(apply(params, state, None, ...)). Pass a key as `rng` to `apply`.")


def _inside_transform() -> bool:
  try:
    hk.running_init()
  except ValueError:
    return False
  return True


def _is_tracing() -> bool:
  return isinstance(jnp.zeros(()), jax.core.Tracer)


def _haiku_key():
  key = hk.maybe_next_rng_key()
  if key is None:
    raise ValueError(_NO_RNG)
  return key


def _global_key():
  if _is_tracing():
    raise ValueError(_TRACED_WITHOUT_SEED)
  from ..utils import _random  # pylint: disable=g-import-not-at-top
  return _random.next_rng_key()


def int_key(seed: int) -> jax.Array:
  """Keras's key for an int seed: the raw key `uint32[seed, 0]`."""
  return jnp.asarray(np.array([int(seed) & 0xFFFFFFFF, 0], np.uint32))


def is_key(x) -> bool:
  """A raw `uint32[2]` key or a typed JAX key."""
  if not isinstance(x, (jax.Array, np.ndarray)):
    return False
  if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
    return True
  return x.dtype == np.uint32 and tuple(x.shape) == (2,)


class SeedGenerator:
  """A stateful source of seeds, as `keras.random.SeedGenerator`.

  Pass it as `seed=` to `hk_keras.random` functions to get different numbers
  on every call that are reproducible from `seed`.

  Outside a model it holds its own state `uint32[seed, counter]` and gives
  the keys Keras gives for the same seed (`next()` returns the state, then
  increments the counter), so `normal((3,), seed=SeedGenerator(1))` draws
  what Keras draws.

  Inside a model (`call` of a layer that owns it), a key stored in a Python
  object would be frozen into the compiled step, so it draws from the
  model's RNG instead (Haiku's `hk.next_rng_key()`, folded with `seed`): the
  numbers are fresh every training step, reproducible under
  `hk_keras.utils.set_random_seed`, and resume exactly after `save`/
  `load_model` because the step RNG is part of the saved train state.

  Args:
    seed: an int; None picks one from Python's `random` (seeded by
      `set_random_seed`).
    name: optional name.

  Raises:
    ValueError: if `seed` is not an int.

  >>> gen = SeedGenerator(42)
  >>> a = normal((2,), seed=gen)
  >>> b = normal((2,), seed=gen)  # different numbers
  """

  def __init__(self, seed: Optional[int] = None, name: Optional[str] = None,
               **kwargs):
    if kwargs:
      raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    self.name = name or _naming.unique_name("seed_generator")
    self._initial_seed = seed
    if seed is None:
      seed = python_random.randint(1, int(1e9))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
      raise ValueError(
          f"SeedGenerator: `seed` must be an integer or None. Received: "
          f"seed={seed!r} of type {type(seed).__name__}")
    self._seed = int(seed)
    self.state = np.array([self._seed & 0xFFFFFFFF, 0], np.uint32)

  def next(self, ordered: bool = True) -> jax.Array:
    """The next key: from the model's RNG inside a model, else the state."""
    if _inside_transform():
      return jax.random.fold_in(_haiku_key(), self._seed & 0x7FFFFFFF)
    key = jnp.asarray(self.state)
    if ordered:
      self.state = self.state + np.array([0, 1], np.uint32)
    else:
      self.state = ((self.state.astype(np.uint64) + 1) * 5387 %
                    933199).astype(np.uint32)
    return key

  def get_config(self):
    return {"seed": self._initial_seed, "name": self.name}

  @classmethod
  def from_config(cls, config):
    return cls(**config)

  def __repr__(self):
    return f"<SeedGenerator name={self.name!r} seed={self._initial_seed!r}>"


def draw_seed(seed) -> jax.Array:
  """Any accepted `seed=` value -> a JAX key (see the module docstring).

  Raises:
    ValueError: for anything else.
  """
  if isinstance(seed, SeedGenerator):
    return seed.next()
  if seed is None:
    return _haiku_key() if _inside_transform() else _global_key()
  if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
    return int_key(seed)
  if is_key(seed) or isinstance(seed, jax.core.Tracer):
    return seed
  raise ValueError(
      "Argument `seed` must be an integer, a SeedGenerator, a JAX key or "
      f"None. Received: seed={seed!r} (of type {type(seed).__name__})")
