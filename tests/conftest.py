"""Shared pytest setup: Keras (for parity tests) runs on its JAX backend."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
  """Every test starts from the same global seed."""
  import hk_keras
  hk_keras.utils.set_random_seed(1234)
  yield
  from hk_keras._core import _settings  # pylint: disable=g-import-not-at-top
  _settings.reset()  # no global setting leaks into the next test
