"""SGD with Keras 3's momentum and Nesterov formulas."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasSGDState(NamedTuple):
  """Momentum buffers (None when momentum is 0)."""
  momentums: Any


def sgd_rule(learning_rate: Any, momentum: float = 0.0,
             nesterov: bool = False) -> optax.GradientTransformation:
  """One Keras SGD step as an optax transform.

  Keras keeps `m = momentum * m - lr * g` (the learning rate inside the
  buffer) and adds `m` to the param, or `momentum * m - lr * g` with
  Nesterov; without momentum the update is `-lr * g`.
  """
  def init_fn(params):
    if momentum == 0:
      return KerasSGDState(momentums=None)
    return KerasSGDState(momentums=optax.tree.zeros_like(params))

  def update_fn(grads, state, params=None):
    del params
    lr = lambda g: jnp.asarray(learning_rate, g.dtype)
    if momentum == 0:
      return jax.tree.map(lambda g: -(g * lr(g)), grads), state
    new_m = jax.tree.map(lambda m, g: m * momentum - g * lr(g),
                         state.momentums, grads)
    if nesterov:
      updates = jax.tree.map(lambda m, g: m * momentum - g * lr(g),
                             new_m, grads)
    else:
      updates = new_m
    return updates, KerasSGDState(momentums=new_m)

  return optax.GradientTransformation(init_fn, update_fn)


class SGD(Optimizer):
  """Gradient descent with optional (Nesterov) momentum, as Keras 3's SGD.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.01.
    momentum: Float in [0, 1]; 0 means plain gradient descent.
    nesterov: Whether to use Nesterov momentum.
    **kwargs: The common arguments of `Optimizer` (weight_decay, clipnorm,
      clipvalue, global_clipnorm, loss_scale_factor,
      gradient_accumulation_steps, name, ...).

  Raises:
    ValueError: If momentum is outside [0, 1].

  >>> opt = SGD(learning_rate=0.1, momentum=0.9)
  >>> state = opt.init({"w": jnp.zeros(2)})
  """

  def __init__(self, learning_rate: LearningRate = 0.01,
               momentum: float = 0.0, nesterov: bool = False,
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
    if (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
        or not 0 <= momentum <= 1):
      raise ValueError(
          f"`momentum` must be a float in [0, 1]. Received: momentum="
          f"{momentum!r}")
    self.momentum = float(momentum)
    self.nesterov = bool(nesterov)

  _rule = staticmethod(sgd_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"momentum": self.momentum, "nesterov": self.nesterov}
