"""Keras-style metric subclasses on top of the pure metric interface.

Keras 3 code writes a metric as variables plus methods that assign them:
`self.tp = self.add_variable(shape=(), initializer="zeros", name="tp")` in
`__init__`, `update_state(y_true, y_pred, sample_weight=None)` calling
`self.tp.assign_add(...)`, `result()` returning a value and optionally
`reset_state()`. hk_keras metrics are pure `init/update/result(state)`
functions (the states live in the compiled train state), so such a class is
adapted: its variables' values are the metric state, a dict keyed by
variable name; `update(state, ...)` binds the variables to `state`, runs the
class's own `update_state` (traced with the step) and returns the values
the variables hold afterwards; `result(state)` runs its `result()` the same
way. The Keras facade (`update_state`, `result()`, `reset_state`) works on
the held state as for every hk_keras metric.
"""
import functools

import jax.numpy as jnp
import numpy as np

from ..layers._weight_view import WeightView, unwrap


class MetricVariable(WeightView):
  """A variable of a Keras-style metric: its value in the current state."""

  __slots__ = ()

  @property
  def path(self):
    return f"{self._layer.name}/{self._name}"

  @property
  def trainable(self) -> bool:
    return False

  def assign(self, value):
    value = jnp.asarray(unwrap(value), self._value.dtype)
    if tuple(value.shape) != self.shape:
      raise ValueError(
          f"Cannot assign a value of shape {tuple(value.shape)} to metric "
          f"variable {self.path!r} of shape {self.shape}.")
    self._value = value
    return self


def add_variable(metric, shape=(), initializer="zeros", dtype=None,
                 aggregation="sum", name=None):
  """`Metric.add_variable` (see the module docstring)."""
  from .. import initializers  # pylint: disable=g-import-not-at-top
  if aggregation not in ("sum", "mean", None):
    raise ValueError(
        f"Metric {metric.name!r}: add_variable(aggregation={aggregation!r}) "
        "is not supported; replicas' metric states are summed, so use "
        "aggregation='sum'.")
  variables = metric.__dict__.setdefault("_keras_variables", [])
  name = name or f"variable_{len(variables)}"
  if any(v.name == name for v in variables):
    raise ValueError(f"Metric {metric.name!r} already has a variable named "
                     f"{name!r}; give each add_variable a unique name.")
  shape = tuple(int(d) for d in (shape or ()))
  dtype = jnp.dtype(dtype or metric.dtype)
  value = jnp.asarray(initializers.get(initializer)(shape, dtype), dtype)
  variable = MetricVariable(metric, "state", name, value)
  variables.append(variable)
  # Kept on the host: every init() makes fresh arrays (the engine donates
  # the train state holding them).
  metric.__dict__.setdefault("_keras_initial", {})[name] = np.asarray(value)
  return variable


def is_keras_style(cls, base) -> bool:
  """A subclass that defines `update_state` but not the pure `update`."""
  return "update_state" in cls.__dict__ and cls.update is base.update


def adapt(cls, base):
  """Turns the Keras-style methods of `cls` into the pure interface."""
  user_update = cls.__dict__["update_state"]
  user_result = cls.__dict__.get("result") or getattr(cls, "_keras_result",
                                                      None)
  user_reset = cls.__dict__.get("reset_state")
  cls._keras_update_state = user_update
  if user_result is not None:
    cls._keras_result = user_result

  def init(self):
    return {k: jnp.asarray(v)
            for k, v in self.__dict__.get("_keras_initial", {}).items()}

  def update(self, state, *args, **kwargs):
    _bind(self, state)
    type(self)._keras_update_state(self, *args, **kwargs)
    return _values(self)

  def result(self, state=None):
    _bind(self, self.state if state is None else state)
    return unwrap(type(self)._keras_result(self))
  result._hk_keras_wrapped = True  # pylint: disable=protected-access

  cls.init = init
  cls.update = update
  cls.result = result
  cls.update_state = base.update_state
  if user_reset is not None:
    @functools.wraps(user_reset)
    def reset_state(self):
      _bind(self, self.state)
      user_reset(self)
      self._state = _values(self)
    cls.reset_state = reset_state


def _bind(metric, state):
  for v in metric.__dict__.get("_keras_variables", ()):
    v._value = state[v.name]  # pylint: disable=protected-access


def _values(metric):
  return {v.name: v.value for v in metric.__dict__.get("_keras_variables", ())}
