"""`CSVLogger`: one CSV row of epoch logs per epoch."""
import collections.abc
import csv
import os

import numpy as np

from ._callback import Callback


def _cell(value):
  if isinstance(value, str):
    return value
  if isinstance(value, collections.abc.Iterable) and np.ndim(value) > 0:
    return "[" + ", ".join(str(v) for v in value) + "]"
  return value


class CSVLogger(Callback):
  """Streams epoch results to a CSV file: a header, then one row per epoch.

  Columns are "epoch" (counted from 0, as Keras) and the log names in
  sorted order, fixed by the first epoch; a log missing later is "NA".

  Args:
    filename: the CSV file path.
    separator: the column separator.
    append: add to an existing file (its header is kept) instead of
      overwriting it; useful when resuming a run.

  >>> model.fit(x, y, epochs=5,
  ...           callbacks=[CSVLogger("training.log")])  # doctest: +SKIP
  """

  def __init__(self, filename, separator=",", append=False):
    super().__init__()
    self.filename = os.fspath(filename)
    self.sep = separator
    self.append = append
    self.keys = None
    self.writer = None
    self.csv_file = None
    self.append_header = True

  def on_train_begin(self, logs=None):
    self.keys = None
    self.writer = None
    self.append_header = True
    from ..distribution import is_chief  # pylint: disable=g-import-not-at-top
    if not is_chief():
      return  # multi-host: only process 0 writes logs
    mode = "w"
    if self.append:
      if os.path.exists(self.filename):
        with open(self.filename, encoding="utf-8") as f:
          self.append_header = not f.readline()
      mode = "a"
    directory = os.path.dirname(self.filename)
    if directory:
      os.makedirs(directory, exist_ok=True)
    self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # pylint: disable=consider-using-with

  def on_epoch_end(self, epoch, logs=None):
    if self.csv_file is None:
      return
    logs = logs or {}
    if self.keys is None:
      self.keys = sorted(logs)
      self.writer = csv.DictWriter(
          self.csv_file, fieldnames=["epoch"] + self.keys,
          delimiter=self.sep, extrasaction="ignore")
      if self.append_header:
        self.writer.writeheader()
    row = {"epoch": epoch}
    row.update((k, _cell(logs[k]) if k in logs else "NA") for k in self.keys)
    self.writer.writerow(row)
    self.csv_file.flush()

  def on_train_end(self, logs=None):
    if self.csv_file is not None:
      self.csv_file.close()
      self.csv_file = None
    self.writer = None
