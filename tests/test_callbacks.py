"""Callbacks with real effects on fit: stopping, restoring, logging, rates."""
import csv
import glob
import io
import os
import struct
import sys

import chex
import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import callbacks, layers, optimizers


def _data(n=32, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 3)).astype(np.float32)
  y = x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
  return x, y


class _Counting(hk_keras.Sequential):
  """Counts how often train_step is traced (compiled)."""
  traces = 0

  def train_step(self, state, data):
    type(self).traces += 1
    return super().train_step(state, data)


def _model(lr=0.05, counting=False, seed=0):
  hk_keras.utils.set_random_seed(seed)
  cls = _Counting if counting else hk_keras.Sequential
  model = cls([hk_keras.Input((3,)), layers.Dense(1)])
  model.compile(optimizer=optimizers.SGD(learning_rate=lr), loss="mse")
  return model


def _script(name, values):
  """A callback that overwrites logs[name] with scripted values per epoch."""
  return callbacks.LambdaCallback(
      on_epoch_end=lambda epoch, logs: logs.__setitem__(name, values[epoch]))


class _Snapshots(callbacks.Callback):
  """Copies of the weights at each epoch end (after other callbacks)."""

  def __init__(self):
    super().__init__()
    self.weights = []

  def on_epoch_end(self, epoch, logs=None):
    self.weights.append([np.array(w) for w in self.model.get_weights()])


def _lr(model):
  return float(optimizers.get_learning_rate(model._ts.opt_state))


# -- no batch hooks unless asked ------------------------------------------------
def test_epoch_level_callbacks_leave_batch_hooks_off(tmp_path):
  cbs = [callbacks.EarlyStopping(), callbacks.CSVLogger(tmp_path / "a.csv"),
         callbacks.LearningRateScheduler(lambda e, lr: lr),
         callbacks.ReduceLROnPlateau(), callbacks.LambdaCallback(
             on_epoch_end=lambda e, logs: None),
         callbacks.TensorBoard(log_dir=tmp_path / "tb")]
  listed = callbacks.CallbackList(cbs, None, {})
  assert not listed.wants_batch_hooks("train")
  batchy = callbacks.CallbackList(
      [callbacks.TensorBoard(log_dir=tmp_path / "tb", update_freq=3)], None, {})
  assert batchy.wants_batch_hooks("train")


# -- EarlyStopping ----------------------------------------------------------------
def test_early_stopping_stops_at_patience_and_restores_best_weights():
  model = _model()
  x, y = _data()
  snaps = _Snapshots()
  stop = callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                 restore_best_weights=True)
  # val_loss is best at epoch 2, then two epochs without improvement.
  script = _script("val_loss", [5.0, 3.0, 2.0, 2.5, 2.6, 1.0, 1.0])
  history = model.fit(x, y, epochs=7, batch_size=8, verbose=0,
                      validation_data=(x, y), callbacks=[script, stop, snaps])
  assert history.epoch == [0, 1, 2, 3, 4]
  assert stop.stopped_epoch == 4 and stop.best_epoch == 2 and stop.best == 2.0
  assert model.stop_training
  chex.assert_trees_all_equal(model.get_weights(), snaps.weights[2])
  assert not np.array_equal(snaps.weights[4][0], snaps.weights[2][0])


def test_early_stopping_restores_best_weights_in_training_that_continues():
  model = _model()
  x, y = _data()
  snaps = _Snapshots()
  stop = callbacks.EarlyStopping(monitor="loss", patience=5,
                                 restore_best_weights=True)
  script = _script("loss", [3.0, 1.0, 2.0])
  model.fit(x, y, epochs=3, batch_size=8, verbose=0,
            callbacks=[script, stop, snaps])
  assert stop.stopped_epoch == 0
  chex.assert_trees_all_equal(model.get_weights(), snaps.weights[1])
  # Training goes on from the restored weights.
  model.fit(x, y, epochs=1, batch_size=8, verbose=0)
  assert not np.array_equal(model.get_weights()[0], snaps.weights[1][0])


class _FakeModel:
  stop_training = False
  _objective = None

  def get_weights(self):
    return []

  def set_weights(self, weights):
    pass


def _run_logic(stop, values, monitor="m"):
  """Feeds scripted values; returns the epoch at which training stopped."""
  stop.set_model(_FakeModel())
  stop.on_train_begin()
  for epoch, value in enumerate(values):
    stop.on_epoch_end(epoch, {monitor: value})
    if stop.model.stop_training:
      return epoch
  return None


