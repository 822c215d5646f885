"""Adaptive pooling (Keras 3's `AdaptiveAveragePooling1D/2D/3D` and
`AdaptiveMaxPooling1D/2D/3D`): a fixed output size whatever the input size.

Along an axis of length `n` pooled to `m` cells, output cell `i` covers the
input cells `[floor(i * n / m), ceil((i + 1) * n / m))`, as in Keras and
PyTorch, so windows may overlap by one cell. Windows are products of
per-axis ranges, so pooling one spatial axis after the other gives the same
result as pooling whole windows: the mean is one matrix product per axis
(static weights) and the max a stack of per-window maxima.
"""
import numpy as np
import jax.numpy as jnp

from . import _spatial_args as args
from ._layer import Layer


def adaptive_bins(length: int, size: int):
  """The `(start, stop)` input range of each of the `size` output cells."""
  return [((i * length) // size, -((-(i + 1) * length) // size))
          for i in range(size)]


def _average_matrix(length, size):
  weights = np.zeros((size, length), np.float32)
  for i, (start, stop) in enumerate(adaptive_bins(length, size)):
    weights[i, start:stop] = 1.0 / (stop - start)
  return weights


class _AdaptivePooling(Layer):
  """Shared adaptive pooling; subclasses set `_rank` and `_mode`."""

  _rank = 2
  _mode = "average"

  def __init__(self, output_size, data_format=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.output_size = args.normalize_tuple(output_size, self._rank,
                                            "output_size", owner)
    self.data_format = args.normalize_data_format(data_format, owner)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)

  def call(self, inputs):
    first = 2 if self.data_format == "channels_first" else 1
    outputs = inputs
    for i, size in enumerate(self.output_size):
      axis = first + i
      length = outputs.shape[axis]
      if self._mode == "average":
        weights = jnp.asarray(_average_matrix(length, size), outputs.dtype)
        moved = jnp.moveaxis(outputs, axis, -1)
        pooled = jnp.einsum("...n,mn->...m", moved, weights)
        outputs = jnp.moveaxis(pooled, -1, axis)
      else:
        cells = [jnp.max(jnp.take(outputs, np.arange(start, stop), axis=axis),
                         axis=axis)
                 for start, stop in adaptive_bins(length, size)]
        outputs = jnp.stack(cells, axis=axis)
    return outputs

  def get_config(self):
    return {**super().get_config(), "output_size": list(self.output_size),
            "data_format": self.data_format}


_DOC = """Adaptive {mode} pooling to a fixed {what} (Keras 3 `{name}`).

  Output cell `i` of an axis of length `n` pooled to `m` covers the input
  cells `[floor(i * n / m), ceil((i + 1) * n / m))`.

  Args:
    output_size: int or tuple of {rank} int(s), the output {what}.
    data_format: "channels_last" (default) or "channels_first".

  Raises:
    ValueError: on an invalid `output_size` or `data_format`, or at build on
      inputs that are not rank {full_rank}.
  """


class AdaptiveAveragePooling1D(_AdaptivePooling):
  _rank = 1
  _mode = "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
  _rank = 2
  _mode = "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
  _rank = 3
  _mode = "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
  _rank = 1
  _mode = "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
  _rank = 2
  _mode = "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
  _rank = 3
  _mode = "max"


_WHAT = {1: "length", 2: "(height, width)", 3: "(depth, height, width)"}
for _cls in (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
             AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
             AdaptiveMaxPooling2D, AdaptiveMaxPooling3D):
  _cls.__doc__ = _DOC.format(mode=_cls._mode, what=_WHAT[_cls._rank],  # pylint: disable=protected-access
                             name=_cls.__name__, rank=_cls._rank,  # pylint: disable=protected-access
                             full_rank=_cls._rank + 2)  # pylint: disable=protected-access
del _cls
