"""`DataParallel`: replicate the model, split every batch over devices."""
import warnings
from typing import Optional, Sequence

import jax

from ._device_mesh import DeviceMesh

_BACKENDS = ("pmap", "sharding")


def _resolve_devices(devices):
  if devices is None:
    return tuple(jax.devices())
  if isinstance(devices, int) and not isinstance(devices, bool):
    available = jax.devices()
    if not 1 <= devices <= len(available):
      raise ValueError(
          f"DataParallel(devices={devices}) asks for {devices} devices, but "
          f"{len(available)} exist: {available}.")
    return tuple(available[:devices])
  out = []
  by_name = {f"{d.platform}:{d.id}": d for d in jax.devices()}
  for d in devices:
    if isinstance(d, str):
      if d.lower() not in by_name:
        raise ValueError(
            f"DataParallel: unknown device {d!r}. Known devices: "
            f"{sorted(by_name)}.")
      d = by_name[d.lower()]
    out.append(d)
  if not out:
    raise ValueError("DataParallel needs at least one device; received [].")
  return tuple(out)


class DataParallel:
  """Data parallelism: every device holds the model; batches are split.

  Each global batch of `fit`/`evaluate`/`predict` is divided into equal
  slices, one per device; gradients are averaged and BatchNormalization
  statistics are computed over the whole global batch, so training on N
  devices gives the same result as one device on the same batches (up to
  float summation order). Dropout draws a different mask on each device
  under "pmap" (reproducible for a fixed device count) and the single-device
  mask under "sharding".

  Args:
    devices: the devices to use: None (all devices of all processes), an int
      (the first n devices), or a list of `jax.Device`s or names such as
      "gpu:0".
    backend: "pmap" (`jax.pmap`: a replica of the step per device, with
      explicit collectives) or "sharding" (`jax.jit` over a 1-D device mesh
      with params replicated and the batch split; XLA adds the
      communication). Default: "sharding" with a `device_mesh`, else "pmap".
    device_mesh: a `DeviceMesh` (Keras 3's argument) instead of `devices`:
      batches are split over its first axis (a warning if it has more; use
      `ModelParallel` to split params over the others).
    auto_shard_dataset: accepted for Keras compatibility.

  Raises:
    ValueError: on an unknown backend or device, both devices and
      device_mesh, or "pmap" with a mesh of several axes.

  Differences from Keras 3: Keras's `DataParallel(device_mesh=...,
  devices=...)` is sharding-based only; `backend` is new here.

  >>> dist = DataParallel(backend="sharding")
  >>> dist.num_replicas == len(jax.devices())
  True
  """

  def __init__(self, devices: Optional[Sequence] = None,
               backend: Optional[str] = None, device_mesh=None,
               auto_shard_dataset: bool = True):
    del auto_shard_dataset
    if backend is None:
      backend = "pmap" if device_mesh is None else "sharding"
    if backend not in _BACKENDS:
      raise ValueError(
          f"DataParallel backend must be one of {_BACKENDS}. Received: "
          f"backend={backend!r}")
    if device_mesh is not None:
      if devices is not None:
        raise ValueError("DataParallel takes devices or device_mesh, not "
                         "both. Received both.")
      if not isinstance(device_mesh, DeviceMesh):
        raise ValueError(
            "Expect `device_mesh` to be an instance of `DeviceMesh`. "
            f"Received: device_mesh={device_mesh!r} (of type "
            f"{type(device_mesh).__name__})")
      if len(device_mesh.shape) != 1:
        if backend == "pmap":
          raise ValueError(
              f"DataParallel(backend='pmap') needs a 1-D mesh; received "
              f"{device_mesh}. Use backend='sharding'.")
        warnings.warn(
            f"Expect the input mesh to be 1D, but received {device_mesh}. "
            "The first axis will be used for data-parallel sharding.",
            stacklevel=2)
      self.devices = tuple(device_mesh.backend_mesh.devices.flat)
    else:
      self.devices = _resolve_devices(devices)
      device_mesh = DeviceMesh((len(self.devices),), ["batch"],
                               list(self.devices))
    self.device_mesh = device_mesh
    self.batch_dim_name = device_mesh.axis_names[0]
    self.backend = backend

  @property
  def num_replicas(self) -> int:
    """How many slices each batch is split into."""
    return self.device_mesh.axis_size(self.batch_dim_name)

  num_model_replicas = num_replicas

  def tensor_axes(self, tree):
    """Every param replicated: `()` (no axis split) for each leaf."""
    return {m: {n: () for n in leaves} for m, leaves in tree.items()}

  def __repr__(self):
    return (f"DataParallel(backend={self.backend!r}, "
            f"num_replicas={self.num_replicas})")
