"""`Dense`: a fully connected layer on the last axis."""
import jax.numpy as jnp

from .. import activations
from .. import initializers
from ._layer import Layer


class Dense(Layer):
  """`outputs = activation(inputs @ kernel + bias)` on the last axis.

  Args:
    units: output size.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    kernel_initializer: default "glorot_uniform" (Keras 3).
    bias_initializer: default "zeros".

  Weights: `kernel` (in, units), `bias` (units,) in params[layer.name].

  >>> layer = Dense(3, activation="relu")
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, units, activation=None, use_bias=True,
               kernel_initializer="glorot_uniform", bias_initializer="zeros",
               kernel_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
      raise ValueError(
          f"Dense units must be a positive integer. Received: units={units!r}")
    self.units = units
    self.activation = activations.get(activation)
    self.use_bias = use_bias
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)

  def build(self, input_shape):
    if len(input_shape) < 2:
      raise ValueError(
          f"Layer {self.name!r} (Dense) expects inputs of rank >= 2 "
          f"(batch, ..., features), received shape {input_shape}. Add a batch "
          "axis (x[None]) or reshape the data.")
    self.kernel = self.add_weight(
        shape=(input_shape[-1], self.units),
        initializer=self.kernel_initializer, name="kernel")
    if self.use_bias:
      self.bias = self.add_weight(
          shape=(self.units,), initializer=self.bias_initializer, name="bias")

  def call(self, inputs):
    if not jnp.issubdtype(inputs.dtype, jnp.inexact):
      # Integer/bool features compute in float (Keras's matmul promotes);
      # casting the kernel to int would truncate it.
      inputs = inputs.astype(self.compute_dtype)
    x = jnp.matmul(inputs, self.kernel.astype(inputs.dtype))
    if self.use_bias:
      # Same-rank bias, so Dense also runs under jax_numpy_rank_promotion="raise".
      bias = self.bias.astype(inputs.dtype)
      x = x + jnp.reshape(bias, (1,) * (x.ndim - 1) + bias.shape)
    return self.activation(x)

  def get_config(self):
    return {**super().get_config(), "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._weight_extras_config()}
