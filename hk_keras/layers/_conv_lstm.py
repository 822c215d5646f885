"""`ConvLSTM1D/2D/3D`: LSTMs whose gates are convolutions (Shi et al., 2015)."""
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp
from jax import lax

from .. import activations
from .. import initializers
from . import _rnn_loop
from . import _spatial_args as args
from ._layer import Layer
from ._recurrent import _check_bool, _check_rate, _dropout_mask
from ._recurrent import gate_functions_config, lstm_update
from ._recurrent import unit_forget_bias_init



def _dimension_numbers(rank, data_format):
  spatial = "DHW"[-rank:]
  lhs = ("N" + spatial + "C" if data_format == "channels_last"
         else "NC" + spatial)
  return (lhs, spatial + "IO", lhs)


class _ConvLSTM(_rnn_loop.SequenceLayerMixin, Layer):
  """Shared ConvLSTM; subclasses set `_rank`."""

  _rank = 2

  def __init__(self, filters, kernel_size, strides=1, padding="valid",
               data_format=None, dilation_rate=1, activation="tanh",
               recurrent_activation="sigmoid", use_bias=True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               unit_forget_bias=True, kernel_regularizer=None,
               recurrent_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None, dropout=0.0,
               recurrent_dropout=0.0, seed: Optional[int] = None,
               return_sequences=False, return_state=False, go_backwards=False,
               stateful=False, unroll=False, zero_output_for_mask=False,
               **kwargs):
    super().__init__(**kwargs)
    cls, rank = type(self).__name__, self._rank
    self._set_weight_extras(
        kernel_regularizer=kernel_regularizer,
        recurrent_regularizer=recurrent_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint,
        recurrent_constraint=recurrent_constraint,
        bias_constraint=bias_constraint)
    self.filters = args.check_positive_int(filters, "filters", cls)
    self.kernel_size = args.normalize_tuple(kernel_size, rank, "kernel_size",
                                            cls)
    self.strides = args.normalize_tuple(strides, rank, "strides", cls)
    self.padding = args.normalize_padding(padding, cls)
    self.data_format = args.normalize_data_format(data_format, cls)
    self.dilation_rate = args.normalize_tuple(dilation_rate, rank,
                                              "dilation_rate", cls)
    self.activation = activations.get(activation)
    self.recurrent_activation = activations.get(recurrent_activation)
    self.use_bias = _check_bool(cls, "use_bias", use_bias)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.recurrent_initializer = initializers.get(recurrent_initializer)
    self.bias_initializer = initializers.get(bias_initializer)
    self.unit_forget_bias = _check_bool(cls, "unit_forget_bias",
                                        unit_forget_bias)
    self.dropout = _check_rate(cls, "dropout", dropout)
    self.recurrent_dropout = _check_rate(cls, "recurrent_dropout",
                                         recurrent_dropout)
    self.seed = seed
    _rnn_loop.set_flags(self, **_rnn_loop.flags_of(locals()))

  def _state_count(self):
    return 2

  def _channel_axis(self):
    return 2 if self.data_format == "channels_first" else self._rank + 2

  def build(self, input_shape):
    if len(input_shape) != self._rank + 3:
      raise ValueError(
          f"Layer {self.name!r} ({type(self).__name__}) expects inputs of "
          f"rank {self._rank + 3}: (batch, timesteps, "
          f"{'channels, spatial...' if self.data_format == 'channels_first' else 'spatial..., channels'}"
          f"). Received input shape {tuple(input_shape)}.")
    channels = input_shape[self._channel_axis()]
    gates = 4 * self.filters
    self.kernel = self.add_weight(self.kernel_size + (channels, gates),
                                  self.kernel_initializer, name="kernel")
    self.recurrent_kernel = self.add_weight(
        self.kernel_size + (self.filters, gates), self.recurrent_initializer,
        name="recurrent_kernel")
    if self.use_bias:
      init = (unit_forget_bias_init(self.bias_initializer, self.filters)
              if self.unit_forget_bias else self.bias_initializer)
      self.bias = self.add_weight((gates,), init, name="bias")

  def _conv(self, x, kernel, strides, padding, dilation):
    return lax.conv_general_dilated(
        x, kernel.astype(x.dtype), window_strides=strides,
        padding=padding.upper(), rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(self._rank, self.data_format))

  def _gate_axis(self):
    return 1 if self.data_format == "channels_first" else -1

  def _masks(self, training, shape_x, shape_h, dtype):
    if not training or (self.dropout == 0 and self.recurrent_dropout == 0):
      return None, None
    key = hk.next_rng_key()
    if self.seed is not None:
      key = jax.random.fold_in(key, self.seed)
    k1, k2 = jax.random.split(key)
    dp = rdp = None
    if self.dropout > 0:
      dp = _dropout_mask(jax.random.uniform(k1, (4,) + shape_x), self.dropout,
                         dtype)
    if self.recurrent_dropout > 0:
      rdp = _dropout_mask(jax.random.uniform(k2, (4,) + shape_h),
                          self.recurrent_dropout, dtype)
    return dp, rdp

  def call(self, inputs, initial_state=None, mask=None, training=False):
    dtype = inputs.dtype
    batch, steps = inputs.shape[:2]
    mask = _rnn_loop.check_mask(self, mask, batch, steps)
    xs = jnp.swapaxes(inputs, 0, 1)
    flat = jnp.reshape(xs, (steps * batch,) + xs.shape[2:])
    axis = self._gate_axis()
    kernels = jnp.split(self.kernel, 4, axis=-1)
    bias = self.bias.astype(dtype) if self.use_bias else None
    probe = self._conv(flat[:1], self.kernel, self.strides, self.padding,
                       self.dilation_rate)
    if axis == 1:
      state_shape = (batch, self.filters) + probe.shape[2:]
    else:
      state_shape = (batch,) + probe.shape[1:-1] + (self.filters,)
    dp, rdp = self._masks(training, xs.shape[1:], state_shape, dtype)
    if dp is None:
      projected = self._conv(flat, self.kernel, self.strides, self.padding,
                             self.dilation_rate)
    else:  # one input mask per gate, shared by all steps (as Keras)
      projected = jnp.concatenate([
          self._conv(jnp.reshape(xs * dp[g], flat.shape), kernels[g],
                     self.strides, self.padding, self.dilation_rate)
          for g in range(4)], axis=axis)
    if bias is not None:
      shape = [1] * projected.ndim
      shape[axis] = -1
      projected = projected + jnp.reshape(bias, shape)
    projected = jnp.reshape(projected, (steps, batch) + projected.shape[1:])
    if initial_state is not None:
      initial_state = tuple(jnp.asarray(s, dtype) for s in initial_state)
    zeros = (jnp.zeros(state_shape, dtype), jnp.zeros(state_shape, dtype))
    carry = tuple(_rnn_loop.initial_carry(self, initial_state, zeros))
    ones = (1,) * self._rank
    recurrent = jnp.split(self.recurrent_kernel, 4, axis=-1)

    def step(carry, x_t):
      h, c = carry
      if rdp is None:
        z_h = self._conv(h, self.recurrent_kernel, ones, "same", ones)
      else:
        z_h = jnp.concatenate([
            self._conv(h * rdp[g], recurrent[g], ones, "same", ones)
            for g in range(4)], axis=axis)
      h, c = lstm_update(x_t + z_h, c, axis, self.activation,
                         self.recurrent_activation)
      return (h, c), h

    return _rnn_loop.run_layer(self, step, projected, carry, mask)

  def get_config(self):
    return {
        **super().get_config(), "filters": self.filters,
        "kernel_size": self.kernel_size, "strides": self.strides,
        "padding": self.padding, "data_format": self.data_format,
        "dilation_rate": self.dilation_rate,
        **gate_functions_config(self),
        "unit_forget_bias": self.unit_forget_bias, "dropout": self.dropout,
        "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
        **_rnn_loop.flags_config(self), **self._weight_extras_config(),
    }


