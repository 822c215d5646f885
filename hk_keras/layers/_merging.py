"""Merging layers: `Add`, `Multiply`, `Concatenate`."""
import functools
import operator

import jax.numpy as jnp

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
