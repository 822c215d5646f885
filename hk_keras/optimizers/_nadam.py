"""Nadam (Adam with Nesterov momentum) with Keras 3's momentum schedule."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasNadamState(NamedTuple):
  """Step count, product of the momentum schedule, and the two moments."""
  count: jax.Array
  u_product: jax.Array
  momentums: Any
  velocities: Any


def nadam_rule(learning_rate: Any, beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-7) -> optax.GradientTransformation:
  """One Keras Nadam step, with the decaying momentum schedule
  `u_t = beta_1 * (1 - 0.5 * 0.96**t)` and its running product.
  """
  def init_fn(params):
    return KerasNadamState(count=jnp.zeros([], jnp.int32),
                           u_product=jnp.ones([], jnp.float32),
                           momentums=optax.tree.zeros_like(params),
                           velocities=optax.tree.zeros_like(params))

  def update_fn(grads, state, params=None):
    del params
    count = optax.safe_increment(state.count)
    t = count.astype(jnp.float32)
    u_product = state.u_product * beta_1 * (1.0 - 0.5 * jnp.power(0.96, t))
    # Keras subtracts the betas in the param dtype here (unlike in Adam),
    # which matters in the last bits: 1 - float32(0.999) != float32(0.001).
    one_minus = lambda beta, x: 1 - jnp.asarray(beta, x.dtype)
    new_m = jax.tree.map(lambda m, g: m + (g - m) * one_minus(beta_1, g),
                         state.momentums, grads)
    new_v = jax.tree.map(
        lambda v, g: v + (jnp.square(g) - v) * one_minus(beta_2, g),
        state.velocities, grads)

    def step(g, m, v):
      dtype = g.dtype
      local_step = count.astype(dtype)
      decay = jnp.asarray(0.96, dtype)
      b1 = jnp.asarray(beta_1, dtype)
      u_t = b1 * (1.0 - 0.5 * jnp.power(decay, local_step))
      u_t_1 = b1 * (1.0 - 0.5 * jnp.power(decay, local_step + 1))
      u_product_t = u_product.astype(dtype)
      u_product_t_1 = u_product_t * u_t_1
      beta_2_power = jnp.power(jnp.asarray(beta_2, dtype), local_step)
      m_hat = (u_t_1 * m) / (1 - u_product_t_1) + ((1 - u_t) * g) / (
          1 - u_product_t)
      v_hat = v / (1 - beta_2_power)
      return -((m_hat * jnp.asarray(learning_rate, dtype)) /
               (jnp.sqrt(v_hat) + epsilon))

    updates = jax.tree.map(step, grads, new_m, new_v)
    return updates, KerasNadamState(count, u_product, new_m, new_v)

  return optax.GradientTransformation(init_fn, update_fn)


class Nadam(Optimizer):
  """Nadam, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    beta_1: Base decay rate of the first moment.
    beta_2: Decay rate of the second moment.
    epsilon: Added to `sqrt(v_hat)` (Keras default 1e-7).
    **kwargs: The common arguments of `Optimizer`.

  >>> Nadam().get_config()["beta_1"]
  0.9
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

  _rule = staticmethod(nadam_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"beta_1": self.beta_1, "beta_2": self.beta_2,
            "epsilon": self.epsilon}
