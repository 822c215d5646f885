"""Process-wide settings read by layers, losses and loading, as `keras.config`.

They are plain module globals read when a layer is constructed (data format,
dtype) or when a file is loaded (safe mode), the way Keras 3 reads them; the
defaults can also be set with the environment variables `KERAS_FLOATX`,
`KERAS_EPSILON` and `KERAS_IMAGE_DATA_FORMAT` before hk_keras is imported.
"""
import os
from typing import Optional

import jax
import numpy as np

from .._core import _settings as _core_settings

_FLOATS = ("bfloat16", "float16", "float32", "float64")
_FORMATS = ("channels_last", "channels_first")

# The values live in `hk_keras._core._settings` (one store, one `reset()`
# for tests), under these keys and defaults.
_core_settings.register({
    "floatx": os.environ.get("KERAS_FLOATX", "float32"),
    "epsilon": float(os.environ.get("KERAS_EPSILON", "1e-7")),
    "image_data_format": os.environ.get("KERAS_IMAGE_DATA_FORMAT",
                                        "channels_last"),
    "safe_mode": True,
    "jit_cache_dir": None,
    # Bytes of array data the engine may hold on a device (None: derived
    # from the device's memory, see device_data_budget()).
    "device_data_budget": None,
})
_settings = _core_settings.values()


def backend() -> str:
  """The name of the backend: always `"jax"` (hk_keras runs on JAX).

  >>> backend()
  'jax'
  """
  return "jax"


def floatx() -> str:
  """The default float dtype of weights and inputs (`"float32"` by default).

  >>> floatx()
  'float32'
  """
  return _settings["floatx"]


def set_floatx(value: str) -> None:
  """Sets the default float dtype (`"float16"`, `"bfloat16"`, `"float32"` or
  `"float64"`).

  Layers created afterwards without a `dtype=` (and no global mixed
  precision policy) use it. `"float64"` needs `jax_enable_x64`, as in JAX.

  Raises:
    ValueError: on any other value.
  """
  name = np.dtype(value).name if value != "bfloat16" else value
  if name not in _FLOATS:
    raise ValueError(
        f"Unknown floatx type: expected one of {list(_FLOATS)}. Received: "
        f"value={value!r}")
  _settings["floatx"] = name


def epsilon() -> float:
  """The fuzz factor used in numeric expressions (1e-7 by default).

  >>> epsilon()
  1e-07
  """
  return _settings["epsilon"]


def set_epsilon(value: float) -> None:
  """Sets the fuzz factor returned by `epsilon()`.

  Raises:
    TypeError: if `value` is not a real number.
  """
  if isinstance(value, bool) or not isinstance(value, (int, float,
                                                       np.floating)):
    raise TypeError(
        f"set_epsilon expects a float. Received: value={value!r} of type "
        f"{type(value).__name__}")
  _settings["epsilon"] = float(value)


def image_data_format() -> str:
  """The default `data_format` of image layers: `"channels_last"` unless set.

  Every layer with a `data_format` argument resolves `data_format=None` to
  this value when it is constructed.

  >>> image_data_format()
  'channels_last'
  """
  return _settings["image_data_format"]


def set_image_data_format(data_format: str) -> None:
  """Sets the default data format (`"channels_last"` or `"channels_first"`).

  Raises:
    ValueError: on any other value.
  """
  value = str(data_format).lower() if isinstance(data_format, str) else None
  if value not in _FORMATS:
    raise ValueError(
        "The `data_format` argument must be one of {'channels_first', "
        f"'channels_last'}}. Received: data_format={data_format!r}")
  _settings["image_data_format"] = value


def enable_unsafe_deserialization() -> None:
  """Lets `load_model` rebuild `Lambda` layers whose function was a lambda.

  After this call `load_model(..., safe_mode=True)` behaves as
  `safe_mode=False` (as in Keras). hk_keras still never reads code from a
  file: the functions must come from `custom_objects` or the registry.
  """
  _settings["safe_mode"] = False


def in_safe_mode() -> bool:
  """False once `enable_unsafe_deserialization()` was called."""
  return _settings["safe_mode"]


def default_jit_cache_dir() -> str:
  """`$XDG_CACHE_HOME/hk_keras/jax_cache`, or `~/.cache/hk_keras/jax_cache`."""
  root = os.environ.get("XDG_CACHE_HOME") or os.path.join(
      os.path.expanduser("~"), ".cache")
  return os.path.join(root, "hk_keras", "jax_cache")


def enable_jit_cache(path: Optional[str] = None) -> str:
  """Switches on JAX's persistent compilation cache.

  Compiled train, test and predict steps are written to `path` and reused by
  later processes that compile the same step (same model, shapes and
  devices), which saves the compile time of a second run. hk_keras-only: Keras
  has no such switch.

  Args:
    path: the cache folder; by default `~/.cache/hk_keras/jax_cache` (under
      `$XDG_CACHE_HOME` when that is set).

  Returns:
    The folder used.

  >>> enable_jit_cache("/tmp/hk_keras_cache")  # doctest: +SKIP
  '/tmp/hk_keras_cache'
  """
  if path is not None and not isinstance(path, (str, os.PathLike)):
    raise TypeError(
        f"enable_jit_cache expects a folder path or None. Received: "
        f"path={path!r} of type {type(path).__name__}")
  path = os.path.abspath(os.path.expanduser(
      os.fspath(path) if path is not None else default_jit_cache_dir()))
  os.makedirs(path, exist_ok=True)
  jax.config.update("jax_compilation_cache_dir", path)
  # Cache every step, not only those that took more than a second to compile.
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  _settings["jit_cache_dir"] = path
  return path


def device_data_budget() -> int:
  """Bytes of array data that `fit`/`evaluate`/`predict` may hold on a device.

  Array inputs (NumPy arrays, `np.memmap`s) stay on the host and reach the
  device in fixed-size chunks of batches, a few in flight ahead of the
  steps; the chunks in flight never take more than this budget. By default
  an eighth of the device's memory (`memory_stats()["bytes_limit"]`) on
  accelerators and 256 MiB on CPU, or what `set_device_data_budget` set.
  hk_keras-only: Keras has no such setting.
  """
  value = _settings["device_data_budget"]
  if value is not None:
    return value
  try:
    stats = jax.devices()[0].memory_stats() or {}
  except Exception:  # pylint: disable=broad-except
    stats = {}
  limit = stats.get("bytes_limit")
  return int(limit) // 8 if limit else 256 << 20


def set_device_data_budget(num_bytes: Optional[int]) -> None:
  """Sets the device memory budget for array data in bytes (None: default).

  A low budget makes the chunks of batches sent to the device smaller (at
  least one batch, or `steps_per_execution` batches, each); data of any
  size streams from the host. See docs/performance.md.

  Raises:
    ValueError: if `num_bytes` is not a positive int or None.
  """
  if num_bytes is not None and (
      isinstance(num_bytes, bool) or not isinstance(num_bytes, int) or
      num_bytes <= 0):
    raise ValueError(
        "set_device_data_budget expects a positive number of bytes or None "
        f"(the default). Received: {num_bytes!r}")
  _settings["device_data_budget"] = num_bytes


def dtype_policy():
  """The global dtype policy (`hk_keras.mixed_precision.global_policy()`)."""
  from ..mixed_precision import _policy  # pylint: disable=g-import-not-at-top
  return _policy.global_policy()


def set_dtype_policy(policy) -> None:
  """Sets the global dtype policy, as `mixed_precision.set_global_policy`."""
  from ..mixed_precision import _policy  # pylint: disable=g-import-not-at-top
  _policy.set_global_policy(policy)
