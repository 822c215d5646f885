"""Reshaping layers: `Flatten`, `Reshape`, `Permute`, `RepeatVector`."""
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


class Permute(Layer):
  """Permutes the non-batch axes (Keras 3 `Permute`).

  Args:
    dims: a permutation of `1..rank-1` (the batch axis is 0 and stays
      first); `(2, 1)` swaps the two axes of `(batch, a, b)` inputs.

  Raises:
    ValueError: if `dims` is not a permutation of `1..n`, or at build if its
      length is not the number of non-batch axes.

  >>> import hk_keras
  >>> Permute((2, 1))(hk_keras.Input((3, 4))).shape
  (None, 4, 3)
  """

  def __init__(self, dims, **kwargs):
    super().__init__(**kwargs)
    try:
      dims = tuple(int(d) for d in dims)
    except (TypeError, ValueError):
      dims = None
    if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
      raise ValueError(
          "Permute: `dims` must be a permutation of 1..n, the non-batch axes "
          "(the batch axis 0 is not listed). Received: dims="
          f"{kwargs.get('dims', dims)!r}")
    self.dims = dims

  def build(self, input_shape):
    if len(input_shape) != len(self.dims) + 1:
      raise ValueError(
          f"Layer {self.name!r} (Permute) has dims={self.dims} for "
          f"{len(self.dims)} non-batch axes, but the inputs have shape "
          f"{(None,) + tuple(input_shape[1:])}.")

  def call(self, inputs):
    return jnp.transpose(inputs, (0,) + self.dims)

  def get_config(self):
    return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
  """Repeats `(batch, features)` inputs `n` times: `(batch, n, features)`
  (Keras 3 `RepeatVector`).

  Args:
    n: the number of repetitions (a positive int).

  >>> import hk_keras
  >>> RepeatVector(3)(hk_keras.Input((4,))).shape
  (None, 3, 4)
  """

  def __init__(self, n, **kwargs):
    super().__init__(**kwargs)
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
      raise ValueError(
          f"RepeatVector: `n` must be a positive integer. Received: n={n!r}")
    self.n = n

  def build(self, input_shape):
    if len(input_shape) != 2:
      raise ValueError(
          f"Layer {self.name!r} (RepeatVector) expects inputs of rank 2 "
          f"(batch, features), received shape "
          f"{(None,) + tuple(input_shape[1:])}. Flatten them first.")

  def call(self, inputs):
    return jnp.repeat(inputs[:, None, :], self.n, axis=1)

  def get_config(self):
    return {**super().get_config(), "n": self.n}
