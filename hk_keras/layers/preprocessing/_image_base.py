"""The base of the image preprocessing layers, and the sampling helpers.

Images are `(batch, height, width, channels)` (or a single image without
the batch axis; `data_format="channels_first"` too). Random layers act only
when `training` is true (the default of a direct call, as in Keras; `fit`
passes True, `evaluate`/`predict` False): they draw from the step's RNG
(`hk.next_rng_key()`, folded with `seed` when one is given) and run inside
the compiled step. In inference they return the images cast to the compute
dtype, as Keras does.
"""
import math
from typing import Optional, Tuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from . import _base

INTERPOLATIONS = ("nearest", "bilinear")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def check_choice(cls, arg, value, allowed):
  if value not in allowed:
    raise ValueError(
        f"{cls}: invalid value for argument `{arg}`. Expected one of "
        f"{allowed}. Received: {arg}={value!r}")


def standardize_data_format(data_format):
  if data_format is None:  # as Keras: the configured image_data_format
    from ...config import _settings as _config  # pylint: disable=g-import-not-at-top
    return _config.image_data_format()
  if data_format not in ("channels_last", "channels_first"):
    raise ValueError(
        "`data_format` must be 'channels_last' or 'channels_first'. "
        f"Received: data_format={data_format!r}")
  return data_format


def symmetric_factor(cls, name, factor, bounds=(-1.0, 1.0)):
  """Keras's factor argument: a number f gives (-f, f) clipped to the lower
  bound; a pair gives its sorted values."""
  msg = (f"{cls}: the `{name}` argument should be a number (or a list of two "
         f"numbers) in the range [{bounds[0]}, {bounds[1]}]. Received: "
         f"{name}={factor}")
  if isinstance(factor, (tuple, list)):
    if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
      raise ValueError(msg)
    lower, upper = sorted(float(f) for f in factor)
  elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
    if factor < bounds[0] or factor > bounds[1]:
      raise ValueError(msg)
    factor = abs(float(factor))
    lower, upper = max(-factor, bounds[0]), factor
  else:
    raise ValueError(msg)
  return lower, upper


class ImageLayer(_base.JitWhenEager, Layer):
  """Base image layer: batching, data format, dict inputs and the RNG.

  Subclasses implement `augment(images, key)` on a float channels-last
  batch; deterministic layers set `_random = False` and implement
  `transform(images)`.
  """

  _random = True

  def __init__(self, data_format=None, seed=None, **kwargs):
    super().__init__(**kwargs)
    self.data_format = standardize_data_format(data_format)
    self.seed = seed

  def _key(self):
    key = hk.next_rng_key()
    if self.seed is not None:
      key = jax.random.fold_in(key, self.seed)
    return key

  def call(self, inputs, training=True):
    if isinstance(inputs, dict):
      if "images" not in inputs:
        raise ValueError(
            f"{type(self).__name__} takes images or a dict with an 'images' "
            f"key. Received a dict with keys {sorted(inputs)}.")
      extra = set(inputs) - {"images", "labels"}
      if extra:
        raise ValueError(
            f"{type(self).__name__}: hk_keras supports 'images' and 'labels' "
            f"in dict inputs; received also {sorted(extra)} (bounding boxes "
            "and segmentation masks are not supported yet).")
      out = dict(inputs)
      images, labels = self._run(inputs["images"], training,
                                 inputs.get("labels"))
      out["images"] = images
      if labels is not None:
        out["labels"] = labels
      return out
    return self._run(inputs, training, None)[0]

  def _run(self, images, training, labels):
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
      raise ValueError(
          f"{type(self).__name__} expects images of rank 3 (height, width, "
          "channels) or 4 (batch, height, width, channels). Received: "
          f"images.shape={images.shape}")
    batched = images.ndim == 4
    if not batched:
      images = images[None]
    if self.data_format == "channels_first":
      images = jnp.transpose(images, (0, 2, 3, 1))
    in_dtype = images.dtype
    if self._random and not training:
      out = self.inference(images)
    elif self._random:
      key = self._key()
      if labels is not None and self._mixes_labels:
        out, labels = self.augment_with_labels(images, labels, key)
      else:
        out = self.augment(self._cast(images), key)
    else:
      out = self.transform(images)
    del in_dtype
    if self.data_format == "channels_first":
      out = jnp.transpose(out, (0, 3, 1, 2))
    if not batched:
      out = out[0]
    return out, labels

  _mixes_labels = False

  def _cast(self, images):
    return images.astype(self.compute_dtype)

  def inference(self, images):
    return self._cast(images)

  def augment(self, images, key):
    raise NotImplementedError

  def transform(self, images):
    raise NotImplementedError

  def get_config(self):
    return {**super().get_config(), "data_format": self.data_format,
            "seed": self.seed}


