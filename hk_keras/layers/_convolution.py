"""`Conv1D`, `Conv2D` and `Conv3D`: Keras 3 convolutions on
`lax.conv_general_dilated`."""
import jax.numpy as jnp
from jax import lax

from .. import activations
from .. import initializers
from . import _spatial_args as args
from ._layer import Layer

# lax dimension numbers (inputs, kernel, outputs) per rank and data format.
# Kernels are always (*spatial, in, out), as in Keras.
_DIMENSION_NUMBERS = {
    (1, "channels_last"): ("NWC", "WIO", "NWC"),
    (1, "channels_first"): ("NCW", "WIO", "NCW"),
    (2, "channels_last"): ("NHWC", "HWIO", "NHWC"),
    (2, "channels_first"): ("NCHW", "HWIO", "NCHW"),
    (3, "channels_last"): ("NDHWC", "DHWIO", "NDHWC"),
    (3, "channels_first"): ("NCDHW", "DHWIO", "NCDHW"),
}


def dimension_numbers(rank, data_format):
  return _DIMENSION_NUMBERS[(rank, data_format)]


def add_bias(outputs, bias, rank, data_format):
  """Adds a `(filters,)` bias on the channel axis."""
  if data_format == "channels_first":
    shape = (1, -1) + (1,) * rank
  else:
    shape = (1,) * (rank + 1) + (-1,)
  # Full-rank bias: no implicit rank promotion (jax_numpy_rank_promotion).
  return outputs + jnp.reshape(bias, shape).astype(outputs.dtype)


def check_strides_and_dilation(owner, strides, dilation_rate):
  if max(strides) > 1 and max(dilation_rate) > 1:
    raise ValueError(
        f"{owner}: `strides` > 1 cannot be combined with `dilation_rate` > 1 "
        f"(as in Keras). Received: strides={strides}, "
        f"dilation_rate={dilation_rate}")


