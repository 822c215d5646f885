"""Data adapters: arrays (moved to the device once) and Python iterables."""
import math
from typing import Any, Iterable, Optional

import jax
import numpy as np

_GENERATOR_HINT = (
    "A generator or iterable must yield (x, y) or (x, y, sample_weight) "
    "batches, e.g. `yield x_batch, y_batch`.")


def _leaves(tree):
  return jax.tree_util.tree_leaves(tree)


def canonical_dtype(dtype):
  """The dtype the engine computes host data in (float64 -> float32,
  int64 -> int32, as JAX without 64-bit mode)."""
  dtype = np.dtype(dtype)
  if dtype == np.float64:
    return np.dtype(np.float32)
  if dtype == np.int64:
    return np.dtype(np.int32)
  return dtype


def canonical(a):
  """Host array `a` in the engine's dtype (`canonical_dtype`)."""
  dtype = canonical_dtype(a.dtype)
  return a if a.dtype == dtype else a.astype(dtype)


def _as_array(a):
  if isinstance(a, jax.Array):
    return a
  if isinstance(a, np.memmap):
    # Left on disk: chunks are read (and converted) as they are sent.
    return a
  return canonical(np.asarray(a))


def as_arrays(tree):
  """Converts every leaf to an array (float64 -> float32, int64 -> int32)."""
  if tree is None:
    return None
  if isinstance(tree, tuple):
    tree = list(tree)
  return jax.tree_util.tree_map(_as_array, tree)


def is_array_data(x) -> bool:
  leaves = _leaves(x) if isinstance(x, (list, tuple, dict)) else [x]
  return bool(leaves) and all(
      isinstance(l, (np.ndarray, jax.Array, float, int)) or hasattr(
          l, "__array__") for l in leaves) and not _is_iterable_source(x)


def _is_iterable_source(x):
  return (hasattr(x, "__next__") or
          (hasattr(x, "__iter__") and not isinstance(
              x, (list, tuple, dict, np.ndarray, jax.Array))))


class ArrayData:
  """(x, y, sample_weight) held as arrays with a common first axis."""

  def __init__(self, x, y=None, sample_weight=None):
    self.x = as_arrays(x)
    self.y = as_arrays(y)
    self.sample_weight = as_arrays(sample_weight)
    sizes = {}
    for name, tree in (("x", self.x), ("y", self.y),
                       ("sample_weight", self.sample_weight)):
      for leaf in _leaves(tree):
        if np.ndim(leaf) == 0:
          raise ValueError(
              f"{name} must have a batch axis; received a scalar. Pass arrays "
              "whose first axis indexes the samples.")
        sizes.setdefault(name, set()).add(int(np.shape(leaf)[0]))
    all_sizes = set().union(*sizes.values()) if sizes else set()
    if len(all_sizes) > 1:
      detail = ", ".join(f"{k}: {sorted(v)}" for k, v in sizes.items())
      raise ValueError(
          "Data cardinality is ambiguous: x, y and sample_weight must have the "
          f"same number of samples (first axis). Received sizes {detail}. "
          "Make sure all arrays contain the same number of samples.")
    if not all_sizes:
      raise ValueError("No data: x is empty or None.")
    self.num_samples = all_sizes.pop()

  @property
  def tree(self):
    return (self.x, self.y, self.sample_weight)

  def take(self, index):
    """The rows `index` (an array, or a slice: views, nothing copied)."""
    pick = lambda t: None if t is None else jax.tree_util.tree_map(
        lambda a: a[index], t)
    return ArrayData(pick(self.x), pick(self.y), pick(self.sample_weight))

  def split(self, validation_split: float):
    """Keras's validation_split: the last fraction, taken before shuffling."""
    if not 0.0 < validation_split < 1.0:
      raise ValueError(
          f"validation_split must be in (0, 1). Received: {validation_split}")
    n_train = int(math.floor(self.num_samples * (1.0 - validation_split)))
    if n_train <= 0 or n_train >= self.num_samples:
      raise ValueError(
          f"validation_split={validation_split} leaves no training or no "
          f"validation samples out of {self.num_samples}.")
    return self.take(slice(0, n_train)), self.take(
        slice(n_train, self.num_samples))


def class_weight_to_sample_weight(y, class_weight, sample_weight):
  """Per-sample weights from a `{class: weight}` dict, as Keras."""
  if isinstance(y, (list, dict)):
    raise ValueError(
        "class_weight is only supported for models with a single output. "
        "Pass per-output sample weights instead.")
  y = np.asarray(y)
  labels = y.argmax(-1) if (y.ndim == 2 and y.shape[-1] > 1) else y.reshape(
      y.shape[0], -1)[:, 0]
  labels = np.round(labels).astype(np.int64)
  missing = set(np.unique(labels).tolist()) - set(int(k) for k in class_weight)
  if missing:
    raise ValueError(
        f"class_weight has no entry for classes {sorted(missing)} present in "
        f"y. Received class_weight keys: {sorted(class_weight)}.")
  table = np.zeros(max(int(k) for k in class_weight) + 1, np.float32)
  for k, v in class_weight.items():
    table[int(k)] = v
  weights = table[labels]
  if sample_weight is not None:
    weights = weights * np.asarray(sample_weight, np.float32).reshape(
        weights.shape)
  return weights


def unpack_batch(batch):
  """A yielded element -> (x, y, sample_weight)."""
  if isinstance(batch, tuple):
    if len(batch) == 1:
      return batch[0], None, None
    if len(batch) == 2:
      return batch[0], batch[1], None
    if len(batch) == 3:
      return batch
  if isinstance(batch, (np.ndarray, jax.Array)):
    return batch, None, None
  raise ValueError(f"{_GENERATOR_HINT} Received an element of type "
                   f"{type(batch).__name__}.")


class IterableData:
  """Batches from a generator or iterable, re-iterated each epoch if possible."""

  def __init__(self, source: Iterable, steps: Optional[int] = None):
    self.source = source
    self.steps = steps
    self._iterator = None
    self.reiterable = not hasattr(source, "__next__")

  def epoch(self):
    """Yields (x, y, sample_weight) host batches for one epoch."""
    if self.reiterable:
      iterator = iter(self.source)
    else:
      if self._iterator is None:
        self._iterator = iter(self.source)
      iterator = self._iterator
    count = 0
    while self.steps is None or count < self.steps:
      try:
        batch = next(iterator)
      except StopIteration:
        return
      count += 1
      x, y, sw = unpack_batch(batch)
      yield as_arrays(x), as_arrays(y), as_arrays(sw)


def prefetch(iterator, put, size: int = 2):
  """Keeps `size` batches in flight on the device ahead of their use."""
  queue = []
  for item in iterator:
    queue.append(put(item))
    if len(queue) >= size:
      yield queue.pop(0)
  while queue:
    yield queue.pop(0)
