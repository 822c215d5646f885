"""`model.metrics` as Keras 3 lists it: the loss tracker, the compiled
metrics, then metrics assigned as attributes of the model.

The first two are views of the engine's metric state `((total, count),
compiled metric states)`: their states have exactly that layout, so the
leaves of a train state's metrics are `model.metrics_variables`.
"""
import jax.numpy as jnp

from .._core import _replica
from ..metrics._metric import Metric
from ..metrics._reduction import reduce_to_samplewise_values


class LossTracker(Metric):
  """Keras's `Mean(name="loss")` of a compiled model; state `(total, count)`."""

  def __init__(self):
    super().__init__(name="loss")

  def init(self):
    return (jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32))

  def update(self, state, values, sample_weight=None):
    values, sample_weight = reduce_to_samplewise_values(
        values, sample_weight, jnp.mean, jnp.float32)
    count = (jnp.asarray(values.size, jnp.float32) if sample_weight is None
             else jnp.sum(sample_weight))
    return (state[0] + jnp.sum(values), state[1] + count)

  def result(self, state):
    total, count = state
    return jnp.where(count == 0, 0.0, total / jnp.where(count == 0, 1.0,
                                                       count))


class CompileMetrics(Metric):
  """Keras's `compile_metrics`: all metrics given to `compile`, updated
  together; `result` is the dict of their results."""

  def __init__(self, live):
    super().__init__(name="compile_metrics")
    self._live = live

  def init(self):
    return self._live.options.objective.init_metrics()

  def update(self, state, y_true, y_pred, sample_weight=None):
    return self._live.options.objective.update_metrics(
        state, y_true, y_pred, sample_weight, _replica.sample_mask())

  def result(self, state):
    return self._live.options.objective.metric_results(state)


def keras_metrics(model):
  """Keras 3's `model.metrics` list (see the module docstring)."""
  out = []
  if getattr(model, "compiled", False):
    live = model._live  # pylint: disable=protected-access
    trackers = model.__dict__.get("_keras_trackers")
    if trackers is None or trackers[0] is not live:
      trackers = (live, LossTracker(), CompileMetrics(live))
      model.__dict__["_keras_trackers"] = trackers
    out += list(trackers[1:])
  for value in list(vars(model).values()):
    if isinstance(value, Metric) and all(
        value is not m for m in out):
      out.append(value)
  return out
