"""The train state: everything a compiled step reads and writes."""
from typing import Any, NamedTuple

import haiku as hk
import jax


class TrainState(NamedTuple):
  """One pytree with all values that change during training.

  Attributes:
    params: all Haiku params (trainable and frozen).
    state: Haiku state (non-trainable weights such as moving statistics).
    opt_state: the optax state of the trainable params.
    rng: the PRNG key. The default step splits it once per step, except
      small (dispatch-bound) steps, which keep it as the run's seed key and
      draw from `jax.random.fold_in(rng, step)`: computed only if the model
      uses randomness.
    step: the number of optimizer steps taken (int32 scalar).
    metrics: (loss_tracker, tuple of metric states), reset every epoch.
    loss_scale: None, or the `jmp` loss scale of float16 mixed precision
      (`jmp.DynamicLossScale`), adjusted every step.
  """
  params: Any
  state: Any
  opt_state: Any
  rng: jax.Array
  step: jax.Array
  metrics: Any
  loss_scale: Any = None


def split_trainable(params, mask):
  """(trainable, frozen) Haiku params from a module/name -> bool mask."""
  return hk.data_structures.partition(
      lambda module, name, _: mask[module][name], params)
