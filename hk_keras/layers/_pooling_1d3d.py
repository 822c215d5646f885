"""`MaxPooling1D/3D` and `AveragePooling1D/3D`, and Keras 3's short pooling
aliases (`MaxPool2D`, `AvgPool1D`, ...)."""
from ._pooling import _Pooling
from ._pooling import AveragePooling2D
from ._pooling import MaxPooling2D


class MaxPooling1D(_Pooling):
  """Max over `pool_size` steps (Keras 3 `MaxPooling1D`).

  Args:
    pool_size: int or tuple of 1 int (default 2).
    strides: int, tuple of 1 int or None (default: `pool_size`).
    padding: "valid" (default) or "same" (padded cells never win the max).
    data_format: "channels_last" (default, `(batch, steps, features)`) or
      "channels_first" (`(batch, features, steps)`).

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 3.

  >>> import hk_keras
  >>> MaxPooling1D()(hk_keras.Input((5, 4))).shape
  (None, 2, 4)
  """

  _rank = 1
  _mode = "max"

  def __init__(self, pool_size=2, strides=None, padding="valid",
               data_format=None, **kwargs):
    super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
  """Max over `pool_size` windows of volumes (Keras 3 `MaxPooling3D`).

  Args:
    pool_size: int or tuple of 3 ints (default `(2, 2, 2)`).
    strides: int, tuple of 3 ints or None (default: `pool_size`).
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> MaxPooling3D()(hk_keras.Input((4, 4, 5, 2))).shape
  (None, 2, 2, 2, 2)
  """

  _rank = 3
  _mode = "max"

  def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid",
               data_format=None, **kwargs):
    super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
  """Mean over `pool_size` steps (Keras 3 `AveragePooling1D`).

  As in Keras, `pool_size` is required. With `padding="same"` padded cells
  are left out of each window's count.

  Args:
    pool_size: int or tuple of 1 int.
    strides: int, tuple of 1 int or None (default: `pool_size`).
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> AveragePooling1D(2, padding="same")(hk_keras.Input((5, 4))).shape
  (None, 3, 4)
  """

  _rank = 1
  _mode = "average"

  def __init__(self, pool_size, strides=None, padding="valid",
               data_format=None, **kwargs):
    super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
  """Mean over `pool_size` windows of volumes (Keras 3 `AveragePooling3D`).

  As in Keras, `pool_size` is required.

  Args:
    pool_size: int or tuple of 3 ints.
    strides: int, tuple of 3 ints or None (default: `pool_size`).
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> AveragePooling3D(2)(hk_keras.Input((4, 4, 4, 3))).shape
  (None, 2, 2, 2, 3)
  """

  _rank = 3
  _mode = "average"

  def __init__(self, pool_size, strides=None, padding="valid",
               data_format=None, **kwargs):
    super().__init__(pool_size, strides, padding, data_format, **kwargs)


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
