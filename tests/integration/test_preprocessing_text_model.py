"""End to end: a model that begins with TextVectorization trains on strings.

fit on string arrays, predict on strings, save and reload with the
vocabulary (issue 13). Slow: it trains for a few epochs.
"""
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

pytestmark = pytest.mark.slow


def test_model_starting_with_text_vectorization_trains_on_strings(tmp_path):
  words_pos, words_neg = ["good", "great", "fine"], ["bad", "awful", "poor"]
  rng = np.random.default_rng(0)
  def sentences(words, n):
    return [" ".join(rng.choice(words + ["movie", "the"], 4)) for _ in range(n)]
  x = np.array(sentences(words_pos, 48) + sentences(words_neg, 48))
  y = np.array([1] * 48 + [0] * 48)
  order = rng.permutation(96)
  x, y = x[order], y[order]
  vectorize = layers.TextVectorization(output_sequence_length=4)
  vectorize.adapt(x)
  model = hk_keras.Sequential([
      vectorize, layers.Embedding(vectorize.vocabulary_size(), 8),
      layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
  model.compile(optimizer="adam", loss="binary_crossentropy",
                metrics=["accuracy"])
  history = model.fit(x, y, epochs=25, batch_size=16, verbose=0,
                      validation_data=(x[:16], y[:16]))
  assert history.history["accuracy"][-1] >= 0.95
  assert history.history["val_accuracy"][-1] >= 0.9
  probe = np.array(["good great movie", "bad awful movie"])
  pred = model.predict(probe, verbose=0)
  assert pred[0, 0] > 0.5 > pred[1, 0]
  model.save(tmp_path / "text.keras")
  again = hk_keras.models.load_model(tmp_path / "text.keras")
  assert again.layers[0].get_vocabulary() == vectorize.get_vocabulary()
  np.testing.assert_allclose(again.predict(probe, verbose=0), pred, atol=1e-6)
  loss, acc = again.evaluate(x, y, verbose=0)
  assert acc >= 0.95 and loss < history.history["loss"][0]
