"""Recurrent layers: `LSTM` and `GRU`, run with `jax.lax.scan`.

Both keep Keras 3's weight layout and gate order, so weights copied from a
Keras model give the same outputs: `kernel` (input_dim, gates * units),
`recurrent_kernel` (units, gates * units) and `bias`, with the gates side by
side in the last axis (LSTM: input, forget, cell, output; GRU: update z,
reset r, candidate h).
"""
import math
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp

from .. import activations
from .. import initializers
from . import _rnn_loop
from ._layer import Layer

# Keras regularizer/constraint arguments (see Layer._set_weight_extras).
_RNN_EXTRAS = ("kernel_regularizer", "recurrent_regularizer",
               "bias_regularizer", "activity_regularizer", "kernel_constraint",
               "recurrent_constraint", "bias_constraint")


def _check_rate(layer_cls: str, name: str, value) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float)) or \
      not 0.0 <= value < 1.0:
    raise ValueError(
        f"{layer_cls} argument `{name}` must be a float in [0, 1). Received: "
        f"{name}={value!r}")
  return float(value)


def _check_bool(layer_cls: str, name: str, value) -> bool:
  if not isinstance(value, bool):
    raise ValueError(
        f"{layer_cls} argument `{name}` must be True or False. Received: "
        f"{name}={value!r}")
  return value


def _check_cudnn(layer_cls: str, value) -> None:
  # Keras picks cuDNN kernels on GPU; XLA compiles the same scan everywhere,
  # so the argument only needs a valid value.
  if value not in ("auto", True, False):
    raise ValueError(
        f"{layer_cls} argument `use_cudnn` must be 'auto', True or False. "
        f"Received: use_cudnn={value!r}")


def _dropout_mask(uniform, rate: float, dtype):
  """Inverted dropout: keeps with probability 1 - rate, scaled by 1/(1-rate)."""
  keep = uniform < 1.0 - rate
  return keep.astype(dtype) / jnp.asarray(1.0 - rate, dtype)


def _project(x, kernel, masks, gates: int):
  """`x @ kernel`, each gate's block seeing its own dropout mask if given.

  Args:
    x: (..., batch, features).
    kernel: (features, gates * units).
    masks: None, or (1 or gates, batch, features).
    gates: the number of gate blocks in `kernel`.
  """
  if masks is None:
    return jnp.matmul(x, kernel)
  if masks.shape[0] == 1:
    return jnp.matmul(x * jnp.reshape(masks[0], (1,) * (x.ndim - 2)
                                      + masks.shape[1:]), kernel)
  features = kernel.shape[0]
  per_gate = kernel.reshape(features, gates, -1)
  masked = jnp.expand_dims(x, -3) * jnp.reshape(
      masks, (1,) * (x.ndim - 2) + masks.shape)
  out = jnp.einsum("...gbf,fgu->...bgu", masked, per_gate)
  return out.reshape(out.shape[:-2] + (-1,))


def extras_of(arguments: dict) -> dict:
  """The regularizer/constraint arguments among a constructor's `locals()`."""
  return {k: v for k, v in arguments.items() if k in _RNN_EXTRAS}


def unit_forget_bias_init(base, units: int):
  """Keras's `unit_forget_bias`: `base` everywhere but ones for the forget
  gate (the second of the four LSTM gate blocks)."""
  def init(shape, dtype):
    del shape
    return jnp.concatenate([base((units,), dtype), jnp.ones((units,), dtype),
                            base((2 * units,), dtype)])
  return init


def lstm_update(z, c, axis, activation, recurrent_activation):
  """The LSTM state update from the gate pre-activations `z` (i, f, c, o
  side by side along `axis`): the new `(h, c)`."""
  z_i, z_f, z_c, z_o = jnp.split(z, 4, axis=axis)
  gate = recurrent_activation
  c = gate(z_f) * c + gate(z_i) * activation(z_c)
  return gate(z_o) * activation(c), c


def gate_functions_config(layer) -> dict:
  """The activations, `use_bias` and initializers of a gated recurrence,
  serialized (RNN layers, cells and ConvLSTM)."""
  return {
      "activation": activations.serialize(layer.activation),
      "recurrent_activation": activations.serialize(
          layer.recurrent_activation),
      "use_bias": layer.use_bias,
      "kernel_initializer": initializers.serialize(layer.kernel_initializer),
      "recurrent_initializer": initializers.serialize(
          layer.recurrent_initializer),
      "bias_initializer": initializers.serialize(layer.bias_initializer),
  }


