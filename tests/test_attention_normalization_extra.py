"""Attention, AdditiveAttention, GroupNormalization, RMSNormalization and
UnitNormalization (issue 12, item 5) against Keras 3 with copied weights."""
import inspect
import json

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from tests.layer_test_utils import run_layer_test

keras = pytest.importorskip("keras")
ATOL = 1e-5


def _close(a, b):
  jax.tree_util.tree_map(
      lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y),
                                              atol=ATOL, rtol=ATOL), a, b)


@pytest.mark.parametrize("name, kwargs, shape, params", [
    ("GroupNormalization", {"groups": 2}, (2, 3, 4), 8),
    ("RMSNormalization", {"axis": [1, 2], "epsilon": 1e-3}, (2, 3, 4), 12),
    ("UnitNormalization", {"axis": [1, 2]}, (2, 3, 4), 0),
])
def test_normalization_matches_keras(name, kwargs, shape, params):
  model, keras_model = run_layer_test(
      getattr(layers, name), kwargs, shape, expected_output_shape=shape,
      expected_num_params=params, keras_cls=getattr(keras.layers, name),
      atol=ATOL)
  assert keras_model.count_params() == params


def test_normalization_variants_match_keras_in_one_model():
  def build(K):
    i = K.Input((3, 4))
    return K.Model(i, [
        K.layers.GroupNormalization(groups=-1, axis=1, center=False)(i),
        K.layers.GroupNormalization(groups=4, scale=False)(i),
        K.layers.RMSNormalization()(i), K.layers.UnitNormalization()(i)])

  km, hm = build(keras), build(hk_keras)
  assert [w.shape for w in hm.get_weights()] == [
      w.shape for w in km.get_weights()]
  weights = [w + 0.1 * np.random.default_rng(0).normal(size=w.shape)
             for w in km.get_weights()]
  km.set_weights(weights)
  hm.set_weights(weights)
  x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype("float32")
  _close(hm(x), km(x))


def _attention_model(K, cls, kwargs, call_kwargs):
  q_ids = K.Input((4,), dtype="int32")
  v_ids = K.Input((5,), dtype="int32")
  emb = K.layers.Embedding(7, 3, mask_zero=True)
  out = getattr(K.layers, cls)(**kwargs)([emb(q_ids), emb(v_ids)],
                                         **call_kwargs)
  outs = list(out) if isinstance(out, (list, tuple)) else [out]
  return K.Model([q_ids, v_ids], outs + [K.layers.LSTM(2)(outs[0])])


@pytest.mark.parametrize("cls, kwargs, call_kwargs", [
    ("Attention", {}, {}),
    ("Attention", {"use_scale": True, "score_mode": "concat"},
     {"return_attention_scores": True, "use_causal_mask": True}),
    ("AdditiveAttention", {}, {"return_attention_scores": True}),
])
def test_attention_with_masks_matches_keras(cls, kwargs, call_kwargs):
  """Masks from Embedding reach the values (padded keys ignored) and the
  output mask reaches the LSTM after it."""
  km = _attention_model(keras, cls, kwargs, call_kwargs)
  hm = _attention_model(hk_keras, cls, kwargs, call_kwargs)
  assert [w.shape for w in hm.get_weights()] == [
      w.shape for w in km.get_weights()]
  weights = [w + 0.1 * np.random.default_rng(0).normal(size=w.shape)
             for w in km.get_weights()]
  km.set_weights(weights)
  hm.set_weights(weights)
  q = np.array([[1, 2, 3, 0], [4, 0, 0, 0]], "int32")
  v = np.array([[5, 6, 1, 2, 0], [3, 4, 5, 0, 0]], "int32")
  _close(hm([q, v]), km([q, v]))
  layer = [l for l in hm.layers if type(l).__name__ == cls][0]
  config = layer.get_config()
  arguments = [n for n, p in inspect.signature(type(layer).__init__)
               .parameters.items() if n != "self" and p.kind != p.VAR_KEYWORD]
  assert set(arguments) <= set(config)
  json.dumps(config)
  keras_layer = getattr(keras.layers, cls).from_config(config)
  assert set(keras_layer.get_config()) == set(config)


