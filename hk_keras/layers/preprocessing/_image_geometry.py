"""Resizing, cropping, flipping and affine image augmentation layers."""
import jax
import jax.numpy as jnp

from . import _image_base as ib


class Resizing(ib.ImageLayer):
  """Resizes images to `(height, width)` (Keras 3 / `jax.image.resize`).

  Deterministic; runs inside the compiled step. Integer images are rounded
  and saturated back to their dtype, as in Keras.

  Args:
    height, width: the output size.
    interpolation: "bilinear", "nearest", "bicubic", "lanczos3", "lanczos5".
    crop_to_aspect_ratio: center-crop to the target aspect ratio first.
    pad_to_aspect_ratio: pad (with `fill_value`) to it first.
    fill_mode: "constant" only (as Keras with JAX).
    fill_value: the padding value.
    antialias: antialias when downsampling.
    data_format: "channels_last" (default) or "channels_first".
  """

  _random = False
  _INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")

  def __init__(self, height, width, interpolation="bilinear",
               crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
               fill_mode="constant", fill_value=0.0, antialias=False,
               data_format=None, **kwargs):
    super().__init__(data_format=data_format, **kwargs)
    ib.check_choice("Resizing", "interpolation", interpolation,
                    self._INTERPOLATIONS)
    ib.check_choice("Resizing", "fill_mode", fill_mode, ("constant",))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
      raise ValueError(
          "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be "
          "`True`.")
    self.height, self.width = int(height), int(width)
    self.interpolation = interpolation
    self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
    self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
    self.fill_mode = fill_mode
    self.fill_value = fill_value
    self.antialias = bool(antialias)

  def transform(self, images):
    dtype = images.dtype
    x = images.astype(jnp.float32) if not jnp.issubdtype(
        dtype, jnp.floating) else images
    _, h, w, c = x.shape
    if self.crop_to_aspect_ratio:
      top, left, ch, cw = ib.crop_box(h, w, self.height, self.width)
      x = x[:, top:top + ch, left:left + cw, :]
    elif self.pad_to_aspect_ratio:
      pad_h = max(h, int(float(w * self.height) / self.width))
      pad_w = max(w, int(float(h * self.width) / self.height))
      top, left = int(float(pad_h - h) / 2), int(float(pad_w - w) / 2)
      if top > 0:
        x = jnp.pad(x, ((0, 0), (top, top), (0, 0), (0, 0)),
                    constant_values=self.fill_value)
      elif left > 0:
        x = jnp.pad(x, ((0, 0), (0, 0), (left, left), (0, 0)),
                    constant_values=self.fill_value)
    out = jax.image.resize(x, (x.shape[0], self.height, self.width, c),
                           method=self.interpolation, antialias=self.antialias)
    if jnp.issubdtype(dtype, jnp.integer):
      info = jnp.iinfo(dtype)
      out = jnp.clip(jnp.round(out), info.min, info.max).astype(dtype)
    return out

  def get_config(self):
    config = {**super().get_config(), "height": self.height,
              "width": self.width, "interpolation": self.interpolation,
              "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
              "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
              "fill_mode": self.fill_mode, "fill_value": self.fill_value,
              "antialias": self.antialias}
    config.pop("seed")
    return config


class CenterCrop(ib.ImageLayer):
  """Crops the central `(height, width)` region; smaller images are resized
  with Keras's `smart_resize` (crop to aspect ratio, then bilinear).

  Deterministic; runs inside the compiled step.
  """

  _random = False

  def __init__(self, height, width, data_format=None, **kwargs):
    super().__init__(data_format=data_format, **kwargs)
    self.height, self.width = int(height), int(width)

  def transform(self, images):
    x = self._cast(images)
    _, h, w, _ = x.shape
    dh, dw = h - self.height, w - self.width
    if dh >= 0 and dw >= 0:
      top, left = dh // 2, dw // 2
      return x[:, top:top + self.height, left:left + self.width, :]
    return ib.smart_resize(x, self.height, self.width)

  def get_config(self):
    config = {**super().get_config(), "height": self.height,
              "width": self.width}
    config.pop("seed")
    return config


