"""The `Initializer` base class, the rng-key rule and Keras's fan computation."""

from typing import Any, Dict, Optional, Sequence, Tuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

Shape = Sequence[int]

_NO_RNG_HINT = (
    "Unseeded random initializers draw their randomness from "
    "`hk.next_rng_key()`, so they only work inside a Haiku transform while "
    "it is being initialised with a PRNG key (e.g. inside `model.init(rng, "
    "...)` or `hk.transform(f).init(rng, ...)`). To call one on its own, "
    "pass an integer seed, e.g. `GlorotUniform(seed=0)`.")


def standardize_dtype(dtype: Any) -> jnp.dtype:
  """Returns a numpy dtype; None means float32, as Keras's default floatx."""
  if dtype is None:
    return jnp.dtype("float32")
  return jnp.dtype(dtype)


def standardize_shape(shape: Any) -> Tuple[int, ...]:
  """Returns `shape` as a tuple of Python ints, or raises a clear error."""
  try:
    return tuple(int(d) for d in shape)
  except (TypeError, ValueError) as err:
    raise ValueError(
        "An initializer shape must be a sequence of integers. Received: "
        f"shape={shape!r} of type {type(shape).__name__}") from err


def seed_to_key(seed: int) -> jax.Array:
  """Turns an integer seed into a PRNG key exactly as Keras 3's JAX backend.

  Keras 3 builds the raw threefry key `[seed, 0]` (uint32), so a seeded
  initializer here draws the same numbers as the same initializer in Keras 3.

  Args:
    seed: A Python integer (taken modulo 2**32).

  Returns:
    A raw `uint32[2]` key usable with `jax.random`.
  """
  return jnp.array([int(seed) & 0xFFFFFFFF, 0], dtype=jnp.uint32)


def compute_fans(shape: Shape, input_axes: Optional[Sequence[int]] = None,
                 output_axes: Optional[Sequence[int]] = None
                 ) -> Tuple[int, int]:
  """Computes `(fan_in, fan_out)` as Keras 3 does.

  Dense kernels `(in, out)` give `(in, out)`; convolution kernels
  `(*spatial, in, out)` multiply both by the receptive field size
  `prod(spatial)`; a vector gives its length for both and a scalar gives 1.
  With both `input_axes` and `output_axes`, the fans are the products of the
  sizes on those axes.

  Args:
    shape: The weight shape.
    input_axes: Optional axes that count towards fan_in.
    output_axes: Optional axes that count towards fan_out.

  Returns:
    A tuple `(fan_in, fan_out)` of ints.

  >>> compute_fans((3, 3, 16, 32))
  (144, 288)
  """
  shape = standardize_shape(shape)
  if input_axes is not None and output_axes is not None:
    fan_in = int(np.prod([shape[a] for a in input_axes], dtype=np.int64))
    fan_out = int(np.prod([shape[a] for a in output_axes], dtype=np.int64))
    return fan_in, fan_out
  if not shape:
    return 1, 1
  if len(shape) == 1:
    return shape[0], shape[0]
  receptive_field = int(np.prod(shape[:-2], dtype=np.int64))
  return shape[-2] * receptive_field, shape[-1] * receptive_field


class Initializer:
  """Base class of all hk_keras initializers.

  An initializer is a callable `init(shape, dtype) -> array`, the signature
  Haiku expects, so any instance can be passed as
  `hk.get_parameter(name, shape, dtype, init=initializer)`. Subclasses
  implement `__call__` and, when they take arguments, `get_config`.

  >>> class Fives(Initializer):
  ...   def __call__(self, shape, dtype=None):
  ...     return jnp.full(shape, 5.0, standardize_dtype(dtype))
  >>> Fives()((2,))
  Array([5., 5.], dtype=float32)
  """

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    raise NotImplementedError(
        f"{type(self).__name__} must implement `__call__(shape, dtype)`.")

  def get_config(self) -> Dict[str, Any]:
    """Returns the constructor arguments as a JSON-able dict."""
    return {}

  @classmethod
  def from_config(cls, config: Dict[str, Any]) -> "Initializer":
    """Builds an initializer from the output of `get_config`."""
    return cls(**config)

  def clone(self) -> "Initializer":
    """Returns a new initializer with the same configuration."""
    return type(self).from_config(self.get_config())

  def __repr__(self) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
    return f"{type(self).__name__}({args})"


class RandomInitializer(Initializer):
  """Base of initializers that draw random numbers.

  Without a seed, the key comes from `hk.next_rng_key()`, so the initializer
  must run inside a Haiku transform given an rng. With an integer `seed` it
  uses a fixed key and also works outside a transform; as in Keras 3, every
  call of a seeded initializer then returns the same values.

  Args:
    seed: None or a Python integer.

  Raises:
    TypeError: If `seed` is neither None nor an integer.
  """

  def __init__(self, seed: Optional[int] = None):
    if seed is not None and (isinstance(seed, bool)
                             or not isinstance(seed, (int, np.integer))):
      raise TypeError(
          "`seed` must be None or a Python integer. Received: "
          f"seed={seed!r} of type {type(seed).__name__}")
    self.seed = None if seed is None else int(seed)

  def next_key(self) -> jax.Array:
    """Returns the PRNG key for one call (see the class docstring)."""
    if self.seed is not None:
      return seed_to_key(self.seed)
    try:
      return hk.next_rng_key()
    except ValueError as err:
      raise ValueError(
          f"{type(self).__name__} was called without a seed and without a "
          f"Haiku PRNG key. {_NO_RNG_HINT}") from err

  def get_config(self) -> Dict[str, Any]:
    return {"seed": self.seed}
