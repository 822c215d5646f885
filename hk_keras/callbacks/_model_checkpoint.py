"""`ModelCheckpoint`: save the model (or its weights) during training."""
import os

from . import _monitor
from ._batch_counter import BatchCounter
from ._callback import Callback


class ModelCheckpoint(Callback):
  """Saves the model or its weights every epoch or every N batches.

  Files are written atomically by `model.save` / `model.save_weights` (a
  temporary file renamed into place), so a crash mid-write leaves the
  previous checkpoint intact. A full-model file also holds the optimizer
  state, rng and step, so training resumes exactly from it.

  Args:
    filepath: where to save; may contain `{epoch}` (counted from 1),
      `{batch}` (with an int save_freq) and any log name with a format,
      e.g. "ckpt/{epoch:02d}-{val_loss:.2f}.keras". Must end in ".keras",
      or in ".weights.npz" with save_weights_only=True.
    monitor: the log compared when save_best_only is set.
    verbose: 1 prints a line per save.
    save_best_only: save only when `monitor` improves on the best so far
      (with a fixed filepath, the file always holds the best model).
    save_weights_only: save the weights only (`model.save_weights`).
    mode: "min", "max" or "auto" (from the metric; losses are minimized).
    save_freq: "epoch", or an int: save every that many batches (reading
      that batch's logs, and only that batch's).
    initial_value_threshold: with save_best_only, a value the monitor must
      beat before the first save.

  Raises:
    ValueError: on a bad extension, save_freq or mode.

  >>> checkpoint = ModelCheckpoint("best.keras", monitor="val_accuracy",
  ...                              save_best_only=True)
  >>> model.fit(x, y, validation_split=0.2, epochs=10,
  ...           callbacks=[checkpoint])  # doctest: +SKIP
  >>> best = hk_keras.models.load_model("best.keras")  # doctest: +SKIP
  """

  def __init__(self, filepath, monitor="val_loss", verbose=0,
               save_best_only=False, save_weights_only=False, mode="auto",
               save_freq="epoch", initial_value_threshold=None):
    super().__init__()
    _monitor.check_mode(mode, "ModelCheckpoint")
    self.filepath = os.fspath(filepath)
    self.monitor = monitor
    self.verbose = verbose
    self.save_best_only = save_best_only
    self.save_weights_only = save_weights_only
    self.mode = mode
    self.save_freq = save_freq
    self.best = initial_value_threshold
    self._higher = None
    self._current_epoch = 0
    _check_extension(self.filepath, save_weights_only)
    self._counter = None
    if save_freq != "epoch":
      self._counter = BatchCounter(save_freq)  # validates the int
      # Only now does the engine send batch hooks (see CallbackList).
      self.on_train_batch_end = self._on_train_batch_end

  def on_train_begin(self, logs=None):
    if self._counter is not None:
      self._counter = BatchCounter(self.save_freq)

  def on_epoch_begin(self, epoch, logs=None):
    self._current_epoch = epoch
    if self._counter is not None:
      self._counter.new_epoch()

  def _on_train_batch_end(self, batch, logs=None):
    if self._counter.step(batch):
      self._save(self._current_epoch, batch, dict(logs or {}))

  def on_epoch_end(self, epoch, logs=None):
    if self.save_freq == "epoch":
      self._save(epoch, None, dict(logs or {}))

  def _path(self, epoch, batch, logs):
    fields = dict(logs)
    fields["epoch"] = epoch + 1
    if batch is not None:
      fields.setdefault("batch", batch + 1)
    for key, value in fields.items():
      # Logs fill the name only: a value must not lead out of the directory.
      if isinstance(value, str) and ("/" in value or os.sep in value or
                                     value.startswith("..")):
        fields[key] = value.replace("/", "_").replace(os.sep, "_").replace(
            "..", "__")
    try:
      return self.filepath.format(**fields)
    except (KeyError, IndexError, ValueError) as e:
      raise KeyError(
          f"ModelCheckpoint could not format the filepath {self.filepath!r}: "
          f"{e!r}. Placeholders can be epoch, batch (with an int save_freq) "
          f"and the log names {sorted(logs)}.") from e

  def _improved(self, current):
    if self.best is None:
      return True
    return current > self.best if self._higher else current < self.best

  def _save(self, epoch, batch, logs):
    path = self._path(epoch, batch, logs)
    if self.save_best_only:
      current = logs.get(self.monitor)
      if current is None:
        _monitor.warn_missing("ModelCheckpoint", self.monitor, logs)
        return
      if self._higher is None:
        self._higher = _monitor.higher_is_better(
            self.monitor, self.mode, self.model, "ModelCheckpoint")
      current = float(current)
      if not self._improved(current):
        if self.verbose > 0:
          print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                f"{self.best:.5f}")
        return
      if self.verbose > 0:
        previous = "None" if self.best is None else f"{self.best:.5f}"
        print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {previous} "
              f"to {current:.5f}, saving model to {path}")
      self.best = current
    elif self.verbose > 0:
      print(f"\nEpoch {epoch + 1}: saving model to {path}")
    directory = os.path.dirname(path)
    if directory:
      os.makedirs(directory, exist_ok=True)
    if self.save_weights_only:
      self.model.save_weights(path, overwrite=True)
    else:
      self.model.save(path, overwrite=True)


def _check_extension(filepath, weights_only):
  if weights_only and not filepath.endswith(".weights.npz"):
    raise ValueError(
        "With save_weights_only=True, ModelCheckpoint's filepath must end in "
        f"'.weights.npz' (hk_keras's weights format). Received: "
        f"filepath={filepath!r}")
  if not weights_only and not filepath.endswith(".keras"):
    raise ValueError(
        "ModelCheckpoint's filepath must end in '.keras' (the model format), "
        "or pass save_weights_only=True with a '.weights.npz' path. "
        f"Received: filepath={filepath!r}")
