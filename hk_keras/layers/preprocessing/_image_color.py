"""Color and intensity image layers (Keras 3 formulas, JAX inside the step).

Values are in `value_range` (default `(0, 255)`). Random layers act only in
training; `AutoContrast` always acts, `Equalization` (as Keras) only when
`training` is true.
"""
import jax
import jax.numpy as jnp

from . import _image_base as ib

_EPSILON = 1e-7
_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)


def rescale(images, source, target):
  """Maps values linearly from the `source` range to the `target` range."""
  if tuple(source) == tuple(target):
    return images
  scale = (target[1] - target[0]) / (source[1] - source[0])
  return (images - source[0]) * scale + target[0]


def rgb_to_grayscale(images):
  gray = jnp.tensordot(images, jnp.asarray(_GRAY_WEIGHTS, images.dtype),
                       axes=[[-1], [0]])[..., None]
  return jnp.broadcast_to(gray, images.shape) if images.shape[-1] == 3 else gray


def rgb_to_hsv(images):
  """RGB in [0, 1] (or any scale) to HSV with hue in [0, 1) (TF's)."""
  r, g, b = images[..., 0], images[..., 1], images[..., 2]
  value = jnp.max(images, axis=-1)
  minimum = jnp.min(images, axis=-1)
  chroma = value - minimum
  safe_value = jnp.where(value > 0, value, 1.0)
  saturation = jnp.where(value > 0, chroma / safe_value, 0.0)
  safe_chroma = jnp.where(chroma > 0, chroma, 1.0)
  hue = jnp.where(value == r, (g - b) / safe_chroma,
                  jnp.where(value == g, 2.0 + (b - r) / safe_chroma,
                            4.0 + (r - g) / safe_chroma))
  hue = jnp.where(chroma > 0, hue / 6.0, 0.0)
  hue = jnp.mod(hue, 1.0)
  return jnp.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images):
  h, s, v = images[..., 0], images[..., 1], images[..., 2]
  dh = h * 6.0
  r = jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0)
  g = jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0)
  b = jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0)
  rgb = jnp.stack([r, g, b], axis=-1)
  return ((rgb - 1.0) * s[..., None] + 1.0) * v[..., None]


class _ValueRangeLayer(ib.ImageLayer):

  def __init__(self, value_range=(0, 255), **kwargs):
    super().__init__(**kwargs)
    self.value_range = ib.value_range_arg(type(self).__name__, value_range)

  def get_config(self):
    return {**super().get_config(), "value_range": list(self.value_range)}


class RandomContrast(_ValueRangeLayer):
  """Scales each image's deviation from its per-channel mean by a random
  factor in `[1 - lower, 1 + upper]`, then clips to `value_range`."""

  def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed, **kwargs)
    self.factor = ib.symmetric_factor("RandomContrast", "factor", factor,
                                      (0.0, 1.0))

  def augment(self, images, key):
    f = ib.uniform(key, ib.per_image(images), 1.0 - self.factor[0],
                   1.0 + self.factor[1])
    mean = jnp.mean(images, axis=(1, 2), keepdims=True)
    out = (images - mean) * f + mean
    return jnp.clip(out, *self.value_range)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomBrightness(_ValueRangeLayer):
  """Adds `uniform(lower, upper) * (high - low)` of `value_range` to each
  image, then clips to `value_range`.

  Args:
    factor: f or (lower, upper) in [-1, 1].
  """

  def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed, **kwargs)
    self.factor = ib.symmetric_factor("RandomBrightness", "factor", factor)

  def augment(self, images, key):
    low, high = self.value_range
    delta = ib.uniform(key, ib.per_image(images), *self.factor) * (high - low)
    return jnp.clip(images + delta, low, high)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomGrayscale(ib.ImageLayer):
  """Converts each image to grayscale (kept at 3 channels) with probability
  `factor`."""

  def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    if not 0 <= factor <= 1:
      raise ValueError(
          f"`factor` should be between 0 and 1. Received: factor={factor}")
    self.factor = float(factor)

  def augment(self, images, key):
    apply = jax.random.uniform(key, (images.shape[0], 1, 1, 1)) < self.factor
    return jnp.where(apply, rgb_to_grayscale(images), images)

  def get_config(self):
    return {**super().get_config(), "factor": self.factor}


