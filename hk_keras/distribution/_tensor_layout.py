"""`TensorLayout` (a `NamedSharding` to be) and `distribute_tensor`."""
import jax
from jax.sharding import NamedSharding, PartitionSpec


class TensorLayout:
  """How a tensor's axes are split over a `DeviceMesh`'s named axes.

  Args:
    axes: one entry per tensor axis: a mesh axis name (split along it) or
      None (not split), e.g. `(None, "model")` for a kernel whose output
      units are split over the "model" devices.
    device_mesh: the `DeviceMesh`; a `LayoutMap` fills it in.

  Raises:
    ValueError: if an axis names no axis of the mesh, or on setting the
      mesh twice.

  `backend_layout` is the `jax.sharding.NamedSharding`.

  >>> TensorLayout((None, "model")).axes
  (None, 'model')
  """

  def __init__(self, axes, device_mesh=None):
    self._axes = tuple(axes)
    self._device_mesh = device_mesh
    self._validate_axes()

  @property
  def axes(self):
    return self._axes

  @property
  def device_mesh(self):
    return self._device_mesh

  @device_mesh.setter
  def device_mesh(self, device_mesh):
    if self._device_mesh is not None:
      raise ValueError("Cannot override device mesh value. Existing value is "
                       f"{self._device_mesh}")
    self._device_mesh = device_mesh
    self._validate_axes()

  @property
  def backend_layout(self) -> NamedSharding:
    if self._device_mesh is None:
      raise ValueError(
          f"{self!r} has no device_mesh: pass TensorLayout(axes, "
          "device_mesh=mesh), or put it in a LayoutMap(mesh).")
    return NamedSharding(self._device_mesh.backend_mesh,
                         PartitionSpec(*self._axes))

  def _validate_axes(self):
    if self._device_mesh is not None:
      valid = set(self._device_mesh.axis_names)
      bad = set(a for a in self._axes if a is not None) - valid
      if bad:
        raise ValueError(f"Invalid axis names for Layout. Valid axis names: "
                         f"{valid}, Got {bad}")

  def __repr__(self):
    return (f"<{type(self).__name__} axes={self.axes}, "
            f"device_mesh={self.device_mesh}>")


def _in_trace(x) -> bool:
  return isinstance(x, jax.core.Tracer)


def distribute_tensor(tensor, layout):
  """`tensor` placed as `layout` says (Keras 3's `distribute_tensor`).

  Inside a compiled step (e.g. a layer's `call`) it constrains the value's
  sharding (`jax.lax.with_sharding_constraint`), which is how big
  activations are re-laid out; outside it moves the array
  (`jax.device_put`), or returns it unchanged when already placed so.

  Args:
    tensor: an array.
    layout: a `TensorLayout` (with a mesh) or a `jax.sharding.Sharding`.

  >>> from hk_keras.distribution import DeviceMesh
  >>> mesh = DeviceMesh((1,), ["batch"])
  >>> x = distribute_tensor(jax.numpy.ones((2, 3)), TensorLayout(("batch", None), mesh))
  >>> x.shape
  (2, 3)
  """
  if isinstance(layout, TensorLayout):
    layout = layout.backend_layout
  if _in_trace(tensor):
    return jax.lax.with_sharding_constraint(tensor, layout)
  if isinstance(tensor, jax.Array) and isinstance(
      layout, jax.sharding.Sharding) and tensor.sharding.is_equivalent_to(
          layout, tensor.ndim):
    return tensor
  return jax.device_put(tensor, layout)