class RandomCrop(ib.ImageLayer):
  """Crops a random `(height, width)` window in training (one offset per
  batch, as Keras); images not larger than the window are center-cropped to
  its aspect ratio and resized. At inference the images pass unchanged (as
  Keras 3).
  """

  def __init__(self, height, width, seed=None, data_format=None, name=None,
               **kwargs):
    super().__init__(data_format=data_format, seed=seed, name=name, **kwargs)
    self.height, self.width = int(height), int(width)

  def inference(self, images):
    return images

  def augment(self, images, key):
    _, h, w, _ = images.shape
    if h > self.height and w > self.width:
      kh, kw = jax.random.split(key)
      top = jax.random.randint(kh, (), 0, h - self.height + 1)
      left = jax.random.randint(kw, (), 0, w - self.width + 1)
      return jax.lax.dynamic_slice(
          images, (0, top, left, 0),
          (images.shape[0], self.height, self.width, images.shape[3]))
    top, left, ch, cw = ib.crop_box(h, w, self.height, self.width)
    out = images[:, top:top + ch, left:left + cw, :]
    if out.shape[1:3] != (self.height, self.width):
      out = ib.resize(out, self.height, self.width).astype(images.dtype)
    return out

  def get_config(self):
    return {**super().get_config(), "height": self.height,
            "width": self.width}


class RandomFlip(ib.ImageLayer):
  """Flips each image left-right and/or up-down with probability 1/2.

  Args:
    mode: "horizontal", "vertical" or "horizontal_and_vertical".
    seed: optional integer folded into the step's RNG key.
  """

  _MODES = ("horizontal", "vertical", "horizontal_and_vertical")

  def __init__(self, mode="horizontal_and_vertical", seed=None,
               data_format=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    ib.check_choice("RandomFlip", "mode", mode, self._MODES)
    self.mode = mode

  def augment(self, images, key):
    kh, kv = jax.random.split(key)
    shape = ib.per_image(images)
    if self.mode in ("horizontal", "horizontal_and_vertical"):
      flip = jax.random.uniform(kh, shape) <= 0.5
      images = jnp.where(flip, images[:, :, ::-1, :], images)
    if self.mode in ("vertical", "horizontal_and_vertical"):
      flip = jax.random.uniform(kv, shape) <= 0.5
      images = jnp.where(flip, images[:, ::-1, :, :], images)
    return images

  def get_config(self):
    return {**super().get_config(), "mode": self.mode}


class _AffineLayer(ib.ImageLayer):
  """Shared arguments of the affine augmentation layers."""

  def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
               fill_value=0.0, data_format=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    name = type(self).__name__
    ib.check_choice(name, "fill_mode", fill_mode, ib.FILL_MODES)
    ib.check_choice(name, "interpolation", interpolation, ib.INTERPOLATIONS)
    self.fill_mode = fill_mode
    self.interpolation = interpolation
    self.fill_value = float(fill_value)

  def augment(self, images, key):
    transforms = self.transforms(images, key)
    return ib.affine_transform(images, transforms, self.interpolation,
                               self.fill_mode, self.fill_value)

  def get_config(self):
    return {**super().get_config(), "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value}


class RandomRotation(_AffineLayer):
  """Rotates each image by a random angle, `factor * 360` degrees.

  Args:
    factor: a fraction of a full turn: f gives angles in [-360 f, 360 f]; a
      pair (low, high) gives [360 low, 360 high].
    fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
    interpolation: "bilinear" or "nearest".
    fill_value: the value outside the image for fill_mode="constant".
  """

  def __init__(self, factor, fill_mode="reflect", interpolation="bilinear",
               seed=None, fill_value=0.0, data_format=None, **kwargs):
    super().__init__(fill_mode, interpolation, seed, fill_value, data_format,
                     **kwargs)
    self.factor = ib.symmetric_factor("RandomRotation", "factor", factor)

  def transforms(self, images, key):
    n, h, w, _ = images.shape
    angle = ib.uniform(key, (n,), self.factor[0] * 360.0,
                       self.factor[1] * 360.0)
    zeros = jnp.zeros((n,))
    return ib.affine_matrix(angle, zeros, zeros, jnp.ones((n,)), zeros, zeros,
                            h, w)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


def _zoom_factor(name, factor):
  msg = (f"RandomZoom: the `{name}` argument should be a number (or a list "
         f"of two numbers) with values >= -1. Received: {name}={factor}")
  if isinstance(factor, (tuple, list)):
    if len(factor) != 2:
      raise ValueError(msg)
    lower, upper = float(factor[0]), float(factor[1])
  elif isinstance(factor, (int, float)):
    lower, upper = -float(factor), float(factor)
  else:
    raise ValueError(msg)
  if abs(lower) > 1.0 or abs(upper) > 1.0:
    raise ValueError(msg)
  return lower, upper


class RandomZoom(_AffineLayer):
  """Zooms each image by a random factor (`1 + uniform(low, high)` of its
  size: positive values zoom out, negative in).

  Args:
    height_factor: f or (low, high), within [-1, 1].
    width_factor: the same for the width; None keeps the aspect ratio.
  """

  def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
               interpolation="bilinear", seed=None, fill_value=0.0,
               data_format=None, **kwargs):
    super().__init__(fill_mode, interpolation, seed, fill_value, data_format,
                     **kwargs)
    self.height_factor = height_factor
    self.width_factor = width_factor
    self.height_lower, self.height_upper = _zoom_factor("height_factor",
                                                        height_factor)
    if width_factor is not None:
      self.width_lower, self.width_upper = _zoom_factor("width_factor",
                                                        width_factor)

  def transforms(self, images, key):
    n, h, w, _ = images.shape
    kh, kw = jax.random.split(key)
    zy = ib.uniform(kh, (n,), 1.0 + self.height_lower, 1.0 + self.height_upper)
    zx = zy if self.width_factor is None else ib.uniform(
        kw, (n,), 1.0 + self.width_lower, 1.0 + self.width_upper)
    zeros = jnp.zeros((n,))
    return jnp.stack([zx, zeros, (w - 1.0) / 2.0 * (1.0 - zx), zeros, zy,
                      (h - 1.0) / 2.0 * (1.0 - zy), zeros, zeros], axis=1)

  def get_config(self):
    return {**super().get_config(), "height_factor": ib.as_plain(
        self.height_factor), "width_factor": ib.as_plain(self.width_factor)}


class RandomTranslation(_AffineLayer):
  """Shifts each image by a random fraction of its height and width.

  Args:
    height_factor: f or (low, high) in [-1, 1], a fraction of the height.
    width_factor: the same for the width.
  """

  def __init__(self, height_factor, width_factor, fill_mode="reflect",
               interpolation="bilinear", seed=None, fill_value=0.0,
               data_format=None, **kwargs):
    super().__init__(fill_mode, interpolation, seed, fill_value, data_format,
                     **kwargs)
    self.height_factor = height_factor
    self.width_factor = width_factor
    self.height_lower, self.height_upper = ib.symmetric_factor(
        "RandomTranslation", "height_factor", height_factor)
    self.width_lower, self.width_upper = ib.symmetric_factor(
        "RandomTranslation", "width_factor", width_factor)

  def transforms(self, images, key):
    n, h, w, _ = images.shape
    kh, kw = jax.random.split(key)
    dy = ib.uniform(kh, (n,), self.height_lower, self.height_upper) * h
    dx = ib.uniform(kw, (n,), self.width_lower, self.width_upper) * w
    ones, zeros = jnp.ones((n,)), jnp.zeros((n,))
    return jnp.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros],
                     axis=1)

  def get_config(self):
    return {**super().get_config(), "height_factor": ib.as_plain(
        self.height_factor), "width_factor": ib.as_plain(self.width_factor)}


