"""The recurrent loop shared by every RNN layer: masks, direction, state.

One `jax.lax.scan` over time-major inputs, with Keras 3's JAX-backend rules:
a masked step keeps the previous states and outputs the previous first
state (or zeros with `zero_output_for_mask`); `go_backwards` walks the
sequence in reverse and returns outputs in processing order; stateful
layers keep their final states as Haiku state for the next batch.
"""
import haiku as hk
import jax
import jax.numpy as jnp

STATE_NAME = "rnn_state_{}"


def run(step, xs, carry, mask=None, go_backwards=False, unroll=False,
        zero_output_for_mask=False):
  """Runs `step(carry, x_t) -> (carry, output_t)` over the time axis.

  Args:
    step: the one-step function; `carry` is a tuple of state arrays (or
      nested tuples for stacked cells) whose first leaf is the previous
      output.
    xs: a pytree of time-major inputs, each (timesteps, batch, ...).
    carry: the initial states.
    mask: optional (batch, timesteps) boolean mask of valid steps.
    go_backwards: process the steps in reverse.
    unroll: unroll the loop (`lax.scan(unroll=True)`).
    zero_output_for_mask: output zeros at masked steps.

  Returns:
    (outputs (timesteps, batch, ...) in processing order, final carry).
  """
  if go_backwards:
    xs = jax.tree_util.tree_map(lambda x: jnp.flip(x, 0), xs)
  unroll_arg = bool(unroll) or 1
  if mask is None:
    final, outputs = jax.lax.scan(step, carry, xs, unroll=unroll_arg)
    return outputs, final
  m = jnp.swapaxes(jnp.asarray(mask, bool), 0, 1)  # (T, B)
  if go_backwards:
    m = jnp.flip(m, 0)

  def select(m_t, new, old):
    return jnp.where(jnp.reshape(m_t, m_t.shape + (1,) * (new.ndim - 1)),
                     new, old)

  def masked_step(carry, inputs):
    x_t, m_t = inputs
    new_carry, out = step(carry, x_t)
    if zero_output_for_mask:
      out = select(m_t, out, jnp.zeros_like(out))
    else:
      previous = _previous_output(carry)
      out = select(m_t, out, previous.astype(out.dtype))
    new_carry = jax.tree_util.tree_map(
        lambda new, old: select(m_t, new, old), new_carry, carry)
    return new_carry, out

  final, outputs = jax.lax.scan(masked_step, carry, (xs, m),
                                unroll=unroll_arg)
  return outputs, final


def _previous_output(carry):
  """The previous output: the first state (of the last cell when stacked)."""
  first = carry[0]
  if isinstance(first, (tuple, list)):
    return carry[-1][0]
  return first


def check_mask(layer, mask, batch, timesteps):
  """The first mask of a structure, checked to be (batch, timesteps)."""
  if isinstance(mask, (list, tuple)):
    mask = next((m for m in mask if m is not None), None)
  if mask is None:
    return None
  mask = jnp.asarray(mask)
  if mask.ndim > 2 and mask.shape[:2] == (batch, timesteps):
    # A step counts when any entry of its mask does (Keras's JAX loop).
    mask = jnp.any(mask.astype(bool), axis=tuple(range(2, mask.ndim)))
  if mask.shape != (batch, timesteps):
    raise ValueError(
        f"Layer {layer.name!r} ({type(layer).__name__}) expects a mask of "
        f"shape (batch, timesteps) = {(batch, timesteps)}, received shape "
        f"{tuple(mask.shape)}. Pass a boolean array with one entry per step.")
  return mask


def _replica_rows(kept, batch):
  """Under the pmap strategy each replica sees `batch` rows of the global
  batch, while the kept states (replicated Haiku state) hold every row:
  the replica reads its own rows (None: no such split applies)."""
  from .._core import _replica  # pylint: disable=g-import-not-at-top
  scope = _replica.current()
  if scope.axis_name is None or kept.shape[0] != batch * scope.num_replicas:
    return None
  start = jax.lax.axis_index(scope.axis_name) * batch
  return jax.lax.dynamic_slice_in_dim(kept, start, batch, axis=0)


