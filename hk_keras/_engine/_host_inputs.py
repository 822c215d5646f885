"""Host preprocessing: a model's leading string layers run before the step.

String layers (`StringLookup`, `TextVectorization`, string `Hashing`) cannot
run inside XLA. When a `Sequential` model begins with such layers (they set
`_runs_on_host`), `fit`/`evaluate`/`predict` call `host_inputs` on `x` first:
the leading host layers turn the strings into numbers on the host (whole
arrays at once, or each batch of a generator), and the rest of the model
runs compiled. Inside the trace those layers pass their (already converted)
inputs through.
"""
from typing import Any, List

import numpy as np


def host_prefix(model) -> List[Any]:
  """The host layers a `Sequential` model begins with (often none)."""
  from ..models import _sequential  # pylint: disable=g-import-not-at-top
  if not isinstance(model, _sequential.Sequential):
    return []
  prefix = []
  for layer in model.layers:
    if not getattr(layer, "_runs_on_host", False):
      break
    prefix.append(layer)
  return prefix


class _MappedBatches:
  """A re-iterable (or one-shot) view of `(x, ...)` batches with `x`
  converted by the host layers."""

  def __init__(self, source, convert):
    self._source = source
    self._convert = convert

  def __iter__(self):
    for batch in self._source:
      if isinstance(batch, tuple):
        yield (self._convert(batch[0]),) + tuple(batch[1:])
      else:
        yield self._convert(batch)


def host_inputs(model, x):
  """`x` with the model's leading host layers applied (unchanged if none).

  Arrays (and lists of strings) are converted at once; a generator or
  iterable of batches is converted batch by batch as it is read.
  """
  layers = host_prefix(model)
  if not layers or x is None:
    return x

  def convert(data):
    for layer in layers:
      layer._host_applied = True  # pylint: disable=protected-access
      data = np.asarray(layer.host_call(data))
    return data

  if isinstance(x, (np.ndarray, list)) or hasattr(x, "__array__"):
    return convert(x)
  if hasattr(x, "__next__"):
    return iter(_MappedBatches(x, convert))
  if hasattr(x, "__iter__"):
    return _MappedBatches(x, convert)
  return convert(x)
