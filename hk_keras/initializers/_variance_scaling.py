"""VarianceScaling and its named special cases (Glorot, He, Lecun)."""

import math
from typing import Any, Dict, Optional, Sequence

import jax

from ._base import (RandomInitializer, Shape, compute_fans, standardize_dtype,
                    standardize_shape)
from ._random import truncated_normal

# Standard deviation of a unit normal truncated to [-2, 2]; dividing by it
# makes the truncated samples have the requested variance (Keras's constant).
TRUNCATED_NORMAL_STDDEV = 0.87962566103423978

_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
  """Samples with variance `scale / n`, n chosen by `mode` from the fans.

  `n` is fan_in, fan_out or their mean (`mode`), computed as Keras 3 does
  (see `compute_fans`; at least 1). With `distribution="truncated_normal"`
  (also spelled `"normal"`) samples come from a normal truncated at two
  standard deviations with stddev `sqrt(scale / n) / 0.8796...` so the
  truncated variance is `scale / n`; `"untruncated_normal"` uses a plain
  normal; `"uniform"` samples from `[-limit, limit]` with
  `limit = sqrt(3 * scale / n)`.

  Args:
    scale: Positive scaling factor.
    mode: One of "fan_in", "fan_out", "fan_avg".
    distribution: One of "truncated_normal" ("normal"), "untruncated_normal",
      "uniform".
    seed: Optional integer seed (see `RandomInitializer`).
    input_axes: Optional axes counted in fan_in (with `output_axes`).
    output_axes: Optional axes counted in fan_out (with `input_axes`).

  Raises:
    ValueError: For a non-positive scale or an unknown mode or distribution.

  >>> VarianceScaling(2.0, "fan_in", "uniform", seed=0)((4, 3)).shape
  (4, 3)
  """

  def __init__(self, scale: float = 1.0, mode: str = "fan_in",
               distribution: str = "truncated_normal",
               seed: Optional[int] = None,
               input_axes: Optional[Sequence[int]] = None,
               output_axes: Optional[Sequence[int]] = None):
    if not scale > 0.0:
      raise ValueError(
          f"`scale` must be a positive float. Received: scale={scale!r}")
    if mode not in _MODES:
      raise ValueError(
          f"Invalid `mode`: {mode!r}. Expected one of {list(_MODES)}.")
    dist = str(distribution).lower()
    if dist == "normal":
      dist = "truncated_normal"
    if dist not in _DISTRIBUTIONS:
      raise ValueError(
          f"Invalid `distribution`: {distribution!r}. Expected one of "
          f"{list(_DISTRIBUTIONS)} (or 'normal', meaning truncated_normal).")
    self.scale = scale
    self.mode = mode
    self.distribution = dist
    self.input_axes = None if input_axes is None else list(input_axes)
    self.output_axes = None if output_axes is None else list(output_axes)
    super().__init__(seed=seed)

  def variance(self, shape: Shape) -> float:
    """Returns the target variance `scale / n` for a weight shape."""
    fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
    n = {"fan_in": fan_in, "fan_out": fan_out,
         "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
    return self.scale / max(1.0, n)

  def __call__(self, shape: Shape, dtype: Any = None) -> jax.Array:
    shape = standardize_shape(shape)
    dtype = standardize_dtype(dtype)
    variance = self.variance(shape)
    key = self.next_key()
    if self.distribution == "truncated_normal":
      stddev = math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV
      return truncated_normal(key, shape, dtype, 0.0, stddev)
    if self.distribution == "untruncated_normal":
      return jax.random.normal(key, shape, dtype) * math.sqrt(variance)
    limit = math.sqrt(3.0 * variance)
    return jax.random.uniform(key, shape, dtype, minval=-limit, maxval=limit)

  def get_config(self) -> Dict[str, Any]:
    return {
        "scale": self.scale,
        "mode": self.mode,
        "distribution": self.distribution,
        "seed": self.seed,
        "input_axes": self.input_axes,
        "output_axes": self.output_axes,
    }


class _FixedVarianceScaling(VarianceScaling):
  """A VarianceScaling whose scale, mode and distribution are fixed."""

  _SCALE = 1.0
  _MODE = "fan_in"
  _DISTRIBUTION = "truncated_normal"

  def __init__(self, seed: Optional[int] = None,
               input_axes: Optional[Sequence[int]] = None,
               output_axes: Optional[Sequence[int]] = None):
    super().__init__(scale=self._SCALE, mode=self._MODE,
                     distribution=self._DISTRIBUTION, seed=seed,
                     input_axes=input_axes, output_axes=output_axes)

  def get_config(self) -> Dict[str, Any]:
    return {"seed": self.seed, "input_axes": self.input_axes,
            "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
  """Glorot (Xavier) uniform: U(-l, l), `l = sqrt(6 / (fan_in + fan_out))`.

  The Keras default for Dense and Conv kernels.

  Args:
    seed: Optional integer seed (see `RandomInitializer`).
    input_axes: Optional axes counted in fan_in.
    output_axes: Optional axes counted in fan_out.

  >>> GlorotUniform(seed=0)((3, 4)).shape
  (3, 4)
  """
  _MODE = "fan_avg"
  _DISTRIBUTION = "uniform"


class GlorotNormal(_FixedVarianceScaling):
  """Glorot (Xavier) normal: truncated normal, variance `2 / (fan_in + fan_out)`.

  >>> GlorotNormal(seed=0)((3, 4)).shape
  (3, 4)
  """
  _MODE = "fan_avg"


class HeNormal(_FixedVarianceScaling):
  """He normal: truncated normal with variance `2 / fan_in`.

  >>> HeNormal(seed=0)((3, 4)).shape
  (3, 4)
  """
  _SCALE = 2.0


class HeUniform(_FixedVarianceScaling):
  """He uniform: U(-l, l) with `l = sqrt(6 / fan_in)`.

  >>> HeUniform(seed=0)((3, 4)).shape
  (3, 4)
  """
  _SCALE = 2.0
  _DISTRIBUTION = "uniform"


class LecunNormal(_FixedVarianceScaling):
  """LeCun normal: truncated normal with variance `1 / fan_in` (use with selu).

  >>> LecunNormal(seed=0)((3, 4)).shape
  (3, 4)
  """


class LecunUniform(_FixedVarianceScaling):
  """LeCun uniform: U(-l, l) with `l = sqrt(3 / fan_in)`.

  >>> LecunUniform(seed=0)((3, 4)).shape
  (3, 4)
  """
  _DISTRIBUTION = "uniform"
