"""Adadelta with Keras 3's numerics (the learning rate scales the delta)."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasAdadeltaState(NamedTuple):
  """Running averages of squared gradients and of squared deltas."""
  accumulated_grads: Any
  accumulated_delta_vars: Any


def adadelta_rule(learning_rate: Any, rho: float = 0.95,
                  epsilon: float = 1e-7) -> optax.GradientTransformation:
  """One Keras Adadelta step:
  `delta = -sqrt(acc_delta + eps) / sqrt(acc_grad + eps) * g`,
  `param += lr * delta`.
  """
  def init_fn(params):
    return KerasAdadeltaState(optax.tree.zeros_like(params),
                              optax.tree.zeros_like(params))

  def update_fn(grads, state, params=None):
    del params
    rms = lambda x: jnp.sqrt(x + epsilon)
    new_acc_g = jax.tree.map(lambda a, g: rho * a + (1 - rho) * jnp.square(g),
                             state.accumulated_grads, grads)
    deltas = jax.tree.map(lambda ad, g, ag: -((rms(ad) * g) / rms(ag)),
                          state.accumulated_delta_vars, grads, new_acc_g)
    new_acc_d = jax.tree.map(
        lambda ad, d: rho * ad + (1 - rho) * jnp.square(d),
        state.accumulated_delta_vars, deltas)
    updates = jax.tree.map(
        lambda d: jnp.asarray(learning_rate, d.dtype) * d, deltas)
    return updates, KerasAdadeltaState(new_acc_g, new_acc_d)

  return optax.GradientTransformation(init_fn, update_fn)


class Adadelta(Optimizer):
  """Adadelta, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001
      (Keras's default; the original paper uses 1.0).
    rho: Decay rate of both running averages.
    epsilon: Added inside the square roots (Keras default 1e-7).
    **kwargs: The common arguments of `Optimizer`.

  >>> Adadelta().get_config()["rho"]
  0.95
  """

  def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.95,
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
    self.rho = rho
    self.epsilon = epsilon

  _rule = staticmethod(adadelta_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"rho": self.rho, "epsilon": self.epsilon}
