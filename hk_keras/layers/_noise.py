"""Random regularization layers: `GaussianNoise`, `GaussianDropout`,
`AlphaDropout`, and `SpatialDropout1D/2D/3D`.

All are the identity at inference. In training their noise comes from the
`rng` passed to `apply` (`hk.next_rng_key()`), with `seed` folded in when
given, as `Dropout` does.
"""
import numbers

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from . import _spatial_args as args
from ._layer import Layer

# SELU's constants: AlphaDropout drops to SELU's negative saturation value.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _key(seed):
  key = hk.next_rng_key()
  return key if seed is None else jax.random.fold_in(key, seed)


def _check_rate(owner, rate):
  if not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
    raise ValueError(
        f"{owner}: `rate` must be a number in [0, 1). Received: rate={rate!r}")
  return float(rate)


class GaussianNoise(Layer):
  """Adds zero-mean Gaussian noise of standard deviation `stddev` in training
  (Keras 3 `GaussianNoise`); the identity at inference.

  Args:
    stddev: the noise's standard deviation (>= 0).
    seed: optional integer folded into the key.

  >>> import numpy as np
  >>> GaussianNoise(0.1)(np.ones(3)).tolist()  # inference: unchanged
  [1.0, 1.0, 1.0]
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, stddev, seed=None, **kwargs):
    super().__init__(**kwargs)
    if not isinstance(stddev, numbers.Real) or stddev < 0:
      raise ValueError(
          "GaussianNoise: `stddev` must be a number >= 0. Received: "
          f"stddev={stddev!r}")
    self.stddev = float(stddev)
    self.seed = seed

  def call(self, inputs, training=False):
    if not training or self.stddev == 0:
      return inputs
    noise = jax.random.normal(_key(self.seed), inputs.shape, inputs.dtype)
    return inputs + self.stddev * noise

  def get_config(self):
    return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
  """Multiplies inputs by Gaussian noise of mean 1 and standard deviation
  `sqrt(rate / (1 - rate))` in training (Keras 3 `GaussianDropout`).

  Args:
    rate: the equivalent drop probability, in [0, 1).
    seed: optional integer folded into the key.

  >>> GaussianDropout(0.2)
  <GaussianDropout ...>
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, rate, seed=None, **kwargs):
    super().__init__(**kwargs)
    self.rate = _check_rate("GaussianDropout", rate)
    self.seed = seed

  def call(self, inputs, training=False):
    if not training or self.rate == 0:
      return inputs
    stddev = np.sqrt(self.rate / (1.0 - self.rate))
    noise = jax.random.normal(_key(self.seed), inputs.shape, inputs.dtype)
    return inputs * (1.0 + stddev * noise)

  def get_config(self):
    return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
  """Dropout that keeps SELU networks self-normalizing (Keras 3
  `AlphaDropout`).

  In training, dropped units are set to SELU's saturation value
  `-alpha * scale`, then all units get an affine correction so that the mean
  and variance of the inputs are kept.

  Args:
    rate: fraction of units to drop, in [0, 1).
    noise_shape: shape of the keep mask, broadcast to the inputs (None
      entries take the input's size).
    seed: optional integer folded into the key.

  >>> AlphaDropout(0.1)
  <AlphaDropout ...>
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
    super().__init__(**kwargs)
    self.rate = _check_rate("AlphaDropout", rate)
    self.noise_shape = None if noise_shape is None else list(noise_shape)
    self.seed = seed

  def call(self, inputs, training=False):
    if not training or self.rate == 0:
      return inputs
    shape = inputs.shape
    if self.noise_shape is not None:
      shape = tuple(s if n is None else n
                    for s, n in zip(inputs.shape, self.noise_shape))
    rate = self.rate
    dropped = -_SELU_ALPHA * _SELU_SCALE
    keep = jax.random.uniform(_key(self.seed), shape) >= rate
    a = ((1.0 - rate) * (1.0 + rate * dropped ** 2)) ** -0.5
    b = -a * dropped * rate
    kept = jnp.where(keep, inputs, jnp.asarray(dropped, inputs.dtype))
    return (a * kept + b).astype(inputs.dtype)

  def get_config(self):
    return {**super().get_config(), "rate": self.rate, "seed": self.seed,
            "noise_shape": self.noise_shape}


class _SpatialDropout(Layer):
  """Dropout of whole channels: one keep/drop draw per example and channel."""

  _rank = 1

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, rate, data_format=None, seed=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.rate = _check_rate(owner, rate)
    self.seed = seed
    self.data_format = args.normalize_data_format(data_format, owner)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)

  def call(self, inputs, training=False):
    if not training or self.rate == 0:
      return inputs
    batch = inputs.shape[0]
    channels = inputs.shape[args.channel_axis(self.data_format)]
    ones = (1,) * self._rank
    if self.data_format == "channels_first":
      shape = (batch, channels) + ones
    else:
      shape = (batch,) + ones + (channels,)
    keep = jax.random.bernoulli(_key(self.seed), 1.0 - self.rate, shape)
    return jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros_like(inputs))

  def get_config(self):
    return {**super().get_config(), "rate": self.rate, "seed": self.seed,
            "data_format": self.data_format}


class SpatialDropout1D(_SpatialDropout):
  """Drops whole feature channels of sequences (Keras 3 `SpatialDropout1D`).

  For `(batch, steps, channels)` inputs each channel of each example is kept
  (scaled by `1 / (1 - rate)`) or zeroed at every step together.

  Args:
    rate: fraction of channels to drop, in [0, 1).
    seed: optional integer folded into the key.

  >>> SpatialDropout1D(0.2)
  <SpatialDropout1D ...>
  """

  _rank = 1

  def __init__(self, rate, seed=None, **kwargs):
    super().__init__(rate, seed=seed, **kwargs)

  def get_config(self):
    config = super().get_config()
    del config["data_format"]
    return config


class SpatialDropout2D(_SpatialDropout):
  """Drops whole feature maps of images (Keras 3 `SpatialDropout2D`).

  Args:
    rate: fraction of channels to drop, in [0, 1).
    data_format: "channels_last" (default) or "channels_first".
    seed: optional integer folded into the key.

  >>> SpatialDropout2D(0.2)
  <SpatialDropout2D ...>
  """

  _rank = 2


class SpatialDropout3D(_SpatialDropout):
  """Drops whole feature volumes (Keras 3 `SpatialDropout3D`).

  Args:
    rate: fraction of channels to drop, in [0, 1).
    data_format: "channels_last" (default) or "channels_first".
    seed: optional integer folded into the key.

  >>> SpatialDropout3D(0.2)
  <SpatialDropout3D ...>
  """

  _rank = 3