_DOC = """{n}D convolutional LSTM (Keras 3 `ConvLSTM{n}D`).

  Inputs `(batch, timesteps, {spatial}, channels)` (or channels first after
  the time axis). Each gate is a convolution of the input (`strides`,
  `padding`, `dilation_rate`) plus a "same" convolution of the previous
  hidden state; the LSTM update is then as `LSTM`'s. The loop is one
  `lax.scan`; masks, `go_backwards`, `stateful`, `initial_state=[h, c]`
  and `return_state` work as for `LSTM`.

  Weights (params, Keras order): `kernel` `kernel_size + (channels,
  4 * filters)`, `recurrent_kernel` `kernel_size + (filters, 4 * filters)`,
  `bias` `(4 * filters,)` (gates i, f, c, o).

  Args:
    filters: output channels.
    kernel_size: int or tuple of {n} ints.
    strides, padding ("valid" or "same"), data_format, dilation_rate: as in
      `Conv{n}D`.
    activation, recurrent_activation, use_bias, kernel_initializer,
    recurrent_initializer, bias_initializer, unit_forget_bias, dropout,
    recurrent_dropout, seed, return_sequences, return_state, go_backwards,
    stateful, unroll, zero_output_for_mask: as in `LSTM`.
    kernel_regularizer, ..., bias_constraint: Keras regularizers and constraints (see Layer._set_weight_extras).
    **kwargs: base `Layer` arguments.

  >>> ConvLSTM{n}D(4, 3).get_config()["kernel_size"]
  {example}
  """


class ConvLSTM1D(_ConvLSTM):
  __doc__ = _DOC.format(n=1, spatial="width", example="(3,)")
  _rank = 1


class ConvLSTM2D(_ConvLSTM):
  __doc__ = _DOC.format(n=2, spatial="rows, cols", example="(3, 3)")
  _rank = 2


class ConvLSTM3D(_ConvLSTM):
  __doc__ = _DOC.format(n=3, spatial="depth, rows, cols",
                        example="(3, 3, 3)")
  _rank = 3
