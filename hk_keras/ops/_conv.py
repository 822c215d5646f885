"""Convolution and pooling ops of `hk_keras.ops.nn` (Keras kernel layouts)."""
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..layers._conv_transpose import lax_padding
from ._core import convert_to_tensor
from ._symbolic import op


def _format(data_format):
  data_format = data_format or "channels_last"
  if data_format not in ("channels_last", "channels_first"):
    raise ValueError("data_format must be 'channels_last' or "
                     f"'channels_first'. Received: data_format={data_format!r}")
  return data_format


def _tuple(value, rank, name):
  if isinstance(value, int):
    return (value,) * rank
  value = tuple(value)
  if len(value) != rank:
    raise ValueError(f"`{name}` must be an int or a tuple of {rank} ints. "
                     f"Received: {name}={value}")
  return value


def _dims(rank, data_format):
  spatial = "DHW"[3 - rank:]
  lhs = ("N" + spatial + "C") if data_format == "channels_last" else (
      "NC" + spatial)
  return lax.conv_dimension_numbers(
      (1,) * (rank + 2), (1,) * (rank + 2),
      (lhs, spatial + "IO", lhs))


def _padding(padding):
  padding = padding.lower()
  if padding not in ("valid", "same"):
    raise ValueError("padding must be 'valid' or 'same'. Received: "
                     f"padding={padding!r}")
  return padding.upper()


def _prepare(inputs, kernel):
  inputs = convert_to_tensor(inputs)
  kernel = convert_to_tensor(kernel)
  from . import _dtypes  # pylint: disable=g-import-not-at-top
  dtype = _dtypes.result_type(_dtypes.standardize_dtype(inputs.dtype),
                              _dtypes.standardize_dtype(kernel.dtype))
  return inputs.astype(dtype), kernel.astype(dtype)


@op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None,
         dilation_rate=1):
  """N-D convolution; `kernel` is `(*spatial, in_channels / groups,
  out_channels)` as Keras."""
  inputs, kernel = _prepare(inputs, kernel)
  data_format = _format(data_format)
  rank = inputs.ndim - 2
  channels = inputs.shape[-1 if data_format == "channels_last" else 1]
  groups = channels // kernel.shape[-2]
  return lax.conv_general_dilated(
      inputs, kernel, _tuple(strides, rank, "strides"), _padding(padding),
      rhs_dilation=_tuple(dilation_rate, rank, "dilation_rate"),
      dimension_numbers=_dims(rank, data_format),
      feature_group_count=groups)


