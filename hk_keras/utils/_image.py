"""Image files <-> arrays with Pillow: `load_img`, `save_img`, `img_to_array`,
`array_to_img`, as in `keras.utils` (Pillow: `pip install hk_keras[images]`).
"""
import io
import os
import pathlib
import warnings

import numpy as np

from ..config import _settings
from ..layers._spatial_args import normalize_data_format

_NEED_PIL = ("{fn} needs Pillow: `pip install Pillow` (or `pip install "
             "hk_keras[images]`).")
_RESAMPLE = {"nearest": "NEAREST", "bilinear": "BILINEAR",
             "bicubic": "BICUBIC", "hamming": "HAMMING", "box": "BOX",
             "lanczos": "LANCZOS"}


def _pil(fn):
  try:
    from PIL import Image  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError(_NEED_PIL.format(fn=fn)) from None
  return Image


def array_to_img(x, data_format=None, scale: bool = True, dtype=None):
  """A rank-3 array -> a PIL image (RGB, RGBA, L, or I for >255 values).

  With `scale`, values are shifted and scaled to span 0..255 first.

  Raises:
    ValueError: for an array that is not rank 3 or has 2 or >4 channels.
  """
  image = _pil("array_to_img")
  data_format = normalize_data_format(data_format, "array_to_img")
  x = np.array(x, dtype=dtype or _settings.floatx())
  if x.ndim != 3:
    raise ValueError("Expected image array to have rank 3 (single image). "
                     f"Got array with shape: {x.shape}")
  if data_format == "channels_first":
    x = x.transpose(1, 2, 0)
  if scale:
    x = x - np.min(x)
    top = np.max(x)
    if top != 0:
      x = x / top
    x = x * 255
  channels = x.shape[2]
  if channels in (3, 4):
    return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else
                           "RGBA")
  if channels == 1:
    if np.max(x) > 255:
      return image.fromarray(x[:, :, 0].astype("int32"), "I")
    return image.fromarray(x[:, :, 0].astype("uint8"), "L")
  raise ValueError(f"Unsupported channel number: {channels}; expected 1, 3 "
                   "or 4.")


def img_to_array(img, data_format=None, dtype=None) -> np.ndarray:
  """A PIL image -> a rank-3 NumPy array (a grey image gets one channel).

  Raises:
    ValueError: for an image of another rank.
  """
  data_format = normalize_data_format(data_format, "img_to_array")
  x = np.asarray(img, dtype=dtype or _settings.floatx())
  if x.ndim == 2:
    x = x[None] if data_format == "channels_first" else x[..., None]
  elif x.ndim == 3:
    if data_format == "channels_first":
      x = x.transpose(2, 0, 1)
  else:
    raise ValueError(f"Unsupported image shape: {x.shape}")
  return x


def save_img(path, x, data_format=None, file_format=None, scale: bool = True,
             **kwargs) -> None:
  """Writes an array as an image file (format from the suffix or
  `file_format`; RGBA is converted to RGB for JPEG, with a warning)."""
  if file_format is None and isinstance(path, (str, pathlib.Path)):
    file_format = pathlib.Path(path).suffix[1:].lower()
  if file_format and file_format.lower() == "jpg":
    file_format = "jpeg"
  img = array_to_img(x, data_format=data_format, scale=scale)
  if img.mode == "RGBA" and file_format == "jpeg":
    warnings.warn("The JPEG format does not support RGBA images, converting "
                  "to RGB.")
    img = img.convert("RGB")
  img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size=None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False):
  """Reads an image file (path, bytes stream) into a PIL image.

  Args:
    path: a path or a binary file object.
    color_mode: "grayscale", "rgb" or "rgba".
    target_size: `(height, width)` to resize to, or None.
    interpolation: "nearest", "bilinear", "bicubic", "hamming", "box" or
      "lanczos".
    keep_aspect_ratio: crop the centre to the target aspect ratio before
      resizing.

  Raises:
    ValueError: on an unknown `color_mode` or `interpolation`.
  """
  image = _pil("load_img")
  if color_mode not in ("grayscale", "rgb", "rgba"):
    raise ValueError('color_mode must be "grayscale", "rgb" or "rgba". '
                     f"Received: color_mode={color_mode!r}")
  if isinstance(path, io.BytesIO):
    img = image.open(path)
  elif isinstance(path, (str, pathlib.Path, os.PathLike)):
    with open(os.fspath(path), "rb") as f:
      img = image.open(io.BytesIO(f.read()))
  else:
    raise TypeError("path should be a path-like or io.BytesIO. Received: "
                    f"path={path!r} of type {type(path).__name__}")
  mode = {"grayscale": ("L", "I;16", "I"), "rgba": ("RGBA",),
          "rgb": ("RGB",)}[color_mode]
  if img.mode not in mode:
    img = img.convert(mode[0])
  if target_size is not None:
    size = (target_size[1], target_size[0])
    if img.size != size:
      if interpolation not in _RESAMPLE:
        raise ValueError(
            f"Invalid interpolation method {interpolation!r}; supported: "
            f"{', '.join(_RESAMPLE)}.")
      resample = getattr(image.Resampling, _RESAMPLE[interpolation])
      if keep_aspect_ratio:
        width, height = img.size
        target_w, target_h = size
        crop_h = (width * target_h) // target_w
        crop_w = (height * target_w) // target_h
        crop_h, crop_w = min(height, crop_h), min(width, crop_w)
        left, top = (width - crop_w) // 2, (height - crop_h) // 2
        box = (left, top, left + crop_w, top + crop_h)
        img = img.resize(size, resample=resample, box=box)
      else:
        img = img.resize(size, resample)
  return img
