"""Projections applied to weights after each optimizer update (Keras 3's
`keras.constraints`)."""
import jax.numpy as jnp

from .._core._object_lookup import ConfigObject

_EPSILON = 1e-7  # Keras's backend.epsilon()


def _norms(w, axis):
  return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


def _axis(axis):
  return list(axis) if isinstance(axis, (list, tuple)) else axis


class Constraint(ConfigObject):
  """Base class of constraints: `new_weight = constraint(weight)`.

  `fit` applies a weight's constraint right after each optimizer update.
  Subclass it and implement `__call__(w)` and `get_config()`; any callable
  `fn(w) -> w` also works where a constraint is accepted.
  """

  def __call__(self, w):
    return w



class MaxNorm(Constraint):
  """Rescales weight vectors (along `axis`) whose norm exceeds `max_value`."""

  def __init__(self, max_value=2, axis=0):
    self.max_value = max_value
    self.axis = axis

  def __call__(self, w):
    w = jnp.asarray(w)
    norms = _norms(w, _axis(self.axis))
    desired = jnp.clip(norms, 0, self.max_value)
    return w * (desired / (_EPSILON + norms))

  def get_config(self):
    return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
  """Moves norms (along `axis`) into `[min_value, max_value]` at `rate`."""

  def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
    self.min_value = min_value
    self.max_value = max_value
    self.rate = rate
    self.axis = axis

  def __call__(self, w):
    w = jnp.asarray(w)
    norms = _norms(w, _axis(self.axis))
    desired = (self.rate * jnp.clip(norms, self.min_value, self.max_value) +
               (1 - self.rate) * norms)
    return w * (desired / (_EPSILON + norms))

  def get_config(self):
    return {"min_value": self.min_value, "max_value": self.max_value,
            "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
  """Sets negative weights to zero."""

  def __call__(self, w):
    return jnp.maximum(jnp.asarray(w), 0)


class UnitNorm(Constraint):
  """Scales weight vectors (along `axis`) to unit norm."""

  def __init__(self, axis=0):
    self.axis = axis

  def __call__(self, w):
    w = jnp.asarray(w)
    return w / (_EPSILON + _norms(w, _axis(self.axis)))

  def get_config(self):
    return {"axis": self.axis}
