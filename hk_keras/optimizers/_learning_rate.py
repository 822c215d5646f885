"""Reading and changing the learning rate stored in an optimizer state."""

from typing import Any

import jax
import jax.numpy as jnp

_NOT_INJECTED = (
    "No learning rate was found in this optimizer state. The learning rate "
    "lives in the state only when the optimizer was built with "
    "`optax.inject_hyperparams` (every hk_keras.optimizers class and "
    "optimizer name does this). For a raw optax transform, build it as "
    "`optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)`.")


def _holds_learning_rate(node: Any) -> bool:
  hyperparams = getattr(node, "hyperparams", None)
  return (isinstance(node, tuple) and isinstance(hyperparams, dict)
          and "learning_rate" in hyperparams)


def _injected_states(opt_state: Any) -> list:
  leaves = jax.tree.leaves(opt_state, is_leaf=_holds_learning_rate)
  return [leaf for leaf in leaves if _holds_learning_rate(leaf)]


def get_learning_rate(opt_state: Any) -> jax.Array:
  """Returns the current learning rate held in an optimizer state.

  Works on the state of any `optax.inject_hyperparams` transform, also when
  it is nested (inside `optax.chain`, `optax.MultiSteps`, masks, ...). For a
  schedule, this is the value used by the most recent update (at init, the
  value at step 0).

  Args:
    opt_state: An optimizer state from `init` or `update`.

  Returns:
    A scalar array (usable under `jax.jit`; call `float(...)` outside).

  Raises:
    ValueError: If the state holds no injected learning rate.

  >>> from hk_keras import optimizers
  >>> state = optimizers.Adam(0.01).init({"w": jnp.zeros(2)})
  >>> float(get_learning_rate(state))
  0.009999999776482582
  """
  found = _injected_states(opt_state)
  if not found:
    raise ValueError(_NOT_INJECTED)
  return found[0].hyperparams["learning_rate"]


def set_learning_rate(opt_state: Any, value: Any) -> Any:
  """Returns a copy of `opt_state` whose learning rate is `value`.

  The state is a pytree and is not changed in place; the new value has the
  same dtype and shape as the old one, so a jitted train step does not
  recompile. Every injected learning rate in the state is set.

  Args:
    opt_state: An optimizer state from `init` or `update`.
    value: The new learning rate, a Python float or scalar array.

  Returns:
    The new optimizer state.

  Raises:
    ValueError: If the state holds no injected learning rate, or `value` is
      not a scalar.
    TypeError: If the learning rate comes from a schedule (the schedule would
      overwrite it at the next step).

  >>> from hk_keras import optimizers
  >>> state = optimizers.SGD().init({"w": jnp.zeros(2)})
  >>> float(get_learning_rate(set_learning_rate(state, 0.5)))
  0.5
  """
  if not _injected_states(opt_state):
    raise ValueError(_NOT_INJECTED)
  if jnp.ndim(value) != 0:
    raise ValueError(
        "The learning rate must be a scalar. Received: value with shape "
        f"{jnp.shape(value)}")

  def replace(node):
    if not _holds_learning_rate(node):
      return node
    schedule_states = getattr(node, "hyperparams_states", None) or {}
    if "learning_rate" in schedule_states:
      raise TypeError(
          "This optimizer was built with a learning-rate schedule, so its "
          "learning rate is recomputed from the step at every update and "
          "cannot be set. Build it with a float learning rate instead.")
    old = node.hyperparams["learning_rate"]
    new = jnp.asarray(value, dtype=old.dtype).reshape(old.shape)
    return node._replace(hyperparams={**node.hyperparams,
                                      "learning_rate": new})

  return jax.tree.map(replace, opt_state, is_leaf=_holds_learning_rate)