class RandomShear(_AffineLayer):
  """Shears each image by random factors along x and y (Keras 3).

  The output pixel (x, y) samples the input at `(x + sx * y, y + sy * x)`,
  with `sx` drawn from `x_factor`, `sy` from `y_factor` and one random sign
  shared by both per image.

  Args:
    x_factor, y_factor: f or (low, high) in [0, 1].
  """

  def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
               fill_mode="reflect", fill_value=0.0, data_format=None,
               seed=None, **kwargs):
    super().__init__(fill_mode, interpolation, seed, fill_value, data_format,
                     **kwargs)
    self.x_factor = ib.symmetric_factor("RandomShear", "x_factor", x_factor,
                                        (0.0, 1.0))
    self.y_factor = ib.symmetric_factor("RandomShear", "y_factor", y_factor,
                                        (0.0, 1.0))

  def transforms(self, images, key):
    n = images.shape[0]
    ks, kx, ky = jax.random.split(key, 3)
    sign = jnp.where(jax.random.uniform(ks, (n,)) > 0.5, -1.0, 1.0)
    sx = ib.uniform(kx, (n,), *self.x_factor) * sign
    sy = ib.uniform(ky, (n,), *self.y_factor) * sign
    zeros, ones = jnp.zeros((n,)), jnp.ones((n,))
    return jnp.stack([ones, sx, zeros, sy, ones, zeros, zeros, zeros], axis=1)

  def get_config(self):
    return {**super().get_config(), "x_factor": list(self.x_factor),
            "y_factor": list(self.y_factor)}
