"""Checks of the arguments and data `fit`/`evaluate`/`predict` receive.

One call at the top of each method. Bad input fails here with a message
saying what was expected, what was received and what to do, instead of
being silently replaced (`batch_size=0` used to train with 32), producing
an empty history, or crashing inside the engine:

* `batch_size`, `steps`, `steps_per_epoch`, `validation_batch_size`: None
  or a positive int; `epochs` and `initial_epoch`: non-negative ints;
* array data must hold at least one sample;
* integer arrays must fit the dtype JAX computes in: with 64-bit mode off
  (the default) int64/uint64 values outside the int32 range would wrap when
  converted, so they raise.
"""
import numbers

import jax
import numpy as np

from . import _data

_INT32 = np.iinfo(np.int32)


def _is_int(value) -> bool:
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive(value, name, method):
  if value is None:
    return
  if not _is_int(value) or value <= 0:
    raise ValueError(
        f"{method}(): `{name}` must be a positive integer (or None for the "
        f"default). Received: {name}={value!r}")


def _non_negative(value, name, method):
  if not _is_int(value) or value < 0:
    raise ValueError(
        f"{method}(): `{name}` must be a non-negative integer. Received: "
        f"{name}={value!r}")


def _array_leaves(tree):
  return [l for l in jax.tree_util.tree_leaves(tree)
          if hasattr(l, "shape") and hasattr(l, "dtype")]


def _check_integers(tree, what, method):
  if jax.config.jax_enable_x64:
    return
  for leaf in _array_leaves(tree):
    if not isinstance(leaf, np.ndarray) or leaf.dtype not in (
        np.int64, np.uint64) or leaf.size == 0:
      continue
    low, high = leaf.min(), leaf.max()
    if low < _INT32.min or high > _INT32.max:
      raise ValueError(
          f"{method}(): {what} holds {leaf.dtype} values in [{low}, {high}], "
          f"outside the int32 range [{_INT32.min}, {_INT32.max}] that JAX "
          "computes in when 64-bit mode is off, so they would wrap silently. "
          "Rescale or re-encode them (e.g. as float32, or as indices into a "
          "vocabulary), or enable 64-bit mode before creating the model: "
          "jax.config.update('jax_enable_x64', True).")


def _check_samples(x, y, sample_weight, what, method):
  for name, tree in (("x", x), ("y", y), ("sample_weight", sample_weight)):
    for leaf in _array_leaves(tree):
      if len(leaf.shape) == 0:
        raise ValueError(
            f"{method}(): {what} `{name}` holds a scalar; data must have a "
            "batch axis (shape (num_samples, ...)).")
      if leaf.shape[0] == 0:
        raise ValueError(
            f"{method}(): {what} is empty: `{name}` has 0 samples (shape "
            f"{tuple(leaf.shape)}). Pass at least one sample.")
    _check_integers(tree, f"{what} `{name}`", method)


def check_fit(x, y, batch_size, epochs, initial_epoch, sample_weight,
              validation_data, steps_per_epoch, validation_steps,
              validation_batch_size):
  """Validates `fit`'s arguments (see the module docstring)."""
  _positive(batch_size, "batch_size", "fit")
  _positive(validation_batch_size, "validation_batch_size", "fit")
  _positive(steps_per_epoch, "steps_per_epoch", "fit")
  _positive(validation_steps, "validation_steps", "fit")
  _non_negative(epochs, "epochs", "fit")
  _non_negative(initial_epoch, "initial_epoch", "fit")
  if x is not None and _data.is_array_data(x):
    _check_samples(x, y, sample_weight, "the training data", "fit")
  if isinstance(validation_data, (tuple, list)) and validation_data and (
      _data.is_array_data(validation_data[0])):
    parts = list(validation_data) + [None] * (3 - len(validation_data))
    _check_samples(parts[0], parts[1], parts[2], "validation_data", "fit")


def check_evaluate(x, y, batch_size, sample_weight, steps):
  """Validates `evaluate`'s arguments."""
  _positive(batch_size, "batch_size", "evaluate")
  _positive(steps, "steps", "evaluate")
  if x is None:
    raise ValueError("evaluate() needs data: pass x (and y).")
  if _data.is_array_data(x):
    _check_samples(x, y, sample_weight, "the data", "evaluate")


def check_predict(x, batch_size, steps):
  """Validates `predict`'s arguments."""
  _positive(batch_size, "batch_size", "predict")
  _positive(steps, "steps", "predict")
  if x is None:
    raise ValueError("predict() needs data: pass x.")
  if _data.is_array_data(x):
    _check_samples(x, None, None, "the data", "predict")
