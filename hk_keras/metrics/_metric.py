"""The `Metric` base: pure `init/update/result/merge` plus a Keras facade."""

import functools
import re
from typing import Any, Callable, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp

from ..losses._loss import standardize_dtype
from ._stateless import StatelessMetric

MetricState = Any
"""A pytree of `jnp` arrays (for most metrics a dict such as
`{"total": f32[], "count": f32[]}`)."""


def to_snake_case(name: str) -> str:
  """`"SparseCategoricalAccuracy"` -> `"sparse_categorical_accuracy"`."""
  name = re.sub(r"\W+", "", name)
  name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
  return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class PureMetric(NamedTuple):
  """A metric as four pure functions, like `optax.GradientTransformation`.

  Attributes:
    init: `() -> state`.
    update: `(state, *inputs, sample_weight=None) -> state`.
    result: `(state) -> array`.
    merge: `(state_a, state_b) -> state` (combines replicas or shards).
  """
  init: Callable[[], MetricState]
  update: Callable[..., MetricState]
  result: Callable[[MetricState], jax.Array]
  merge: Callable[[MetricState, MetricState], MetricState]


def _result_defaults_to_held_state(result):
  """Lets `result(state)` also be called as `result()` on the facade."""

  @functools.wraps(result)
  def wrapper(self, state=None):
    if state is None:
      state = self.state
    return result(self, state)

  wrapper._hk_keras_wrapped = True  # pylint: disable=protected-access
  return wrapper


class Metric(StatelessMetric):
  """Base class of metrics: a pure state machine with a stateful facade.

  The pure interface (for compiled train steps and research code):

  * `init() -> state`: a pytree of zero-initialised arrays.
  * `update(state, y_true, y_pred, sample_weight=None) -> state`: pure and
    jit-able (`Mean`/`Sum` take `values` instead of `y_true, y_pred`).
  * `result(state) -> array`: the metric value.
  * `merge(state_a, state_b) -> state`: the sum of two states, for combining
    replicas or batches computed apart.

  The Keras facade holds a state on the object: `update_state(...)`,
  `result()`, `reset_state()`, and `metric(y_true, y_pred)` (update, then
  return the result). Keras 3's stateless API works on the state's leaves:
  `variables`, `stateless_update_state(variables, ...)`,
  `stateless_result(variables)` and `stateless_reset_state()`.

  Subclasses implement `init`, `update` and `result(state)`; `result()`
  without a state then reads the held one automatically.

  Args:
    name: the metric name; defaults to the snake-cased class name.
    dtype: dtype of the state and result; defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> class Maximum(Metric):
    ...   def init(self):
    ...     return jnp.array(-jnp.inf)
    ...   def update(self, state, values, sample_weight=None):
    ...     return jnp.maximum(state, jnp.max(values))
    ...   def result(self, state):
    ...     return state
    ...   def merge(self, a, b):
    ...     return jnp.maximum(a, b)
    >>> m = Maximum()
    >>> m.update_state(jnp.array([1., 5., 2.]))
    >>> float(m.result())
    5.0
  """

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    from . import _keras_style  # pylint: disable=g-import-not-at-top
    if _keras_style.is_keras_style(cls, Metric):
      _keras_style.adapt(cls, Metric)  # variables + update_state (Keras)
      return
    result = cls.__dict__.get("result")
    if result is not None and not getattr(result, "_hk_keras_wrapped", False):
      cls.result = _result_defaults_to_held_state(result)

  def __init__(self, name: Optional[str] = None, dtype: Optional[str] = None):
    self.name = name or to_snake_case(type(self).__name__)
    self.dtype = standardize_dtype(dtype)
    self._state = None

  # --- The pure interface. -------------------------------------------------

  def init(self) -> MetricState:
    """Returns a fresh state."""
    raise NotImplementedError(f"{type(self).__name__} must implement init().")

  def update(self, state: MetricState, *args, **kwargs) -> MetricState:
    """Returns the state after accumulating one batch (pure)."""
    raise NotImplementedError(
        f"{type(self).__name__} must implement update(state, ...).")

  def result(self, state: Optional[MetricState] = None) -> jax.Array:
    """Returns the metric value of `state` (the held state if omitted)."""
    raise NotImplementedError(
        f"{type(self).__name__} must implement result(state).")

  def merge(self, state_a: MetricState, state_b: MetricState) -> MetricState:
    """Combines two states by summing them leaf by leaf."""
    return jax.tree_util.tree_map(jnp.add, state_a, state_b)

  def as_pure(self) -> PureMetric:
    """Returns the four pure functions as a `PureMetric` NamedTuple."""
    return PureMetric(self.init, self.update, self.result, self.merge)

  # --- Keras-style variables (see _keras_style.py). ------------------------

  def add_variable(self, shape=(), initializer="zeros", dtype=None,
                   aggregation="sum", name=None):
    """A Keras-style metric variable, created in `__init__`; its values are
    this metric's state (see `_keras_style`)."""
    from . import _keras_style  # pylint: disable=g-import-not-at-top
    return _keras_style.add_variable(self, shape, initializer, dtype,
                                     aggregation, name)

  def add_weight(self, shape=(), initializer="zeros", dtype=None,
                 aggregation="sum", name=None):
    """The older name of `add_variable`."""
    return self.add_variable(shape, initializer, dtype, aggregation, name)

  # --- The stateful Keras facade. ------------------------------------------

  @property
  def state(self) -> MetricState:
    """The state held by the facade (created on first use)."""
    if self._state is None:
      self._state = self.init()
    return self._state

  @state.setter
  def state(self, value: MetricState):
    self._state = value

  def update_state(self, *args, **kwargs) -> None:
    """Accumulates a batch into the held state (Keras's `update_state`)."""
    self._state = self.update(self.state, *args, **kwargs)

  def reset_state(self) -> None:
    """Forgets everything accumulated so far."""
    self._state = None

  def __call__(self, *args, **kwargs) -> jax.Array:
    """Updates the held state with one batch and returns the new result."""
    self.update_state(*args, **kwargs)
    return self.result()

  # --- Config. -------------------------------------------------------------

  def get_config(self) -> Dict[str, Any]:
    """Returns the JSON-able constructor arguments."""
    return {"name": self.name, "dtype": self.dtype}

  @classmethod
  def from_config(cls, config: Dict[str, Any]):
    """Rebuilds a metric from `get_config()`'s output."""
    return cls(**config)

  def __repr__(self):
    return f"<{type(self).__name__} name={self.name}>"
