"""`ModelParallel`: params and optimizer state split over a device mesh."""
import math

import numpy as np

from . import _auto_layout
from ._device_mesh import DeviceMesh
from ._layout_map import DEFAULT_MIN_SHARD_SIZE, LayoutMap

_MODES = ("fsdp", "auto")

_UNMATCHED = (
    "LayoutMap(strict=True): these params have at least {min} elements but "
    "match no key of the layout map, so they would be replicated on every "
    "device: {names}. Add a key for them (keys are regular expressions "
    "matched against Haiku paths 'module/name'; model.params lists them), "
    "or pass strict=False (replicate them) or a larger min_shard_size.")

_BAD_LAYOUT = (
    "The layout {axes} for param '{path}' of shape {shape} does not fit: "
    "{problem}. Give one mesh axis name or None per param axis, and split "
    "only axes whose size divides by the mesh axis size.")


def _shape(leaf):
  return tuple(int(d) for d in np.shape(leaf))


class ModelParallel:
  """Model parallelism: each param, its optimizer slots and the batch split
  over a `DeviceMesh` by layouts (Keras 3's `ModelParallel`).

  One `jax.jit` program runs over the mesh (GSPMD): the train state is
  placed once by the layouts, every batch is split along the
  `batch_dim_name` axis and replicated along the others, and XLA adds the
  communication. Training computes what one device computes on the same
  global batches.

  Args:
    layout_map: a `LayoutMap`; or "fsdp" (split every param with at least
      `min_shard_size` elements along its largest evenly dividing axis over
      the batch axis, ZeRO-3 style) or "auto" (FSDP plus Megatron-style
      tensor parallelism of Dense, EinsumDense, MultiHeadAttention and
      Embedding over a "model" mesh axis); see docs/distributed_training.md.
    batch_dim_name: the mesh axis batches are split over (default: the
      mesh's first axis).
    device_mesh: the mesh for "fsdp"/"auto" (default: a 1-D mesh of all
      devices named "batch"); a `LayoutMap` brings its own.
    min_shard_size: the "fsdp"/"auto" threshold (a LayoutMap has its own).
    auto_shard_dataset: accepted for Keras compatibility (every process
      places its own rows of each batch).

  Raises:
    ValueError: on a missing or unknown layout_map, or a batch_dim_name
      that is no mesh axis.

  >>> dist = ModelParallel(layout_map="fsdp")
  >>> dist.batch_dim_name
  'batch'
  """

  backend = "sharding"

  def __init__(self, *, layout_map=None, batch_dim_name=None,
               device_mesh=None, min_shard_size=DEFAULT_MIN_SHARD_SIZE,
               auto_shard_dataset=True):
    del auto_shard_dataset
    if layout_map is None:
      raise ValueError("You must specify a layout_map argument: a LayoutMap, "
                       "'fsdp' or 'auto'.")
    if isinstance(layout_map, str):
      if layout_map not in _MODES:
        raise ValueError(f"layout_map must be a LayoutMap, 'fsdp' or 'auto'. "
                         f"Received: layout_map={layout_map!r}")
      if device_mesh is None:
        from ._devices import list_devices  # pylint: disable=g-import-not-at-top
        devices = list_devices()
        device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
      self.min_shard_size = int(min_shard_size)
    elif isinstance(layout_map, LayoutMap):
      device_mesh = layout_map.device_mesh
      self.min_shard_size = layout_map.min_shard_size
    else:
      raise ValueError(
          "Argument `layout_map` must be a `LayoutMap` instance, 'fsdp' or "
          f"'auto'. Received: layout_map={layout_map!r}")
    if not isinstance(device_mesh, DeviceMesh):
      raise ValueError(f"device_mesh must be a DeviceMesh. Received: "
                       f"{device_mesh!r}")
    batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
    if batch_dim_name not in device_mesh.axis_names:
      raise ValueError(
          f"batch_dim_name={batch_dim_name!r} is no axis of the mesh "
          f"{device_mesh}. Use one of {list(device_mesh.axis_names)}.")
    self.layout_map = layout_map
    self.device_mesh = device_mesh
    self.batch_dim_name = batch_dim_name
    self.devices = tuple(device_mesh.backend_mesh.devices.flat)

  @property
  def num_model_replicas(self) -> int:
    """How many slices each batch is split into (the batch axis size)."""
    return self.device_mesh.axis_size(self.batch_dim_name)

  num_replicas = num_model_replicas

  def tensor_axes(self, tree):
    """Layout axes for a Haiku tree {module: {name: array}}: the same tree
    with a tuple (mesh axis name or None per axis) at each leaf.

    Raises:
      ValueError: under LayoutMap(strict=True) for unmatched big params, or
        for a layout that does not fit its param.
    """
    out, unmatched = {}, []
    for module, leaves in tree.items():
      siblings = {n: _shape(v) for n, v in leaves.items()}
      out[module] = {}
      for name, shape in siblings.items():
        path = f"{module}/{name}"
        axes = self._axes(path, name, shape, siblings)
        if axes is None:
          if math.prod(shape) >= self.min_shard_size:
            unmatched.append(path)
          axes = (None,) * len(shape)
        self._check(path, shape, axes)
        out[module][name] = axes
    if (unmatched and isinstance(self.layout_map, LayoutMap) and
        self.layout_map.strict):
      raise ValueError(_UNMATCHED.format(min=self.min_shard_size,
                                         names=unmatched))
    return out

  def _axes(self, path, name, shape, siblings):
    if isinstance(self.layout_map, LayoutMap):
      layout = self.layout_map[path]
      return None if layout is None else tuple(layout.axes)
    mesh = self.device_mesh
    model = (mesh.axis_size("model") if "model" in mesh.axis_names and
             self.batch_dim_name != "model" else 1)
    return _auto_layout.auto_axes(
        self.layout_map, name, shape, siblings, self.batch_dim_name,
        self.num_model_replicas, model, self.min_shard_size)

  def _check(self, path, shape, axes):
    problem = None
    if len(axes) != len(shape):
      problem = f"{len(axes)} axes for a rank-{len(shape)} param"
    else:
      for dim, axis in zip(shape, axes):
        if axis is None:
          continue
        names = axis if isinstance(axis, tuple) else (axis,)
        size = math.prod(self.device_mesh.axis_size(a) for a in names)
        if dim % size:
          problem = f"axis of size {dim} does not split over {axis!r} ({size})"
    if problem:
      raise ValueError(_BAD_LAYOUT.format(axes=axes, path=path, shape=shape,
                                          problem=problem))

  def __repr__(self):
    layout = (self.layout_map if isinstance(self.layout_map, str)
              else "LayoutMap")
    return (f"ModelParallel(layout_map={layout!r}, mesh={self.device_mesh}, "
            f"batch_dim_name={self.batch_dim_name!r})")
