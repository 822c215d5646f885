"""The devices a distribution can use (Keras's `list_devices`)."""
from typing import List, Optional

import jax


def _backend(device_type: Optional[str]):
  return device_type.lower() if device_type else None


def list_devices(device_type: Optional[str] = None) -> List[str]:
  """All devices of one type, every process's, as "platform:id" strings.

  Args:
    device_type: "cpu", "gpu" or "tpu"; None: the default backend's devices
      (accelerators when present, else the CPUs). Never a mix of types.

  Returns:
    e.g. ["cpu:0", "cpu:1"], the names `DeviceMesh(devices=...)` and
    `DataParallel(devices=...)` accept.

  >>> list_devices()[0]
  'cpu:0'
  """
  return [f"{d.platform}:{d.id}"
          for d in jax.devices(backend=_backend(device_type))]


def get_device_count(device_type: Optional[str] = None) -> int:
  """How many devices of one type exist over all processes.

  >>> get_device_count() == len(list_devices())
  True
  """
  return jax.device_count(_backend(device_type))


def to_jax_devices(devices) -> list:
  """`jax.Device`s for a list of devices or "platform:id" names.

  Raises:
    ValueError: on a name no device has.
  """
  by_name = {f"{d.platform}:{d.id}": d for d in jax.devices()}
  for d in jax.devices("cpu") if jax.default_backend() != "cpu" else ():
    by_name.setdefault(f"{d.platform}:{d.id}", d)
  out = []
  for d in devices:
    if isinstance(d, str):
      if d.lower() not in by_name:
        raise ValueError(
            f"Unknown device {d!r}. Known devices: {sorted(by_name)} (see "
            "hk_keras.distribution.list_devices()).")
      d = by_name[d.lower()]
    out.append(d)
  return out
