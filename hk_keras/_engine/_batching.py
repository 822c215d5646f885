"""Batching and placement: how rows of the data reach each step.

Host side: padding a batch to split over the replicas (`shard_batch`), the
padded row layout of evaluation batches (`eval_rows`), an epoch's order of
array data (`epoch_order`), host slices for streamed predict
(`host_slice`), and iterable sources placed a few batches ahead (`placed`).
Device side (inside compiled steps): taking a batch's rows from
device-resident data (`batch_rows`, `gather`, `rows`).

The loops and step wrappers use only these functions, so how data reaches
the steps can change here without touching them.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._core import _replica
from . import _data

# When shuffled array data is copied into each epoch's order on the device
# (steps then slice instead of gather): only small batches gain, since a
# gather inside a step costs a fixed ~20 us on XLA:CPU while the copy costs a
# pass over the data (~16 ms for 40 MB there); with batches of 64 KiB the
# copy is repaid. Data over 1 GiB is never held twice.
EPOCH_COPY_MAX_BATCH_BYTES = 1 << 16
EPOCH_COPY_MAX_BYTES = 1 << 30


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


def epoch_permutation(strategy, seed, epoch, n, batch_size, shuffle):
  """The epoch's row order, extended past the data when the last batch is
  padded to split over the replicas: (perm on the device, full batches,
  real rows of the last batch, its padded size)."""
  if shuffle:
    perm = np.random.default_rng([seed, epoch]).permutation(n)
  else:
    perm = np.arange(n)
  full, rem = divmod(n, batch_size)
  padded = strategy.pad_size(rem)
  if padded > rem:
    perm = np.concatenate([perm, np.zeros(padded - rem, perm.dtype)])
  return strategy.put(perm.astype(np.int32)), full, rem, padded


def epoch_order(permute, data_dev, perm, n, batch_size, shuffle, full):
  """(data, perm) that the epoch's full batches are taken from.

  Unshuffled data is sliced as it is. Shuffled data with small batches is
  copied once into the epoch's order (one gather on the device, by
  `permute(data, perm)`), so each step slices contiguous rows: a gather
  inside a small step costs ~20 us more on XLA:CPU, as much as the rest of
  the step. With larger batches the gather costs little next to the step,
  so the data is gathered batch by batch and never held twice.
  """
  if not shuffle or full == 0:
    return data_dev, None
  nbytes = sum(a.nbytes for a in jax.tree_util.tree_leaves(data_dev))
  if (nbytes > EPOCH_COPY_MAX_BYTES or
      nbytes / n * batch_size > EPOCH_COPY_MAX_BATCH_BYTES):
    return data_dev, perm
  return permute(data_dev, perm), None


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

def gather(data, index):
  """Rows `index` of every array in a device-resident dataset."""
  return jax.tree_util.tree_map(lambda a: jnp.take(a, index, axis=0), data)


def rows(vector, start, size):
  """This replica's part of `vector[start:start + size]`, placed like the
  batch (under data parallelism each replica gathers only its rows)."""
  part = jax.lax.dynamic_slice_in_dim(vector, start, size)
  return _replica.constrain(_replica.local_rows(part))


def batch_rows(data, perm, start, size):
  """This replica's rows of the global batch `start:start + size`.

  With `perm` None the data is already in the epoch's order and the batch is
  a contiguous slice; otherwise rows `perm[start:start + size]` are gathered.
  On XLA:CPU a gather inside a small train step costs ~20 us more than a
  slice, so `fit` puts each epoch's shuffled copy of the data on the device
  once and slices it (see `epoch_order`).
  """
  if perm is None:
    return jax.tree_util.tree_map(lambda a: rows(a, start, size), data)
  return _replica.constrain(gather(data, rows(perm, start, size)))
