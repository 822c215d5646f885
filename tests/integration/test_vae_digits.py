"""End to end: the VAE example (custom Sampling layer drawing with
hk_keras.random and a SeedGenerator) trains and is reproducible."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import hk_keras

_EXAMPLE = Path(__file__).parents[2] / "examples" / "vae_digits.py"


def _example():
  spec = importlib.util.spec_from_file_location("vae_digits", _EXAMPLE)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _train(vae_module, x, epochs):
  hk_keras.utils.set_random_seed(0)
  vae = vae_module.build_vae()
  vae.compile(optimizer=hk_keras.optimizers.Adam(1e-3),
              loss=vae_module.negative_elbo)
  history = vae.fit(x, x, epochs=epochs, batch_size=64, verbose=0)
  return vae, history.history["loss"]


@pytest.mark.slow
def test_vae_example_learns_and_repeats_exactly():
  vae_module = _example()
  (x_train, _), (x_test, _) = hk_keras.datasets.digits.load_data()
  x_train = (x_train.reshape(-1, 64) / 16.0).astype("float32")
  x_test = (x_test.reshape(-1, 64) / 16.0).astype("float32")
  vae, losses = _train(vae_module, x_train, 15)
  assert losses[-1] < 0.8 * losses[0], losses
  assert vae.evaluate(x_test, x_test, verbose=0) < 35.0
  _, again = _train(vae_module, x_train, 15)
  np.testing.assert_array_equal(losses, again)  # same seed, same noise
