"""Adagrad with Keras 3's initial accumulator and epsilon placement."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasAdagradState(NamedTuple):
  """Sums of squared gradients (starting at `initial_accumulator_value`)."""
  accumulators: Any


def adagrad_rule(learning_rate: Any, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7) -> optax.GradientTransformation:
  """One Keras Adagrad step: `acc += g**2; param -= lr * g / sqrt(acc + eps)`.

  (optax's `adagrad` defaults differ: it starts the accumulator at 0.1 too,
  but adds epsilon outside the square root.)
  """
  def init_fn(params):
    return KerasAdagradState(accumulators=jax.tree.map(
        lambda p: jnp.full_like(p, initial_accumulator_value), params))

  def update_fn(grads, state, params=None):
    del params
    new_acc = jax.tree.map(lambda a, g: a + jnp.square(g), state.accumulators,
                           grads)
    updates = jax.tree.map(
        lambda g, a: -((jnp.asarray(learning_rate, g.dtype) * g) /
                       jnp.sqrt(a + epsilon)), grads, new_acc)
    return updates, KerasAdagradState(new_acc)

  return optax.GradientTransformation(init_fn, update_fn)


class Adagrad(Optimizer):
  """Adagrad, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    initial_accumulator_value: Starting value of the accumulators.
    epsilon: Added inside the square root (Keras default 1e-7).
    **kwargs: The common arguments of `Optimizer`.

  >>> Adagrad().get_config()["initial_accumulator_value"]
  0.1
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
               weight_decay: Optional[float] = None,
               clipnorm: Optional[float] = None,
               clipvalue: Optional[float] = None,
               global_clipnorm: Optional[float] = None,
               use_ema: bool = False, ema_momentum: float = 0.99,
               ema_overwrite_frequency: Optional[int] = None,
               loss_scale_factor: Optional[float] = None,
               gradient_accumulation_steps: Optional[int] = None,
               name: Optional[str] = None):
    super().__init__(
        learning_rate=learning_rate, weight_decay=weight_decay,
        clipnorm=clipnorm, clipvalue=clipvalue,
        global_clipnorm=global_clipnorm, use_ema=use_ema,
        ema_momentum=ema_momentum,
        ema_overwrite_frequency=ema_overwrite_frequency,
        loss_scale_factor=loss_scale_factor,
        gradient_accumulation_steps=gradient_accumulation_steps, name=name)
    self.initial_accumulator_value = initial_accumulator_value
    self.epsilon = epsilon

  _rule = staticmethod(adagrad_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon}
