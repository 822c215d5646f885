"""Adam and AdamW with Keras 3's epsilon placement and bias correction."""

from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp
import optax

from ._base import LearningRate, Optimizer


class KerasAdamState(NamedTuple):
  """Step count, first/second moments and (amsgrad) max second moments."""
  count: jax.Array
  momentums: Any
  velocities: Any
  velocity_hats: Any


def adam_rule(learning_rate: Any, beta_1: float = 0.9, beta_2: float = 0.999,
              epsilon: float = 1e-7, amsgrad: bool = False
              ) -> optax.GradientTransformation:
  """One Keras Adam step as an optax transform.

  Keras applies the bias correction to the step size and adds epsilon to the
  uncorrected `sqrt(v)`:
  `param -= lr * sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + eps)`
  (optax's `adam` adds epsilon to the corrected `sqrt(v_hat)` instead).
  """
  def init_fn(params):
    # Separate buffers for each slot: a state whose leaves share a buffer
    # cannot be donated to a jitted update (XLA refuses to donate twice).
    return KerasAdamState(
        count=jnp.zeros([], jnp.int32),
        momentums=optax.tree.zeros_like(params),
        velocities=optax.tree.zeros_like(params),
        velocity_hats=optax.tree.zeros_like(params) if amsgrad else None)

  def update_fn(grads, state, params=None):
    del params
    count = optax.safe_increment(state.count)

    new_m = jax.tree.map(lambda m, g: m + (g - m) * (1 - beta_1),
                         state.momentums, grads)
    new_v = jax.tree.map(lambda v, g: v + (jnp.square(g) - v) * (1 - beta_2),
                         state.velocities, grads)
    if amsgrad:
      new_v_hat = jax.tree.map(jnp.maximum, state.velocity_hats, new_v)
      denominators = new_v_hat
    else:
      new_v_hat = None
      denominators = new_v

    def step(m, v):
      t = count.astype(m.dtype)
      lr = jnp.asarray(learning_rate, m.dtype)
      alpha = lr * jnp.sqrt(1 - jnp.power(jnp.asarray(beta_2, m.dtype), t)) / (
          1 - jnp.power(jnp.asarray(beta_1, m.dtype), t))
      return -((m * alpha) / (jnp.sqrt(v) + epsilon))

    updates = jax.tree.map(step, new_m, denominators)
    return updates, KerasAdamState(count, new_m, new_v, new_v_hat)

  return optax.GradientTransformation(init_fn, update_fn)


class Adam(Optimizer):
  """Adam, with Keras 3's update numerics.

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    beta_1: Decay rate of the first-moment estimate.
    beta_2: Decay rate of the second-moment estimate.
    epsilon: Small constant added to `sqrt(v)` (Keras default 1e-7; optax's
      default is 1e-8 and placed differently).
    amsgrad: Whether to use the AMSGrad variant.
    **kwargs: The common arguments of `Optimizer` (weight_decay, clipnorm,
      clipvalue, global_clipnorm, loss_scale_factor,
      gradient_accumulation_steps, name, ...).

  >>> opt = Adam(learning_rate=1e-3)
  >>> state = opt.init({"w": jnp.zeros(2)})
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               beta_1: float = 0.9, beta_2: float = 0.999,
               epsilon: float = 1e-7, amsgrad: bool = False,
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
    self.amsgrad = amsgrad

  _rule = staticmethod(adam_rule)

  def _rule_config(self) -> Dict[str, Any]:
    return {"beta_1": self.beta_1, "beta_2": self.beta_2,
            "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
  """Adam with decoupled weight decay (Keras 3's AdamW, default decay 0.004).

  Each step first shrinks every param by `param * weight_decay * lr`, then
  applies the Adam step, as Keras 3 does (optax's `adamw` scales the decay by
  the learning rate the same way but uses optax's Adam numerics and a
  default decay of 1e-4).

  Args:
    learning_rate: Float or schedule (callable of step). Defaults to 0.001.
    weight_decay: The decay coefficient; must be a float.
    beta_1: See `Adam`.
    beta_2: See `Adam`.
    epsilon: See `Adam`.
    amsgrad: See `Adam`.
    **kwargs: The common arguments of `Optimizer`.

  Raises:
    ValueError: If `weight_decay` is None.

  >>> AdamW().weight_decay
  0.004
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               weight_decay: float = 0.004, beta_1: float = 0.9,
               beta_2: float = 0.999, epsilon: float = 1e-7,
               amsgrad: bool = False, clipnorm: Optional[float] = None,
               clipvalue: Optional[float] = None,
               global_clipnorm: Optional[float] = None,
               use_ema: bool = False, ema_momentum: float = 0.99,
               ema_overwrite_frequency: Optional[int] = None,
               loss_scale_factor: Optional[float] = None,
               gradient_accumulation_steps: Optional[int] = None,
               name: Optional[str] = None):
    if weight_decay is None:
      raise ValueError(
          "Argument `weight_decay` must be a float. Received: "
          "weight_decay=None")
    super().__init__(
        learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
        epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
        clipnorm=clipnorm, clipvalue=clipvalue,
        global_clipnorm=global_clipnorm, use_ema=use_ema,
        ema_momentum=ema_momentum,
        ema_overwrite_frequency=ema_overwrite_frequency,
        loss_scale_factor=loss_scale_factor,
        gradient_accumulation_steps=gradient_accumulation_steps, name=name)