# -- geometry ---------------------------------------------------------------

def affine_matrix(angle, translate_x, translate_y, scale, shear_x, shear_y,
                  height, width, center_x=0.5, center_y=0.5):
  """Keras's 8-parameter output-to-input transforms (angles in degrees)."""
  rad = math.pi / 180.0
  angle, shear_x, shear_y = angle * rad, shear_x * rad, shear_y * rad
  cx = center_x * (width - 1)
  cy = center_y * (height - 1)
  cos, sin = jnp.cos(angle), jnp.sin(angle)
  tx, ty = jnp.tan(shear_x), jnp.tan(shear_y)
  a0 = scale * (cos + tx * sin)
  a1 = scale * (-sin + tx * cos)
  a2 = translate_x + cx - cx * a0 - cy * a1
  b0 = scale * (ty * cos + sin)
  b1 = scale * (ty * -sin + cos)
  b2 = translate_y + cy - cx * b0 - cy * b1
  zeros = jnp.zeros_like(a0)
  return jnp.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def affine_transform(images, transforms, interpolation="bilinear",
                     fill_mode="constant", fill_value=0.0):
  """Samples each output pixel (x, y) of a channels-last batch at
  `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y + 1`
  (TensorFlow's and Keras's projective transform convention)."""
  _, height, width, _ = images.shape
  ys, xs = jnp.meshgrid(jnp.arange(height, dtype=jnp.float32),
                        jnp.arange(width, dtype=jnp.float32), indexing="ij")
  order = INTERPOLATIONS.index(interpolation)
  mode = fill_mode  # the same names as jax.scipy.ndimage.map_coordinates

  def one(image, t):
    k = t[6] * xs + t[7] * ys + 1.0
    x_in = (t[0] * xs + t[1] * ys + t[2]) / k
    y_in = (t[3] * xs + t[4] * ys + t[5]) / k
    def channel(c):
      return jax.scipy.ndimage.map_coordinates(
          c, [y_in, x_in], order=order, mode=mode, cval=fill_value)
    return jax.vmap(channel, in_axes=2, out_axes=2)(image)
  return jax.vmap(one)(images, transforms.astype(jnp.float32)).astype(
      images.dtype)


def resize(images, height, width, interpolation="bilinear", antialias=False):
  n, _, _, c = images.shape
  return jax.image.resize(images, (n, height, width, c), method=interpolation,
                          antialias=antialias)


def crop_box(in_h, in_w, height, width) -> Tuple[int, int, int, int]:
  """The centered crop with the target aspect ratio (Keras's smart_resize)."""
  crop_h = max(min(in_h, int(float(in_w * height) / width)), 1)
  crop_w = max(min(in_w, int(float(in_h * width) / height)), 1)
  return (int(float(in_h - crop_h) / 2), int(float(in_w - crop_w) / 2),
          crop_h, crop_w)


def smart_resize(images, height, width, interpolation="bilinear"):
  top, left, ch, cw = crop_box(images.shape[1], images.shape[2], height, width)
  images = images[:, top:top + ch, left:left + cw, :]
  return resize(images, height, width, interpolation)


def value_range_arg(cls, value_range):
  if not (isinstance(value_range, (tuple, list)) and len(value_range) == 2):
    raise ValueError(
        f"{cls}: `value_range` must be a tuple or list of two numbers. "
        f"Received: value_range={value_range!r}")
  low, high = sorted(float(v) for v in value_range)
  return [low, high]


def uniform(key, shape, low, high):
  return jax.random.uniform(key, shape, jnp.float32, low, high)


def per_image(images):
  return (images.shape[0], 1, 1, 1)


def as_plain(value):
  return _base.plain(value)


_ = (np, Optional)
