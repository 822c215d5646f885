"""`MaxPooling2D` and `AveragePooling2D` (and the N-D base of every pooling
layer) on `lax.reduce_window`."""
import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _spatial_args as args
from ._layer import Layer


def _window(values, data_format):
  """Spreads spatial window sizes/strides over all input axes."""
  if data_format == "channels_first":
    return (1, 1) + tuple(values)
  return (1,) + tuple(values) + (1,)


def _lowest(dtype):
  # NumPy (not jnp) constants: lax.reduce_window only picks its
  # differentiable max/sum rules for concrete init values.
  if jnp.issubdtype(dtype, jnp.floating):
    return np.array(-np.inf, dtype)
  return np.array(jnp.iinfo(dtype).min, dtype)


def _same_window_counts(shape, window, strides):
  """Real cells per window under "same" padding, as a broadcastable array.

  Along an axis of size n, "same" gives ceil(n / s) windows and pads
  max((out - 1) * s + w - n, 0) cells, the smaller half before the data.
  The counts depend only on static shapes, so they are NumPy constants.
  """
  counts = np.ones((), np.float32)
  for axis, (n, w, s) in enumerate(zip(shape, window, strides)):
    if w == 1 and s == 1:
      continue
    out = -(-n // s)
    before = max((out - 1) * s + w - n, 0) // 2
    starts = np.arange(out) * s - before
    per_axis = np.minimum(starts + w, n) - np.maximum(starts, 0)
    view = [1] * len(shape)
    view[axis] = out
    counts = counts * per_axis.reshape(view).astype(np.float32)
  return counts


class _Pooling(Layer):
  """Shared N-D pooling; subclasses set `_rank` and `_mode`."""

  _rank = 2
  _mode = "max"

  def __init__(self, pool_size=(2, 2), strides=None, padding="valid",
               data_format=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.pool_size = args.normalize_tuple(pool_size, self._rank, "pool_size",
                                          owner)
    self.strides = (self.pool_size if strides is None else
                    args.normalize_tuple(strides, self._rank, "strides",
                                         owner))
    self.padding = args.normalize_padding(padding, owner)
    self.data_format = args.normalize_data_format(data_format, owner)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)

  def call(self, inputs):
    window = _window(self.pool_size, self.data_format)
    strides = _window(self.strides, self.data_format)
    padding = self.padding.upper()
    if self._mode == "max":
      return lax.reduce_window(inputs, _lowest(inputs.dtype), lax.max, window,
                               strides, padding)
    zero = np.array(0, inputs.dtype)
    sums = lax.reduce_window(inputs, zero, lax.add, window, strides, padding)
    if self.padding == "valid":
      return sums / math.prod(self.pool_size)
    # "same": divide by the number of real (unpadded) cells in each window.
    counts = _same_window_counts(inputs.shape, window, strides)
    return sums / jnp.asarray(counts, sums.dtype)

  def get_config(self):
    return {**super().get_config(), "pool_size": list(self.pool_size),
            "strides": list(self.strides), "padding": self.padding,
            "data_format": self.data_format}


class MaxPooling2D(_Pooling):
  """Max over `pool_size` windows of images (Keras 3 `MaxPooling2D`).

  Args:
    pool_size: int or tuple of 2 ints (default `(2, 2)`).
    strides: int, tuple of 2 ints or None (default: `pool_size`).
    padding: "valid" (default) or "same" (padded cells never win the max).
    data_format: "channels_last" (default) or "channels_first".

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 4.

  >>> import hk_keras
  >>> MaxPooling2D(2)(hk_keras.Input((28, 28, 3))).shape
  (None, 14, 14, 3)
  """

  _mode = "max"


class AveragePooling2D(_Pooling):
  """Mean over `pool_size` windows of images (Keras 3 `AveragePooling2D`).

  With `padding="same"` the padded cells are left out of each window's
  count, as in Keras (a corner window of a 3x3 input with pool 2 averages
  its real cells only).

  Args:
    pool_size: int or tuple of 2 ints (default `(2, 2)`).
    strides: int, tuple of 2 ints or None (default: `pool_size`).
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default) or "channels_first".

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 4.

  >>> import hk_keras
  >>> AveragePooling2D(2, padding="same")(hk_keras.Input((5, 5, 3))).shape
  (None, 3, 3, 3)
  """

  _mode = "average"