class _GateLayer(Layer):
  """Arguments, weights and dropout masks of the gated recurrences: the
  `SimpleRNN`/`LSTM`/`GRU` layers and their cells share them; each defines
  only its step (`_step`) and gate layout (`_gates`, `_num_states`)."""

  _gates = 1
  _num_states = 1

  def __init__(self, units, activation, recurrent_activation, use_bias,
               kernel_initializer, recurrent_initializer, bias_initializer,
               dropout, recurrent_dropout, seed, extras, **kwargs):
    super().__init__(**kwargs)
    cls = type(self).__name__
    self._set_weight_extras(**extras)
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
      raise ValueError(
          f"{cls} argument `units` must be a positive integer. Received: "
          f"units={units!r}")
    self.units = units
    self.activation = activations.get(activation)
    self.recurrent_activation = activations.get(recurrent_activation)
    self.use_bias = _check_bool(cls, "use_bias", use_bias)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.recurrent_initializer = initializers.get(recurrent_initializer)
    self.bias_initializer = initializers.get(bias_initializer)
    self.dropout = _check_rate(cls, "dropout", dropout)
    self.recurrent_dropout = _check_rate(cls, "recurrent_dropout",
                                         recurrent_dropout)
    if seed is not None and (isinstance(seed, bool) or
                             not isinstance(seed, int)):
      raise ValueError(
          f"{cls} argument `seed` must be None or an int. Received: "
          f"seed={seed!r}")
    self.seed = seed

  def _build_gate_weights(self, input_dim):
    gates = self._gates * self.units
    self.kernel = self.add_weight((input_dim, gates),
                                  self.kernel_initializer, name="kernel")
    self.recurrent_kernel = self.add_weight(
        (self.units, gates), self.recurrent_initializer,
        name="recurrent_kernel")
    if self.use_bias:
      self.bias = self.add_weight(self._bias_shape(), self._bias_init(),
                                  name="bias")

  def _bias_shape(self):
    return (self._gates * self.units,)

  def _bias_init(self):
    return self.bias_initializer

  def _input_bias(self):
    return self.bias if self.use_bias else None

  def _masks(self, training, batch, features, dtype):
    """Dropout masks shared by all time steps, as Keras 3 does."""
    input_masks = recurrent_masks = None
    if not training or (self.dropout == 0 and self.recurrent_dropout == 0):
      return input_masks, recurrent_masks
    key = hk.next_rng_key()
    if self.seed is not None:
      key = jax.random.fold_in(key, self.seed)
    # One mask for all gates, or one per gate when recurrent dropout is on
    # (Keras's implementation 1).
    input_shape = ((self._gates if self.recurrent_dropout > 0 else 1, batch,
                    features) if self.dropout > 0 else (0,))
    recurrent_shape = ((self._gates, batch, self.units)
                       if self.recurrent_dropout > 0 else (0,))
    # A single draw of uniform numbers for both kinds of masks.
    num_inputs = math.prod(input_shape)
    uniform = jax.random.uniform(
        key, (num_inputs + math.prod(recurrent_shape),))
    if self.dropout > 0:
      input_masks = _dropout_mask(
          uniform[:num_inputs].reshape(input_shape), self.dropout, dtype)
    if self.recurrent_dropout > 0:
      recurrent_masks = _dropout_mask(
          uniform[num_inputs:].reshape(recurrent_shape),
          self.recurrent_dropout, dtype)
    return input_masks, recurrent_masks

  def _gate_config(self):
    return {
        "units": self.units, **gate_functions_config(self),
        "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
        "seed": self.seed, **self._weight_extras_config(),
    }


