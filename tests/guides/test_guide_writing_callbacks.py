"""keras.io guide "Writing your own callbacks", as a specification.

In the guide's order: every hook of fit / evaluate / predict is called with
a logs dict (keys as the guide lists them; the values are checked against
Keras 3 in tests/test_callback_logs.py); callbacks read `logs["loss"]` and
the compiled metrics' names; `self.model` gives stop_training,
get_weights / set_weights (early stopping at the minimum loss, restoring
the best weights); a learning-rate schedule set through
`self.model.optimizer.learning_rate`.
"""
import numpy as np
import pytest

import hk_keras as keras


def _model(lr=0.1):
  model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
  model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                loss="mean_squared_error", metrics=["mean_absolute_error"])
  return model


def _data():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(16, 3)).astype("float32")
  return x, x @ np.array([[1.0], [-2.0], [0.5]], np.float32)


class CustomCallback(keras.callbacks.Callback):
  def __init__(self):
    super().__init__()
    self.calls = []

  def _log(self, hook, logs):
    self.calls.append((hook, sorted(logs.keys())))

  def on_train_begin(self, logs=None): self._log("train_begin", logs)
  def on_train_end(self, logs=None): self._log("train_end", logs)
  def on_epoch_begin(self, epoch, logs=None): self._log("epoch_begin", logs)
  def on_epoch_end(self, epoch, logs=None): self._log("epoch_end", logs)
  def on_test_begin(self, logs=None): self._log("test_begin", logs)
  def on_test_end(self, logs=None): self._log("test_end", logs)
  def on_predict_begin(self, logs=None): self._log("predict_begin", logs)
  def on_predict_end(self, logs=None): self._log("predict_end", logs)
  def on_train_batch_begin(self, batch, logs=None): self._log("tb_begin", logs)
  def on_train_batch_end(self, batch, logs=None): self._log("tb_end", logs)
  def on_test_batch_begin(self, batch, logs=None): self._log("eb_begin", logs)
  def on_test_batch_end(self, batch, logs=None): self._log("eb_end", logs)
  def on_predict_batch_begin(self, batch, logs=None): self._log("pb_begin",
                                                                logs)
  def on_predict_batch_end(self, batch, logs=None): self._log("pb_end", logs)


def test_every_hook_gets_a_logs_dict():
  x, y = _data()
  model = _model()
  cb = CustomCallback()
  model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.5,
            callbacks=[cb])
  model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[cb])
  model.predict(x, batch_size=8, verbose=0, callbacks=[cb])
  calls = dict()
  for hook, keys in cb.calls:
    calls.setdefault(hook, keys)
  metrics = ["loss", "mean_absolute_error"]
  val = metrics + ["val_loss", "val_mean_absolute_error"]
  assert calls == {
      "train_begin": [], "epoch_begin": [], "tb_begin": [], "tb_end": metrics,
      "test_begin": [], "eb_begin": [], "eb_end": metrics,
      "test_end": metrics, "epoch_end": val, "train_end": val,
      "predict_begin": [], "pb_begin": [], "pb_end": ["outputs"],
      "predict_end": []}


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
  def __init__(self):
    super().__init__()
    self.lines = []

  def on_train_batch_end(self, batch, logs=None):
    self.lines.append(f"batch {batch}: loss {logs['loss']:7.2f}")

  def on_epoch_end(self, epoch, logs=None):
    self.lines.append(f"epoch {epoch}: mae {logs['mean_absolute_error']:.2f}")


def test_callbacks_read_the_logs_values():
  x, y = _data()
  cb = LossAndErrorPrintingCallback()
  history = _model().fit(x, y, batch_size=8, epochs=2, verbose=0,
                         callbacks=[cb])
  assert len(cb.lines) == 2 * 2 + 2
  assert cb.lines[-1] == (
      f"epoch 1: mae {history.history['mean_absolute_error'][-1]:.2f}")


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
  def __init__(self, patience=0):
    super().__init__()
    self.patience = patience
    self.best_weights = None

  def on_train_begin(self, logs=None):
    self.wait = 0
    self.stopped_epoch = 0
    self.best = np.inf

  def on_epoch_end(self, epoch, logs=None):
    current = logs.get("loss")
    if np.less(current, self.best):
      self.best = current
      self.wait = 0
      self.best_weights = self.model.get_weights()
    else:
      self.wait += 1
      if self.wait >= self.patience:
        self.stopped_epoch = epoch
        self.model.stop_training = True
        self.model.set_weights(self.best_weights)


def test_early_stopping_through_self_model():
  x, y = _data()
  model = _model(lr=1.2)  # diverges: the loss grows from epoch 1 on
  cb = EarlyStoppingAtMinLoss()
  history = model.fit(x, y, batch_size=16, epochs=10, verbose=0,
                      callbacks=[cb])
  assert cb.stopped_epoch == len(history.history["loss"]) - 1 < 9
  for a, b in zip(model.get_weights(), cb.best_weights):
    np.testing.assert_array_equal(a, b)


class CustomLearningRateScheduler(keras.callbacks.Callback):
  def __init__(self, schedule):
    super().__init__()
    self.schedule = schedule
    self.seen = []

  def on_epoch_begin(self, epoch, logs=None):
    lr = float(self.model.optimizer.learning_rate)
    scheduled_lr = self.schedule(epoch, lr)
    self.model.optimizer.learning_rate = scheduled_lr
    self.seen.append(scheduled_lr)


def test_learning_rate_set_through_the_optimizer():
  x, y = _data()
  model = _model()
  cb = CustomLearningRateScheduler(lambda epoch, lr: 0.0 if epoch else lr)
  model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb])
  after_first = model.get_weights()
  model.fit(x, y, batch_size=16, epochs=2, initial_epoch=1, verbose=0,
            callbacks=[cb])
  assert cb.seen[0] == pytest.approx(0.1) and cb.seen[1] == 0.0
  for a, b in zip(model.get_weights(), after_first):  # lr 0: no change
    np.testing.assert_array_equal(a, b)
