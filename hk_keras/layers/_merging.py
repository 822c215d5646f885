"""Merging layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
`Minimum`, `Concatenate`, `Dot`."""
import functools
import operator

import jax.numpy as jnp
from jax import lax

from ._layer import Layer


class _Merge(Layer):
  """Combines a list of at least two inputs."""

  supports_masking = True  # masks pass through, as in Keras 3

  def build(self, input_shape):
    if not isinstance(input_shape, (list, tuple)) or not input_shape or \
        not isinstance(input_shape[0], (list, tuple)) or len(input_shape) < 2:
      raise ValueError(
          f"Layer {self.name!r} ({type(self).__name__}) must be called on a "
          f"list of at least 2 inputs. Received: input_shape={input_shape}")

  def _merge(self, inputs):
    raise TypeError(f"{type(self).__name__} does not define _merge.")

  def call(self, inputs):
    return self._merge(list(inputs))

  def compute_mask(self, inputs, previous_mask):
    """A step is valid where every masked input is valid (Keras 3)."""
    del inputs
    masks = [m for m in (previous_mask or []) if m is not None] if isinstance(
        previous_mask, (list, tuple)) else []
    if not masks:
      return None
    return functools.reduce(jnp.logical_and, masks)


class Add(_Merge):
  """Element-wise sum of a list of inputs (with broadcasting)."""

  def _merge(self, inputs):
    return functools.reduce(operator.add, inputs)


class Multiply(_Merge):
  """Element-wise product of a list of inputs (with broadcasting)."""

  def _merge(self, inputs):
    return functools.reduce(operator.mul, inputs)


class Subtract(_Merge):
  """`inputs[0] - inputs[1]` for a list of exactly two inputs (Keras 3).

  >>> import hk_keras
  >>> a, b = hk_keras.Input((3,)), hk_keras.Input((3,))
  >>> Subtract()([a, b]).shape
  (None, 3)
  """

  def build(self, input_shape):
    super().build(input_shape)
    if len(input_shape) != 2:
      raise ValueError(
          f"Layer {self.name!r} (Subtract) must be called on a list of exactly "
          f"2 inputs. Received {len(input_shape)} inputs.")

  def _merge(self, inputs):
    return inputs[0] - inputs[1]


class Average(_Merge):
  """Element-wise mean of a list of inputs (Keras 3 `Average`)."""

  def _merge(self, inputs):
    return functools.reduce(operator.add, inputs) / len(inputs)


class Maximum(_Merge):
  """Element-wise maximum of a list of inputs (Keras 3 `Maximum`)."""

  def _merge(self, inputs):
    return functools.reduce(jnp.maximum, inputs)


class Minimum(_Merge):
  """Element-wise minimum of a list of inputs (Keras 3 `Minimum`)."""

  def _merge(self, inputs):
    return functools.reduce(jnp.minimum, inputs)


class Concatenate(_Merge):
  """Concatenates a list of inputs along `axis` (default -1)."""

  def __init__(self, axis=-1, **kwargs):
    super().__init__(**kwargs)
    self.axis = axis

  def build(self, input_shape):
    super().build(input_shape)
    ranks = {len(s) for s in input_shape}
    if len(ranks) != 1:
      raise ValueError(
          f"Layer {self.name!r} (Concatenate) needs inputs of equal rank. "
          f"Received shapes: {list(input_shape)}")
    axis = self.axis % len(input_shape[0])
    for s in input_shape[1:]:
      for i, (a, b) in enumerate(zip(input_shape[0], s)):
        if i not in (axis, 0) and a != b:
          raise ValueError(
              f"Layer {self.name!r} (Concatenate) needs all input shapes to "
              f"match except on the concatenation axis {self.axis}. Received "
              f"shapes: {list(input_shape)}")

  def _merge(self, inputs):
    return jnp.concatenate(inputs, axis=self.axis)

  def compute_mask(self, inputs, previous_mask):
    """Concatenates the masks (all-valid for unmasked inputs), as Keras 3."""
    if not isinstance(previous_mask, (list, tuple)) or all(
        m is None for m in previous_mask):
      return None
    masks = []
    for x, m in zip(inputs, previous_mask):
      if m is None:
        m = jnp.ones(jnp.shape(x), bool)
      elif m.ndim < x.ndim:
        m = jnp.broadcast_to(jnp.expand_dims(m, -1), jnp.shape(x))
      masks.append(m)
    return jnp.any(jnp.concatenate(masks, axis=self.axis), axis=-1)

  def get_config(self):
    return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis):
  squares = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
  return x * lax.rsqrt(jnp.maximum(squares, 1e-12))


class Dot(_Merge):
  """Batched dot product of two inputs along `axes` (Keras 3 `Dot`).

  For inputs `x` `(batch, *a)` and `y` `(batch, *b)`, contracts axis
  `axes[0]` of `x` with axis `axes[1]` of `y` for each example: the output is
  `(batch, *a without that axis, *b without that axis)`, and `(batch, 1)`
  when both inputs are `(batch, n)`.

  Args:
    axes: int (the same axis of both inputs) or a pair of ints; axis 0 is the
      batch axis and cannot be contracted. Negative values count from the end.
    normalize: L2-normalize both inputs along the contracted axes first, so
      the result is the cosine similarity.

  Raises:
    ValueError: on invalid `axes`, a call on other than 2 inputs, or
      contracted axes of different sizes.

  >>> import hk_keras
  >>> x, y = hk_keras.Input((3, 4)), hk_keras.Input((5, 4))
  >>> Dot(axes=2)([x, y]).shape
  (None, 3, 5)
  """

  def __init__(self, axes, normalize=False, **kwargs):
    super().__init__(**kwargs)
    if isinstance(axes, int) and not isinstance(axes, bool):
      self.axes = axes
    elif (isinstance(axes, (list, tuple)) and len(axes) == 2
          and all(isinstance(a, int) and not isinstance(a, bool)
                  for a in axes)):
      self.axes = tuple(axes)
    else:
      raise ValueError(
          "Dot: `axes` must be an int or a pair of ints. Received: "
          f"axes={axes!r}")
    self.normalize = bool(normalize)

  def _axes(self, shapes):
    axes = (self.axes,) * 2 if isinstance(self.axes, int) else self.axes
    return tuple(a % len(s) for a, s in zip(axes, shapes))

  def build(self, input_shape):
    super().build(input_shape)
    if len(input_shape) != 2:
      raise ValueError(
          f"Layer {self.name!r} (Dot) must be called on a list of exactly 2 "
          f"inputs. Received {len(input_shape)} inputs.")
    axes = self._axes(input_shape)
    x, y = input_shape
    if 0 in axes or x[axes[0]] != y[axes[1]]:
      raise ValueError(
          f"Layer {self.name!r} (Dot) contracts axis {axes[0]} of the first "
          f"input with axis {axes[1]} of the second: they must not be the "
          "batch axis and must have the same size. Received: "
          f"axes={self.axes}, shapes {(None,) + tuple(x[1:])} and "
          f"{(None,) + tuple(y[1:])}")

  def _merge(self, inputs):
    x, y = inputs
    ax, ay = self._axes([x.shape, y.shape])
    if self.normalize:
      x, y = _l2_normalize(x, ax), _l2_normalize(y, ay)
    out = lax.dot_general(x, y, (((ax,), (ay,)), ((0,), (0,))))
    return out[:, None] if out.ndim == 1 else out

  def get_config(self):
    axes = self.axes if isinstance(self.axes, int) else list(self.axes)
    return {**super().get_config(), "axes": axes, "normalize": self.normalize}