@op
def depthwise_conv(inputs, kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
  """Depthwise convolution; `kernel` is `(*spatial, in_channels,
  multiplier)`."""
  inputs, kernel = _prepare(inputs, kernel)
  data_format = _format(data_format)
  rank = inputs.ndim - 2
  channels = kernel.shape[-2]
  kernel = kernel.reshape(kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
  return lax.conv_general_dilated(
      inputs, kernel, _tuple(strides, rank, "strides"), _padding(padding),
      rhs_dilation=_tuple(dilation_rate, rank, "dilation_rate"),
      dimension_numbers=_dims(rank, data_format),
      feature_group_count=channels)


@op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1,
                   padding="valid", data_format=None, dilation_rate=1):
  """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
  depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding,
                             data_format, dilation_rate)
  return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


@op
def conv_transpose(inputs, kernel, strides=1, padding="valid",
                   output_padding=None, data_format=None, dilation_rate=1):
  """Transposed convolution; `kernel` is `(*spatial, out_channels,
  in_channels)` and the output size follows Keras."""
  inputs, kernel = _prepare(inputs, kernel)
  data_format = _format(data_format)
  rank = inputs.ndim - 2
  strides = _tuple(strides, rank, "strides")
  dilation = _tuple(dilation_rate, rank, "dilation_rate")
  output_padding = ((None,) * rank if output_padding is None else
                    _tuple(output_padding, rank, "output_padding"))
  sizes = (inputs.shape[1:-1] if data_format == "channels_last"
           else inputs.shape[2:])
  pads = [lax_padding(n, k, s, padding.lower(), p, d)
          for n, k, s, p, d in zip(sizes, kernel.shape[:rank], strides,
                                   output_padding, dilation)]
  return lax.conv_transpose(inputs, kernel, strides, pads,
                            rhs_dilation=dilation,
                            dimension_numbers=_dims(rank, data_format),
                            transpose_kernel=True)


def _pool_window(inputs, pool_size, strides, data_format):
  rank = inputs.ndim - 2
  pool_size = _tuple(pool_size, rank, "pool_size")
  strides = pool_size if strides is None else _tuple(strides, rank, "strides")
  if data_format == "channels_last":
    return (1,) + pool_size + (1,), (1,) + strides + (1,)
  return (1, 1) + pool_size, (1, 1) + strides


@op
def max_pool(inputs, pool_size, strides=None, padding="valid",
             data_format=None):
  """Max pooling over the spatial axes."""
  inputs = convert_to_tensor(inputs)
  window, strides = _pool_window(inputs, pool_size, strides,
                                 _format(data_format))
  if jnp.issubdtype(inputs.dtype, jnp.floating):
    init = np.array(-np.inf, inputs.dtype)
  else:
    init = np.array(jnp.iinfo(inputs.dtype).min, inputs.dtype)
  return lax.reduce_window(inputs, init, lax.max, window, strides,
                           _padding(padding))


@op
def average_pool(inputs, pool_size, strides=None, padding="valid",
                 data_format=None):
  """Average pooling; with "same" padding only real cells are averaged."""
  inputs = convert_to_tensor(inputs)
  window, strides = _pool_window(inputs, pool_size, strides,
                                 _format(data_format))
  padding = _padding(padding)
  zero = np.array(0, inputs.dtype)
  sums = lax.reduce_window(inputs, zero, lax.add, window, strides, padding)
  if padding == "VALID":
    return sums / np.prod(window).astype(inputs.dtype)
  ones = jnp.ones((1,) + inputs.shape[1:], inputs.dtype)
  counts = lax.reduce_window(ones, zero, lax.add, window, strides, padding)
  return sums / counts


def _adaptive(inputs, output_size, data_format, reduce):
  inputs = convert_to_tensor(inputs)
  data_format = _format(data_format)
  rank = inputs.ndim - 2
  output_size = _tuple(output_size, rank, "output_size")
  first = 1 if data_format == "channels_last" else 2
  out = inputs
  for i, size in enumerate(output_size):
    axis = first + i
    n = out.shape[axis]
    pieces = []
    for j in range(size):
      start = (j * n) // size
      stop = -(-((j + 1) * n) // size)
      pieces.append(reduce(lax.slice_in_dim(out, start, stop, axis=axis),
                           axis=axis, keepdims=True))
    out = jnp.concatenate(pieces, axis=axis)
  return out


@op
def adaptive_average_pool(inputs, output_size, data_format=None):
  """Average pooling to a fixed `output_size` (PyTorch's bins)."""
  return _adaptive(inputs, output_size, data_format, jnp.mean)


@op
def adaptive_max_pool(inputs, output_size, data_format=None):
  """Max pooling to a fixed `output_size` (PyTorch's bins)."""
  return _adaptive(inputs, output_size, data_format, jnp.max)


@op
def depth_to_space(x, block_size, data_format="channels_last"):
  """Moves channel blocks into `block_size x block_size` spatial tiles."""
  x = convert_to_tensor(x)
  b = block_size
  if _format(data_format) == "channels_last":
    n, h, w, c = x.shape
    x = x.reshape(n, h, w, b, b, c // (b * b))
    x = x.transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h * b, w * b, c // (b * b))
  n, c, h, w = x.shape
  x = x.reshape(n, b, b, c // (b * b), h, w)
  x = x.transpose(0, 3, 4, 1, 5, 2)
  return x.reshape(n, c // (b * b), h * b, w * b)


@op
def space_to_depth(x, block_size, data_format="channels_last"):
  """Moves `block_size x block_size` spatial tiles into channels."""
  x = convert_to_tensor(x)
  b = block_size
  if _format(data_format) == "channels_last":
    n, h, w, c = x.shape
    x = x.reshape(n, h // b, b, w // b, b, c)
    x = x.transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(n, h // b, w // b, c * b * b)
  n, c, h, w = x.shape
  x = x.reshape(n, c, h // b, b, w // b, b)
  x = x.transpose(0, 3, 5, 1, 2, 4)
  return x.reshape(n, c * b * b, h // b, w // b)


def _pairs(value, name):
  return _tuple(value, 2, name)


@op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
  """Sliding local blocks of an `(N, C, H, W)` tensor as `(N, C * kh * kw,
  L)` (PyTorch's unfold)."""
  x = convert_to_tensor(x)
  kh, kw = _pairs(kernel_size, "kernel_size")
  dh, dw = _pairs(dilation, "dilation")
  ph, pw = _pairs(padding, "padding")
  sh, sw = _pairs(stride, "stride")
  n, c = x.shape[:2]
  patches = lax.conv_general_dilated_patches(
      x, (kh, kw), (sh, sw), ((ph, ph), (pw, pw)), rhs_dilation=(dh, dw),
      dimension_numbers=("NCHW", "OIHW", "NCHW"))
  return patches.reshape(n, c * kh * kw, -1)


@op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
  """Sums sliding blocks `(N, C * kh * kw, L)` back into `(N, C, H, W)`
  (the adjoint of `unfold`)."""
  x = convert_to_tensor(x)
  h, w = _pairs(output_size, "output_size")
  kh, kw = _pairs(kernel_size, "kernel_size")
  n = x.shape[0]
  c = x.shape[1] // (kh * kw)
  zeros = jnp.zeros((n, c, h, w), x.dtype)
  _, vjp = jax.vjp(lambda t: unfold(t, kernel_size, dilation, padding, stride),
                   zeros)
  return vjp(x)[0]
