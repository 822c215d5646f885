"""Read and change the learning rate of the model being trained.

The learning rate lives in the live optimizer state (the engine's
`live_state(model).train_state.opt_state`,
injected by `optax.inject_hyperparams`) as an array leaf, so changing it
between steps costs no recompilation: the new value keeps the old leaf's
dtype, shape and placement, which is all the compiled step's cache sees.
"""
import jax

from .. import _engine
from .. import optimizers

_NO_STATE_YET = object()


def get_learning_rate(model):
  """The current learning rate as a Python float.

  Before the first step (no train state yet) it is read from the optimizer
  object given to `compile`.

  Raises:
    ValueError: if the optimizer has no injected learning rate.
  """
  live = _engine.live_state(model)
  ts = None if live is None else live.train_state
  if ts is not None:
    return float(optimizers.get_learning_rate(ts.opt_state))
  value = getattr(getattr(model, "optimizer", None), "learning_rate", None)
  if isinstance(value, (int, float)):
    return float(value)
  if value is None:
    raise ValueError(
        "The model's optimizer has no learning rate to read. Compile with an "
        "hk_keras optimizer (or an optax.inject_hyperparams transform).")
  return float(value)


def set_learning_rate(model, value):
  """Sets the learning rate of the live optimizer state, in place.

  Returns:
    True if set; False when the model has no train state yet (the caller
    retries once training has started).

  Raises:
    ValueError/TypeError: from `hk_keras.optimizers.set_learning_rate`.
  """
  live = _engine.live_state(model)
  ts = None if live is None else live.train_state
  if ts is None:
    return False
  old = ts.opt_state
  new = optimizers.set_learning_rate(old, value)
  # Put each replaced leaf where the old one lived, so the compiled step's
  # cache key (which includes placement) is unchanged.
  new = jax.tree_util.tree_map(
      lambda o, n: n if n is o else jax.device_put(n, o.sharding), old, new)
  live.replace_train_state(opt_state=new)
  return True
