"""`timeseries_dataset_from_array` and `split_dataset` on NumPy arrays."""
from typing import Optional

import jax
import numpy as np

from ._py_dataset import PyDataset


class _Windows(PyDataset):
  """Batches of windows over an array, in `start_positions` order."""

  def __init__(self, data, targets, starts, sequence_length, sampling_rate,
               batch_size):
    super().__init__()
    self._data, self._targets, self._starts = data, targets, starts
    self._offsets = np.arange(0, sequence_length * sampling_rate,
                              sampling_rate)
    self._batch_size = batch_size or len(starts)
    self._unbatched = batch_size is None

  def __len__(self):
    return -(-len(self._starts) // self._batch_size) if len(self._starts) else 0

  def __getitem__(self, index):
    if not 0 <= index < len(self):
      raise IndexError(f"Batch index {index} out of range [0, {len(self)}).")
    starts = self._starts[index * self._batch_size:
                          (index + 1) * self._batch_size]
    x = self._data[starts[:, None] + self._offsets[None, :]]
    if self._targets is None:
      return x
    return x, self._targets[starts]

  def __iter__(self):
    if not self._unbatched:
      yield from super().__iter__()
      return
    for batch in super().__iter__():  # batch_size=None: one window at a time
      if self._targets is None:
        yield from batch
      else:
        yield from zip(*batch)


def timeseries_dataset_from_array(data, targets, sequence_length: int,
                                  sequence_stride: int = 1,
                                  sampling_rate: int = 1,
                                  batch_size: Optional[int] = 128,
                                  shuffle: bool = False,
                                  seed: Optional[int] = None,
                                  start_index: Optional[int] = None,
                                  end_index: Optional[int] = None
                                  ) -> PyDataset:
  """Sliding windows over a time series, batched, as Keras.

  Window `i` starts at `start_index + p_i` (`p_i = i * sequence_stride`) and
  holds `sequence_length` steps taken every `sampling_rate` steps; its target
  is `targets[start_index + p_i]`. With `shuffle`, the window order is
  permuted with `np.random.RandomState(seed)`, as Keras does before batching.

  Returns:
    A `PyDataset` (Keras returns a `tf.data.Dataset`): iterate it, index it,
    or pass it to `fit`/`evaluate`/`predict`. Each batch is `x` of shape
    `(batch, sequence_length) + data.shape[1:]`, with `y` when `targets` is
    given.

  Raises:
    ValueError: on out-of-range indices or non-positive lengths, as Keras.

  >>> ds = timeseries_dataset_from_array(np.arange(10), None, 3, batch_size=4)
  >>> ds[0][0].tolist()
  [0, 1, 2]
  """
  data = np.asarray(data)
  for name, value in (("sequence_length", sequence_length),
                      ("sequence_stride", sequence_stride),
                      ("sampling_rate", sampling_rate)):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
      raise ValueError(
          f"`{name}` must be a positive integer. Received: {name}={value!r}")
  if batch_size is not None and (not isinstance(batch_size, int)
                                 or batch_size <= 0):
    raise ValueError("`batch_size` must be a positive integer or None. "
                     f"Received: batch_size={batch_size!r}")
  if start_index is None:
    start_index = 0
  if end_index is None:
    end_index = len(data)
  if not 0 <= start_index < len(data):
    raise ValueError("`start_index` must be 0 <= start_index < len(data). "
                     f"Received: start_index={start_index}")
  if not start_index < end_index <= len(data):
    raise ValueError("`end_index` must be start_index < end_index <= "
                     f"len(data). Received: end_index={end_index}")
  if targets is not None:
    targets = np.asarray(targets)
  num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
  if targets is not None:
    num_seqs = min(num_seqs, len(targets))
  starts = np.arange(0, max(num_seqs, 0), sequence_stride)
  if shuffle:
    if seed is None:
      seed = np.random.randint(1e6)
    np.random.RandomState(seed).shuffle(starts)
  data_slice = data[start_index:end_index]
  target_slice = None if targets is None else targets[start_index:]
  return _Windows(data_slice, target_slice, starts, sequence_length,
                  sampling_rate, batch_size)


def _size(value, total, name):
  if value is None:
    return None
  if isinstance(value, float):
    if not 0.0 < value < 1.0:
      raise ValueError(
          f"`{name}` as a float must be in (0, 1). Received: {name}={value}")
    return int(np.round(value * total))
  if isinstance(value, int) and not isinstance(value, bool):
    if not 0 < value <= total:
      raise ValueError(
          f"`{name}` as an int must be in (0, {total}] (the number of "
          f"samples). Received: {name}={value}")
    return value
  raise TypeError(f"`{name}` must be a float, an int or None. Received: "
                  f"{name}={value!r} of type {type(value).__name__}")


def split_dataset(dataset, left_size=None, right_size=None,
                  shuffle: bool = False, seed: Optional[int] = None,
                  preferred_backend=None):
  """Splits arrays (or a tuple/dict of arrays with one first axis) in two.

  Sizes are fractions (floats) or counts (ints), as in Keras; with one of
  them None it takes the rest, with both None the split is 50/50.

  Returns:
    `(left, right)`, each with the structure of `dataset` (Keras returns
    `tf.data.Dataset`s; these are arrays, ready for `fit`).

  Raises:
    ValueError: if the sizes do not fit the data.

  >>> left, right = split_dataset(np.arange(10), left_size=0.8)
  >>> len(left), len(right)
  (8, 2)
  """
  del preferred_backend  # the output is NumPy either way
  leaves = jax.tree_util.tree_leaves(dataset)
  if not leaves:
    raise ValueError("split_dataset needs arrays. Received an empty dataset.")
  leaves = [np.asarray(l) for l in leaves]
  total = len(leaves[0])
  if any(len(l) != total for l in leaves):
    raise ValueError(
        "split_dataset: all arrays must have the same number of samples. "
        f"Received lengths {[len(l) for l in leaves]}.")
  left = _size(left_size, total, "left_size")
  right = _size(right_size, total, "right_size")
  if left is None and right is None:
    left = total // 2
  if left is None:
    left = total - right
  if right is None:
    right = total - left
  if left + right > total or left <= 0 or right <= 0:
    raise ValueError(
        f"split_dataset: left_size={left_size!r} and right_size="
        f"{right_size!r} give {left} + {right} samples, but the dataset has "
        f"{total}, and each side needs at least one.")
  order = np.arange(total)
  if shuffle:
    if seed is None:
      seed = np.random.randint(1e6)
    np.random.RandomState(seed).shuffle(order)
  pick = lambda idx: jax.tree_util.tree_map(lambda a: np.asarray(a)[idx],
                                            dataset)
  return pick(order[:left]), pick(order[left:left + right])
