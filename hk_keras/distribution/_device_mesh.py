"""`DeviceMesh`: devices arranged in named axes (a `jax.sharding.Mesh`)."""
import math

import numpy as np
from jax.sharding import Mesh

from ._devices import list_devices, to_jax_devices


class DeviceMesh:
  """A grid of devices with a name per axis, as Keras 3's `DeviceMesh`.

  Args:
    shape: the grid's shape, e.g. `(8,)` for data parallelism only or
      `(2, 4)` for 2-way data x 4-way model parallelism.
    axis_names: one name per axis, e.g. `("batch", "model")`; layouts and
      `ModelParallel(batch_dim_name=...)` refer to these names.
    devices: the devices (`jax.Device`s or "cpu:0"-style names), as many
      as the grid holds; default `list_devices()`.

  Raises:
    ValueError: if shape and axis_names are empty or differ in length, or
      the number of devices is not the grid's size.

  `backend_mesh` is the `jax.sharding.Mesh`.

  >>> mesh = DeviceMesh((1,), ["batch"])
  >>> mesh.shape, mesh.axis_names
  ((1,), ['batch'])
  """

  def __init__(self, shape, axis_names, devices=None):
    if not shape or not axis_names:
      raise ValueError(
          "Shape and axis_names cannot be empty. Received: "
          f"shape={shape}, axis_names={axis_names}")
    if len(shape) != len(axis_names):
      raise ValueError(
          "Shape and axis_names should have same size. "
          f"Received: shape={shape}, axis_names={axis_names}")
    if devices is None:
      devices = list_devices()
    devices = np.array(devices, dtype=object)
    if math.prod(shape) != devices.size:
      raise ValueError(
          f"Shape does not match the number of devices. Received: "
          f"shape={shape}; devices.shape={devices.shape}. Pass "
          f"devices=hk_keras.distribution.list_devices()[:{math.prod(shape)}]"
          " or a shape whose product is the device count.")
    self._shape = shape
    self._axis_names = axis_names
    self._devices = np.reshape(devices, shape)
    self._mesh = None

  @property
  def shape(self):
    return self._shape

  @property
  def axis_names(self):
    return self._axis_names

  @property
  def devices(self):
    """The devices as given, in a NumPy array of the mesh's shape."""
    return self._devices

  @property
  def backend_mesh(self) -> Mesh:
    """The `jax.sharding.Mesh` of these devices and axis names."""
    if self._mesh is None:
      flat = to_jax_devices(list(self._devices.flat))
      grid = np.empty(len(flat), dtype=object)
      grid[:] = flat
      self._mesh = Mesh(grid.reshape(self._shape), tuple(self._axis_names))
    return self._mesh

  def axis_size(self, name) -> int:
    """The number of devices along axis `name`."""
    return int(self._shape[list(self._axis_names).index(name)])

  def __repr__(self):
    return (f"<{type(self).__name__} shape={self.shape}, "
            f"axis_names={self.axis_names}>")
