"""RNN cells: one step of SimpleRNN, LSTM and GRU, and `StackedRNNCells`.

A cell is a layer with `state_size` and `call(inputs, states, training)`
returning `(output, new_states)`, as in Keras 3; `hk_keras.layers.RNN`
runs it over time. The built-in cells share the step arithmetic (and so the
numerics and weight layout) of the `SimpleRNN`, `LSTM` and `GRU` layers.
"""
from typing import Optional

import jax.numpy as jnp

from . import _recurrent
from ._layer import Layer


class _Cell(_recurrent._GateLayer):
  """The built-in cells: the gate arguments and weights of `_GateLayer`,
  one step of the matching layer's recurrence, dropout drawn per sequence."""

  _layer_cls = _recurrent.SimpleRNN

  def __init__(self, *args, **kwargs):
    super().__init__(*args, **kwargs)
    self._dropout_masks = None

  @property
  def state_size(self):
    if self._num_states == 1:
      return self.units
    return [self.units] * self._num_states

  @property
  def output_size(self):
    return self.units

  def build(self, input_shape):
    if input_shape[-1] is None:
      raise ValueError(
          f"Cell {self.name!r} ({type(self).__name__}) needs a known number "
          f"of input features, received input shape {tuple(input_shape)}.")
    self._build_gate_weights(input_shape[-1])

  # Dropout masks are drawn once per sequence (the RNN layer calls
  # `prepare_dropout` before its loop), as Keras's DropoutRNNCell does.
  def prepare_dropout(self, training, batch, features, dtype):
    self._dropout_masks = self._masks(training, batch, features, dtype)

  def clear_dropout(self):
    self._dropout_masks = None

  def call(self, inputs, states, training=False):
    states = list(states) if isinstance(states, (list, tuple)) else [states]
    nested = len(states) > 1 or self._num_states > 1
    dtype = inputs.dtype
    masks = self._dropout_masks
    if masks is None:
      masks = self._masks(training, inputs.shape[0], inputs.shape[-1], dtype)
    input_masks, recurrent_masks = masks
    projected = _recurrent._project(inputs, self.kernel.astype(dtype),
                                    input_masks, self._gates)
    bias = self._input_bias()
    if bias is not None:
      projected = projected + jnp.reshape(bias.astype(dtype), (1, -1))
    carry = tuple(jnp.asarray(s, dtype) for s in states)
    new_carry, output = self._layer_cls._step(self, carry, projected,
                                              recurrent_masks)
    if nested or isinstance(states, list):
      return output, list(new_carry)
    return output, new_carry[0]

  def get_initial_state(self, batch_size=None):
    return [jnp.zeros((batch_size, self.units), self.compute_dtype)
            for _ in range(self._num_states)]

  def get_config(self):
    return {**super().get_config(), **self._gate_config()}


class SimpleRNNCell(_Cell):
  """One step of `SimpleRNN`: `h = activation(x W + h U + b)` (Keras 3).

  Weights: `kernel` (input_dim, units), `recurrent_kernel` (units, units),
  `bias` (units,). Arguments as `SimpleRNN`'s cell arguments: `units`,
  `activation`, `use_bias`, the three initializers, `dropout`,
  `recurrent_dropout`, `seed`; the regularizer and constraint arguments are
  Keras regularizers and constraints (see Layer._set_weight_extras).

  >>> SimpleRNNCell(4).state_size
  4
  """

  _gates = 1
  _num_states = 1
  _layer_cls = _recurrent.SimpleRNN

  def __init__(self, units: int, activation="tanh", use_bias: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               kernel_regularizer=None, recurrent_regularizer=None,
               bias_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None,
               dropout: float = 0.0, recurrent_dropout: float = 0.0,
               seed: Optional[int] = None, **kwargs):
    super().__init__(units, activation, "sigmoid", use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     _recurrent.extras_of(locals()), **kwargs)

  def get_config(self):
    config = super().get_config()
    del config["recurrent_activation"]
    return config


