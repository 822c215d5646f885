"""Adamax (Adam with an infinity norm) with Keras 3's numerics."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasAdamaxState(NamedTuple):
  """Step count, first moments and exponentially weighted infinity norms."""
  count: jax.Array
  momentums: Any
  norms: Any


def adamax_rule(learning_rate: Any, beta_1: float = 0.9,
                beta_2: float = 0.999, epsilon: float = 1e-7
                ) -> optax.GradientTransformation:
  """One Keras Adamax step:
  `param -= lr * m / ((1 - beta_1**t) * (u + eps))`, `u = max(beta_2 * u, |g|)`.
  """
  def init_fn(params):
    return KerasAdamaxState(count=jnp.zeros([], jnp.int32),
                            momentums=optax.tree.zeros_like(params),
                            norms=optax.tree.zeros_like(params))

  def update_fn(grads, state, params=None):
    del params
    count = optax.safe_increment(state.count)
    new_m = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1),
                         state.momentums, grads)
    new_u = jax.tree.map(lambda u, g: jnp.maximum(beta_2 * u, jnp.abs(g)),
                         state.norms, grads)

    def step(m, u):
      t = count.astype(m.dtype)
      beta_1_power = jnp.power(jnp.asarray(beta_1, m.dtype), t)
      return -((jnp.asarray(learning_rate, m.dtype) * m) /
               ((1 - beta_1_power) * (u + epsilon)))

    return (jax.tree.map(step, new_m, new_u),
            KerasAdamaxState(count, new_m, new_u))

  return optax.GradientTransformation(init_fn, update_fn)


class Adamax(Optimizer):
  """Adamax, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    beta_1: Decay rate of the first-moment estimate.
    beta_2: Decay rate of the infinity norm.
    epsilon: Added to the norm (Keras default 1e-7).
    **kwargs: The common arguments of `Optimizer`.

  >>> Adamax().get_config()["beta_2"]
  0.999
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-7,
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
    self.beta_1 = beta_1
    self.beta_2 = beta_2
    self.epsilon = epsilon

  _rule = staticmethod(adamax_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"beta_1": self.beta_1, "beta_2": self.beta_2,
            "epsilon": self.epsilon}