@pytest.mark.parametrize("kwargs,values,stopped", [
    (dict(patience=1, mode="min"), [3, 2, 2, 1], 2),
    (dict(patience=1, mode="max"), [1, 2, 2, 3], 2),
    (dict(patience=1, mode="min", min_delta=0.5), [3, 2.8, 2.7], 1),
    (dict(patience=2, mode="min", baseline=1.0), [3, 2, 1.5, 0.5], 1),
    (dict(patience=2, mode="min", baseline=1.0), [0.9, 0.8, 0.7, 0.6], None),
    (dict(patience=0, mode="min", start_from_epoch=2), [1, 2, 3, 4], 3),
])
def test_early_stopping_arguments(kwargs, values, stopped):
  assert _run_logic(callbacks.EarlyStopping(monitor="m", **kwargs),
                    values) == stopped


def test_early_stopping_auto_mode_from_compiled_metrics():
  model = _model()
  model.compile(optimizer="sgd", loss="mse", metrics=[
      "mean_absolute_error", hk_keras.metrics.CosineSimilarity(name="cos")])
  x, y = _data(n=8)
  model.fit(x, y, epochs=1, verbose=0)
  for monitor, higher in [("val_loss", False), ("mean_absolute_error", False),
                          ("cos", True), ("val_accuracy", True),
                          ("auc", True)]:
    stop = callbacks.EarlyStopping(monitor=monitor)
    stop.set_model(model)
    stop.on_train_begin()
    stop.on_epoch_end(0, {monitor: 1.0})
    assert stop._higher is higher, monitor
  with pytest.raises(ValueError, match="mode='min'"):
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[_script("weird", [1.0]),
                         callbacks.EarlyStopping(monitor="weird")])
  with pytest.raises(ValueError, match="mode must be one of"):
    callbacks.EarlyStopping(mode="lowest")


def test_early_stopping_warns_on_a_missing_monitor():
  model = _model()
  x, y = _data()
  with pytest.warns(UserWarning, match="val_loss"):
    history = model.fit(x, y, epochs=2, verbose=0,
                        callbacks=[callbacks.EarlyStopping()])
  assert len(history.epoch) == 2


# -- CSVLogger ---------------------------------------------------------------------
def test_csv_logger_rows_and_append(tmp_path):
  path = tmp_path / "logs" / "train.csv"
  model = _model()
  x, y = _data()
  history = model.fit(x, y, epochs=2, batch_size=8, verbose=0,
                      validation_data=(x, y),
                      callbacks=[callbacks.CSVLogger(path)])
  with open(path, newline="") as f:
    rows = list(csv.reader(f))
  assert rows[0] == ["epoch", "loss", "val_loss"]
  assert [r[0] for r in rows[1:]] == ["0", "1"]
  np.testing.assert_allclose([float(r[1]) for r in rows[1:]],
                             history.history["loss"])
  np.testing.assert_allclose([float(r[2]) for r in rows[1:]],
                             history.history["val_loss"])
  model.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, verbose=0,
            validation_data=(x, y),
            callbacks=[callbacks.CSVLogger(path, separator=";", append=True)])
  lines = path.read_text().splitlines()
  assert len(lines) == 5 and lines[0] == "epoch,loss,val_loss"
  assert [line.split(";")[0] for line in lines[3:]] == ["2", "3"]
  model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path)])
  assert len(path.read_text().splitlines()) == 2  # overwritten


# -- TerminateOnNaN -----------------------------------------------------------------
def test_terminate_on_nan_stops_an_exploding_run(capsys):
  model = _model(lr=1e12)
  x, y = _data(n=64)
  x = x * 100
  seen = []
  history = model.fit(
      x, y, epochs=5, batch_size=4, verbose=0, shuffle=False,
      callbacks=[callbacks.TerminateOnNaN(), callbacks.LambdaCallback(
          on_train_batch_end=lambda b, logs: seen.append(b))])
  assert len(history.epoch) == 1
  assert not np.isfinite(history.history["loss"][0])
  assert len(seen) < 16  # stopped inside the first epoch
  assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_can_raise():
  model = _model(lr=1e12)
  x, y = _data(n=64)
  with pytest.raises(RuntimeError, match="TerminateOnNaN"):
    model.fit(x * 100, y, epochs=5, batch_size=4, verbose=0,
              callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


# -- LearningRateScheduler -----------------------------------------------------------
def test_lr_scheduler_changes_the_update_without_recompiling():
  _Counting.traces = 0
  model = _model(lr=0.5, counting=True)
  x, y = _data(n=8)
  start = model.get_weights()
  deltas = []
  for lr in (0.1, 0.01):
    model.set_weights(start)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, old, lr=lr: lr)])
    deltas.append([a - b for a, b in zip(model.get_weights(), start)])
    assert _lr(model) == pytest.approx(lr)
  # One SGD step from the same weights: the update scales with the rate.
  for big, small in zip(*deltas):
    np.testing.assert_allclose(big, 10 * small, rtol=1e-4)
  history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[
      callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
  np.testing.assert_allclose(history.history["learning_rate"],
                             [0.005, 0.0025, 0.00125], rtol=1e-6)
  assert _Counting.traces == 1


def test_lr_scheduler_one_argument_schedule_and_bad_output():
  model = _model(lr=0.5)
  x, y = _data(n=8)
  history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
      callbacks.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))])
  np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.2],
                             rtol=1e-6)
  with pytest.raises(ValueError, match="must return a float"):
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: "fast")])