class _RNN(_rnn_loop.SequenceLayerMixin, _GateLayer):
  """The SimpleRNN, LSTM and GRU layers: gate arguments, sequence flags, and
  one scan over the projected inputs."""

  def __init__(self, units, activation, recurrent_activation, use_bias,
               kernel_initializer, recurrent_initializer, bias_initializer,
               dropout, recurrent_dropout, seed, return_sequences,
               return_state, go_backwards, extras, stateful=False,
               unroll=False, zero_output_for_mask=False, **kwargs):
    super().__init__(units, activation, recurrent_activation, use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     extras, **kwargs)
    _rnn_loop.set_flags(self, **_rnn_loop.flags_of(locals()))

  @property
  def state_size(self):
    return [self.units] * self._num_states

  def _state_count(self):
    return self._num_states

  # -- weights ----------------------------------------------------------------
  def build(self, input_shape):
    if len(input_shape) != 3 or input_shape[-1] is None:
      raise ValueError(
          f"Layer {self.name!r} ({type(self).__name__}) expects inputs of shape "
          f"(batch, timesteps, features) with a known number of features, "
          f"received shape {tuple(input_shape)}. Use "
          "hk_keras.Input((timesteps, features)) (timesteps may be None), or "
          "reshape the data, e.g. x[..., None] for one feature per step.")
    self._build_gate_weights(input_shape[-1])

  # -- the recurrence -------------------------------------------------------
  # Each subclass (SimpleRNN, LSTM, GRU) defines its cell as
  # `_step(carry, projected inputs, recurrent masks) -> (new carry, output)`.

  def _initial_carry(self, initial_state, batch, dtype):
    if initial_state is None:
      return tuple(jnp.zeros((batch, self.units), dtype)
                   for _ in range(self._num_states))
    states = (list(initial_state) if isinstance(initial_state, (list, tuple))
              else [initial_state])
    shapes = [tuple(jnp.shape(s)) for s in states]
    if len(states) != self._num_states or any(
        s != (batch, self.units) for s in shapes):
      raise ValueError(
          f"Layer {self.name!r} ({type(self).__name__}) expects initial_state "
          f"as a list of {self._num_states} array(s) of shape (batch, units) = "
          f"{(batch, self.units)}, received shapes {shapes}.")
    return tuple(jnp.asarray(s, dtype) for s in states)

  def call(self, sequences, initial_state=None, mask=None, training=False):
    dtype = sequences.dtype
    batch, timesteps, features = sequences.shape
    mask = _rnn_loop.check_mask(self, mask, batch, timesteps)
    input_masks, recurrent_masks = self._masks(training, batch, features,
                                               dtype)
    xs = jnp.swapaxes(sequences, 0, 1)  # time major: (timesteps, batch, f)
    projected = _project(xs, self.kernel.astype(dtype), input_masks,
                         self._gates)
    bias = self._input_bias()
    if bias is not None:
      projected = projected + jnp.reshape(bias.astype(dtype), (1, 1, -1))
    carry = self._initial_carry(initial_state, batch, dtype)
    if initial_state is None:
      carry = _rnn_loop.initial_carry(self, None, carry)

    def step(carry, inputs_t):
      return self._step(carry, inputs_t, recurrent_masks)

    return _rnn_loop.run_layer(self, step, projected, carry, mask)

  def get_config(self):
    return {
        **super().get_config(), **self._gate_config(),
        **_rnn_loop.flags_config(self),
        **({"use_cudnn": self.use_cudnn} if hasattr(self, "use_cudnn")
           else {}),
    }


