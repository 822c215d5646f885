"""`Conv1DTranspose`, `Conv2DTranspose`, `Conv3DTranspose`: Keras 3's transposed
convolutions on `lax.conv_transpose`."""
from jax import lax

from .. import activations
from .. import initializers
from . import _spatial_args as args
from ._convolution import add_bias
from ._convolution import check_strides_and_dilation
from ._convolution import dimension_numbers
from ._layer import Layer


def output_length(length, kernel, stride, padding, output_padding, dilation):
  """Keras 3's output size of a transposed convolution along one axis.

  With `d = (kernel - 1) * dilation + 1` (the dilated kernel):
  - no `output_padding`: "valid" gives `(length - 1) * stride + max(d,
    stride)`, "same" gives `length * stride`;
  - with `output_padding`: "valid" gives `(length - 1) * stride + d +
    output_padding`, "same" gives `(length - 1) * stride + d % 2 +
    output_padding`.
  """
  d = (kernel - 1) * dilation + 1
  if output_padding is None:
    if padding == "valid":
      return (length - 1) * stride + max(d, stride)
    return length * stride
  if padding == "valid":
    return (length - 1) * stride + d + output_padding
  return (length - 1) * stride + d % 2 + output_padding


def lax_padding(length, kernel, stride, padding, output_padding, dilation):
  """The (low, high) padding of the stride-dilated input for one axis.

  `lax.conv_transpose` dilates the input by `stride`, pads it and runs a
  stride-1 convolution with the flipped kernel, giving
  `(length - 1) * stride + 1 + low + high - d + 1` outputs. The total padding
  follows from the Keras output size; "valid" puts `d - 1` before the data
  (every input position touches every kernel tap), "same" centres the data,
  rounding the extra cell to the front but never padding more than `d - 1`
  before it, which is where Keras places its outputs.
  """
  d = (kernel - 1) * dilation + 1
  out = output_length(length, kernel, stride, padding, output_padding,
                      dilation)
  total = out + d - 2 - (length - 1) * stride
  if padding == "valid":
    low = d - 1
  else:
    low = min((total + 1) // 2, d - 1)
  return low, total - low


class Conv2DTranspose(Layer):
  """Transposed 2D convolution, the gradient of `Conv2D` (Keras 3).

  Often used to upsample feature maps in decoders: with `strides=2` and
  `padding="same"` the output is twice the input size.

  Args:
    filters: number of output channels (> 0).
    kernel_size: int or tuple of 2 ints.
    strides: int or tuple of 2 ints (default 1).
    padding: "valid" (default) or "same".
    output_padding: None (default) or int / tuple of 2 ints, each strictly
      smaller than the stride; with it the output size is
      `(in - 1) * stride + d + output_padding` ("valid") or
      `(in - 1) * stride + d % 2 + output_padding` ("same"), with `d` the
      dilated kernel size. Without it, "valid" gives
      `(in - 1) * stride + max(d, stride)` and "same" gives `in * stride`.
    data_format: "channels_last" (default) or "channels_first".
    dilation_rate: int or tuple of 2 ints; cannot be combined with
      strides > 1.
    activation: name or callable; None means linear.
    use_bias: whether to add a bias.
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint: `hk_keras.regularizers` /
    `hk_keras.constraints` (names, objects or callables), as in Keras.

  Weights: `kernel` with Keras's layout `(kh, kw, filters, in_channels)`
  (output channels before input channels) and `bias` `(filters,)`.

  Raises:
    ValueError: on invalid arguments, or at build on inputs that are not
      rank 4.

  >>> import hk_keras
  >>> layer = Conv2DTranspose(2, 3, strides=2, padding="same")
  >>> layer(hk_keras.Input((7, 7, 4))).shape
  (None, 14, 14, 2)
  """

  _rank = 2

  def __init__(self, filters, kernel_size, strides=1, padding="valid",
               output_padding=None, data_format=None, dilation_rate=1,
               activation=None, use_bias=True,
               kernel_initializer="glorot_uniform", bias_initializer="zeros",
               kernel_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self._set_weight_extras(kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    rank = self._rank
    self.filters = args.check_positive_int(filters, "filters", owner)
    self.kernel_size = args.normalize_tuple(kernel_size, rank, "kernel_size",
                                            owner)
    self.strides = args.normalize_tuple(strides, rank, "strides", owner)
    self.dilation_rate = args.normalize_tuple(dilation_rate, rank,
                                              "dilation_rate", owner)
    check_strides_and_dilation(owner, self.strides, self.dilation_rate)
    self.padding = args.normalize_padding(padding, owner)
    if output_padding is None:
      self.output_padding = None
    else:
      self.output_padding = args.normalize_tuple(
          output_padding, rank, "output_padding", owner, allow_zero=True)
      if any(p >= s for p, s in zip(self.output_padding, self.strides)):
        raise ValueError(
            f"{owner}: each `output_padding` value must be strictly smaller "
            f"than the matching stride. Received: output_padding="
            f"{self.output_padding}, strides={self.strides}")
    self.data_format = args.normalize_data_format(data_format, owner)
    self.activation = activations.get(activation)
    self.use_bias = bool(use_bias)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)
    channels = input_shape[args.channel_axis(self.data_format)]
    self.kernel = self.add_weight(
        shape=self.kernel_size + (self.filters, channels),
        initializer=self.kernel_initializer, name="kernel")
    if self.use_bias:
      self.bias = self.add_weight(shape=(self.filters,),
                                  initializer=self.bias_initializer,
                                  name="bias")

  def call(self, inputs):
    sizes = args.spatial_shape(inputs.shape, self.data_format)
    output_padding = self.output_padding or (None,) * self._rank
    padding = [
        lax_padding(n, k, s, self.padding, p, d)
        for n, k, s, p, d in zip(sizes, self.kernel_size, self.strides,
                                 output_padding, self.dilation_rate)]
    # The kernel is (kh, kw, out, in): read as HWIO it is the forward
    # convolution's kernel, which transpose_kernel=True flips and transposes.
    outputs = lax.conv_transpose(
        inputs, self.kernel.astype(inputs.dtype), self.strides, padding,
        rhs_dilation=self.dilation_rate,
        dimension_numbers=dimension_numbers(self._rank, self.data_format),
        transpose_kernel=True)
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
        "output_padding": (None if self.output_padding is None
                           else list(self.output_padding)),
        "data_format": self.data_format,
        "dilation_rate": list(self.dilation_rate),
        "activation": activations.serialize(self.activation),
        "use_bias": self.use_bias,
        "kernel_initializer": initializers.serialize(self.kernel_initializer),
        "bias_initializer": initializers.serialize(self.bias_initializer),
        **self._weight_extras_config(),
    }


class Conv1DTranspose(Conv2DTranspose):
  """Transposed 1D convolution, the gradient of `Conv1D` (Keras 3).

  Same arguments as `Conv2DTranspose` with ints or tuples of 1 int;
  inputs are `(batch, steps, channels)` (or `(batch, channels, steps)`).
  Weights: `kernel` `(k, filters, in_channels)` and `bias` `(filters,)`.

  >>> import hk_keras
  >>> Conv1DTranspose(2, 3, strides=2)(hk_keras.Input((5, 4))).shape
  (None, 11, 2)
  """

  _rank = 1


class Conv3DTranspose(Conv2DTranspose):
  """Transposed 3D convolution, the gradient of `Conv3D` (Keras 3).

  Same arguments as `Conv2DTranspose` with ints or tuples of 3 ints, in
  Keras 3's positional order (`data_format` comes before
  `output_padding`); inputs are `(batch, depth, height, width, channels)`
  (or channels first). Weights: `kernel` `(kd, kh, kw, filters,
  in_channels)` and `bias` `(filters,)`.

  >>> import hk_keras
  >>> Conv3DTranspose(2, 2, strides=2)(hk_keras.Input((2, 3, 4, 1))).shape
  (None, 4, 6, 8, 2)
  """

  _rank = 3

  def __init__(self, filters, kernel_size, strides=1, padding="valid",
               data_format=None, output_padding=None, dilation_rate=1,
               activation=None, use_bias=True,
               kernel_initializer="glorot_uniform", bias_initializer="zeros",
               kernel_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               bias_constraint=None, **kwargs):
    super().__init__(
        filters, kernel_size, strides=strides, padding=padding,
        output_padding=output_padding, data_format=data_format,
        dilation_rate=dilation_rate, activation=activation,
        use_bias=use_bias, kernel_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
        **kwargs)


Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
