"""Depthwise and separable convolutions (Keras 3's `DepthwiseConv1D/2D` and
`SeparableConv1D/2D`) on `lax.conv_general_dilated`.

A depthwise convolution filters each input channel on its own with
`depth_multiplier` kernels: it is a grouped convolution with one group per
channel. Keras stores its kernel as `(*kernel_size, in_channels,
depth_multiplier)`; read as `(*kernel_size, 1, in_channels *
depth_multiplier)` it is the grouped kernel, output channel `c *
depth_multiplier + m` coming from input channel `c`.
"""
from jax import lax
import jax.numpy as jnp

from .. import activations
from .. import initializers
from . import _spatial_args as args
from ._convolution import add_bias
from ._convolution import check_strides_and_dilation
from ._convolution import dimension_numbers
from ._layer import Layer


def depthwise_conv(inputs, kernel, strides, padding, dilation_rate,
                   data_format):
  """Runs a `(*k, in, multiplier)` depthwise kernel over `inputs`."""
  rank = kernel.ndim - 2
  channels = kernel.shape[-2]
  grouped = jnp.reshape(kernel, kernel.shape[:rank] + (1, -1))
  return lax.conv_general_dilated(
      inputs, grouped.astype(inputs.dtype), window_strides=strides,
      padding=padding.upper(), rhs_dilation=dilation_rate,
      dimension_numbers=dimension_numbers(rank, data_format),
      feature_group_count=channels)


class _DepthwiseBase(Layer):
  """Arguments shared by depthwise and separable convolutions."""

  _rank = 2

  def _init_spatial(self, kernel_size, strides, padding, depth_multiplier,
                    data_format, dilation_rate, activation, use_bias,
                    bias_initializer):
    owner = type(self).__name__
    rank = self._rank
    self.depth_multiplier = args.check_positive_int(
        depth_multiplier, "depth_multiplier", owner)
    self.kernel_size = args.normalize_tuple(kernel_size, rank, "kernel_size",
                                            owner)
    self.strides = args.normalize_tuple(strides, rank, "strides", owner)
    self.dilation_rate = args.normalize_tuple(dilation_rate, rank,
                                              "dilation_rate", owner)
    check_strides_and_dilation(owner, self.strides, self.dilation_rate)
    self.padding = args.normalize_padding(padding, owner)
    self.data_format = args.normalize_data_format(data_format, owner)
    self.activation = activations.get(activation)
    self.use_bias = bool(use_bias)
    self.bias_initializer = initializers.get(bias_initializer)

  def _channels(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)
    return input_shape[args.channel_axis(self.data_format)]

  def _spatial_config(self):
    return {
        "depth_multiplier": self.depth_multiplier,
        "kernel_size": list(self.kernel_size),
        "strides": list(self.strides),
        "padding": self.padding,
        "data_format": self.data_format,
        "dilation_rate": list(self.dilation_rate),
        "activation": activations.serialize(self.activation),
        "use_bias": self.use_bias,
        "bias_initializer": initializers.serialize(self.bias_initializer),
    }


