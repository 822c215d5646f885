"""examples/transformer_classifier.py: keras.ops on symbolic tensors train."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

import hk_keras

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / (
    "transformer_classifier.py")


@pytest.mark.slow
def test_transformer_example_learns_the_digits():
  spec = importlib.util.spec_from_file_location("transformer_example",
                                                EXAMPLE)
  example = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(example)
  hk_keras.utils.set_random_seed(0)
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.digits.load_data()
  model = example.build_model(width=16, blocks=1)
  assert sum(type(l).__name__ == "OpLayer" for l in model._operations) >= 8
  model.compile(optimizer=hk_keras.optimizers.Adam(3e-3),
                loss=hk_keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True),
                metrics=["accuracy"])
  model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
  _, accuracy = model.evaluate(x_test, y_test, verbose=0)
  assert accuracy > 0.85, accuracy
  predictions = model.predict(x_test[:4], verbose=0)
  assert predictions.shape == (4, 10) and np.all(np.isfinite(predictions))
