"""Global pooling (1D, 2D, 3D): mean or max over every spatial axis."""
import jax.numpy as jnp

from . import _spatial_args as args
from ._layer import Layer


class _GlobalPooling(Layer):
  """Shared global pooling; subclasses set `_rank` and `_reduce`."""

  _rank = 2

  def __init__(self, data_format=None, keepdims=False, **kwargs):
    super().__init__(**kwargs)
    self.data_format = args.normalize_data_format(data_format,
                                                  type(self).__name__)
    self.keepdims = bool(keepdims)

  def _spatial_axes(self):
    first = 2 if self.data_format == "channels_first" else 1
    return tuple(range(first, first + self._rank))

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)

  def get_config(self):
    return {**super().get_config(), "data_format": self.data_format,
            "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
  """Mean over the steps axis (Keras 3 `GlobalAveragePooling1D`).

  `(batch, steps, features) -> (batch, features)` (or `(batch, 1, features)`
  with `keepdims=True`). An optional boolean `mask` of shape `(batch,
  steps)`, passed to the call or filled in from a Keras mask (e.g. from
  `Embedding(mask_zero=True)`), averages over the unmasked steps only.

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axis with size 1.

  >>> import hk_keras
  >>> GlobalAveragePooling1D()(hk_keras.Input((10, 4))).shape
  (None, 4)
  """

  _rank = 1

  def call(self, inputs, mask=None):
    axis = self._spatial_axes()
    if mask is None:
      return jnp.mean(inputs, axis=axis, keepdims=self.keepdims)
    mask = jnp.expand_dims(jnp.asarray(mask, bool),
                           1 if self.data_format == "channels_first" else 2)
    weights = mask.astype(inputs.dtype)
    total = jnp.sum(jnp.where(mask, inputs, 0), axis=axis,
                    keepdims=self.keepdims)
    return total / jnp.sum(weights, axis=axis, keepdims=self.keepdims)

  def compute_mask(self, inputs, previous_mask=None):
    """Pooling consumes the mask: the output has none."""
    del inputs, previous_mask
    return None


class GlobalAveragePooling2D(_GlobalPooling):
  """Mean over height and width (Keras 3 `GlobalAveragePooling2D`).

  `(batch, height, width, channels) -> (batch, channels)`, or `(batch, 1, 1,
  channels)` with `keepdims=True`.

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axes with size 1.

  >>> import hk_keras
  >>> GlobalAveragePooling2D()(hk_keras.Input((4, 5, 3))).shape
  (None, 3)
  """

  _rank = 2

  def call(self, inputs):
    return jnp.mean(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
  """Max over height and width (Keras 3 `GlobalMaxPooling2D`).

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axes with size 1.

  >>> import hk_keras
  >>> GlobalMaxPooling2D(keepdims=True)(hk_keras.Input((4, 5, 3))).shape
  (None, 1, 1, 3)
  """

  _rank = 2

  def call(self, inputs):
    return jnp.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling):
  """Max over the steps axis (Keras 3 `GlobalMaxPooling1D`).

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axis with size 1.

  >>> import hk_keras
  >>> GlobalMaxPooling1D()(hk_keras.Input((10, 4))).shape
  (None, 4)
  """

  _rank = 1

  def call(self, inputs):
    return jnp.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalAveragePooling3D(_GlobalPooling):
  """Mean over depth, height and width (Keras 3 `GlobalAveragePooling3D`).

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axes with size 1.

  >>> import hk_keras
  >>> GlobalAveragePooling3D()(hk_keras.Input((2, 3, 4, 5))).shape
  (None, 5)
  """

  _rank = 3

  def call(self, inputs):
    return jnp.mean(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


class GlobalMaxPooling3D(_GlobalPooling):
  """Max over depth, height and width (Keras 3 `GlobalMaxPooling3D`).

  Args:
    data_format: "channels_last" (default) or "channels_first".
    keepdims: keep the pooled axes with size 1.

  >>> import hk_keras
  >>> GlobalMaxPooling3D(keepdims=True)(hk_keras.Input((2, 3, 4, 5))).shape
  (None, 1, 1, 1, 5)
  """

  _rank = 3

  def call(self, inputs):
    return jnp.max(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)


GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
