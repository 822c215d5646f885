"""Spatial resizing of images: `ZeroPadding2D` and `UpSampling2D`."""
import jax
import jax.numpy as jnp

from . import _spatial_args as args
from ._layer import Layer

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _normalize_padding_2d(padding):
  """int | (h, w) | ((top, bottom), (left, right)) -> ((t, b), (l, r))."""
  message = (
      "ZeroPadding2D: `padding` must be an int, a tuple of 2 ints "
      "(symmetric height and width padding) or a tuple of 2 tuples of 2 ints "
      "((top, bottom), (left, right)), all >= 0. Received: "
      f"padding={padding!r}")
  if isinstance(padding, (str, bytes)) or not hasattr(padding, "__len__"):
    try:
      amount = args.normalize_tuple(padding, 2, "padding", "ZeroPadding2D",
                                    allow_zero=True)
    except ValueError:
      raise ValueError(message) from None
    return ((amount[0],) * 2, (amount[1],) * 2)
  if len(padding) != 2:
    raise ValueError(message)
  try:
    return tuple(
        args.normalize_tuple(p, 2, "padding", "ZeroPadding2D",
                             allow_zero=True) for p in padding)
  except ValueError:
    raise ValueError(message) from None


class ZeroPadding2D(Layer):
  """Pads images with zeros on the top, bottom, left and right (Keras 3).

  Args:
    padding: int (same on all four sides), tuple of 2 ints `(h, w)` (h rows
      on top and bottom, w columns on left and right) or
      `((top, bottom), (left, right))`. Default `(1, 1)`.
    data_format: "channels_last" (default) or "channels_first".

  Raises:
    ValueError: on an invalid `padding`, or at build on inputs that are not
      rank 4.

  >>> import hk_keras
  >>> ZeroPadding2D(((1, 0), (2, 3)))(hk_keras.Input((4, 4, 1))).shape
  (None, 5, 9, 1)
  """

  def __init__(self, padding=(1, 1), data_format=None, **kwargs):
    super().__init__(**kwargs)
    self.padding = _normalize_padding_2d(padding)
    self.data_format = args.normalize_data_format(data_format,
                                                  "ZeroPadding2D")

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, 2, self.data_format)

  def call(self, inputs):
    if self.data_format == "channels_first":
      widths = ((0, 0), (0, 0)) + self.padding
    else:
      widths = ((0, 0),) + self.padding + ((0, 0),)
    return jnp.pad(inputs, widths)

  def get_config(self):
    return {**super().get_config(),
            "padding": [list(p) for p in self.padding],
            "data_format": self.data_format}


class UpSampling2D(Layer):
  """Upsamples images by integer factors (Keras 3 `UpSampling2D`).

  "nearest" repeats rows and columns; the other interpolations resize with
  `jax.image.resize` (half-pixel centres, no antialiasing), as Keras 3 does
  with its JAX backend.

  Args:
    size: int or tuple of 2 ints, the row and column factors (default
      `(2, 2)`).
    data_format: "channels_last" (default) or "channels_first".
    interpolation: "nearest" (default), "bilinear", "bicubic", "lanczos3" or
      "lanczos5".

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 4.

  >>> import hk_keras
  >>> UpSampling2D((2, 3))(hk_keras.Input((3, 4, 2))).shape
  (None, 6, 12, 2)
  """

  def __init__(self, size=(2, 2), data_format=None, interpolation="nearest",
               **kwargs):
    super().__init__(**kwargs)
    self.size = args.normalize_tuple(size, 2, "size", "UpSampling2D")
    self.data_format = args.normalize_data_format(data_format, "UpSampling2D")
    if not isinstance(interpolation, str) or (
        interpolation.lower() not in _INTERPOLATIONS):
      raise ValueError(
          "UpSampling2D: `interpolation` must be one of "
          f"{', '.join(repr(i) for i in _INTERPOLATIONS)}. Received: "
          f"interpolation={interpolation!r}")
    self.interpolation = interpolation.lower()

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, 2, self.data_format)

  def call(self, inputs):
    rows, cols = (2, 3) if self.data_format == "channels_first" else (1, 2)
    if self.interpolation == "nearest":
      outputs = jnp.repeat(inputs, self.size[0], axis=rows)
      return jnp.repeat(outputs, self.size[1], axis=cols)
    shape = list(inputs.shape)
    shape[rows] *= self.size[0]
    shape[cols] *= self.size[1]
    return jax.image.resize(inputs, tuple(shape), method=self.interpolation,
                            antialias=False)

  def get_config(self):
    return {**super().get_config(), "size": list(self.size),
            "data_format": self.data_format,
            "interpolation": self.interpolation}