class RandomInvert(_ValueRangeLayer):
  """Replaces each image by `high - x` with a probability drawn from
  `factor`."""

  def __init__(self, factor=1.0, value_range=(0, 255), seed=None,
               data_format=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.factor = ib.symmetric_factor("RandomInvert", "factor", factor,
                                      (0.0, 1.0))

  def augment(self, images, key):
    kp, kt = jax.random.split(key)
    n = images.shape[0]
    prob = ib.uniform(kp, (n,), *self.factor)
    apply = jax.random.uniform(kt, (n,)) < prob
    return jnp.where(apply[:, None, None, None], self.value_range[1] - images,
                     images)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomPosterization(_ValueRangeLayer):
  """Keeps the `bits` most significant bits of each 8-bit value, with
  `bits` drawn per image from `[1, factor)` (Keras's draw) or fixed."""

  def __init__(self, factor, value_range=(0, 255), data_format=None,
               seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.factor = tuple(int(f) for f in ib.symmetric_factor(
        "RandomPosterization", "factor", factor, (1, 8)))

  def augment(self, images, key):
    n = images.shape[0]
    if self.factor[0] != self.factor[1]:
      bits = jax.random.randint(key, (n,), self.factor[0], self.factor[1])
    else:
      bits = jnp.full((n,), self.factor[0])
    shift = (8 - bits).astype(jnp.uint8)[:, None, None, None]
    x = rescale(images, self.value_range, (0, 255)).astype(jnp.uint8)
    x = jnp.left_shift(jnp.right_shift(x, shift), shift)
    return rescale(x.astype(images.dtype), (0, 255), self.value_range)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomSaturation(_ValueRangeLayer):
  """Scales saturation by `f / (1 - f)`, `f` drawn from `factor` in [0, 1]
  (0.5 keeps the image, 0 gives grayscale, 1 full saturation)."""

  def __init__(self, factor, value_range=(0, 255), data_format=None,
               seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.factor = ib.symmetric_factor("RandomSaturation", "factor", factor,
                                      (0.0, 1.0))

  def augment(self, images, key):
    f = ib.uniform(key, (images.shape[0],), *self.factor)
    f = (f / (1.0 - f + _EPSILON))[:, None, None]
    hsv = rgb_to_hsv(images)
    s = jnp.clip(hsv[..., 1] * f, *self.value_range)
    return hsv_to_rgb(jnp.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomHue(_ValueRangeLayer):
  """Rotates hue by `± factor / 2` of a turn (random sign per image)."""

  def __init__(self, factor, value_range=(0, 255), data_format=None,
               seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.factor = ib.symmetric_factor("RandomHue", "factor", factor,
                                      (0.0, 1.0))

  def augment(self, images, key):
    ks, kf = jax.random.split(key)
    n = images.shape[0]
    sign = jnp.where(jax.random.uniform(ks, (n,)) > 0.5, -1.0, 1.0)
    shift = (sign * ib.uniform(kf, (n,), *self.factor) * 0.5)[:, None, None]
    x = rescale(images, self.value_range, (0, 1))
    hsv = rgb_to_hsv(x)
    h = hsv[..., 0] + shift
    h = jnp.where(h > 1.0, h - 1.0, jnp.where(h < 0.0, h + 1.0, h))
    rgb = hsv_to_rgb(jnp.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1))
    return rescale(jnp.clip(rgb, 0, 1), (0, 1), self.value_range)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


def _depthwise3x3(images, kernel):
  c = images.shape[-1]
  k = jnp.tile(jnp.asarray(kernel, images.dtype)[:, :, None, None],
               (1, 1, 1, c))
  return jax.lax.conv_general_dilated(
      images, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
      feature_group_count=c)


class RandomSharpness(_ValueRangeLayer):
  """Blends each image with a smoothed copy: `x + (1 - 2 f) (smooth - x)`,
  `f` drawn from `factor` (0.5 keeps the image)."""

  def __init__(self, factor, value_range=(0, 255), data_format=None,
               seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.factor = ib.symmetric_factor("RandomSharpness", "factor", factor,
                                      (0.0, 1.0))

  def augment(self, images, key):
    f = ib.uniform(key, ib.per_image(images), *self.factor) * 2.0
    a, b = 1.0 / 13.0, 5.0 / 13.0
    smooth = _depthwise3x3(images, [[a, a, a], [a, b, a], [a, a, a]])
    return jnp.clip(images + (1.0 - f) * (smooth - images), *self.value_range)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class Solarization(_ValueRangeLayer):
  """Adds a random amount, then inverts values above a random threshold
  (Keras draws both from `[factor[0], factor[1] * 255]`)."""

  def __init__(self, addition_factor=0.0, threshold_factor=0.0,
               value_range=(0, 255), seed=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed, **kwargs)
    self.addition_factor = ib.symmetric_factor(
        "Solarization", "addition_factor", addition_factor, (0.0, 1.0))
    self.threshold_factor = ib.symmetric_factor(
        "Solarization", "threshold_factor", threshold_factor, (0.0, 1.0))

  def augment(self, images, key):
    ka, kt = jax.random.split(key)
    shape = ib.per_image(images)
    add = ib.uniform(ka, shape, self.addition_factor[0],
                     self.addition_factor[1] * 255)
    thr = ib.uniform(kt, shape, self.threshold_factor[0],
                     self.threshold_factor[1] * 255)
    x = jnp.clip(rescale(images, self.value_range, (0, 255)) + add, 0, 255)
    x = jnp.where(x < thr, x, 255 - x)
    return rescale(x, (0, 255), self.value_range)

  def get_config(self):
    return {**super().get_config(),
            "addition_factor": list(self.addition_factor),
            "threshold_factor": list(self.threshold_factor)}


class AutoContrast(_ValueRangeLayer):
  """Stretches each image channel to the full `value_range` (always, in
  training and inference, as Keras)."""

  _random = False

  def transform(self, images):
    x = rescale(images.astype(self.compute_dtype), self.value_range, (0, 255))
    low = jnp.min(x, axis=(1, 2), keepdims=True)
    high = jnp.max(x, axis=(1, 2), keepdims=True)
    scale = 255.0 / (high - low)
    out = jnp.clip(x * scale - low * scale, 0.0, 255.0)
    out = rescale(out, (0, 255), self.value_range)
    return jnp.where(jnp.isnan(out), images.astype(out.dtype), out)

  def get_config(self):
    config = super().get_config()
    config.pop("seed")
    return config


class Equalization(_ValueRangeLayer):
  """Histogram equalization per channel over the batch (Keras 3 applies it
  only when `training` is true)."""

  def __init__(self, value_range=(0, 255), bins=256, data_format=None,
               **kwargs):
    super().__init__(value_range=value_range, data_format=data_format,
                     **kwargs)
    self.bins = int(bins)

  def _channel(self, channel):
    x = rescale(channel, self.value_range, (0, 255))
    idx = jnp.clip((x * (self.bins - 1) / 255.0).astype(jnp.int32), 0,
                   self.bins - 1)
    hist = jnp.bincount(idx.reshape(-1), length=self.bins)
    cdf = jnp.cumsum(hist)
    cdf_min = cdf[jnp.argmax(cdf > 0)]
    denom = cdf[-1] - cdf_min
    denom = jnp.where(denom == 0, 1, denom)
    table = jnp.clip(jnp.round((cdf - cdf_min) * 255 / denom), 0, 255)
    scaled = jnp.clip((x / 255.0) * (self.bins - 1), 0, self.bins - 1)
    eq = table[scaled.astype(jnp.int32)].astype(x.dtype)
    eq = jnp.where(jnp.count_nonzero(hist) <= 1, x, eq)
    return rescale(eq, (0, 255), self.value_range)

  def augment(self, images, key):
    del key
    return jnp.stack([self._channel(images[..., i])
                      for i in range(images.shape[-1])], axis=-1)

  def _key(self):
    return None  # deterministic: needs no RNG

  def get_config(self):
    config = {**super().get_config(), "bins": self.bins}
    config.pop("seed")
    return config


class RandomColorJitter(_ValueRangeLayer):
  """Random brightness, contrast, saturation and hue, in that order (each
  only when its factor is given)."""

  def __init__(self, value_range=(0, 255), brightness_factor=None,
               contrast_factor=None, saturation_factor=None, hue_factor=None,
               seed=None, data_format=None, **kwargs):
    super().__init__(value_range=value_range, seed=seed,
                     data_format=data_format, **kwargs)
    self.brightness_factor = brightness_factor
    self.contrast_factor = contrast_factor
    self.saturation_factor = saturation_factor
    self.hue_factor = hue_factor
    vr = self.value_range
    self._parts = []
    if brightness_factor is not None:
      self._parts.append(RandomBrightness(brightness_factor, vr,
                                          name=f"{self.name}_brightness"))
    if contrast_factor is not None:
      self._parts.append(RandomContrast(contrast_factor, vr,
                                        name=f"{self.name}_contrast"))
    if saturation_factor is not None:
      self._parts.append(RandomSaturation(saturation_factor, vr,
                                          name=f"{self.name}_saturation"))
    if hue_factor is not None:
      self._parts.append(RandomHue(hue_factor, vr, name=f"{self.name}_hue"))

  def augment(self, images, key):
    for part, k in zip(self._parts, jax.random.split(key, max(
        len(self._parts), 1))):
      images = part.augment(images, k)
    return images

  def get_config(self):
    return {**super().get_config(),
            "brightness_factor": ib.as_plain(self.brightness_factor),
            "contrast_factor": ib.as_plain(self.contrast_factor),
            "saturation_factor": ib.as_plain(self.saturation_factor),
            "hue_factor": ib.as_plain(self.hue_factor)}