class LSTM(_RNN):
  """Long Short-Term Memory layer (Hochreiter & Schmidhuber, 1997), Keras 3
  semantics and weight layout.

  For each step, with `z = x_t @ kernel + h @ recurrent_kernel + bias` split
  into the gates (i, f, c, o): `c = sigma(f) * c + sigma(i) * act(c_gate)`,
  `h = sigma(o) * act(c)`, where `sigma` is `recurrent_activation`. The loop
  runs with `jax.lax.scan`.

  Weights (params under `params[layer.name]`): `kernel` (input_dim, 4u),
  `recurrent_kernel` (u, 4u), `bias` (4u,): Keras's `lstm/lstm_cell/kernel`
  etc.

  Dropout (training only) uses one mask per call shared by all time steps,
  drawn from the `rng` given to `apply`, as Keras does (so the values differ
  from Keras's random numbers). Masks are not supported: padded steps are
  processed like any other.

  Args:
    units: size of the hidden state.
    activation: default "tanh".
    recurrent_activation: default "sigmoid".
    use_bias: whether to add `bias`.
    return_sequences: return the outputs of every step, (batch, timesteps,
      units), instead of the last one, (batch, units).
    return_state: also return the final states: `(output, h, c)`.
    go_backwards: process the sequence in reverse; as in Keras, returned
      sequences are then in processing (reversed) order.
    unit_forget_bias: initialize the forget-gate bias to 1 (Keras default).
    kernel_initializer: default "glorot_uniform".
    recurrent_initializer: default "orthogonal".
    bias_initializer: default "zeros".
    dropout: input dropout rate, in [0, 1).
    recurrent_dropout: dropout rate on the recurrent state, in [0, 1).
    seed: optional int folded into the dropout key.
    kernel_regularizer, recurrent_regularizer, bias_regularizer,
      activity_regularizer, kernel_constraint, recurrent_constraint,
      bias_constraint: `hk_keras.regularizers` / `hk_keras.constraints`
      (names, objects or callables), as in Keras.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Call arguments: `sequences` (batch, timesteps, features), optional
  `initial_state=[h, c]` (each (batch, units)), `training`.

  Raises:
    ValueError: on an invalid argument, or (when built) on inputs that are
      not (batch, timesteps, features).

  >>> layer = LSTM(8, return_sequences=True)
  >>> layer.get_config()["units"]
  8
  """

  _gates = 4
  _num_states = 2

  def __init__(self, units: int, activation="tanh",
               recurrent_activation="sigmoid", use_bias: bool = True,
               return_sequences: bool = False, return_state: bool = False,
               go_backwards: bool = False, unit_forget_bias: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               dropout: float = 0.0, recurrent_dropout: float = 0.0,
               seed: Optional[int] = None, kernel_regularizer=None,
               recurrent_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None,
               stateful: bool = False, unroll: bool = False, use_cudnn="auto",
               zero_output_for_mask: bool = False, **kwargs):
    _check_cudnn(type(self).__name__, use_cudnn)
    extras = extras_of(locals())
    super().__init__(units, activation, recurrent_activation, use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     return_sequences, return_state, go_backwards, extras,
                     stateful=stateful, unroll=unroll,
                     zero_output_for_mask=zero_output_for_mask, **kwargs)
    self.use_cudnn = use_cudnn
    self.unit_forget_bias = _check_bool("LSTM", "unit_forget_bias",
                                        unit_forget_bias)

  def _bias_init(self):
    if not self.unit_forget_bias:
      return self.bias_initializer
    return unit_forget_bias_init(self.bias_initializer, self.units)

  def _step(self, carry, inputs_t, recurrent_masks):
    h, c = carry
    kernel = self.recurrent_kernel.astype(h.dtype)
    z = inputs_t + _project(h, kernel, recurrent_masks, 4)
    h, c = lstm_update(z, c, -1, self.activation, self.recurrent_activation)
    return (h, c), h

  def get_config(self):
    return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
  """Gated Recurrent Unit layer (Cho et al., 2014), Keras 3 semantics and
  weight layout.

  For each step, with the gates (z, r, h) side by side in the weights:
  `z = sigma(x W_z + h U_z)`, `r = sigma(x W_r + h U_r)`, candidate
  `hh = act(x W_h + r * (h U_h + b_h))` when `reset_after=True` (the Keras 3
  and cuDNN default) or `act(x W_h + (r * h) U_h)` otherwise, and
  `h = z * h + (1 - z) * hh`. The loop runs with `jax.lax.scan`.

  Weights (params under `params[layer.name]`): `kernel` (input_dim, 3u),
  `recurrent_kernel` (u, 3u), `bias` of shape (2, 3u) with `reset_after`
  (row 0 input bias, row 1 recurrent bias) or (3u,) without.

  Dropout and masking behave as in `LSTM`.

  Args:
    units: size of the hidden state.
    activation: default "tanh".
    recurrent_activation: default "sigmoid".
    use_bias: whether to add `bias`.
    return_sequences: return all steps' outputs instead of the last one.
    return_state: also return the final state: `(output, h)`.
    go_backwards: process the sequence in reverse (returned sequences are in
      processing order, as Keras).
    reset_after: apply the reset gate after the recurrent matmul (default
      True, as Keras 3).
    kernel_initializer: default "glorot_uniform".
    recurrent_initializer: default "orthogonal".
    bias_initializer: default "zeros".
    dropout: input dropout rate, in [0, 1).
    recurrent_dropout: dropout rate on the recurrent state, in [0, 1).
    seed: optional int folded into the dropout key.
    kernel_regularizer, ..., bias_constraint: as in `LSTM`, None only.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Call arguments: `sequences` (batch, timesteps, features), optional
  `initial_state=[h]`, `training`.

  Raises:
    ValueError: on an invalid argument, or (when built) on inputs that are
      not (batch, timesteps, features).

  >>> layer = GRU(8, go_backwards=True)
  >>> layer.get_config()["reset_after"]
  True
  """

  _gates = 3
  _num_states = 1

  def __init__(self, units: int, activation="tanh",
               recurrent_activation="sigmoid", use_bias: bool = True,
               return_sequences: bool = False, return_state: bool = False,
               go_backwards: bool = False, reset_after: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               dropout: float = 0.0, recurrent_dropout: float = 0.0,
               seed: Optional[int] = None, kernel_regularizer=None,
               recurrent_regularizer=None, bias_regularizer=None,
               activity_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None,
               stateful: bool = False, unroll: bool = False, use_cudnn="auto",
               zero_output_for_mask: bool = False, **kwargs):
    _check_cudnn(type(self).__name__, use_cudnn)
    extras = extras_of(locals())
    super().__init__(units, activation, recurrent_activation, use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     return_sequences, return_state, go_backwards, extras,
                     stateful=stateful, unroll=unroll,
                     zero_output_for_mask=zero_output_for_mask, **kwargs)
    self.use_cudnn = use_cudnn
    self.reset_after = _check_bool("GRU", "reset_after", reset_after)

  def _bias_shape(self):
    units = 3 * self.units
    return (2, units) if self.reset_after else (units,)

  def _input_bias(self):
    if not self.use_bias:
      return None
    return self.bias[0] if self.reset_after else self.bias

  def _step(self, carry, inputs_t, recurrent_masks):
    (h,) = carry
    units = self.units
    kernel = self.recurrent_kernel.astype(h.dtype)
    x_z, x_r, x_h = jnp.split(inputs_t, 3, axis=-1)
    gate = self.recurrent_activation
    if self.reset_after:
      inner = _project(h, kernel, recurrent_masks, 3)
      if self.use_bias:
        inner = inner + jnp.reshape(self.bias[1].astype(h.dtype), (1, -1))
      h_z, h_r, h_h = jnp.split(inner, 3, axis=-1)
      z = gate(x_z + h_z)
      r = gate(x_r + h_r)
      candidate = self.activation(x_h + r * h_h)
    else:
      masks_zr = None if recurrent_masks is None else recurrent_masks[:2]
      inner = _project(h, kernel[:, :2 * units], masks_zr, 2)
      h_z, h_r = jnp.split(inner, 2, axis=-1)
      z = gate(x_z + h_z)
      r = gate(x_r + h_r)
      h_candidate = h if recurrent_masks is None else h * recurrent_masks[2]
      candidate = self.activation(
          x_h + jnp.matmul(r * h_candidate, kernel[:, 2 * units:]))
    h = z * h + (1.0 - z) * candidate
    return (h,), h

  def get_config(self):
    return {**super().get_config(), "reset_after": self.reset_after}


