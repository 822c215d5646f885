"""PolynomialDecay and CosineDecay (with optional linear warmup)."""

import math
from typing import Any, Dict, Optional

import jax
import jax.numpy as jnp

from ._base import LearningRateSchedule, as_float, check_positive


class PolynomialDecay(LearningRateSchedule):
  """Polynomial decay from `initial_learning_rate` to `end_learning_rate`.

  `(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power +
  end`; with `cycle=True` the horizon grows to the first multiple of
  `decay_steps` not below the step instead of clamping.

  Args:
    initial_learning_rate: The rate at step 0.
    decay_steps: Positive number of decay steps.
    end_learning_rate: The final rate.
    power: The polynomial power.
    cycle: Restart beyond `decay_steps` instead of staying at the end rate.
    name: Name kept in the config.

  Raises:
    ValueError: If `decay_steps` is not positive.

  >>> float(PolynomialDecay(1.0, 10, end_learning_rate=0.0)(5))
  0.5
  """

  def __init__(self, initial_learning_rate: float, decay_steps: int,
               end_learning_rate: float = 0.0001, power: float = 1.0,
               cycle: bool = False, name: str = "PolynomialDecay"):
    check_positive("decay_steps", decay_steps)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.end_learning_rate = end_learning_rate
    self.power = power
    self.cycle = cycle
    self.name = name

  def __call__(self, step: Any) -> jax.Array:
    step = as_float(step)
    horizon = jnp.float32(self.decay_steps)
    if self.cycle:
      multiplier = jnp.where(step == 0, 1.0,
                             jnp.ceil(step / jnp.float32(self.decay_steps)))
      horizon = horizon * multiplier
    else:
      step = jnp.minimum(step, horizon)
    p = step / horizon
    start = jnp.float32(self.initial_learning_rate)
    end = jnp.float32(self.end_learning_rate)
    return (start - end) * jnp.power(1 - p, jnp.float32(self.power)) + end

  def get_config(self) -> Dict[str, Any]:
    return {"initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate, "power": self.power,
            "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
  """Cosine decay to `alpha` times the start rate, after an optional warmup.

  Without `warmup_target`: `lr * ((1 - alpha) * 0.5 * (1 + cos(pi * s /
  decay_steps)) + alpha)` with `s = min(step, decay_steps)`. With it, the
  rate first rises linearly from `initial_learning_rate` to `warmup_target`
  over `warmup_steps`, then decays from `warmup_target` as above.

  Args:
    initial_learning_rate: The rate at step 0.
    decay_steps: Positive number of decay steps.
    alpha: Final rate as a fraction of the decay's start rate.
    name: Name kept in the config.
    warmup_target: Rate reached at the end of warmup, or None for no warmup.
    warmup_steps: Number of warmup steps.

  Raises:
    ValueError: If `decay_steps` is not positive.

  >>> round(float(CosineDecay(1.0, 10)(5)), 6)
  0.5
  """

  def __init__(self, initial_learning_rate: float, decay_steps: int,
               alpha: float = 0.0, name: str = "CosineDecay",
               warmup_target: Optional[float] = None, warmup_steps: int = 0):
    check_positive("decay_steps", decay_steps)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.alpha = alpha
    self.name = name
    self.warmup_target = warmup_target
    self.warmup_steps = warmup_steps

  def _decay(self, step, start_lr):
    fraction = step / jnp.float32(self.decay_steps)
    cosine = 0.5 * (1.0 + jnp.cos(jnp.float32(math.pi) * fraction))
    return start_lr * ((1 - self.alpha) * cosine + self.alpha)

  def __call__(self, step: Any) -> jax.Array:
    step = as_float(step)
    initial = jnp.float32(self.initial_learning_rate)
    decay_steps = jnp.float32(self.decay_steps)
    if self.warmup_target is None:
      return self._decay(jnp.minimum(step, decay_steps), initial)
    target = jnp.float32(self.warmup_target)
    warmup_steps = jnp.float32(self.warmup_steps)
    step = jnp.minimum(step, decay_steps + warmup_steps)
    warming = (target - initial) * (step / warmup_steps) + initial
    decaying = self._decay(step - warmup_steps, target)
    return jnp.where(step < warmup_steps, warming, decaying)

  def get_config(self) -> Dict[str, Any]:
    return {"initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps, "alpha": self.alpha,
            "name": self.name, "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps}
