"""Masking end to end against Keras 3 (issue 12, item 7): padded-sequence
models give the same outputs, losses, metrics and trained weights as Keras
on the same weights and data, with and without padding, whatever the
padding length; and the new recurrent layers save and load."""
import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from tests.test_masking_recurrent import (
    L_LONG, L_SHORT, T, F, VOCAB, _close, _ids, _model_a, _model_b)

keras = pytest.importorskip("keras")
ATOL = 1e-5

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def keras_a():
  model = _model_a(keras, L_SHORT)
  model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
  return model


def test_masked_classifier_matches_keras_and_ignores_padding_length(keras_a):
  y = np.array([0, 1, 2, 1])
  ours = _model_a(hk_keras, L_SHORT)
  ours.set_weights(keras_a.get_weights())
  ours.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
  for pad in (True, False):
    x = _ids(L_SHORT, pad)
    _close(ours(x), keras_a(x))
    k_logs = keras_a.evaluate(x, y, verbose=0, return_dict=True)
    h_logs = ours.evaluate(x, y, verbose=0, return_dict=True)
    _close([h_logs["loss"], h_logs["accuracy"]],
           [k_logs["loss"], k_logs["accuracy"]])
  # Longer padding changes nothing.
  longer = _model_a(hk_keras, L_LONG)
  longer.set_weights(keras_a.get_weights())
  x = _ids(L_SHORT)
  x_long = np.pad(x, ((0, 0), (0, L_LONG - L_SHORT)))
  _close(longer(x_long), ours(x))


def test_masked_sequence_tagger_trains_like_keras():
  rng = np.random.default_rng(8)
  x = rng.normal(size=(4, L_SHORT, 2)).astype("float32")
  for row, n in enumerate([6, 3, 5, 2]):
    x[row, n:] = 0.0
  y = rng.integers(0, 2, size=(4, L_SHORT))
  km = _model_b(keras, L_SHORT)
  hm = _model_b(hk_keras, L_SHORT)
  hm.set_weights(km.get_weights())
  for m in (km, hm):
    m.compile(optimizer=(keras.optimizers.SGD(0.5) if m is km else
                         hk_keras.optimizers.SGD(0.5)),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
  _close(hm(x), km(x))
  k_eval = km.evaluate(x, y, verbose=0, return_dict=True)
  h_eval = hm.evaluate(x, y, verbose=0, return_dict=True)
  _close([h_eval["loss"], h_eval["accuracy"]],
         [k_eval["loss"], k_eval["accuracy"]])
  # The padded steps do not count: the loss equals the mean over real steps.
  probs = np.asarray(hm(x))
  real = np.any(x != 0, axis=-1)
  per_step = -np.log(np.take_along_axis(probs, y[..., None], -1)[..., 0])
  np.testing.assert_allclose(h_eval["loss"], per_step[real].mean(),
                             atol=ATOL)
  k_hist = km.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
  h_hist = hm.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
  _close([h_hist.history["loss"], h_hist.history["accuracy"]],
         [k_hist.history["loss"], k_hist.history["accuracy"]])
  _close(hm.get_weights(), km.get_weights())
  # Padding length changes nothing (outputs on real steps, loss, metrics).
  x_long = np.pad(x, ((0, 0), (0, 3), (0, 0)))
  y_long = np.pad(y, ((0, 0), (0, 3)))
  long_model = _model_b(hk_keras, L_SHORT + 3)
  long_model.set_weights(hm.get_weights())
  long_model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
  hm.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
  _close(np.asarray(long_model(x_long))[:, :L_SHORT][real],
         np.asarray(hm(x))[real])
  a = long_model.evaluate(x_long, y_long, verbose=0, return_dict=True)
  b = hm.evaluate(x, y, verbose=0, return_dict=True)
  _close([a["loss"], a["accuracy"]], [b["loss"], b["accuracy"]])


def test_attention_ignores_masked_keys_like_keras():
  def build(K):
    i = K.Input((L_SHORT,), dtype="int32")
    x = K.layers.Embedding(VOCAB, 4, mask_zero=True)(i)
    x = K.layers.MultiHeadAttention(2, 3)(x, x)
    return K.Model(i, K.layers.GlobalAveragePooling1D()(x))

  km, hm = build(keras), build(hk_keras)
  hm.set_weights(km.get_weights())
  x = _ids(L_SHORT)
  _close(hm(x), km(x))
  # Longer padding (more masked keys) changes nothing.
  def build_long(K):
    i = K.Input((L_LONG,), dtype="int32")
    x = K.layers.Embedding(VOCAB, 4, mask_zero=True)(i)
    x = K.layers.MultiHeadAttention(2, 3)(x, x)
    return K.Model(i, K.layers.GlobalAveragePooling1D()(x))

  longer = build_long(hk_keras)
  longer.set_weights(km.get_weights())
  _close(longer(np.pad(x, ((0, 0), (0, L_LONG - L_SHORT)))), hm(x))


def test_new_layers_save_and_load(tmp_path):
  i = hk_keras.Input((T, F))
  x = layers.Masking()(i)
  x = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True))(x)
  x = layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)],
                 return_sequences=True)(x)
  x = layers.TimeDistributed(layers.Dense(2))(x)
  model = hk_keras.Model(i, x)
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(path)
  data = np.random.default_rng(11).normal(size=(2, T, F)).astype("float32")
  data[0, 2:] = 0
  _close(loaded(data), model(data))
  # Stateful layers keep their states in the saved Haiku state.
  j = hk_keras.Input((T, F), batch_size=2)
  stateful = hk_keras.Model(j, layers.GRU(2, stateful=True)(j))
  _, stateful.state = stateful.apply(stateful.params, stateful.state,
                                     jax.random.PRNGKey(0), data)
  path = str(tmp_path / "s.keras")
  stateful.save(path)
  restored = hk_keras.saving.load_model(path)
  _close(restored.get_weights(), stateful.get_weights())
