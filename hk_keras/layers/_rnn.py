"""`RNN`: runs any cell (built-in or user-written) over time with lax.scan."""
import haiku as hk
import jax
import jax.numpy as jnp

from .._core import _context
from . import _rnn_cells
from . import _rnn_loop
from ._layer import Layer


def _as_list(states):
  return list(states) if isinstance(states, (list, tuple)) else [states]


def initial_states(cell, batch, dtype):
  """A cell's zero states as a list (nested lists for stacked cells)."""
  fn = getattr(cell, "get_initial_state", None)
  if fn is not None:
    return _normalize(cell, fn(batch_size=batch))
  return [jnp.zeros((batch, d), dtype) for d in _as_list(cell.state_size)]


def _normalize(cell, states):
  if isinstance(cell, _rnn_cells.StackedRNNCells):
    return [_normalize(c, s) for c, s in zip(cell.cells, states)]
  return _as_list(states)


def call_cell(cell, inputs, states, training):
  """One step of `cell`; the new states come back as a list."""
  if isinstance(cell, Layer):
    output, new = cell._call_with_autocast((inputs, states),
                                           {"training": training})
  else:
    output, new = cell.call(inputs, states, training=training)
  return output, _normalize(cell, new)


class _Scope(hk.Module):
  """The Haiku module a cell's weights live in, inside its RNN's module."""

  def __call__(self, fn):
    return fn()


def _leaf_cells(cell):
  if isinstance(cell, _rnn_cells.StackedRNNCells):
    return [c for inner in cell.cells for c in _leaf_cells(inner)]
  return [cell]


def _output_dim(cell):
  size = getattr(cell, "output_size", None)
  if size is None:
    size = _as_list(cell.state_size)[0]
  return size


class RNN(_rnn_loop.SequenceLayerMixin, Layer):
  """Base class for recurrent layers: runs `cell` over the time axis (Keras 3).

  The cell may be a built-in cell (`SimpleRNNCell`, `LSTMCell`, `GRUCell`),
  a list of cells or `StackedRNNCells`, or a user-written layer with a
  `state_size` attribute and `call(inputs, states)` returning `(output,
  new_states)`. The loop is one `jax.lax.scan` inside the compiled step.

  Weights: the cell's weights, each cell in its own Haiku module
  `<rnn name>/<cell name>` (Keras's `rnn/<cell name>/kernel`).

  Args:
    cell: the cell (or list of cells).
    return_sequences: return every step's output, (batch, timesteps, units).
    return_state: also return the final states.
    go_backwards: process the steps in reverse (sequences returned in
      processing order, as Keras).
    stateful: keep the final states as Haiku state (`state[layer.name]`) as
      the next batch's initial states; `reset_states()` zeros them.
    unroll: unroll the scan.
    zero_output_for_mask: output zeros at masked steps instead of the
      previous output.
    **kwargs: base `Layer` arguments.

  Call arguments: `sequences` (batch, timesteps, ...), optional
  `initial_state` (a list of states), `mask` (batch, timesteps) (filled in
  from Keras masks: masked steps keep the previous states), `training`.

  >>> RNN(LSTMCell(4)).get_config()["cell"]["class_name"]
  'LSTMCell'
  """

  supports_masking = True

  def __init__(self, cell, return_sequences: bool = False,
               return_state: bool = False, go_backwards: bool = False,
               stateful: bool = False, unroll: bool = False,
               zero_output_for_mask: bool = False, **kwargs):
    if isinstance(cell, (list, tuple)):
      cell = _rnn_cells.StackedRNNCells(cell)
    if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
      raise ValueError(
          "Argument `cell` of RNN must have a `call` method and a "
          "`state_size` attribute (an int or a list of ints, one per state). "
          f"Received: cell={cell!r}")
    super().__init__(**kwargs)
    self.cell = cell
    _rnn_loop.set_flags(self, **_rnn_loop.flags_of(locals()))

  @property
  def state_size(self):
    return _as_list(self.cell.state_size)

  def _state_count(self):
    return len(self.state_size)

  def build(self, input_shape):
    if len(input_shape) < 3:
      raise ValueError(
          f"Layer {self.name!r} (RNN) expects inputs of shape (batch, "
          f"timesteps, ...), received shape {tuple(input_shape)}.")
    ctx = _context.current()
    shape = (input_shape[0],) + tuple(input_shape[2:])
    self._cell_input_dims = []
    for cell in _leaf_cells(self.cell):
      self._cell_input_dims.append(shape[-1])
      if isinstance(cell, Layer):
        ctx.traced_layers.append(cell)
        _Scope(name=cell.name)(
            lambda cell=cell, shape=shape: cell._build_in_trace(shape))
      shape = (shape[0], _output_dim(cell))
    if isinstance(self.cell, Layer):
      self.cell.built = True

  def call(self, sequences, initial_state=None, mask=None, training=False):
    batch, timesteps = sequences.shape[:2]
    dtype = sequences.dtype
    mask = _rnn_loop.check_mask(self, mask, batch, timesteps)
    if initial_state is not None:
      initial_state = _normalize(self.cell, _as_list(initial_state))
    carry = _rnn_loop.initial_carry(
        self, initial_state, initial_states(self.cell, batch, dtype))
    carry = jax.tree_util.tree_map(lambda s: jnp.asarray(s, dtype), carry)
    leaves = _leaf_cells(self.cell)
    for cell, features in zip(leaves, self._cell_input_dims):
      if isinstance(cell, _rnn_cells._Cell):
        cell.prepare_dropout(training, batch, features, dtype)

    def step(carry, x_t):
      output, new = call_cell(self.cell, x_t, carry, training)
      new = jax.tree_util.tree_map(lambda s: jnp.asarray(s, dtype), new)
      return new, output

    try:
      return _rnn_loop.run_layer(self, step, jnp.swapaxes(sequences, 0, 1),
                                 carry, mask)
    finally:
      for cell in leaves:
        if isinstance(cell, _rnn_cells._Cell):
          cell.clear_dropout()

  def get_config(self):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    return {
        **super().get_config(),
        "cell": _serialization.serialize_keras_object(self.cell),
        **_rnn_loop.flags_config(self),
    }

  @classmethod
  def from_config(cls, config):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    config["cell"] = _serialization.deserialize_keras_object(config["cell"])
    return cls(**config)
