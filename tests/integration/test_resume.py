"""Exact resume: fit 2 epochs, save, load (in a new process), fit 2 more ==
fit 4 epochs straight, bit for bit.

The model has BatchNormalization (Haiku state) and Dropout (the train
state's RNG key), the data a last partial batch and per-epoch shuffling (the
shuffle seed), and the optimizers a learning-rate schedule (the step count
in the optimizer state).
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import optax
import pytest

import hk_keras
from hk_keras import layers
from hk_keras.optimizers import schedules

REPO = Path(__file__).resolve().parents[2]
FIT = dict(batch_size=8, verbose=0)  # 30 samples: 3 full batches + 6


def _data():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(30, 5)).astype(np.float32)
  y = (x[:, 0] > x[:, 1]).astype(np.int32) + (x[:, 2] > 0)
  return x, y


def keras_adam():
  return hk_keras.optimizers.Adam(learning_rate=schedules.ExponentialDecay(
      0.02, decay_steps=3, decay_rate=0.5))


def optax_adam():
  return optax.adam(optax.exponential_decay(0.02, transition_steps=3,
                                            decay_rate=0.5))


OPTIMIZERS = {"keras_adam": keras_adam, "optax_adam": optax_adam}


def _model(optimizer):
  hk_keras.utils.set_random_seed(3)
  inputs = hk_keras.Input((5,))
  h = layers.Dense(16, activation="relu")(inputs)
  h = layers.BatchNormalization()(h)
  h = layers.Dropout(0.4)(h)
  model = hk_keras.Model(inputs, layers.Dense(3)(h))
  model.compile(optimizer=OPTIMIZERS[optimizer](),
                loss="sparse_categorical_crossentropy", metrics=["accuracy"])
  return model


# The second half runs in a fresh interpreter: nothing but the file carries
# the state over.
_RESUME = textwrap.dedent("""
    import sys
    import numpy as np
    import optax
    import hk_keras

    path, optimizer, out = sys.argv[1:4]
    custom = {}
    if optimizer == "optax_adam":  # a closure: passed again, as documented
      custom["optimizer"] = optax.adam(optax.exponential_decay(
          0.02, transition_steps=3, decay_rate=0.5))
    model = hk_keras.models.load_model(path, custom_objects=custom)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5)).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int32) + (x[:, 2] > 0)
    history = model.fit(x, y, batch_size=8, verbose=0, epochs=4,
                        initial_epoch=2)
    np.savez(out, *model.get_weights(), step=np.asarray(model._ts.step),
             loss=np.asarray(history.history["loss"]))
