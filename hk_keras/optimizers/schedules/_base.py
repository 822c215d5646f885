"""The `LearningRateSchedule` base class."""

from typing import Any, Dict

import jax
import jax.numpy as jnp


class LearningRateSchedule:
  """A serializable learning-rate schedule: a callable of the step count.

  Subclasses implement `__call__(step)` (a pure jnp function, traceable
  under jit) and `get_config()`. Any instance can be passed as an
  optimizer's `learning_rate`; it is evaluated at the number of updates
  applied so far (0 for the first update), as in Keras.

  >>> class Halving(LearningRateSchedule):
  ...   def __init__(self, lr):
  ...     self.lr = lr
  ...   def __call__(self, step):
  ...     return self.lr * 0.5 ** jnp.asarray(step, jnp.float32)
  ...   def get_config(self):
  ...     return {"lr": self.lr}
  >>> float(Halving(1.0)(2))
  0.25
  """

  def __call__(self, step: Any) -> jax.Array:
    raise NotImplementedError(
        f"{type(self).__name__} must implement `__call__(step)`.")

  def get_config(self) -> Dict[str, Any]:
    raise NotImplementedError(
        f"{type(self).__name__} must implement `get_config()` to be saved.")

  @classmethod
  def from_config(cls, config: Dict[str, Any]) -> "LearningRateSchedule":
    """Builds the schedule from `get_config`'s output."""
    return cls(**config)

  def __repr__(self) -> str:
    try:
      args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
    except NotImplementedError:
      args = "..."
    return f"{type(self).__name__}({args})"


def as_float(step: Any) -> jax.Array:
  """The step count as float32, as Keras casts it."""
  return jnp.asarray(step).astype(jnp.float32)


def check_positive(name: str, value: Any) -> None:
  if not value > 0:
    raise ValueError(f"Argument `{name}` must be > 0. Received: "
                     f"{name}={value!r}")
