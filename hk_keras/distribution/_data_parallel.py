"""`DataParallel`: replicate the model, split every batch over devices."""
from typing import Optional, Sequence

import jax

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
      communication).

  Raises:
    ValueError: on an unknown backend or device.

  Differences from Keras 3: Keras's `DataParallel(device_mesh=...,
  devices=...)` is sharding-based only; `backend` is new here.

  >>> dist = DataParallel(backend="sharding")
  >>> dist.num_replicas == len(jax.devices())
  True
  """

  def __init__(self, devices: Optional[Sequence] = None, backend: str = "pmap"):
    if backend not in _BACKENDS:
      raise ValueError(
          f"DataParallel backend must be one of {_BACKENDS}. Received: "
          f"backend={backend!r}")
    self.devices = _resolve_devices(devices)
    self.backend = backend

  @property
  def num_replicas(self) -> int:
    """How many devices share each batch."""
    return len(self.devices)

  def __repr__(self):
    return (f"DataParallel(backend={self.backend!r}, "
            f"num_replicas={self.num_replicas})")
