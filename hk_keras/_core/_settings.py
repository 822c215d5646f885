"""Process-wide settings read by layers and the engine, in one place.

Each public setter (`hk_keras.distribution.set_distribution`,
`hk_keras.mixed_precision.set_global_policy`) writes here; the engine and the
layers read here, so no package imports another package for its setting.
`reset()` restores every default (tests call it between cases).
"""
from typing import Any, Dict

_DEFAULTS: Dict[str, Any] = {
    # `hk_keras.distribution.DataParallel` or None (one device).
    "distribution": None,
    # `hk_keras.mixed_precision.Policy` or None ("float32").
    "dtype_policy": None,
}

_values: Dict[str, Any] = dict(_DEFAULTS)


def get(name: str) -> Any:
  """The current value of setting `name`."""
  return _values[name]


def set(name: str, value: Any) -> None:  # pylint: disable=redefined-builtin
  """Sets setting `name` (one of the known settings)."""
  if name not in _DEFAULTS:
    raise KeyError(f"Unknown setting {name!r}. Known: {sorted(_DEFAULTS)}.")
  _values[name] = value


def reset() -> None:
  """Restores every setting to its default."""
  _values.clear()
  _values.update(_DEFAULTS)


def register(defaults: Dict[str, Any]) -> None:
  """Adds settings with their defaults (a package that owns them, such as
  `hk_keras.config`, registers them once at import)."""
  for name, value in defaults.items():
    _DEFAULTS.setdefault(name, value)
    _values.setdefault(name, value)


def values() -> Dict[str, Any]:
  """The live store of every setting (the same dict across `reset()`)."""
  return _values
