"""Lion (sign of an interpolated momentum) with Keras 3's numerics."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasLionState(NamedTuple):
  """Momentum buffers."""
  momentums: Any


def lion_rule(learning_rate: Any, beta_1: float = 0.9, beta_2: float = 0.99
              ) -> optax.GradientTransformation:
  """One Keras Lion step:
  `param -= lr * sign(beta_1 * m + (1 - beta_1) * g)`, then
  `m = beta_2 * m + (1 - beta_2) * g`.
  """
  def init_fn(params):
    return KerasLionState(optax.tree.zeros_like(params))

  def update_fn(grads, state, params=None):
    del params
    def step(m, g):
      b1 = jnp.asarray(beta_1, g.dtype)
      return -(jnp.asarray(learning_rate, g.dtype) *
               jnp.sign(m * b1 + g * (1.0 - b1)))

    def decay(m, g):
      b2 = jnp.asarray(beta_2, g.dtype)
      return m * b2 + g * (1.0 - b2)

    updates = jax.tree.map(step, state.momentums, grads)
    new_m = jax.tree.map(decay, state.momentums, grads)
    return updates, KerasLionState(new_m)

  return optax.GradientTransformation(init_fn, update_fn)


class Lion(Optimizer):
  """Lion, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    beta_1: Interpolation factor for the update direction.
    beta_2: Decay rate of the momentum.
    **kwargs: The common arguments of `Optimizer`.

  Raises:
    ValueError: If `beta_1` is not in (0, 1].

  >>> Lion().get_config()["beta_2"]
  0.99
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               beta_1: float = 0.9, beta_2: float = 0.99,
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
    if beta_1 <= 0 or beta_1 > 1:
      raise ValueError(
          "Argument `beta_1` must be in the (0, 1] range; otherwise Lion "
          f"degenerates to SignSGD. Received: beta_1={beta_1}.")
    self.beta_1 = beta_1
    self.beta_2 = beta_2

  _rule = staticmethod(lion_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"beta_1": self.beta_1, "beta_2": self.beta_2}
