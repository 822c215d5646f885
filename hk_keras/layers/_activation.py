"""Activation layers: `Activation`, `ReLU`, `Softmax`."""
import jax.numpy as jnp

from .. import activations
from ._layer import Layer


class Activation(Layer):
  """Applies an activation function (a Keras name or a callable).

  >>> Activation("relu")
  <Activation ...>
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, activation, **kwargs):
    super().__init__(**kwargs)
    self.activation = activations.get(activation)

  def call(self, inputs):
    return self.activation(inputs)

  def get_config(self):
    return {**super().get_config(),
            "activation": activations.serialize(self.activation)}


class ReLU(Layer):
  """Rectified linear unit with Keras 3's `max_value`, `negative_slope`,
  `threshold`."""

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0,
               **kwargs):
    super().__init__(**kwargs)
    if max_value is not None and max_value < 0:
      raise ValueError(f"ReLU max_value must be >= 0. Received: {max_value}")
    if negative_slope is None or negative_slope < 0:
      raise ValueError(
          f"ReLU negative_slope must be >= 0. Received: {negative_slope}")
    self.max_value = max_value
    self.negative_slope = negative_slope
    self.threshold = threshold

  def call(self, inputs):
    return activations.relu(inputs, negative_slope=self.negative_slope,
                            max_value=self.max_value, threshold=self.threshold)

  def get_config(self):
    return {**super().get_config(), "max_value": self.max_value,
            "negative_slope": self.negative_slope, "threshold": self.threshold}


class Softmax(Layer):
  """Softmax over `axis` (default -1), with an optional boolean mask."""

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, axis=-1, **kwargs):
    super().__init__(**kwargs)
    self.axis = axis

  def call(self, inputs, mask=None):
    if mask is not None:
      inputs = jnp.where(mask, inputs, jnp.finfo(inputs.dtype).min)
    return activations.softmax(inputs, axis=self.axis)

  def get_config(self):
    return {**super().get_config(), "axis": self.axis}
