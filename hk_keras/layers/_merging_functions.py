"""Keras 3's functional forms of the merging layers: `add`, `subtract`,
`multiply`, `average`, `maximum`, `minimum`, `concatenate`, `dot`.

Each builds the layer with `**kwargs` (e.g. `name=`) and calls it on
`inputs`, so `add([a, b])` is `Add()([a, b])`, on symbolic or real inputs.
"""
from ._merging import Add
from ._merging import Average
from ._merging import Concatenate
from ._merging import Dot
from ._merging import Maximum
from ._merging import Minimum
from ._merging import Multiply
from ._merging import Subtract


def add(inputs, **kwargs):
  """`Add(**kwargs)(inputs)`: element-wise sum of a list of inputs.

  >>> import hk_keras
  >>> add([hk_keras.Input((3,)), hk_keras.Input((3,))]).shape
  (None, 3)
  """
  return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
  """`Subtract(**kwargs)(inputs)`: `inputs[0] - inputs[1]`."""
  return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
  """`Multiply(**kwargs)(inputs)`: element-wise product."""
  return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
  """`Average(**kwargs)(inputs)`: element-wise mean."""
  return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
  """`Maximum(**kwargs)(inputs)`: element-wise maximum."""
  return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
  """`Minimum(**kwargs)(inputs)`: element-wise minimum."""
  return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
  """`Concatenate(axis=axis, **kwargs)(inputs)`."""
  return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
  """`Dot(axes=axes, **kwargs)(inputs)`: batched dot product (default: the
  last axes)."""
  return Dot(axes=axes, **kwargs)(inputs)
