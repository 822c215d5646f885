"""Batching and placement: how rows of the data reach each step.

Array data (NumPy arrays, `np.memmap`s, jax arrays) stays where it is; the
engine sends it to the device in fixed-size **chunks** of `K` batches
(`chunk_batches`: K is fixed by the batch's row size, `steps_per_execution`
and the device data budget, never by the dataset size), assembled on the
host in the epoch's order and placed a few ahead of the steps
(`array_chunks`). The last chunk is padded with copies of a real row;
steps only run on its real batches, and a last partial batch runs under the
padding mask.
So every compiled step sees one shape per batch size, whatever the dataset
size, and no dataset is ever held whole on the device.

Host side: padding a batch to split over the replicas (`shard_batch`), the
padded row layout of evaluation batches (`eval_rows`), an epoch's order
(`epoch_permutation`), chunks (`chunk_batches`, `array_chunks`), host slices
for streamed predict (`host_slice`), and iterable sources placed a few
batches ahead (`placed`). Device side (inside compiled steps): taking a
batch's rows from a chunk (`batch_rows`, `rows`).

The loops and step wrappers use only these functions, so how data reaches
the steps can change here without touching them.
"""
import math

import jax
import numpy as np

from .._core import _replica
from ..config import _settings as _config
from . import _data

# A chunk's target size. Large enough that assembling and placing it costs
# little per step (~1 ms per chunk against hundreds of tiny steps), small
# enough that padding a small dataset to one chunk costs little.
CHUNK_BYTES = 2 << 20
MAX_CHUNK_BATCHES = 512
# Chunks on the device at once: the one in use and the ones placed ahead.
CHUNKS_IN_FLIGHT = 3


# -- host side ----------------------------------------------------------------------

def check_divisible(batch_size, num_replicas):
  if batch_size % num_replicas:
    raise ValueError(
        f"batch_size={batch_size} does not split evenly over the "
        f"{num_replicas} devices of the distribution. Use a multiple of "
        f"{num_replicas} (the batch size is global: each device gets "
        "batch_size / devices rows).")


def eval_rows(n, batch_size, steps, size):
  """Rows of `num_batches` batches of `batch_size` (the last one short),
  each padded to `size` rows: (index, mask, size, num_batches), where the
  padded positions have index 0 and mask 0."""
  num_batches = math.ceil(n / batch_size)
  if steps:
    num_batches = min(num_batches, steps)
  pos = (np.arange(num_batches)[:, None] * batch_size +
         np.arange(size)[None, :])
  real = (np.arange(size)[None, :] < batch_size) & (pos < n)
  index = np.where(real, pos, 0).astype(np.int32).reshape(-1)
  return index, real.astype(np.float32).reshape(-1), size, num_batches


def shard_batch(strategy, batch):
  """Places a host batch split over the replicas: (batch, mask or None).

  A batch that does not split evenly is padded by repeating its first row;
  the mask (1 for real rows) then keeps the padding out of every result.
  """
  n = jax.tree_util.tree_leaves(batch)[0].shape[0]
  size = strategy.pad_size(n, local=True)
  if size == n:
    return strategy.shard(batch), None
  pad = lambda a: np.concatenate(
      [np.asarray(a), np.repeat(np.asarray(a)[:1], size - n, axis=0)])
  mask = (np.arange(size) < n).astype(np.float32)
  return strategy.shard((jax.tree_util.tree_map(pad, batch), mask))


def host_batch(strategy, tree, index):
  """Rows `index` of host data `tree`, in the engine's dtype, placed split
  over the replicas: (batch, mask or None), as `shard_batch`. For a last
  partial batch that runs unpadded."""
  return shard_batch(strategy, jax.tree_util.tree_map(
      lambda a: _data.canonical(np.asarray(a[index])), tree))


def epoch_permutation(seed, epoch, n, shuffle):
  """The epoch's row order on the host (None: the data's own order)."""
  if not shuffle:
    return None
  return np.random.default_rng([seed, epoch]).permutation(n)


def host_arrays(tree):
  """`tree` with jax arrays brought to the host once (NumPy arrays and
  memmaps unchanged): chunks are cut on the host."""
  return jax.tree_util.tree_map(
      lambda a: np.asarray(a) if isinstance(a, jax.Array) else a, tree)