def test_lr_scheduler_before_the_first_generator_batch():
  model = _model(lr=0.5)
  x, y = _data(n=16)
  before = model.get_weights()

  def batches():
    for i in range(0, 16, 8):
      yield x[i:i + 8], y[i:i + 8]

  history = model.fit(batches(), epochs=1, verbose=0, callbacks=[
      callbacks.LearningRateScheduler(lambda epoch, lr: 0.0)])
  chex.assert_trees_all_equal(model.get_weights(), before)  # rate 0: frozen
  assert history.history["learning_rate"] == [0.0]


# -- ReduceLROnPlateau ---------------------------------------------------------------
def test_reduce_lr_on_a_real_plateau():
  # Zero inputs and targets with zero bias: the loss stays exactly 0.
  model = _model(lr=0.1)
  x, y = np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32)
  history = model.fit(x, y, epochs=4, verbose=0, callbacks=[
      callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)])
  np.testing.assert_allclose(history.history["learning_rate"],
                             [0.1, 0.1, 0.05, 0.025], rtol=1e-6)
  assert _lr(model) == pytest.approx(0.0125)


def test_reduce_lr_cooldown_min_lr_and_recompiles_nothing():
  _Counting.traces = 0
  model = _model(lr=0.1, counting=True)
  x, y = _data(n=8)
  script = _script("val_loss", [1.0] * 8)
  reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2,
                                       min_lr=0.03)
  history = model.fit(x, y, epochs=8, verbose=0, validation_data=(x, y),
                      callbacks=[script, reduce])
  # epoch 1: reduce to 0.05; the cooldown counts down at 2 and 3 (Keras
  # counts it down before it checks it); reduce at 3 (floored at 0.03).
  np.testing.assert_allclose(history.history["learning_rate"],
                             [0.1, 0.1, 0.05, 0.05, 0.03, 0.03, 0.03, 0.03],
                             rtol=1e-6)
  assert _Counting.traces == 1
  with pytest.raises(ValueError, match="factor"):
    callbacks.ReduceLROnPlateau(factor=1.5)


# -- LambdaCallback -------------------------------------------------------------------
def test_lambda_callback_hooks_fire_in_order():
  model = _model()
  x, y = _data(n=20)
  calls = []
  record = lambda name: (lambda *args: calls.append((name,) + args[:1]))
  cb = callbacks.LambdaCallback(
      on_train_begin=lambda logs: calls.append(("train_begin",)),
      on_epoch_begin=record("epoch_begin"),
      on_train_batch_begin=record("batch_begin"),
      on_batch_end=lambda batch, logs: calls.append(
          ("batch_end", batch, round(logs["loss"], 6) >= 0)),
      on_epoch_end=lambda epoch, logs: calls.append(
          ("epoch_end", epoch, sorted(logs))),
      on_train_end=lambda logs: calls.append(("train_end",)),
      on_test_begin=lambda logs: calls.append(("test_begin",)))
  model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
  epoch = [("batch_begin", 0), ("batch_end", 0, True), ("batch_begin", 1),
           ("batch_end", 1, True), ("batch_begin", 2), ("batch_end", 2, True)]
  assert calls == ([("train_begin",), ("epoch_begin", 0)] + epoch +
                   [("epoch_end", 0, ["loss"]), ("epoch_begin", 1)] + epoch +
                   [("epoch_end", 1, ["loss"]), ("train_end",)])
  model.evaluate(x, y, verbose=0, callbacks=[cb])
  assert calls[-1] == ("test_begin",)
  with pytest.raises(ValueError, match="unknown hook"):
    callbacks.LambdaCallback(on_epoch_finish=print)
  with pytest.raises(TypeError, match="must be a function"):
    callbacks.LambdaCallback(on_epoch_end=3)


