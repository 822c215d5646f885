"""End to end: the README's main task reaches its expected accuracy."""
import numpy as np
import pytest

import hk_keras
from hk_keras import layers


@pytest.mark.slow
def test_digits_mlp_reaches_expected_accuracy():
  hk_keras.utils.set_random_seed(0)
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.digits.load_data()
  model = hk_keras.Sequential([
      hk_keras.Input((8, 8)), layers.Rescaling(1 / 16), layers.Flatten(),
      layers.Dense(64, activation="relu"), layers.Dense(10)])
  model.compile(
      optimizer="adam",
      loss=hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=["accuracy"])
  history = model.fit(x_train, y_train, batch_size=32, epochs=25, verbose=0)
  loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
  assert accuracy >= 0.95, accuracy
  assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
  # predict agrees with evaluate's accuracy.
  predicted = model.predict(x_test, verbose=0).argmax(-1)
  np.testing.assert_allclose((predicted == y_test).mean(), accuracy, atol=1e-6)