def _row_bytes(tree):
  return sum(_data.canonical_dtype(a.dtype).itemsize *
             int(np.prod(np.shape(a)[1:]))
             for a in jax.tree_util.tree_leaves(tree))


def chunk_batches(tree, batch_rows, multiple=1):
  """Batches per device chunk for data `tree` in batches of `batch_rows`
  rows: a multiple of `multiple` (steps_per_execution), at least one such
  group, and within the device data budget when a group allows it."""
  batch_bytes = max(1, _row_bytes(tree) * batch_rows)
  target = min(CHUNK_BYTES, _config.device_data_budget() // CHUNKS_IN_FLIGHT)
  k = min(MAX_CHUNK_BATCHES, target // batch_bytes)
  return max(multiple, k // multiple * multiple)


def _take(a, index, start, stop, size, zeros=False):
  """Rows `start:stop` of host array `a` (of `index[start:stop]` when
  `index` is given) in the engine's dtype, padded to `size` rows with
  copies of its first row: padding that is real data keeps the masked rows
  finite (an all-zero row can be all padding to a masking model and give
  0/0, and NaN * 0 would reach the loss)."""
  part = a[start:stop] if index is None else a[index[start:stop]]
  part = _data.canonical(np.asarray(part))
  if part.shape[0] < size:
    fill = (np.zeros((size - part.shape[0],) + part.shape[1:], part.dtype)
            if zeros else np.repeat(part[:1], size - part.shape[0], axis=0))
    part = np.concatenate([part, fill])
  return part


def array_chunks(strategy, tree, index, num_rows, chunk_rows, extra=None):
  """Device chunks of `chunk_rows` rows of host data `tree`, a few placed
  ahead of their use: rows `index[:num_rows]` (or `0:num_rows` with `index`
  None), the last chunk padded with copies of its first row. With `extra` (a host vector
  of `num_rows` values, e.g. a padding mask) yields (chunk, extra chunk).

  Only the chunks in flight are on the device (and, on CPU, in memory
  besides the data itself): a dataset of any size, np.memmap included,
  streams through them."""
  def host_chunks():
    for start in range(0, num_rows, chunk_rows):
      stop = min(num_rows, start + chunk_rows)
      chunk = jax.tree_util.tree_map(
          lambda a: _take(a, index, start, stop, chunk_rows), tree)
      if extra is not None:
        chunk = (chunk, _take(extra, None, start, stop, chunk_rows,
                               zeros=True))
      yield chunk
  return _data.prefetch(host_chunks(), strategy.put,
                        size=CHUNKS_IN_FLIGHT - 1)


def host_slice(x, start, batch_size):
  """Rows `start:start + batch_size` of host arrays `x`, the last slice
  padded with zeros to `batch_size` rows (one compiled shape)."""
  def cut(a):
    part = a[start:start + batch_size]
    short = batch_size - part.shape[0]
    if short:
      pad = [(0, short)] + [(0, 0)] * (np.ndim(part) - 1)
      part = np.pad(np.asarray(part), pad)
    return part
  return jax.tree_util.tree_map(cut, x)


def placed(strategy, source, prepare=None):
  """The batches of an iterable source placed over the replicas, a few
  in flight ahead: yields (batch, padding mask or None). `prepare(batch)`
  sees each host batch first (to build the model)."""
  def host_batches():
    for batch in source.epoch():
      if prepare is not None:
        prepare(batch)
      yield batch
  return _data.prefetch(host_batches(), lambda b: shard_batch(strategy, b))


# -- device side (inside compiled steps) ------------------------------------------------

def rows(vector, start, size):
  """This replica's part of `vector[start:start + size]`, placed like the
  batch (under data parallelism each replica gathers only its rows)."""
  part = jax.lax.dynamic_slice_in_dim(vector, start, size)
  return _replica.constrain(_replica.local_rows(part))


def batch_rows(data, start, size):
  """This replica's rows of the global batch `start:start + size` of a
  device chunk (a contiguous slice: the chunk is in the epoch's order)."""
  return jax.tree_util.tree_map(lambda a: rows(a, start, size), data)
