"""`hk_keras.models.load_model(<Orbax checkpoint directory>)` (issue 17).

The checkpoint's `meta` item carries the model config and compile
arguments, so load_model rebuilds the model with no code of the run that
wrote it, and continues its `fit` bit for bit.
"""
import os

import numpy as np
import pytest

import hk_keras
from hk_keras import _engine
from hk_keras.saving import _weights
from tests.test_orbax_checkpoint import _fit, _model

pytest.importorskip("orbax.checkpoint")


def _assert_same_train_state(trained, loaded):
  """The loaded model's pending train state (applied when it trains next)
  equals the trained model's live one, array for array."""
  arrays, _ = _weights.train_state_arrays(trained)
  pending = _engine.live_state(loaded).pending
  got = {**pending.opt_state, "rng": pending.rng, "step": pending.step}
  assert set(got) == set(arrays) and len(arrays) > 3
  for key, value in arrays.items():
    np.testing.assert_array_equal(np.asarray(got[key]), value, err_msg=key)
  assert pending.shuffle_seed == _engine.live_state(trained).shuffle_seed


@pytest.fixture(scope="module")
def written(tmp_path_factory):
  """A run checkpointed after 2 epochs, in a BackupAndRestore-like layout."""
  backup_dir = tmp_path_factory.mktemp("backup")
  directory = os.path.join(str(backup_dir), "orbax")
  model = _model()
  _fit(model, 2, callbacks=[hk_keras.callbacks.OrbaxCheckpoint(
      directory, save_on_background=False)])
  return str(backup_dir), directory, model


def test_backup_dir_and_step_dir_are_accepted(written):
  backup_dir, directory, first = written
  for path in (backup_dir, os.path.join(directory, "10")):
    loaded = hk_keras.models.load_model(path, compile=False)
    assert not loaded.compiled
    for a, b in zip(first.get_weights(), loaded.get_weights()):
      np.testing.assert_array_equal(a, b)


def test_load_model_resumes_bit_for_bit(written):
  _, directory, first = written
  loaded = hk_keras.models.load_model(directory)
  assert type(loaded).__name__ == type(first).__name__
  assert loaded.compiled
  for a, b in zip(first.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
  _assert_same_train_state(first, loaded)
  # The uninterrupted run: the model that wrote the checkpoint goes on.
  _fit(first, 4, initial_epoch=2)
  _fit(loaded, 4, initial_epoch=2)
  for a, b in zip(first.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_a_directory_that_is_not_a_checkpoint_is_explained(tmp_path):
  with pytest.raises(hk_keras.saving.SavingError,
                     match="not an hk_keras Orbax checkpoint directory"):
    hk_keras.models.load_model(str(tmp_path))
  os.makedirs(tmp_path / "3" / "meta")
  (tmp_path / "3" / "meta" / "metadata").write_text("{not json")
  with pytest.raises(hk_keras.saving.SavingError, match="'meta' item"):
    hk_keras.models.load_model(str(tmp_path))
