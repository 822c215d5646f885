"""`EarlyStopping`: stop training when a monitored value stops improving."""
import numpy as np

from . import _monitor
from ._callback import Callback


def _copy_weights(model):
  # Own copies: get_weights may return views of live device buffers.
  return [np.array(w, copy=True) for w in model.get_weights()]


class EarlyStopping(Callback):
  """Stops `fit` once `monitor` has not improved for `patience` epochs.

  Args:
    monitor: the epoch log to watch, e.g. "val_loss" or "accuracy".
    min_delta: a change smaller than this is not an improvement.
    patience: epochs without improvement before training stops.
    verbose: 1 prints when training stops and when weights are restored.
    mode: "min", "max" or "auto" (from the metric; losses are minimized).
    baseline: training stops if the value does not beat this within
      `patience` epochs.
    restore_best_weights: at the end of training, put back the weights of
      the best epoch (as in Keras 3, also when training was not stopped).
    start_from_epoch: epochs to wait before watching (a warm-up).

  Raises:
    ValueError: on an unknown mode, or (at the first epoch end) a monitor
      whose direction mode="auto" cannot tell.

  >>> stop = EarlyStopping(monitor="val_loss", patience=3,
  ...                      restore_best_weights=True)
  >>> model.fit(x, y, validation_split=0.2, epochs=100,
  ...           callbacks=[stop])  # doctest: +SKIP
  >>> stop.stopped_epoch  # doctest: +SKIP
  """

  def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0,
               mode="auto", baseline=None, restore_best_weights=False,
               start_from_epoch=0):
    super().__init__()
    _monitor.check_mode(mode, "EarlyStopping")
    self.monitor = monitor
    self.min_delta = abs(min_delta)
    self.patience = patience
    self.verbose = verbose
    self.mode = mode
    self.baseline = baseline
    self.restore_best_weights = restore_best_weights
    self.start_from_epoch = start_from_epoch
    self._reset()

  def _reset(self):
    self.wait = 0
    self.stopped_epoch = 0
    self.best = None
    self.best_weights = None
    self.best_epoch = 0

  def on_train_begin(self, logs=None):
    self._reset()
    # Decided at the first epoch end: compiled metrics are resolved from the
    # first batch, which a generator gives only after on_train_begin.
    self._higher = None

  def _is_improvement(self, value, reference):
    if reference is None:
      return True
    if self._higher:
      return value - self.min_delta > reference
    return value + self.min_delta < reference

  def on_epoch_end(self, epoch, logs=None):
    current = (logs or {}).get(self.monitor)
    if current is None:
      _monitor.warn_missing("EarlyStopping", self.monitor, logs)
      return
    if self._higher is None:
      self._higher = _monitor.higher_is_better(self.monitor, self.mode,
                                               self.model, "EarlyStopping")
    if epoch < self.start_from_epoch:
      return
    if self.restore_best_weights and self.best_weights is None:
      self.best_weights = _copy_weights(self.model)
    self.wait += 1
    if self._is_improvement(current, self.best):
      self.best, self.best_epoch = current, epoch
      if self.restore_best_weights:
        self.best_weights = _copy_weights(self.model)
      if self.baseline is None or self._is_improvement(current, self.baseline):
        self.wait = 0
        return
    if self.wait >= self.patience and epoch > 0:
      self.stopped_epoch = epoch
      self.model.stop_training = True

  def on_train_end(self, logs=None):
    if self.stopped_epoch > 0 and self.verbose > 0:
      print(f"Epoch {self.stopped_epoch + 1}: early stopping")
    if self.restore_best_weights and self.best_weights is not None:
      if self.verbose > 0:
        print("Restoring model weights from the end of the best epoch: "
              f"{self.best_epoch + 1}.")
      self.model.set_weights(self.best_weights)
