"""Default names of optimizers, losses, metrics and layers against Keras 3.

The lists come from Keras's own exports: every class of `keras.optimizers`,
`keras.losses`, `keras.metrics` and `keras.layers` that hk_keras also
exports is built with default (or minimal) arguments in both libraries and
the names compared, so a class added on either side is checked without
editing this file. Each class is built twice after `clear_session()`:
Keras makes optimizer auto-names unique (adam, adam_1; Keras 3.15 names
`RMSprop()` "rm_sprop", from the snake-cased class name), as hk_keras does;
for losses and metrics the first default name is compared.
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
    if name in ("Loss", "Metric"):
      continue  # bases: see differences_from_keras.md (auto-names)
    keras.backend.clear_session()
    hk_keras.backend.clear_session()
    try:
      expected = [getattr(getattr(keras, module_name), name)().name
                  for _ in range(2)]
    except (TypeError, ValueError, NotImplementedError):
      continue  # needs arguments in Keras too
    got = [getattr(getattr(hk_keras, module_name), name)().name
           for _ in range(2)]
    if module_name != "optimizers":
      # Keras also counts the auto-names of metrics whose default name is
      # None (AUC, Precision, ...: auc, auc_1); hk_keras keeps the first
      # (docs/differences_from_keras.md), so only that one is compared.
      expected, got = expected[:1], got[:1]
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
