"""Default names of optimizers, losses, metrics and layers against Keras 3.

The lists come from Keras's own exports: every class of `keras.optimizers`,
`keras.losses`, `keras.metrics` and `keras.layers` that hk_keras also
exports is built with default (or minimal) arguments in both libraries and
the names compared, so a class added on either side is checked without
editing this file. (Keras 3.15 names `RMSprop()` "rm_sprop": its optimizers
auto-name from the snake-cased class name.)
"""
import inspect

import pytest

import hk_keras
from test_layers_masking_support import KERAS_NEEDS_TF, _make

keras = pytest.importorskip("keras")


def _shared_classes(module_name):
  ours, theirs = getattr(hk_keras, module_name), getattr(keras, module_name)
  return sorted(n for n in dir(theirs)
                if inspect.isclass(getattr(theirs, n)) and hasattr(ours, n)
                and inspect.isclass(getattr(ours, n)))


@pytest.mark.parametrize("module_name", ["optimizers", "losses", "metrics"])
def test_default_names_match_keras(module_name):
  compared, wrong = 0, []
  for name in _shared_classes(module_name):
    try:
      expected = getattr(getattr(keras, module_name), name)().name
    except (TypeError, ValueError, NotImplementedError):
      continue  # needs arguments in Keras too (e.g. the base classes)
    got = getattr(getattr(hk_keras, module_name), name)().name
    compared += 1
    if got != expected:
      wrong.append((name, expected, got))
  assert compared > 5
  assert not wrong, f"(class, Keras name, hk_keras name): {wrong}"


def _base(name):
  """A layer auto-name without its `_N` uniqueness suffix."""
  head, _, tail = name.rpartition("_")
  return head if head and tail.isdigit() else name


def test_layer_auto_names_match_keras():
  names = _shared_classes("layers")
  compared, wrong = 0, []
  for name in names:
    if name in KERAS_NEEDS_TF or name == "InputLayer":
      continue
    try:
      theirs = _make(keras, name)
    except (AssertionError, ImportError, TypeError, ValueError):
      continue
    ours = _make(hk_keras, name)
    compared += 1
    if _base(ours.name) != _base(theirs.name):
      wrong.append((name, theirs.name, ours.name))
  assert compared > 120
  assert not wrong, f"(layer, Keras name, hk_keras name): {wrong}"


def test_alias_auto_names_follow_keras_class():
  # Keras's class is GroupedQueryAttention; GroupQueryAttention is its alias.
  hk_keras.backend.clear_session()
  assert hk_keras.layers.GroupQueryAttention(2, 2, 1).name == (
      "grouped_query_attention")
  assert hk_keras.layers.GroupQueryAttention(2, 2, 1).name == (
      "grouped_query_attention_1")
  assert hk_keras.layers.RMSNormalization().name == "rms_normalization"
  assert hk_keras.layers.PReLU().name == "p_re_lu"
