"""`TensorBoard`: scalars (and optional histograms) as TensorBoard event files.

Event files are written with tensorboardX, an optional dependency:
`pip install hk_keras[tensorboard]`.
"""
import os
import time

import jax
import numpy as np

from . import _learning_rate
from ._batch_counter import BatchCounter
from ._callback import Callback

_MISSING_WRITER = (
    "The TensorBoard callback writes event files with tensorboardX, which is "
    "not installed. Install it with `pip install hk_keras[tensorboard]` (or "
    "`pip install tensorboardX`).")


def _summary_writer_class():
  try:
    from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise ImportError(_MISSING_WRITER) from e
  return SummaryWriter


class TensorBoard(Callback):
  """Writes training logs for TensorBoard (`tensorboard --logdir logs`).

  Layout as Keras 3: `log_dir/train` holds "epoch_loss", "epoch_accuracy",
  "epoch_learning_rate", ... at step = epoch; `log_dir/validation` holds the
  `val_` logs under the same tags, so both curves share one chart. With
  `update_freq=N` (or "batch", N=1) the train writer also gets "batch_loss",
  ... every N batches, at step = batches trained so far; only those batches
  read logs from the device.

  Differs from Keras 3: write_graph, write_images, profile_batch and
  embeddings_* are accepted and ignored (there is no TF graph); histograms
  are written for params under their Haiku names ("dense/w").

  Args:
    log_dir: the directory for event files.
    histogram_freq: write histograms of all params every this many epochs
      (0: never).
    write_graph, write_images, profile_batch, embeddings_freq,
    embeddings_metadata: ignored.
    write_steps_per_second: also write "epoch_steps_per_second".
    update_freq: "epoch", "batch", or an int number of batches.

  Raises:
    ImportError: if tensorboardX is not installed.
    ValueError: on a bad update_freq.

  >>> model.fit(x, y, epochs=5, validation_split=0.2,
  ...           callbacks=[TensorBoard(log_dir="logs")])  # doctest: +SKIP
  """

  def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True,
               write_images=False, write_steps_per_second=False,
               update_freq="epoch", profile_batch=0, embeddings_freq=0,
               embeddings_metadata=None):
    super().__init__()
    del write_graph, write_images, profile_batch, embeddings_freq
    del embeddings_metadata
    self._writer_class = _summary_writer_class()
    self.log_dir = os.fspath(log_dir)
    self.histogram_freq = histogram_freq
    self.write_steps_per_second = write_steps_per_second
    self.update_freq = 1 if update_freq == "batch" else update_freq
    self._counter = None
    if self.update_freq != "epoch":
      self._counter = BatchCounter(self.update_freq)
      # Set on the instance only here, so with update_freq="epoch" the
      # engine never dispatches batch hooks to this callback.
      self.on_train_batch_end = self._on_train_batch_end
    self._writers = {}

  def _writer(self, kind):
    if kind not in self._writers:
      from ..distribution import is_chief  # pylint: disable=g-import-not-at-top
      # Multi-host: only process 0 writes event files.
      self._writers[kind] = self._writer_class(
          logdir=os.path.join(self.log_dir, kind)) if is_chief() else (
              _NullWriter())
    return self._writers[kind]

  def on_train_begin(self, logs=None):
    if self._counter is not None:
      self._counter = BatchCounter(self.update_freq)

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch_start = time.time()
    if self._counter is not None:
      self._counter.new_epoch()

  def _on_train_batch_end(self, batch, logs=None):
    if not self._counter.step(batch):
      return
    writer = self._writer("train")
    for name, value in (logs or {}).items():
      writer.add_scalar("batch_" + name, float(value), self._counter.total)

  def on_epoch_end(self, epoch, logs=None):
    logs = dict(logs or {})
    train = {k: v for k, v in logs.items() if not k.startswith("val_")}
    val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
    if "learning_rate" not in train:
      try:
        train["learning_rate"] = _learning_rate.get_learning_rate(self.model)
      except (ValueError, TypeError):
        pass  # an optimizer without an injected learning rate
    if self.write_steps_per_second:
      steps = self.params.get("steps")
      elapsed = time.time() - self._epoch_start
      if steps and elapsed > 0:
        train["steps_per_second"] = steps / elapsed
    for kind, values in (("train", train), ("validation", val)):
      if not values:
        continue
      writer = self._writer(kind)
      for name, value in values.items():
        writer.add_scalar("epoch_" + name, float(value), epoch)
    if self.histogram_freq and epoch % self.histogram_freq == 0:
      self._write_histograms(epoch)
    for writer in self._writers.values():
      writer.flush()

  def _write_histograms(self, epoch):
    writer = self._writer("train")
    for module, params in self.model.params.items():
      for name, value in params.items():
        writer.add_histogram(f"{module}/{name}",
                             np.asarray(jax.device_get(value)), epoch)

  def on_train_end(self, logs=None):
    for writer in self._writers.values():
      writer.close()
    self._writers = {}


class _NullWriter:
  """Stands in for the event writer in processes other than process 0."""

  def __getattr__(self, name):
    return lambda *args, **kwargs: None
