"""callbacks.OrbaxCheckpoint: exact resume, plain Orbax reads, keep-N, best-N.

The SIGKILL-during-an-async-save case is in tests/integration/test_orbax_kill.py.
"""
import os

import numpy as np
import orbax.checkpoint as ocp
import pytest

import hk_keras
from hk_keras import layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 5)).astype("float32")
Y = RNG.normal(size=(40, 3)).astype("float32")


def _model():
  hk_keras.utils.set_random_seed(0)
  model = hk_keras.Sequential([
      hk_keras.Input((5,)), layers.Dense(8, activation="relu"),
      layers.BatchNormalization(), layers.Dropout(0.3), layers.Dense(3)])
  model.compile("adam", "mse")
  return model


def _fit(model, epochs, initial_epoch=0, callbacks=()):
  return model.fit(X, Y, batch_size=8, epochs=epochs,
                   initial_epoch=initial_epoch, verbose=0,
                   callbacks=list(callbacks))


def test_resume_is_bit_identical_and_plain_orbax_reads_it(tmp_path):
  straight = _model()
  _fit(straight, 4)
  directory = str(tmp_path / "ckpt")
  first = _model()
  checkpoint = hk_keras.callbacks.OrbaxCheckpoint(directory, max_to_keep=2)
  _fit(first, 2, callbacks=[checkpoint])
  steps = sorted(int(d) for d in os.listdir(directory) if d.isdigit())
  assert steps == [5, 10]  # optimizer steps after epochs 1 and 2, keep 2

  resumed = _model()  # fresh layer names: matched by creation order
  epoch = hk_keras.callbacks.OrbaxCheckpoint(directory).restore(resumed)
  assert epoch == 2
  _fit(resumed, 4, initial_epoch=epoch)
  for a, b in zip(straight.get_weights(), resumed.get_weights()):
    np.testing.assert_array_equal(a, b)

  # Plain Orbax, no hk_keras: the pytree of NumPy arrays.
  manager = ocp.CheckpointManager(directory)
  restored = manager.restore(10, args=ocp.args.Composite(
      train_state=ocp.args.StandardRestore(),
      meta=ocp.args.JsonRestore()))
  tree = restored["train_state"]
  assert set(tree) == {"params", "state", "opt_state", "rng", "step"}
  assert int(tree["step"]) == 10 and restored["meta"]["epoch"] == 2
  kernel = tree["params"][first.layers[0].name]["kernel"]
  np.testing.assert_array_equal(kernel, first.layers[0].get_weights()[0])


def test_save_best_only_and_errors(tmp_path):
  directory = str(tmp_path / "best")
  checkpoint = hk_keras.callbacks.OrbaxCheckpoint(
      directory, monitor="loss", save_best_only=True, max_to_keep=None,
      save_on_background=False, save_weights_only=True)
  model = _model()
  losses = _fit(model, 3, callbacks=[checkpoint]).history["loss"]
  best_epochs = [i + 1 for i, loss in enumerate(losses)
                 if loss < min(losses[:i], default=np.inf)]
  saved = [d for d in os.listdir(directory) if d.isdigit()]
  assert len(saved) == len(best_epochs)
  other = _model()
  epoch = hk_keras.callbacks.OrbaxCheckpoint(directory).restore(other)
  assert epoch == best_epochs[-1]
  for a, b in zip(model.get_weights(), other.get_weights()):
    if epoch == 3:
      np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match="max_to_keep"):
    hk_keras.callbacks.OrbaxCheckpoint(directory, max_to_keep=0)
  with pytest.raises(ValueError, match="No Orbax checkpoint"):
    hk_keras.callbacks.OrbaxCheckpoint(str(tmp_path / "empty")).restore(other)


class _Interrupt(hk_keras.callbacks.Callback):

  def on_epoch_end(self, epoch, logs=None):
    if epoch == 1:
      raise KeyboardInterrupt("simulated crash after epoch 2")


def test_backup_and_restore_orbax_backend_resumes_exactly(tmp_path):
  straight = _model()
  _fit(straight, 4)
  backup_dir = str(tmp_path / "backup")
  crashed = _model()
  backup = hk_keras.callbacks.BackupAndRestore(backup_dir, backend="orbax")
  with pytest.raises(KeyboardInterrupt):
    _fit(crashed, 4, callbacks=[backup, _Interrupt()])
  # The epoch-2 save runs in the background; here the process lives on, so
  # let it finish (a killed process resumes from the last complete one).
  backup._orbax.wait_until_finished()  # pylint: disable=protected-access
  assert os.listdir(os.path.join(backup_dir, "orbax"))
  resumed = _model()
  history = _fit(resumed, 4, callbacks=[hk_keras.callbacks.BackupAndRestore(
      backup_dir, backend="orbax")])
  assert history.epoch == [2, 3]
  for a, b in zip(straight.get_weights(), resumed.get_weights()):
    np.testing.assert_array_equal(a, b)
  assert not os.path.exists(os.path.join(backup_dir, "orbax"))  # deleted
  with pytest.raises(ValueError, match="backend"):
    hk_keras.callbacks.BackupAndRestore(backup_dir, backend="h5")
