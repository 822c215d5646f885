"""Activation layers: `Activation`, `ReLU`, `LeakyReLU`, `PReLU`, `ELU`,
`Softmax`."""
import numbers

import jax.numpy as jnp

from .. import activations
from .. import initializers
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
  `threshold`.

  `f(x) = max_value` for `x >= max_value`, `x` for `threshold <= x <
  max_value` and `negative_slope * (x - threshold)` otherwise.

  Args:
    max_value: None (no cap, default) or a float >= 0.
    negative_slope: float >= 0 (default 0).
    threshold: float >= 0 (default 0), the point below which the slope
      applies.

  >>> import numpy as np
  >>> np.asarray(ReLU(max_value=1.0)(np.array([-1.0, 0.5, 3.0]))).tolist()
  [0.0, 0.5, 1.0]
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0,
               **kwargs):
    super().__init__(**kwargs)
    if max_value is not None and max_value < 0:
      raise ValueError(f"ReLU max_value must be >= 0. Received: {max_value}")
    if negative_slope is None or negative_slope < 0:
      raise ValueError(
          f"ReLU negative_slope must be >= 0. Received: {negative_slope}")
    if not isinstance(threshold, numbers.Real) or threshold < 0:
      raise ValueError(
          "ReLU threshold must be a number >= 0 (as in Keras 3). Received: "
          f"threshold={threshold!r}")
    self.max_value = max_value
    self.negative_slope = negative_slope
    self.threshold = threshold

  def call(self, inputs):
    return activations.relu(inputs, negative_slope=self.negative_slope,
                            max_value=self.max_value, threshold=self.threshold)

  def get_config(self):
    return {**super().get_config(), "max_value": self.max_value,
            "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
  """`f(x) = x` for `x >= 0`, `negative_slope * x` otherwise (Keras 3).

  Args:
    negative_slope: float >= 0 (default 0.3, Keras's default).

  >>> import numpy as np
  >>> np.asarray(LeakyReLU(0.5)(np.array([-2.0, 3.0]))).tolist()
  [-1.0, 3.0]
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, negative_slope=0.3, **kwargs):
    super().__init__(**kwargs)
    if (not isinstance(negative_slope, numbers.Real)
        or negative_slope < 0):
      raise ValueError(
          "LeakyReLU: `negative_slope` must be a number >= 0. Received: "
          f"negative_slope={negative_slope!r}")
    self.negative_slope = float(negative_slope)

  def call(self, inputs):
    return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

  def get_config(self):
    return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(Layer):
  """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)`
  otherwise (Keras 3 `ELU`).

  Args:
    alpha: the scale of the negative part (default 1.0).

  >>> ELU(alpha=0.5)
  <ELU ...>
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, alpha=1.0, **kwargs):
    super().__init__(**kwargs)
    if not isinstance(alpha, numbers.Real):
      raise ValueError(f"ELU: `alpha` must be a number. Received: alpha={alpha!r}")
    self.alpha = float(alpha)

  def call(self, inputs):
    return activations.elu(inputs, alpha=self.alpha)

  def get_config(self):
    return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
  """Leaky ReLU with a learned slope per unit (Keras 3 `PReLU`).

  `f(x) = x` for `x >= 0`, `alpha * x` otherwise, `alpha` a weight with the
  input's shape (batch axis left out).

  Args:
    alpha_initializer: initializer of `alpha` (default "zeros").
    alpha_regularizer, alpha_constraint: a Keras regularizer and constraint.
    shared_axes: axes (1-based, the batch axis is 0) along which one slope is
      shared, e.g. `[1, 2]` for one slope per channel of images.

  Weights: `alpha`, shape `input_shape[1:]` with the shared axes set to 1.

  >>> import hk_keras
  >>> layer = PReLU(shared_axes=[1])
  >>> model = hk_keras.Sequential([hk_keras.Input((5, 3)), layer])
  >>> model.get_weights()[0].shape
  (1, 3)
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
               alpha_constraint=None, shared_axes=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(alpha_regularizer=alpha_regularizer,
                            alpha_constraint=alpha_constraint)
    self.alpha_initializer = initializers.get(alpha_initializer)
    if shared_axes is None:
      self.shared_axes = None
    else:
      axes = [shared_axes] if isinstance(shared_axes, int) else shared_axes
      try:
        axes = [int(a) for a in axes]
      except (TypeError, ValueError):
        raise ValueError(
            "PReLU: `shared_axes` must be None, an int or a list of ints "
            f"(1-based axes). Received: shared_axes={shared_axes!r}") from None
      self.shared_axes = axes

  def build(self, input_shape):
    shape = list(input_shape[1:])
    for axis in self.shared_axes or ():
      if not 1 <= axis <= len(shape):
        raise ValueError(
            f"Layer {self.name!r} (PReLU): `shared_axes` entries must be axes "
            f"1..{len(shape)} of inputs of shape (None, *{tuple(shape)}). "
            f"Received: shared_axes={self.shared_axes}")
      shape[axis - 1] = 1
    self.alpha = self.add_weight(shape=tuple(shape),
                                 initializer=self.alpha_initializer,
                                 name="alpha")

  def call(self, inputs):
    alpha = self.alpha.astype(inputs.dtype)[None]
    return jnp.where(inputs >= 0, inputs, alpha * inputs)

  def get_config(self):
    return {**super().get_config(),
            "alpha_initializer": initializers.serialize(
                self.alpha_initializer),
            **self._weight_extras_config(),
            "shared_axes": self.shared_axes}


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
