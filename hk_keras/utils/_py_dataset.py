"""`PyDataset` (and its old name `Sequence`): batches by index, loaded in
parallel by threads or processes, as in Keras 3.

`fit`, `evaluate` and `predict` iterate a `PyDataset` once per epoch: the
batches `self[0]`, `self[1]`, ... are loaded ahead by `workers` threads (or
processes with `use_multiprocessing=True`), at most `max_queue_size` ahead,
and handed over in index order; `on_epoch_begin`/`on_epoch_end` run around
each pass.
"""
import collections
import concurrent.futures
import multiprocessing
from typing import Any, Optional

_NO_LEN = (
    "{cls} must define __len__ (the number of batches) or the `num_batches` "
    "property, and __getitem__(index) returning one batch.")

_worker_dataset = [None]


def _init_worker(dataset):
  _worker_dataset[0] = dataset


def _get_in_worker(index):
  return _worker_dataset[0][index]


class PyDataset:
  """Base class for datasets that return batches by index, as Keras 3.

  Subclass it, define `__len__` (number of batches) and `__getitem__(index)`
  (returning `x`, `(x, y)` or `(x, y, sample_weight)`), and pass the object
  to `fit`, `evaluate` or `predict`.

  Args:
    workers: how many threads (or processes) load batches ahead; 1 loads
      them in the training loop's thread, ahead of use.
    use_multiprocessing: load in processes instead of threads. The dataset
      is sent once to each worker process (it must be picklable; processes
      are started with "spawn", which is safe next to JAX's threads).
    max_queue_size: at most this many batches are loaded ahead.

  >>> import numpy as np
  >>> class Batches(PyDataset):
  ...   def __len__(self):
  ...     return 3
  ...   def __getitem__(self, i):
  ...     return np.full((2, 1), i, np.float32), np.zeros((2, 1), np.float32)
  >>> [int(x[0, 0]) for x, _ in Batches()]
  [0, 1, 2]
  """

  def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
               max_queue_size: int = 10):
    for name, value in (("workers", workers),
                        ("max_queue_size", max_queue_size)):
      if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"PyDataset: `{name}` must be a positive integer. Received: "
            f"{name}={value!r}")
    self._workers = workers
    self._use_multiprocessing = bool(use_multiprocessing)
    self._max_queue_size = max_queue_size

  # -- Keras's attributes ------------------------------------------------------
  @property
  def workers(self) -> int:
    return getattr(self, "_workers", 1)

  @workers.setter
  def workers(self, value):
    self._workers = value

  @property
  def use_multiprocessing(self) -> bool:
    return getattr(self, "_use_multiprocessing", False)

  @use_multiprocessing.setter
  def use_multiprocessing(self, value):
    self._use_multiprocessing = value

  @property
  def max_queue_size(self) -> int:
    return getattr(self, "_max_queue_size", 10)

  @max_queue_size.setter
  def max_queue_size(self, value):
    self._max_queue_size = value

  def __getitem__(self, index) -> Any:
    raise NotImplementedError(_NO_LEN.format(cls=type(self).__name__))

  @property
  def num_batches(self) -> Optional[int]:
    """The number of batches (`len(self)`), or None if unknown."""
    if type(self).__len__ is PyDataset.__len__:
      return None
    return len(self)

  def __len__(self):
    raise TypeError(_NO_LEN.format(cls=type(self).__name__))

  def on_epoch_begin(self):
    """Called before each pass (epoch) over the batches."""

  def on_epoch_end(self):
    """Called after each complete pass (e.g. to reshuffle)."""

  # -- iteration -----------------------------------------------------------------
  def __iter__(self):
    """One epoch: `on_epoch_begin`, the batches in order, `on_epoch_end`."""
    num = self.num_batches
    if num is None:
      raise TypeError(_NO_LEN.format(cls=type(self).__name__))
    self.on_epoch_begin()
    if self.workers <= 1 and not self.use_multiprocessing:
      for i in range(num):
        yield self[i]
    else:
      yield from self._parallel(num)
    self.on_epoch_end()

  def _parallel(self, num):
    if self.use_multiprocessing:
      pool = concurrent.futures.ProcessPoolExecutor(
          self.workers, mp_context=multiprocessing.get_context("spawn"),
          initializer=_init_worker, initargs=(self,))
      get = _get_in_worker
    else:
      pool = concurrent.futures.ThreadPoolExecutor(self.workers)
      get = self.__getitem__
    pending = collections.deque()
    try:
      nxt = 0
      while nxt < num or pending:
        while nxt < num and len(pending) < self.max_queue_size:
          pending.append(pool.submit(get, nxt))
          nxt += 1
        yield pending.popleft().result()
    finally:
      for future in pending:
        future.cancel()
      pool.shutdown(wait=True, cancel_futures=True)


Sequence = PyDataset  # Keras 3 keeps `keras.utils.Sequence` as this name.