""")


def _run_resume(path, optimizer, out):
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  env.setdefault("JAX_PLATFORMS", "cpu")
  result = subprocess.run(
      [sys.executable, "-c", _RESUME, str(path), optimizer, str(out)],
      capture_output=True, text=True, env=env, timeout=600, check=False)
  assert result.returncode == 0, result.stdout + result.stderr
  with np.load(out, allow_pickle=False) as npz:
    weights = [npz[f"arr_{i}"] for i in range(len(npz.files) - 2)]
    return weights, int(npz["step"]), npz["loss"]


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_resume_in_a_new_process_is_bit_identical(optimizer, tmp_path):
  x, y = _data()
  straight = _model(optimizer)
  history = straight.fit(x, y, epochs=4, **FIT)

  first = _model(optimizer)
  first.fit(x, y, epochs=2, **FIT)
  if optimizer == "optax_adam":
    with pytest.warns(UserWarning, match="optax"):  # not savable as config
      first.save(tmp_path / "half.keras")
  else:
    first.save(tmp_path / "half.keras")

  weights, step, losses = _run_resume(tmp_path / "half.keras", optimizer,
                                      tmp_path / "resumed.npz")
  expected = straight.get_weights()
  assert len(weights) == len(expected)
  for got, want in zip(weights, expected):
    np.testing.assert_array_equal(got, want)  # atol 0
  assert step == int(straight._ts.step) == 16  # pylint: disable=protected-access
  np.testing.assert_array_equal(losses, history.history["loss"][2:])


@pytest.mark.slow
def test_resume_in_process_and_from_a_callback_save(tmp_path):
  """Saving from an epoch-end callback changes nothing, and each saved
  epoch resumes exactly (in the same process)."""
  class Save(hk_keras.callbacks.Callback):

    def on_epoch_end(self, epoch, logs=None):
      self.model.save(tmp_path / f"epoch{epoch + 1}.keras")
      self.model.save_weights(tmp_path / f"epoch{epoch + 1}.weights.npz")

  x, y = _data()
  plain = _model("keras_adam")
  plain.fit(x, y, epochs=3, **FIT)
  saving = _model("keras_adam")
  saving.fit(x, y, epochs=3, callbacks=[Save()], **FIT)
  for a, b in zip(plain.get_weights(), saving.get_weights()):
    np.testing.assert_array_equal(a, b)

  resumed = hk_keras.models.load_model(tmp_path / "epoch2.keras")
  resumed.fit(x, y, epochs=3, initial_epoch=2, **FIT)
  # save_weights carries the train state too: load it into a model compiled
  # afterwards (the state is applied when training starts).
  hk_keras.utils.set_random_seed(11)  # other initial weights and seeds
  inputs = hk_keras.Input((5,))
  h = layers.Dropout(0.4)(layers.BatchNormalization()(
      layers.Dense(16, activation="relu")(inputs)))
  from_weights = hk_keras.Model(inputs, layers.Dense(3)(h))
  from_weights.load_weights(tmp_path / "epoch2.weights.npz")
  from_weights.compile(optimizer=keras_adam(),
                       loss="sparse_categorical_crossentropy",
                       metrics=["accuracy"])
  from_weights.fit(x, y, epochs=3, initial_epoch=2, **FIT)
  for model in (resumed, from_weights):
    for a, b in zip(plain.get_weights(), model.get_weights()):
      np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_mixed_float16_resume_restores_the_loss_scale(tmp_path):
  x, y = _data()
  hk_keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    straight = _model("keras_adam")
    straight.fit(x, y, epochs=3, **FIT)
    first = _model("keras_adam")
    first.fit(x, y, epochs=2, **FIT)
    first.save(tmp_path / "half.keras")
  finally:
    hk_keras.mixed_precision.set_global_policy("float32")
  resumed = hk_keras.models.load_model(tmp_path / "half.keras")  # as saved
  assert resumed.dtype_policy.name == "mixed_float16"
  resumed.fit(x, y, epochs=3, initial_epoch=2, **FIT)
  for a, b in zip(straight.get_weights(), resumed.get_weights()):
    np.testing.assert_array_equal(a, b)
  got, want = resumed._ts.loss_scale, straight._ts.loss_scale  # pylint: disable=protected-access
  assert (float(got.loss_scale), int(got.counter)) == (
      float(want.loss_scale), int(want.counter))


_DATA_PARALLEL = textwrap.dedent("""
    import sys
    import numpy as np
    import hk_keras
    sys.path.insert(0, sys.argv[3])
    from test_resume import FIT, _data, _model

    backend, path = sys.argv[1:3]
    assert len(__import__("jax").devices()) == 4
    hk_keras.distribution.set_distribution(
        hk_keras.distribution.DataParallel(backend=backend))
    x, y = _data()
    straight = _model("keras_adam")
    straight.fit(x, y, epochs=4, **FIT)
    first = _model("keras_adam")
    first.fit(x, y, epochs=2, **FIT)
    first.save(path)
    resumed = hk_keras.models.load_model(path)
    resumed.fit(x, y, epochs=4, initial_epoch=2, **FIT)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
      np.testing.assert_array_equal(a, b)
    print("resumed exactly at step", int(resumed._ts.step))
""")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pmap", "sharding"])
def test_resume_with_data_parallel_on_four_devices(backend, tmp_path):
  env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
             JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join(
                 [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")]
                                if p]))
  result = subprocess.run(
      [sys.executable, "-c", _DATA_PARALLEL, backend,
       str(tmp_path / "dp.keras"), str(Path(__file__).parent)],
      capture_output=True, text=True, env=env, timeout=600, check=False)
  assert result.returncode == 0, result.stdout + result.stderr
  assert "resumed exactly at step 16" in result.stdout