def test_bad_arguments_raise():
  with pytest.raises(ValueError, match="groups"):
    layers.GroupNormalization(groups=0)
  with pytest.raises(ValueError, match="score_mode"):
    layers.Attention(score_mode="sum")
  with pytest.raises(TypeError, match="axis"):
    layers.UnitNormalization(axis="last")
  model = hk_keras.Sequential([layers.GroupNormalization(groups=3)])
  with pytest.raises(ValueError, match="divide"):
    model.build((None, 4))
  att = layers.Attention()
  with pytest.raises(ValueError, match="list of inputs"):
    hk_keras.Model(hk_keras.Input((3, 2)), att(hk_keras.Input((3, 2))))


def test_new_layers_save_and_load(tmp_path):
  q, v = hk_keras.Input((4, 3)), hk_keras.Input((5, 3))
  x = layers.Attention(use_scale=True)([q, v])
  x = layers.AdditiveAttention()([x, v])
  x = layers.GroupNormalization(groups=3)(x)
  x = layers.RMSNormalization()(x)
  x = layers.UnitNormalization()(x)
  model = hk_keras.Model([q, v], x)
  path = str(tmp_path / "a.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(path)
  rng = np.random.default_rng(1)
  data = [rng.normal(size=(2, 4, 3)).astype("float32"),
          rng.normal(size=(2, 5, 3)).astype("float32")]
  _close(loaded(data), model(data))


def _gqa_model(K, kwargs, call_kwargs):
  q_ids = K.Input((4,), dtype="int32")
  v_ids = K.Input((5,), dtype="int32")
  emb = K.layers.Embedding(7, 6, mask_zero=True)
  out = K.layers.GroupQueryAttention(**kwargs)(emb(q_ids), emb(v_ids),
                                               **call_kwargs)
  outs = list(out) if isinstance(out, (list, tuple)) else [out]
  return K.Model([q_ids, v_ids], outs)


@pytest.mark.parametrize("kwargs, call_kwargs", [
    ({"head_dim": 2, "num_query_heads": 4, "num_key_value_heads": 2,
      "use_bias": False}, {"return_attention_scores": True}),
    ({"head_dim": 3, "num_query_heads": 2, "num_key_value_heads": 1,
      "use_gate": True, "sliding_window": 2}, {"use_causal_mask": True}),
])
def test_group_query_attention_matches_keras(kwargs, call_kwargs):
  km = _gqa_model(keras, kwargs, call_kwargs)
  hm = _gqa_model(hk_keras, kwargs, call_kwargs)
  assert [w.shape for w in hm.get_weights()] == [
      w.shape for w in km.get_weights()]
  weights = [w + 0.1 * np.random.default_rng(0).normal(size=w.shape)
             for w in km.get_weights()]
  km.set_weights(weights)
  hm.set_weights(weights)
  q = np.array([[1, 2, 3, 0], [4, 5, 6, 1]], "int32")
  v = np.array([[5, 6, 1, 2, 0], [3, 4, 5, 0, 0]], "int32")
  ours, theirs = hm([q, v]), km([q, v])
  if "return_attention_scores" in call_kwargs:
    _close(ours[1], theirs[1])
    ours, theirs = ours[0], theirs[0]
  # Rows whose query is padding are not compared: Keras's fused path and its
  # explicit path differ there (masked-out rows).
  real = q != 0
  _close(np.asarray(ours)[real], np.asarray(theirs)[real])
  layer = [l for l in hm.layers if type(l).__name__ == "GroupQueryAttention"][0]
  config = layer.get_config()
  keras_layer = keras.layers.GroupQueryAttention.from_config(config)
  assert set(keras_layer.get_config()) <= set(config)
