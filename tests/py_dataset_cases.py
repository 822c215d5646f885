"""A picklable PyDataset for the multiprocessing test (importable by the
spawned worker processes)."""
import os

import numpy as np

from hk_keras.utils import PyDataset


class Squares(PyDataset):
  """Batch i: x = rows 4i..4i+3 of a fixed array, y = sum of squares
  (and the loading process id, with `with_pid`)."""

  def __init__(self, n_batches=5, with_pid=False, **kwargs):
    super().__init__(**kwargs)
    self.with_pid = with_pid
    self.n_batches = n_batches
    self.x = np.linspace(-1, 1, n_batches * 4 * 3, dtype=np.float32).reshape(
        -1, 3)
    self.epochs_ended = 0

  def __len__(self):
    return self.n_batches

  def __getitem__(self, i):
    x = self.x[4 * i:4 * i + 4]
    y = (x ** 2).sum(-1, keepdims=True)
    if self.with_pid:  # which process loaded the batch
      return x, y, np.full((4,), os.getpid())
    return x, y

  def on_epoch_end(self):
    self.epochs_ended += 1