# -- TensorBoard -------------------------------------------------------------------------
def _masked_crc_free_records(data):
  """Splits a TFRecord file: [len u64][crc u32][bytes][crc u32]..."""
  offset = 0
  while offset < len(data):
    (length,) = struct.unpack("<Q", data[offset:offset + 8])
    offset += 12
    yield data[offset:offset + length]
    offset += length + 4


def _read_scalars(directory):
  """{tag: [(step, value), ...]} from the event files in a directory."""
  try:
    from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  except ImportError:
    event_accumulator = None
  if event_accumulator is not None:
    acc = event_accumulator.EventAccumulator(str(directory))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)]
            for tag in acc.Tags()["scalars"]}
  from tensorboardX.proto import event_pb2  # pylint: disable=g-import-not-at-top
  out = {}
  for path in sorted(glob.glob(os.path.join(directory, "events.out.*"))):
    with open(path, "rb") as f:
      for record in _masked_crc_free_records(f.read()):
        event = event_pb2.Event.FromString(record)
        for value in event.summary.value:
          if value.HasField("simple_value"):
            out.setdefault(value.tag, []).append(
                (event.step, value.simple_value))
  return out


def test_tensorboard_writes_epoch_and_batch_scalars(tmp_path):
  pytest.importorskip("tensorboardX")
  model = _model(lr=0.05)
  model.compile(optimizer=optimizers.SGD(0.05), loss="mse", metrics=["mae"],
                steps_per_execution=2)
  x, y = _data(n=32)
  history = model.fit(
      x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x, y),
      callbacks=[callbacks.TensorBoard(log_dir=tmp_path, update_freq=3)])
  train = _read_scalars(tmp_path / "train")
  val = _read_scalars(tmp_path / "validation")
  for name in ("loss", "mae"):
    steps, values = zip(*train["epoch_" + name])
    assert steps == (0, 1, 2)
    np.testing.assert_allclose(values, history.history[name], rtol=1e-6)
    steps, values = zip(*val["epoch_" + name])
    np.testing.assert_allclose(values, history.history["val_" + name],
                               rtol=1e-6)
  np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]],
                             [0.05] * 3, rtol=1e-6)
  # 4 batches per epoch, 2 per compiled call: written when >= 3 batches
  # passed since the last write.
  assert [s for s, _ in train["batch_loss"]] == [4, 8, 12]
  assert "batch_loss" not in val


def test_tensorboard_epoch_mode_reads_no_batch_logs(tmp_path):
  pytest.importorskip("tensorboardX")
  model = _model()
  x, y = _data(n=16)
  model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.TensorBoard(
      log_dir=tmp_path, histogram_freq=1, write_steps_per_second=True)])
  train = _read_scalars(tmp_path / "train")
  assert sorted(train) == ["epoch_learning_rate", "epoch_loss",
                           "epoch_steps_per_second"]
  assert not os.path.exists(tmp_path / "validation")


def test_tensorboard_without_the_writer_says_what_to_install(monkeypatch):
  monkeypatch.setitem(sys.modules, "tensorboardX", None)
  with pytest.raises(ImportError, match=r"pip install hk_keras\[tensorboard\]"):
    callbacks.TensorBoard()


def test_tensorboard_rejects_a_bad_update_freq():
  pytest.importorskip("tensorboardX")
  with pytest.raises(ValueError, match="positive number of batches"):
    callbacks.TensorBoard(update_freq=0)


# -- ModelCheckpoint -------------------------------------------------------------------
def test_model_checkpoint_formats_names_and_saves_every_epoch(tmp_path):
  model = _model()
  x, y = _data()
  snaps = _Snapshots()
  path = str(tmp_path / "ckpt" / "{epoch:02d}-{val_loss:.3f}.keras")
  history = model.fit(x, y, epochs=3, batch_size=8, verbose=0,
                      validation_data=(x, y),
                      callbacks=[callbacks.ModelCheckpoint(path), snaps])
  names = sorted(os.listdir(tmp_path / "ckpt"))
  assert names == [f"{e + 1:02d}-{v:.3f}.keras"
                   for e, v in enumerate(history.history["val_loss"])]
  loaded = hk_keras.models.load_model(tmp_path / "ckpt" / names[1])
  chex.assert_trees_all_equal(loaded.get_weights(), snaps.weights[1])


