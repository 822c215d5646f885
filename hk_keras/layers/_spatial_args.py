"""Argument and input checks shared by convolution, pooling and resizing layers.

Each helper raises a `ValueError` that names the layer, the argument, what was
expected and what was received, so a wrong `padding=` or a missing channel
axis is reported where the user wrote it.
"""
from typing import Optional, Sequence, Tuple

import numpy as np

from ..config import _settings as _config

DATA_FORMATS = ("channels_last", "channels_first")

_SPATIAL_NAMES = {1: ("steps",), 2: ("height", "width"),
                  3: ("depth", "height", "width")}

_UNSUPPORTED_EXTRAS = (
    "hk_keras layers do not support `{arg}` yet. Pass {arg}=None; to "
    "regularize or constrain weights, add the penalty to your loss or apply "
    "the constraint to the params returned by `model.init`/`fit`.")


def _is_int(value) -> bool:
  return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def normalize_tuple(value, n: int, arg: str, owner: str, *,
                    allow_zero: bool = False) -> Tuple[int, ...]:
  """Turns an int or a length-`n` sequence of ints into a tuple of `n` ints.

  Args:
    value: the argument as the user passed it.
    n: the number of spatial dimensions.
    arg: the argument name, for the message.
    owner: the class name, for the message.
    allow_zero: accept 0 (e.g. `output_padding`); otherwise values must be
      strictly positive.

  Returns:
    A tuple of `n` Python ints.

  Raises:
    ValueError: on a wrong length, a non-integer or an out-of-range value.
  """
  bound = ">= 0" if allow_zero else "> 0"
  message = (f"{owner}: `{arg}` must be an int or a tuple of {n} ints, each "
             f"{bound}. Received: {arg}={value!r}")
  if _is_int(value):
    values = (int(value),) * n
  else:
    try:
      values = tuple(value)
    except TypeError:
      raise ValueError(message) from None
    if len(values) != n or not all(_is_int(v) for v in values):
      raise ValueError(message)
    values = tuple(int(v) for v in values)
  if any(v < 0 or (v == 0 and not allow_zero) for v in values):
    raise ValueError(message)
  return values


def normalize_padding(value, owner: str,
                      allowed: Sequence[str] = ("valid", "same")) -> str:
  """Lower-cases and checks a `padding` string against `allowed`."""
  if isinstance(value, str) and value.lower() in allowed:
    return value.lower()
  choices = ", ".join(repr(a) for a in allowed)
  raise ValueError(
      f"{owner}: `padding` must be one of {choices}. Received: "
      f"padding={value!r}")


def normalize_data_format(value: Optional[str], owner: str) -> str:
  """`None` means `hk_keras.config.image_data_format()` ("channels_last"
  unless `set_image_data_format` changed it), read at construction as Keras."""
  if value is None:
    return _config.image_data_format()
  if isinstance(value, str) and value.lower() in DATA_FORMATS:
    return value.lower()
  raise ValueError(
      f"{owner}: `data_format` must be 'channels_last' or 'channels_first' "
      f"(or None for hk_keras.config.image_data_format()). Received: data_format={value!r}")


def check_positive_int(value, arg: str, owner: str) -> int:
  if not _is_int(value) or int(value) <= 0:
    raise ValueError(
        f"{owner}: `{arg}` must be a strictly positive integer. Received: "
        f"{arg}={value!r}")
  return int(value)


def reject_unsupported(owner: str, **extras) -> None:
  """Refuses regularizers and constraints instead of silently dropping them."""
  for arg, value in extras.items():
    if value is not None:
      raise ValueError(
          f"{owner}: " + _UNSUPPORTED_EXTRAS.format(arg=arg) +
          f" Received: {arg}={value!r}")


def layout(rank: int, data_format: str) -> str:
  """Writes the expected input layout, e.g. `(batch, height, width, channels)`."""
  names = _SPATIAL_NAMES.get(rank, tuple(f"dim{i}" for i in range(rank)))
  if data_format == "channels_first":
    names = ("batch", "channels") + names
  else:
    names = ("batch",) + names + ("channels",)
  return "(" + ", ".join(names) + ")"


def format_shape(shape) -> str:
  """Writes a traced input shape with the batch axis as None, as Keras does."""
  shape = tuple(shape)
  if not shape:
    return "()"
  return str((None,) + shape[1:])


def check_input_rank(layer, input_shape, rank: int, data_format: str) -> None:
  """Raises a ValueError unless inputs have `rank` spatial axes.

  Args:
    layer: the layer being built (its name and class go in the message).
    input_shape: the received shape (batch axis included).
    rank: number of spatial axes the layer works on.
    data_format: "channels_last" or "channels_first".
  """
  input_shape = tuple(input_shape)
  if len(input_shape) == rank + 2:
    return
  message = (
      f"Layer {layer.name!r} ({type(layer).__name__}) expects inputs of rank "
      f"{rank + 2} with layout {layout(rank, data_format)}, received shape "
      f"{format_shape(input_shape)} (rank {len(input_shape)}).")
  if len(input_shape) == rank + 1:
    if data_format == "channels_first":
      message += (" If the channel axis is missing (single-channel data), add "
                  "one with x[:, None].")
    else:
      message += (" If the channel axis is missing (single-channel data), add "
                  "one with x[..., None] (e.g. Input((28, 28, 1)) for "
                  "grayscale images).")
  raise ValueError(message)


def spatial_shape(input_shape, data_format: str) -> Tuple[int, ...]:
  input_shape = tuple(input_shape)
  if data_format == "channels_first":
    return input_shape[2:]
  return input_shape[1:-1]


def channel_axis(data_format: str) -> int:
  return 1 if data_format == "channels_first" else -1
