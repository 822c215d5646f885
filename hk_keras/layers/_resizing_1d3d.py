"""`ZeroPadding1D/3D` and `UpSampling1D/3D` (Keras 3); the 2D layers live in
`_padding_upsampling.py`."""
import jax.numpy as jnp

from . import _spatial_args as args
from ._cropping import normalize_pairs
from ._layer import Layer


class _ZeroPadding(Layer):
  """Shared N-D zero padding; subclasses set `_rank`."""

  _rank = 1

  def __init__(self, padding, data_format=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.padding = normalize_pairs(padding, self._rank, owner, "padding")
    self.data_format = args.normalize_data_format(data_format, owner)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)

  def call(self, inputs):
    if self.data_format == "channels_first":
      widths = ((0, 0), (0, 0)) + self.padding
    else:
      widths = ((0, 0),) + self.padding + ((0, 0),)
    return jnp.pad(inputs, widths)

  def get_config(self):
    padding = [list(p) for p in self.padding]
    return {**super().get_config(),
            "padding": padding[0] if self._rank == 1 else padding,
            "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
  """Pads sequences with zero steps at the start and end (Keras 3).

  Args:
    padding: int (both ends) or `(start, end)` (default 1).
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> ZeroPadding1D((1, 2))(hk_keras.Input((4, 3))).shape
  (None, 7, 3)
  """

  _rank = 1

  def __init__(self, padding=1, data_format=None, **kwargs):
    super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
  """Pads volumes with zeros on each spatial axis (Keras 3 `ZeroPadding3D`).

  Args:
    padding: int, a tuple of 3 ints or 3 `(before, after)` pairs (default
      `((1, 1), (1, 1), (1, 1))`).
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> ZeroPadding3D()(hk_keras.Input((2, 3, 4, 1))).shape
  (None, 4, 5, 6, 1)
  """

  _rank = 3

  def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None,
               **kwargs):
    super().__init__(padding, data_format, **kwargs)


class UpSampling1D(Layer):
  """Repeats each step `size` times (Keras 3 `UpSampling1D`).

  Args:
    size: the repetition factor (default 2).

  >>> import hk_keras
  >>> UpSampling1D(3)(hk_keras.Input((4, 2))).shape
  (None, 12, 2)
  """

  def __init__(self, size=2, **kwargs):
    super().__init__(**kwargs)
    self.size = args.normalize_tuple(size, 1, "size", "UpSampling1D")[0]

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, 1, "channels_last")

  def call(self, inputs):
    return jnp.repeat(inputs, self.size, axis=1)

  def get_config(self):
    return {**super().get_config(), "size": self.size}


class UpSampling3D(Layer):
  """Repeats cells along depth, height and width (Keras 3 `UpSampling3D`).

  Args:
    size: int or tuple of 3 ints (default `(2, 2, 2)`).
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> UpSampling3D((1, 2, 3))(hk_keras.Input((2, 2, 2, 1))).shape
  (None, 2, 4, 6, 1)
  """

  def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
    super().__init__(**kwargs)
    self.size = args.normalize_tuple(size, 3, "size", "UpSampling3D")
    self.data_format = args.normalize_data_format(data_format, "UpSampling3D")

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, 3, self.data_format)

  def call(self, inputs):
    first = 2 if self.data_format == "channels_first" else 1
    outputs = inputs
    for i, factor in enumerate(self.size):
      outputs = jnp.repeat(outputs, factor, axis=first + i)
    return outputs

  def get_config(self):
    return {**super().get_config(), "size": list(self.size),
            "data_format": self.data_format}
