"""`ReduceLROnPlateau`: lower the learning rate when progress stalls."""
import numpy as np

from . import _learning_rate
from . import _monitor
from ._callback import Callback


class ReduceLROnPlateau(Callback):
  """Multiplies the learning rate by `factor` after `patience` flat epochs.

  The rate is changed in the live optimizer state (no recompilation). The
  rate used during each epoch is logged as "learning_rate", as in Keras 3.

  Args:
    monitor: the epoch log to watch.
    factor: new_lr = lr * factor; must be below 1.
    patience: epochs without improvement before reducing.
    verbose: 1 prints each reduction.
    mode: "min", "max" or "auto" (max if "acc" is in the monitor's name,
      else min, as Keras 3 does for this callback).
    min_delta: smallest change that counts as an improvement.
    cooldown: epochs to wait after a reduction before counting again.
    min_lr: the rate is never set below this.

  Raises:
    ValueError: if factor >= 1 or mode is unknown.

  >>> reduce_lr = ReduceLROnPlateau(monitor="val_loss", factor=0.2,
  ...                               patience=5, min_lr=0.001)
  >>> model.fit(x, y, validation_split=0.2,
  ...           callbacks=[reduce_lr])  # doctest: +SKIP
  """

  def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0,
               mode="auto", min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
    super().__init__()
    if kwargs:
      raise TypeError(
          f"ReduceLROnPlateau got unexpected arguments {sorted(kwargs)}.")
    if factor >= 1.0:
      raise ValueError(
          "ReduceLROnPlateau does not support a factor >= 1.0 (it would not "
          f"reduce the learning rate). Received: factor={factor}")
    _monitor.check_mode(mode, "ReduceLROnPlateau")
    self.monitor = monitor
    self.factor = factor
    self.patience = patience
    self.verbose = verbose
    self.mode = mode
    self.min_delta = min_delta
    self.cooldown = cooldown
    self.min_lr = min_lr
    self._reset()

  def _reset(self):
    higher = self.mode == "max" or (self.mode == "auto" and
                                    "acc" in self.monitor)
    self._higher = higher
    self.best = -np.inf if higher else np.inf
    self.wait = 0
    self.cooldown_counter = 0

  def _improved(self, current):
    if self._higher:
      return current > self.best + self.min_delta
    return current < self.best - self.min_delta

  def in_cooldown(self):
    return self.cooldown_counter > 0

  def on_train_begin(self, logs=None):
    self._reset()

  def on_epoch_end(self, epoch, logs=None):
    logs = logs if logs is not None else {}
    lr = _learning_rate.get_learning_rate(self.model)
    logs["learning_rate"] = lr
    current = logs.get(self.monitor)
    if current is None:
      _monitor.warn_missing("ReduceLROnPlateau", self.monitor, logs)
      return
    if self.in_cooldown():
      self.cooldown_counter -= 1
      self.wait = 0
    if self._improved(current):
      self.best = current
      self.wait = 0
      return
    if self.in_cooldown():
      return
    self.wait += 1
    if self.wait < self.patience:
      return
    # Compare in float32, the optimizer's precision, so a rate already at
    # min_lr is not "reduced" forever.
    if np.float32(lr) > np.float32(self.min_lr):
      new_lr = max(lr * self.factor, self.min_lr)
      _learning_rate.set_learning_rate(self.model, new_lr)
      if self.verbose > 0:
        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
              f"to {new_lr}.")
      self.cooldown_counter = self.cooldown
      self.wait = 0