class _Conv(Layer):
  """Shared N-D convolution; subclasses set `_rank` and `_paddings`."""

  _rank = 2
  _paddings = ("valid", "same")

  def __init__(self, filters, kernel_size, strides=1, padding="valid",
               data_format=None, dilation_rate=1, groups=1, activation=None,
               use_bias=True, kernel_initializer="glorot_uniform",
               bias_initializer="zeros", kernel_regularizer=None,
               bias_regularizer=None, activity_regularizer=None,
               kernel_constraint=None, bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self._set_weight_extras(kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    rank = self._rank
    self.filters = args.check_positive_int(filters, "filters", owner)
    self.groups = args.check_positive_int(groups, "groups", owner)
    if self.filters % self.groups:
      raise ValueError(
          f"{owner}: `filters` must be divisible by `groups`. Received: "
          f"filters={filters}, groups={groups}")
    self.kernel_size = args.normalize_tuple(kernel_size, rank, "kernel_size",
                                            owner)
    self.strides = args.normalize_tuple(strides, rank, "strides", owner)
    self.dilation_rate = args.normalize_tuple(dilation_rate, rank,
                                              "dilation_rate", owner)
    check_strides_and_dilation(owner, self.strides, self.dilation_rate)
    self.padding = args.normalize_padding(padding, owner, self._paddings)
    self.data_format = args.normalize_data_format(data_format, owner)
    self.activation = activations.get(activation)
    self.use_bias = bool(use_bias)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)

  def _dilated_kernel(self):
    return tuple((k - 1) * d + 1
                 for k, d in zip(self.kernel_size, self.dilation_rate))

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)
    channels = input_shape[args.channel_axis(self.data_format)]
    if channels % self.groups:
      raise ValueError(
          f"Layer {self.name!r} ({type(self).__name__}): the number of input "
          f"channels ({channels}) must be divisible by groups={self.groups}. "
          f"Received input shape {args.format_shape(input_shape)}.")
    self.kernel = self.add_weight(
        shape=self.kernel_size + (channels // self.groups, self.filters),
        initializer=self.kernel_initializer, name="kernel")
    if self.use_bias:
      self.bias = self.add_weight(shape=(self.filters,),
                                  initializer=self.bias_initializer,
                                  name="bias")

  def call(self, inputs):
    padding = self.padding.upper()
    if self.padding == "causal":
      # Left-pad the time axis so output t only sees inputs <= t.
      widths = [(0, 0)] * inputs.ndim
      axis = 2 if self.data_format == "channels_first" else 1
      widths[axis] = (self._dilated_kernel()[0] - 1, 0)
      inputs = jnp.pad(inputs, widths)
      padding = "VALID"
    outputs = lax.conv_general_dilated(
        inputs, self.kernel.astype(inputs.dtype),
        window_strides=self.strides, padding=padding,
        rhs_dilation=self.dilation_rate,
        dimension_numbers=dimension_numbers(self._rank, self.data_format),
        feature_group_count=self.groups)
    if self.use_bias:
      outputs = add_bias(outputs, self.bias, self._rank, self.data_format)
    return self.activation(outputs)

  def get_config(self):
    return {
        **super().get_config(),
        "filters": self.filters,
        "kernel_size": list(self.kernel_size),
        "strides": list(self.strides),
        "padding": self.padding,
        "data_format": self.data_format,
        "dilation_rate": list(self.dilation_rate),
        "groups": self.groups,
        "activation": activations.serialize(self.activation),
        "use_bias": self.use_bias,
        "kernel_initializer": initializers.serialize(self.kernel_initializer),
        "bias_initializer": initializers.serialize(self.bias_initializer),
        **self._weight_extras_config(),
    }


class Conv1D(_Conv):
  """1D convolution over `(batch, steps, channels)` inputs (Keras 3 `Conv1D`).

  `outputs = activation(conv1d(inputs, kernel) + bias)`.

  Args:
    filters: number of output channels (> 0, divisible by `groups`).
    kernel_size: int or tuple of 1 int.
    strides: int or tuple of 1 int (default 1).
    padding: "valid" (default), "same" or "causal" (left padding only, so
      output step t depends on inputs up to t).
    data_format: "channels_last" (default, `(batch, steps, channels)`) or
      "channels_first" (`(batch, channels, steps)`).
    dilation_rate: int or tuple of 1 int; cannot be combined with strides > 1.
    groups: split the channels into this many independent groups.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint: `hk_keras.regularizers` /
    `hk_keras.constraints` (names, objects or callables), as in Keras.

  Weights: `kernel` `(kernel_size, in_channels // groups, filters)` and
  `bias` `(filters,)`, in Keras order.

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 3.

  >>> import hk_keras
  >>> model = hk_keras.Sequential([hk_keras.Input((10, 4)), Conv1D(8, 3)])
  >>> model.count_params()  # 3 * 4 * 8 + 8
  104
  """

  _rank = 1
  _paddings = ("valid", "same", "causal")


class Conv2D(_Conv):
  """2D convolution over images (Keras 3 `Conv2D`).

  `outputs = activation(conv2d(inputs, kernel) + bias)`.

  Args:
    filters: number of output channels (> 0, divisible by `groups`).
    kernel_size: int or tuple of 2 ints.
    strides: int or tuple of 2 ints (default 1).
    padding: "valid" (default) or "same" (output size `ceil(input / stride)`,
      with the extra padding at the bottom/right, as in Keras).
    data_format: "channels_last" (default, `(batch, height, width,
      channels)`) or "channels_first" (`(batch, channels, height, width)`).
    dilation_rate: int or tuple of 2 ints; cannot be combined with
      strides > 1.
    groups: split the channels into this many independent groups.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint: `hk_keras.regularizers` /
    `hk_keras.constraints` (names, objects or callables), as in Keras.

  Weights: `kernel` `(kh, kw, in_channels // groups, filters)` and `bias`
  `(filters,)`, in Keras order.

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 4 (for `(N, 28, 28)` images add a channel axis: `x[..., None]`).

  >>> import hk_keras
  >>> model = hk_keras.Sequential([hk_keras.Input((28, 28, 1)),
  ...                              Conv2D(32, 3, activation="relu")])
  >>> model.count_params()  # 3 * 3 * 1 * 32 + 32
  320
  """

  _rank = 2


class Conv3D(_Conv):
  """3D convolution over volumes (Keras 3 `Conv3D`).

  `outputs = activation(conv3d(inputs, kernel) + bias)`.

  Args:
    filters: number of output channels (> 0, divisible by `groups`).
    kernel_size: int or tuple of 3 ints.
    strides: int or tuple of 3 ints (default 1).
    padding: "valid" (default) or "same".
    data_format: "channels_last" (default, `(batch, depth, height, width,
      channels)`) or "channels_first" (`(batch, channels, depth, height,
      width)`).
    dilation_rate: int or tuple of 3 ints; cannot be combined with
      strides > 1.
    groups: split the channels into this many independent groups.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint: Keras regularizers and constraints.

  Weights: `kernel` `(kd, kh, kw, in_channels // groups, filters)` and
  `bias` `(filters,)`, in Keras order.

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 5.

  >>> import hk_keras
  >>> Conv3D(2, 3)(hk_keras.Input((5, 6, 7, 1))).shape
  (None, 3, 4, 5, 2)
  """

  _rank = 3


# Keras 3 exports these older names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