class SimpleRNN(_RNN):
  """Fully-connected RNN whose output is fed back as input (Keras 3).

  Each step: `h = activation(x_t @ kernel + h @ recurrent_kernel + bias)`.
  Weights (params under `params[layer.name]`): `kernel` (input_dim, units),
  `recurrent_kernel` (units, units), `bias` (units,), Keras's
  `simple_rnn/simple_rnn_cell/...`.

  Args:
    units: size of the hidden state.
    activation: default "tanh".
    use_bias: whether to add `bias`.
    kernel_initializer: default "glorot_uniform".
    recurrent_initializer: default "orthogonal".
    bias_initializer: default "zeros".
    dropout: input dropout rate, in [0, 1).
    recurrent_dropout: dropout rate on the recurrent state, in [0, 1).
    return_sequences: return every step's output.
    return_state: also return the final state: `(output, h)`.
    go_backwards: process the sequence in reverse.
    stateful: keep the final state as Haiku state for the next batch (reset
      with `reset_states()`).
    unroll: unroll the `lax.scan` loop.
    seed: optional int folded into the dropout key.
    kernel_regularizer, ..., bias_constraint: as in `LSTM`, None only.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Call arguments: `sequences`, optional `initial_state=[h]`, `mask`
  (batch, timesteps) (filled in from Keras masks), `training`.

  >>> SimpleRNN(4, return_sequences=True).get_config()["units"]
  4
  """

  _gates = 1
  _num_states = 1

  def __init__(self, units: int, activation="tanh", use_bias: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               kernel_regularizer=None, recurrent_regularizer=None,
               bias_regularizer=None, activity_regularizer=None,
               kernel_constraint=None, recurrent_constraint=None,
               bias_constraint=None, dropout: float = 0.0,
               recurrent_dropout: float = 0.0, return_sequences: bool = False,
               return_state: bool = False, go_backwards: bool = False,
               stateful: bool = False, unroll: bool = False,
               seed: Optional[int] = None, zero_output_for_mask: bool = False,
               **kwargs):
    extras = extras_of(locals())
    super().__init__(units, activation, "sigmoid", use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     return_sequences, return_state, go_backwards, extras,
                     stateful=stateful, unroll=unroll,
                     zero_output_for_mask=zero_output_for_mask, **kwargs)

  def _step(self, carry, inputs_t, recurrent_masks):
    (h,) = carry
    kernel = self.recurrent_kernel.astype(h.dtype)
    h = self.activation(inputs_t + _project(h, kernel, recurrent_masks, 1))
    return (h,), h

  def get_config(self):
    config = super().get_config()
    del config["recurrent_activation"]
    return config