class LSTMCell(_Cell):
  """One step of `LSTM` (Keras 3): states `[h, c]`, gates (i, f, c, o).

  Weights: `kernel` (input_dim, 4u), `recurrent_kernel` (u, 4u), `bias`
  (4u,). Arguments as `LSTM`'s cell arguments, plus `unit_forget_bias`.

  >>> LSTMCell(4).state_size
  [4, 4]
  """

  _gates = 4
  _num_states = 2
  _layer_cls = _recurrent.LSTM

  def __init__(self, units: int, activation="tanh",
               recurrent_activation="sigmoid", use_bias: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               unit_forget_bias: bool = True, kernel_regularizer=None,
               recurrent_regularizer=None, bias_regularizer=None,
               kernel_constraint=None, recurrent_constraint=None,
               bias_constraint=None, dropout: float = 0.0,
               recurrent_dropout: float = 0.0, seed: Optional[int] = None,
               **kwargs):
    super().__init__(units, activation, recurrent_activation, use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     _recurrent.extras_of(locals()), **kwargs)
    self.unit_forget_bias = _recurrent._check_bool(
        "LSTMCell", "unit_forget_bias", unit_forget_bias)

  _bias_init = _recurrent.LSTM._bias_init

  def get_config(self):
    return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
  """One step of `GRU` (Keras 3): gates (z, r, h), `reset_after` default True.

  Weights: `kernel` (input_dim, 3u), `recurrent_kernel` (u, 3u), `bias`
  (2, 3u) with `reset_after` or (3u,). Arguments as `GRU`'s cell arguments.

  >>> GRUCell(4).state_size
  4
  """

  _gates = 3
  _num_states = 1
  _layer_cls = _recurrent.GRU

  def __init__(self, units: int, activation="tanh",
               recurrent_activation="sigmoid", use_bias: bool = True,
               kernel_initializer="glorot_uniform",
               recurrent_initializer="orthogonal", bias_initializer="zeros",
               kernel_regularizer=None, recurrent_regularizer=None,
               bias_regularizer=None, kernel_constraint=None,
               recurrent_constraint=None, bias_constraint=None,
               dropout: float = 0.0, recurrent_dropout: float = 0.0,
               reset_after: bool = True, seed: Optional[int] = None,
               **kwargs):
    super().__init__(units, activation, recurrent_activation, use_bias,
                     kernel_initializer, recurrent_initializer,
                     bias_initializer, dropout, recurrent_dropout, seed,
                     _recurrent.extras_of(locals()), **kwargs)
    self.reset_after = _recurrent._check_bool("GRUCell", "reset_after",
                                              reset_after)

  _bias_shape = _recurrent.GRU._bias_shape
  _input_bias = _recurrent.GRU._input_bias

  def get_config(self):
    return {**super().get_config(), "reset_after": self.reset_after}


class StackedRNNCells(Layer):
  """Runs several cells as one: each cell's output feeds the next (Keras 3).

  `state_size` is the list of the cells' state sizes; the states are one
  list per cell. Weights are the cells' weights, cell by cell.

  Args:
    cells: a list of cells.
    **kwargs: base `Layer` arguments.

  >>> StackedRNNCells([LSTMCell(4), GRUCell(3)]).state_size
  [[4, 4], 3]
  """

  def __init__(self, cells, **kwargs):
    super().__init__(**kwargs)
    if not isinstance(cells, (list, tuple)) or not cells:
      raise ValueError(
          "StackedRNNCells expects a non-empty list of cells. Received: "
          f"cells={cells!r}")
    for cell in cells:
      if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
        raise ValueError(
            "Every cell of StackedRNNCells needs a `call` method and a "
            f"`state_size` attribute. Received: {cell!r}")
    self.cells = list(cells)

  @property
  def state_size(self):
    return [c.state_size for c in self.cells]

  @property
  def output_size(self):
    last = self.cells[-1]
    size = getattr(last, "output_size", None)
    if size is None:
      size = last.state_size
      size = size[0] if isinstance(size, (list, tuple)) else size
    return size

  def get_initial_state(self, batch_size=None):
    from ._rnn import initial_states  # pylint: disable=g-import-not-at-top
    return [initial_states(c, batch_size, self.compute_dtype)
            for c in self.cells]

  def call(self, inputs, states, training=False):
    from ._rnn import call_cell  # pylint: disable=g-import-not-at-top
    new_states = []
    for cell, s in zip(self.cells, states):
      inputs, s = call_cell(cell, inputs, s, training)
      new_states.append(s)
    return inputs, new_states

  def get_config(self):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    return {**super().get_config(),
            "cells": [_serialization.serialize_keras_object(c) for c in self.cells]}

  @classmethod
  def from_config(cls, config):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    config["cells"] = [_serialization.deserialize_keras_object(c)
                       for c in config["cells"]]
    return cls(**config)
