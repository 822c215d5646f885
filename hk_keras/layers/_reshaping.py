"""Reshaping layers: `Flatten`, `Reshape`."""
import math

import jax.numpy as jnp

from . import _spatial_args as args
from ._layer import Layer


class Flatten(Layer):
  """Flattens all axes but the batch axis: `(N, ...) -> (N, prod(...))`."""

  def __init__(self, data_format=None, **kwargs):
    super().__init__(**kwargs)
    self.data_format = args.normalize_data_format(data_format, "Flatten")

  def call(self, inputs):
    if self.data_format == "channels_first" and inputs.ndim > 2:
      inputs = jnp.moveaxis(inputs, 1, -1)
    return jnp.reshape(inputs, (inputs.shape[0], -1))

  def get_config(self):
    return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
  """Reshapes to `(batch,) + target_shape`; one entry may be -1."""

  def __init__(self, target_shape, **kwargs):
    super().__init__(**kwargs)
    target_shape = tuple(target_shape)
    if sum(1 for d in target_shape if d == -1) > 1:
      raise ValueError(
          "Reshape target_shape may contain at most one -1. Received: "
          f"target_shape={target_shape}")
    self.target_shape = target_shape

  def build(self, input_shape):
    size = math.prod(input_shape[1:])
    known = math.prod(d for d in self.target_shape if d != -1)
    if (-1 not in self.target_shape and known != size) or (
        -1 in self.target_shape and size % known):
      raise ValueError(
          f"Layer {self.name!r} (Reshape) cannot reshape inputs of shape "
          f"{input_shape} (size {size} per example) to {self.target_shape}. "
          "The total size per example must be the same.")

  def call(self, inputs):
    return jnp.reshape(inputs, (inputs.shape[0],) + self.target_shape)

  def get_config(self):
    return {**super().get_config(), "target_shape": list(self.target_shape)}
