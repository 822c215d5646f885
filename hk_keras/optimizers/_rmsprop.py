"""RMSprop with Keras 3's epsilon placement, centering and momentum."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasRMSpropState(NamedTuple):
  """Mean squared gradients, momentum buffers and (centered) mean gradients."""
  velocities: Any
  momentums: Any
  average_gradients: Any


def rmsprop_rule(learning_rate: Any, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False
                 ) -> optax.GradientTransformation:
  """One Keras RMSprop step as an optax transform.

  Keras puts epsilon inside the square root,
  `increment = lr * g / sqrt(v + eps)` (with `v - mean_g**2 + eps` when
  centered), and its momentum buffer accumulates increments that already
  include the learning rate: `m = momentum * m + increment`.
  """
  def init_fn(params):
    return KerasRMSpropState(
        velocities=optax.tree.zeros_like(params),
        momentums=optax.tree.zeros_like(params) if momentum > 0 else None,
        average_gradients=(optax.tree.zeros_like(params) if centered
                           else None))

  def update_fn(grads, state, params=None):
    del params
    new_v = jax.tree.map(lambda v, g: rho * v + (1 - rho) * jnp.square(g),
                         state.velocities, grads)
    if centered:
      new_avg = jax.tree.map(lambda a, g: rho * a + (1 - rho) * g,
                             state.average_gradients, grads)
      denominators = jax.tree.map(lambda v, a: v - jnp.square(a) + epsilon,
                                  new_v, new_avg)
    else:
      new_avg = None
      denominators = jax.tree.map(lambda v: v + epsilon, new_v)
    increments = jax.tree.map(
        lambda g, d: (jnp.asarray(learning_rate, g.dtype) * g) / jnp.sqrt(d),
        grads, denominators)
    if momentum > 0:
      new_m = jax.tree.map(lambda m, i: momentum * m + i, state.momentums,
                           increments)
      updates = jax.tree.map(jnp.negative, new_m)
    else:
      new_m = None
      updates = jax.tree.map(jnp.negative, increments)
    return updates, KerasRMSpropState(new_v, new_m, new_avg)

  return optax.GradientTransformation(init_fn, update_fn)


class RMSprop(Optimizer):
  """RMSprop, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    rho: Decay of the moving average of squared gradients.
    momentum: Momentum factor (0 disables the momentum buffer).
    epsilon: Added inside the square root (Keras default 1e-7).
    centered: Normalise by the estimated variance instead of the raw second
      moment.
    **kwargs: The common arguments of `Optimizer`.

  >>> RMSprop().get_config()["rho"]
  0.9
  """

  def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.9,
               momentum: float = 0.0, epsilon: float = 1e-7,
               centered: bool = False,
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
    self.rho = rho
    self.momentum = momentum
    self.epsilon = epsilon
    self.centered = centered

  _rule = staticmethod(rmsprop_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"rho": self.rho, "momentum": self.momentum,
            "epsilon": self.epsilon, "centered": self.centered}