def stateful_initial(layer, zeros):
  """The states kept from the previous batch (Haiku state), or `zeros`."""
  flat, treedef = jax.tree_util.tree_flatten(zeros)
  kept = [hk.get_state(STATE_NAME.format(i), z.shape, z.dtype,
                       init=jnp.zeros) for i, z in enumerate(flat)]
  kept = [k if k.shape == z.shape or _replica_rows(k, z.shape[0]) is None
          else _replica_rows(k, z.shape[0]) for k, z in zip(kept, flat)]
  for i, (k, z) in enumerate(zip(kept, flat)):
    if k.shape != z.shape:
      raise ValueError(
          f"Layer {layer.name!r} is stateful: its states were created for "
          f"batches of shape {k.shape[:1]}, received a batch of "
          f"{z.shape[0]}. A stateful RNN needs a fixed batch size: give the "
          "Input a batch_size (hk_keras.Input(shape, batch_size=...)) and "
          "feed batches of exactly that size (shuffle=False).")
  return jax.tree_util.tree_unflatten(treedef, kept)


def stateful_store(final):
  """Keeps the final states for the next batch. Under pmap every replica
  stores all replicas' rows (gathered in replica order), so the replicated
  state stays identical across devices and equals one device's."""
  from .._core import _replica  # pylint: disable=g-import-not-at-top
  scope = _replica.current()
  for i, s in enumerate(jax.tree_util.tree_leaves(final)):
    name = STATE_NAME.format(i)
    if scope.axis_name is not None and not hk.running_init():
      kept = hk.get_state(name)
      if kept.shape[0] == s.shape[0] * scope.num_replicas != s.shape[0]:
        s = jax.lax.all_gather(s, scope.axis_name, axis=0, tiled=True)
    hk.set_state(name, s)


def reset_states(layer, states=None) -> None:
  """Sets a stateful layer's kept states to zeros (or to `states`)."""
  from . import _layer  # pylint: disable=g-import-not-at-top
  records = [r for r in layer._weight_records
             if r.kind == "state" and r.name.startswith("rnn_state_")
             and r.layer is layer]
  if not records:
    return  # not built yet: the states start at zero anyway
  records.sort(key=lambda r: int(r.name.rsplit("_", 1)[1]))
  if states is None:
    values = [jnp.zeros(r.shape, r.dtype) for r in records]
  else:
    values = [jnp.asarray(s, r.dtype) for s, r in zip(
        jax.tree_util.tree_leaves(states), records)]
  _layer.set_records(layer.name, records, values)


def mask_for_output(layer, mask):
  """RNN `compute_mask`: the mask goes on with return_sequences only."""
  if isinstance(mask, (list, tuple)):
    mask = next((m for m in mask if m is not None), None)
  output_mask = mask if layer.return_sequences else None
  if layer.return_state:
    return [output_mask] + [None] * layer._state_count()
  return output_mask


# -- what every recurrent layer shares: its flags, mask rule and outputs ------

FLAGS = ("return_sequences", "return_state", "go_backwards", "stateful",
         "unroll", "zero_output_for_mask")


def set_flags(layer, **flags) -> None:
  """Checks and sets the Keras sequence flags (`FLAGS`) of an RNN layer."""
  for name, value in flags.items():
    if name not in FLAGS:
      raise TypeError(f"{name!r} is not a recurrent layer flag.")
    if not isinstance(value, bool):
      raise ValueError(
          f"{type(layer).__name__} argument `{name}` must be True or False. "
          f"Received: {name}={value!r}")
    setattr(layer, name, value)


def flags_of(arguments: dict) -> dict:
  """The sequence flags among a constructor's `locals()`."""
  return {k: v for k, v in arguments.items() if k in FLAGS}


def flags_config(layer) -> dict:
  return {name: getattr(layer, name) for name in FLAGS}


def initial_carry(layer, initial_state, zeros):
  """`initial_state` if given, else the kept states of a stateful layer, else
  `zeros` (the carry structure)."""
  if initial_state is not None:
    return initial_state
  if layer.stateful:
    return stateful_initial(layer, zeros)
  return zeros


def run_layer(layer, step, xs, carry, mask):
  """The one recurrent loop of every RNN layer: `run` with the layer's
  flags, the final states kept when stateful, and Keras's outputs (the last
  output or all of them in processing order, then the states)."""
  outputs, final = run(step, xs, carry, mask, layer.go_backwards,
                       layer.unroll, layer.zero_output_for_mask)
  if layer.stateful:
    stateful_store(final)
  output = (jnp.swapaxes(outputs, 0, 1) if layer.return_sequences
            else outputs[-1])
  if layer.return_state:
    return (output,) + tuple(final)
  return output


class SequenceLayerMixin:
  """`compute_mask` and `reset_states` of every recurrent layer."""

  def compute_mask(self, inputs, previous_mask):
    del inputs
    return mask_for_output(self, previous_mask)

  def reset_states(self, states=None):
    """Zeros the states a `stateful=True` layer keeps between batches."""
    reset_states(self, states)

  def reset_state(self, states=None):
    reset_states(self, states)
