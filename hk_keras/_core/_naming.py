"""Keras-style unique object names: dense, dense_1, dense_2, ..."""
import collections
import re

_counters = collections.defaultdict(int)
_VALID_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def to_snake_case(name: str) -> str:
  name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
  # No break after a digit: Conv2D -> conv2d, MaxPooling2D -> max_pooling2d.
  return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
  """Returns `base` the first time, then `base_1`, `base_2`, ..."""
  count = _counters[base]
  _counters[base] += 1
  return base if count == 0 else f"{base}_{count}"


def validate_name(name: str, what: str) -> str:
  if not isinstance(name, str) or not _VALID_NAME.match(name):
    raise ValueError(
        f"Invalid {what} name {name!r}: names become Haiku module names, so they "
        "must start with a letter or '_' and contain only letters, digits and "
        "'_'. Received: name=" + repr(name))
  return name
