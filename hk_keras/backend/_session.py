"""`clear_session`, `get_uid` and `is_keras_tensor`, as in `keras.backend`."""
import gc

import jax

from .._core import _naming


def clear_session(free_memory: bool = True) -> None:
  """Resets the automatic layer names (`dense`, `dense_1`, ... start over).

  hk_keras keeps no global graph, so this only resets name counters and,
  with `free_memory`, runs the garbage collector and drops JAX's compiled
  function caches (compiled steps of models still alive are recompiled on
  their next use).

  >>> clear_session()
  """
  _naming._counters.clear()  # pylint: disable=protected-access
  if free_memory:
    gc.collect()
    jax.clear_caches()


def get_uid(prefix: str = "") -> int:
  """Counts calls per `prefix`: 1 the first time, then 2, 3, ...

  It shares the counters of automatic layer names, as Keras: after
  `Dense()` was created once, `get_uid("dense")` is 2.
  """
  _naming._counters[prefix] += 1  # pylint: disable=protected-access
  return _naming._counters[prefix]  # pylint: disable=protected-access


def is_keras_tensor(x) -> bool:
  """True for a symbolic tensor of the Functional API (from `Input`)."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  return isinstance(x, _input.KerasTensor)
