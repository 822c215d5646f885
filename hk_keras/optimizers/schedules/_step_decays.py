"""ExponentialDecay, InverseTimeDecay and PiecewiseConstantDecay."""

from typing import Any, Dict, Sequence

import jax
import jax.numpy as jnp

from ._base import LearningRateSchedule, as_float, check_positive


class ExponentialDecay(LearningRateSchedule):
  """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

  With `staircase=True` the exponent is floored, so the rate drops in
  steps every `decay_steps` updates.

  Args:
    initial_learning_rate: The rate at step 0.
    decay_steps: Positive number of steps per factor of `decay_rate`.
    decay_rate: The decay factor.
    staircase: Floor `step / decay_steps`.
    name: Name kept in the config.

  Raises:
    ValueError: If `decay_steps` is not positive.

  >>> round(float(ExponentialDecay(0.1, 10, 0.5)(20)), 6)
  0.025
  """

  def __init__(self, initial_learning_rate: float, decay_steps: int,
               decay_rate: float, staircase: bool = False,
               name: str = "ExponentialDecay"):
    check_positive("decay_steps", decay_steps)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.decay_rate = decay_rate
    self.staircase = staircase
    self.name = name

  def __call__(self, step: Any) -> jax.Array:
    p = as_float(step) / jnp.float32(self.decay_steps)
    if self.staircase:
      p = jnp.floor(p)
    return jnp.float32(self.initial_learning_rate) * jnp.power(
        jnp.float32(self.decay_rate), p)

  def get_config(self) -> Dict[str, Any]:
    return {"initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
            "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
  """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

  Args:
    initial_learning_rate: The rate at step 0.
    decay_steps: Positive step scale.
    decay_rate: The decay coefficient.
    staircase: Floor `step / decay_steps`.
    name: Name kept in the config.

  Raises:
    ValueError: If `decay_steps` is not positive.

  >>> float(InverseTimeDecay(1.0, 1, 0.5)(2))
  0.5
  """

  def __init__(self, initial_learning_rate: float, decay_steps: float,
               decay_rate: float, staircase: bool = False,
               name: str = "InverseTimeDecay"):
    check_positive("decay_steps", decay_steps)
    self.initial_learning_rate = initial_learning_rate
    self.decay_steps = decay_steps
    self.decay_rate = decay_rate
    self.staircase = staircase
    self.name = name

  def __call__(self, step: Any) -> jax.Array:
    p = as_float(step) / jnp.float32(self.decay_steps)
    if self.staircase:
      p = jnp.floor(p)
    return jnp.float32(self.initial_learning_rate) / (
        1.0 + jnp.float32(self.decay_rate) * p)

  def get_config(self) -> Dict[str, Any]:
    return {"initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
            "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
  """`values[i]` while `boundaries[i-1] < step <= boundaries[i]`.

  That is `values[0]` up to and including `boundaries[0]`, ..., and
  `values[-1]` after `boundaries[-1]`.

  Args:
    boundaries: Strictly increasing step numbers.
    values: One more value than boundaries.
    name: Name kept in the config.

  Raises:
    ValueError: If `len(values) != len(boundaries) + 1`.

  >>> sched = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
  >>> [float(sched(s)) for s in (10, 11, 21)]
  [1.0, 0.5, 0.10000000149011612]
  """

  def __init__(self, boundaries: Sequence[float], values: Sequence[float],
               name: str = "PiecewiseConstant"):
    if len(boundaries) != len(values) - 1:
      raise ValueError(
          "The length of boundaries should be 1 less than the length of "
          f"values. Received: boundaries={list(boundaries)} of length "
          f"{len(boundaries)}, and values={list(values)} of length "
          f"{len(values)}.")
    self.boundaries = list(boundaries)
    self.values = list(values)
    self.name = name

  def __call__(self, step: Any) -> jax.Array:
    # Index of the interval: how many boundaries the step has passed.
    passed = jnp.sum(jnp.asarray(step) > jnp.asarray(self.boundaries))
    return jnp.asarray(self.values, jnp.float32)[passed]

  def get_config(self) -> Dict[str, Any]:
    return {"boundaries": self.boundaries, "values": self.values,
            "name": self.name}