class _DepthwiseConv(_DepthwiseBase):
  """Shared N-D depthwise convolution."""

  # Keras names the weight "kernel" but its arguments `depthwise_*`.
  _extras_targets = {"depthwise_kernel": "kernel"}

  def __init__(self, kernel_size, strides=1, padding="valid",
               depth_multiplier=1, data_format=None, dilation_rate=1,
               activation=None, use_bias=True,
               depthwise_initializer="glorot_uniform",
               bias_initializer="zeros", depthwise_regularizer=None,
               bias_regularizer=None, activity_regularizer=None,
               depthwise_constraint=None, bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(
        depthwise_regularizer=depthwise_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        depthwise_constraint=depthwise_constraint,
        bias_constraint=bias_constraint)
    self._init_spatial(kernel_size, strides, padding, depth_multiplier,
                       data_format, dilation_rate, activation, use_bias,
                       bias_initializer)
    self.depthwise_initializer = initializers.get(depthwise_initializer)

  def build(self, input_shape):
    channels = self._channels(input_shape)
    self.kernel = self.add_weight(
        shape=self.kernel_size + (channels, self.depth_multiplier),
        initializer=self.depthwise_initializer, name="kernel")
    if self.use_bias:
      self.bias = self.add_weight(
          shape=(channels * self.depth_multiplier,),
          initializer=self.bias_initializer, name="bias")

  def call(self, inputs):
    outputs = depthwise_conv(inputs, self.kernel, self.strides, self.padding,
                             self.dilation_rate, self.data_format)
    if self.use_bias:
      outputs = add_bias(outputs, self.bias, self._rank, self.data_format)
    return self.activation(outputs)

  def get_config(self):
    return {
        **super().get_config(), **self._spatial_config(),
        "depthwise_initializer": initializers.serialize(
            self.depthwise_initializer),
        **self._weight_extras_config(),
    }


class DepthwiseConv1D(_DepthwiseConv):
  """Depthwise 1D convolution: each channel filtered on its own (Keras 3).

  Args:
    kernel_size: int or tuple of 1 int.
    strides: int or tuple of 1 int (default 1).
    padding: "valid" (default) or "same".
    depth_multiplier: output channels per input channel (default 1).
    data_format: "channels_last" (default) or "channels_first".
    dilation_rate: int or tuple of 1 int; cannot be combined with
      strides > 1.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    depthwise_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    depthwise_regularizer, bias_regularizer, activity_regularizer,
    depthwise_constraint, bias_constraint: Keras regularizers and
    constraints (see Layer._set_weight_extras).

  Weights: `kernel` `(k, in_channels, depth_multiplier)` and `bias`
  `(in_channels * depth_multiplier,)`.

  >>> import hk_keras
  >>> DepthwiseConv1D(3, depth_multiplier=2)(hk_keras.Input((7, 3))).shape
  (None, 5, 6)
  """

  _rank = 1


class DepthwiseConv2D(_DepthwiseConv):
  """Depthwise 2D convolution: each channel filtered on its own (Keras 3).

  Same arguments as `DepthwiseConv1D` with ints or tuples of 2 ints.
  Weights: `kernel` `(kh, kw, in_channels, depth_multiplier)` and `bias`
  `(in_channels * depth_multiplier,)`.

  >>> import hk_keras
  >>> DepthwiseConv2D(3, padding="same")(hk_keras.Input((8, 8, 4))).shape
  (None, 8, 8, 4)
  """

  _rank = 2


class _SeparableConv(_DepthwiseBase):
  """A depthwise convolution followed by a 1x1 (pointwise) convolution."""

  def __init__(self, filters, kernel_size, strides=1, padding="valid",
               data_format=None, dilation_rate=1, depth_multiplier=1,
               activation=None, use_bias=True,
               depthwise_initializer="glorot_uniform",
               pointwise_initializer="glorot_uniform",
               bias_initializer="zeros", depthwise_regularizer=None,
               pointwise_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, depthwise_constraint=None,
               pointwise_constraint=None, bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self._set_weight_extras(
        depthwise_regularizer=depthwise_regularizer,
        pointwise_regularizer=pointwise_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        depthwise_constraint=depthwise_constraint,
        pointwise_constraint=pointwise_constraint,
        bias_constraint=bias_constraint)
    self.filters = args.check_positive_int(filters, "filters", owner)
    self._init_spatial(kernel_size, strides, padding, depth_multiplier,
                       data_format, dilation_rate, activation, use_bias,
                       bias_initializer)
    self.depthwise_initializer = initializers.get(depthwise_initializer)
    self.pointwise_initializer = initializers.get(pointwise_initializer)

  def build(self, input_shape):
    channels = self._channels(input_shape)
    self.depthwise_kernel = self.add_weight(
        shape=self.kernel_size + (channels, self.depth_multiplier),
        initializer=self.depthwise_initializer, name="depthwise_kernel")
    self.pointwise_kernel = self.add_weight(
        shape=(1,) * self._rank + (channels * self.depth_multiplier,
                                   self.filters),
        initializer=self.pointwise_initializer, name="pointwise_kernel")
    if self.use_bias:
      self.bias = self.add_weight(shape=(self.filters,),
                                  initializer=self.bias_initializer,
                                  name="bias")

  def call(self, inputs):
    depthwise = depthwise_conv(inputs, self.depthwise_kernel, self.strides,
                               self.padding, self.dilation_rate,
                               self.data_format)
    outputs = lax.conv_general_dilated(
        depthwise, self.pointwise_kernel.astype(depthwise.dtype),
        window_strides=(1,) * self._rank, padding="VALID",
        dimension_numbers=dimension_numbers(self._rank, self.data_format))
    if self.use_bias:
      outputs = add_bias(outputs, self.bias, self._rank, self.data_format)
    return self.activation(outputs)

  def get_config(self):
    return {
        **super().get_config(), "filters": self.filters,
        **self._spatial_config(),
        "depthwise_initializer": initializers.serialize(
            self.depthwise_initializer),
        "pointwise_initializer": initializers.serialize(
            self.pointwise_initializer),
        **self._weight_extras_config(),
    }


class SeparableConv1D(_SeparableConv):
  """Depthwise then pointwise 1D convolution (Keras 3 `SeparableConv1D`).

  Args:
    filters: output channels of the pointwise step (> 0).
    kernel_size: int or tuple of 1 int (the depthwise window).
    strides: int or tuple of 1 int (default 1), of the depthwise step.
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default) or "channels_first".
    dilation_rate: int or tuple of 1 int; cannot be combined with
      strides > 1.
    depth_multiplier: depthwise output channels per input channel.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    depthwise_initializer, pointwise_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    depthwise_regularizer, pointwise_regularizer, bias_regularizer,
    activity_regularizer, depthwise_constraint, pointwise_constraint,
    bias_constraint: Keras regularizers and constraints.

  Weights, in Keras order: `depthwise_kernel` `(k, in_channels,
  depth_multiplier)`, `pointwise_kernel` `(1, in_channels *
  depth_multiplier, filters)` and `bias` `(filters,)`.

  >>> import hk_keras
  >>> SeparableConv1D(4, 3)(hk_keras.Input((7, 3))).shape
  (None, 5, 4)
  """

  _rank = 1


class SeparableConv2D(_SeparableConv):
  """Depthwise then pointwise 2D convolution (Keras 3 `SeparableConv2D`).

  Same arguments as `SeparableConv1D` with ints or tuples of 2 ints.
  Weights: `depthwise_kernel` `(kh, kw, in_channels, depth_multiplier)`,
  `pointwise_kernel` `(1, 1, in_channels * depth_multiplier, filters)` and
  `bias` `(filters,)`.

  >>> import hk_keras
  >>> SeparableConv2D(8, 3, padding="same")(hk_keras.Input((6, 6, 3))).shape
  (None, 6, 6, 8)
  """

  _rank = 2


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