def test_model_checkpoint_best_only(tmp_path, capsys):
  model = _model()
  x, y = _data()
  snaps = _Snapshots()
  path = tmp_path / "best.weights.npz"
  checkpoint = callbacks.ModelCheckpoint(path, save_best_only=True,
                                         save_weights_only=True, verbose=1)
  model.fit(x, y, epochs=4, batch_size=8, verbose=0, validation_data=(x, y),
            callbacks=[_script("val_loss", [3.0, 1.0, 2.0, 1.5]), checkpoint,
                       snaps])
  fresh = _model(seed=5)
  fresh.load_weights(path)
  chex.assert_trees_all_equal(fresh.get_weights(), snaps.weights[1])
  out = capsys.readouterr().out
  assert "val_loss improved from 3.00000 to 1.00000" in out
  assert "Epoch 4: val_loss did not improve from 1.00000" in out
  # mode="max" (or a metric that grows) keeps the highest value instead.
  checkpoint = callbacks.ModelCheckpoint(path, monitor="val_acc",
                                         save_best_only=True,
                                         save_weights_only=True)
  model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_data=(x, y),
            callbacks=[_script("val_acc", [0.5, 0.9, 0.7]), checkpoint])
  assert checkpoint.best == 0.9


def test_model_checkpoint_every_n_batches(tmp_path):
  x, y = _data(n=32)
  model = _model()
  path = str(tmp_path / "{epoch}-{batch}.weights.npz")
  model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0,
            callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=True,
                                                 save_freq=3)])
  assert sorted(os.listdir(tmp_path)) == ["1-3.weights.npz", "2-2.weights.npz"]
  # The mid-epoch file holds the weights after exactly 3 steps.
  reference = _model()
  reference.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0,
                steps_per_epoch=3)
  saved = _model(seed=5)
  saved.load_weights(tmp_path / "1-3.weights.npz")
  chex.assert_trees_all_equal(saved.get_weights(), reference.get_weights())


def test_model_checkpoint_argument_errors(tmp_path):
  with pytest.raises(ValueError, match="must end in '.keras'"):
    callbacks.ModelCheckpoint(tmp_path / "m.h5")
  with pytest.raises(ValueError, match="'.weights.npz'"):
    callbacks.ModelCheckpoint(tmp_path / "m.keras", save_weights_only=True)
  with pytest.raises(ValueError, match="positive number of batches"):
    callbacks.ModelCheckpoint(tmp_path / "m.keras", save_freq="often")
  model = _model()
  x, y = _data(n=8)
  with pytest.raises(KeyError, match="could not format"):
    model.fit(x, y, verbose=0, callbacks=[
        callbacks.ModelCheckpoint(str(tmp_path / "{accuracy}.keras"))])


# -- BackupAndRestore ------------------------------------------------------------------
def test_backup_and_restore_every_n_batches_and_keeping_the_backup(tmp_path):
  x, y = _data(n=32)
  model = _model()
  backup = callbacks.BackupAndRestore(tmp_path, save_freq=3,
                                      delete_checkpoint=False)
  model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[backup])
  # 8 batches: backups after batches 3 and 6 (mid-epoch) and at epoch ends.
  assert sorted(os.listdir(tmp_path)) == ["backup-epoch2.weights.npz",
                                          "latest.json"]
  (tmp_path / "keep.txt").write_text("not ours")
  again = _model(seed=3)
  history = again.fit(x, y, epochs=3, batch_size=8, verbose=0,
                      callbacks=[callbacks.BackupAndRestore(tmp_path)])
  assert history.epoch == [2]
  assert os.listdir(tmp_path) == ["keep.txt"]  # only its own files removed


def test_progress_bar_prints_keras_time_units():
  from hk_keras.callbacks import _progbar  # pylint: disable=g-import-not-at-top
  assert _progbar._per_step(2.4) == "2s/step"
  assert _progbar._per_step(0.0123) == "12ms/step"
  assert _progbar._per_step(0.00042) == "420us/step"
  stream = io.StringIO()
  model = hk_keras.Sequential([hk_keras.Input((3,)), hk_keras.layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse")
  x = np.ones((64, 3), np.float32)
  model.fit(x, x[:, :1], batch_size=16, epochs=1, verbose=0,
            callbacks=[hk_keras.callbacks.ProgbarLogger(verbose=2,
                                                        stream=stream)])
  line = stream.getvalue().splitlines()[-1]
  assert line.startswith("4/4 - ") and "/step - loss: " in line, line
