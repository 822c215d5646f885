"""Layer tests for normalization, Embedding, LSTM/GRU and MultiHeadAttention,
with Keras 3 parity (same weights -> same outputs and moving statistics)."""
import functools
import inspect
import json

import chex
import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

from layer_test_utils import keras, make_input, run_layer_test

needs_keras = pytest.mark.skipif(keras is None, reason="keras 3 not installed")
ATOL = 1e-5


def keras_layer(name):
  return keras and getattr(keras.layers, name)


def random_weights(model, seed=0):
  """Random weights of the model's shapes; all positive (valid variances)."""
  rng = np.random.default_rng(seed)
  return [rng.uniform(0.5, 1.5, w.shape).astype(w.dtype)
          for w in model.get_weights()]


def assert_close(ours, theirs, atol=ATOL):
  chex.assert_trees_all_close(
      jax.tree_util.tree_map(np.asarray, ours),
      jax.tree_util.tree_map(np.asarray, theirs), atol=atol, rtol=atol)


def check_random_weight_parity(model, keras_model, x, training_modes=(False,)):
  """Same random weights in both models -> same outputs."""
  weights = random_weights(model)
  model.set_weights(weights)
  keras_model.set_weights(weights)
  # The same jit as run_layer_test's, so its compilation is reused.
  apply = jax.jit(model.apply, static_argnames="training")
  for training in training_modes:
    ours, _ = apply(model.params, model.state, jax.random.PRNGKey(0), x,
                    training=training)
    assert_close(ours, keras_model(x, training=training))


# -- BatchNormalization ---------------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,params", [
    ({}, (6, 4), 4 * 4),
    ({"axis": 1, "center": False, "momentum": 0.9}, (4, 3, 5), 3 * 3),
    ({"scale": False, "epsilon": 1e-2}, (2, 3, 3, 2), 3 * 2),
])
def test_batch_normalization(kwargs, input_shape, params):
  x = make_input(input_shape) * 2.0 + 0.5
  model, keras_model = run_layer_test(
      layers.BatchNormalization, kwargs, input_shape, input_data=x,
      expected_output_shape=input_shape, expected_num_params=params,
      keras_cls=keras_layer("BatchNormalization"),
      check_state_after_training=True)
  if keras_model is not None:
    check_random_weight_parity(model, keras_model, x)


def test_batch_normalization_weights_are_gamma_beta_then_moving_stats():
  layer = layers.BatchNormalization(name="bn")
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  assert sorted(model.params["bn"]) == ["beta", "gamma"]
  assert sorted(model.state["bn"]) == ["moving_mean", "moving_variance"]
  assert len(model.get_weights()) == 4
  assert model.count_params() == 12
  np.testing.assert_array_equal(model.get_weights()[0], np.ones(3))
  np.testing.assert_array_equal(model.get_weights()[3], np.ones(3))


@needs_keras
def test_batch_normalization_consecutive_training_calls_thread_state():
  model, keras_model = run_layer_test(
      layers.BatchNormalization, {"momentum": 0.8}, (8, 3),
      keras_cls=keras.layers.BatchNormalization, training_modes=(False,))
  weights = random_weights(model, seed=3)
  model.set_weights(weights)
  keras_model.set_weights(weights)
  params, state = model.params, model.state
  apply = jax.jit(model.apply, static_argnames="training")
  for step in range(3):
    x = make_input((8, 3), seed=10 + step) * (step + 1) + step
    ours, state = apply(params, state, jax.random.PRNGKey(step), x,
                        training=True)
    assert_close(ours, keras_model(x, training=True))
    model.state = state
    for a, b in zip(model.get_weights(), keras_model.get_weights()):
      np.testing.assert_allclose(a, b, atol=ATOL, rtol=ATOL)
  # Inference then uses the accumulated moving statistics.
  x = make_input((8, 3), seed=99)
  ours, same_state = apply(params, state, None, x, training=False)
  assert_close(ours, keras_model(x, training=False))
  chex.assert_trees_all_equal(same_state, state)


def test_batch_normalization_moving_stats_formula():
  model = hk_keras.Sequential([hk_keras.Input((2,)),
                               layers.BatchNormalization(momentum=0.75,
                                                         name="bn")])
  x = make_input((16, 2)) * 3.0 + 1.0
  _, state = model.apply(model.params, model.state, None, x, training=True)
  np.testing.assert_allclose(state["bn"]["moving_mean"],
                             0.25 * x.mean(0), rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(state["bn"]["moving_variance"],
                             0.75 + 0.25 * x.var(0), rtol=1e-5)


@pytest.mark.parametrize("use_keras", [False, True])
def test_frozen_batch_normalization_uses_moving_stats_in_training(use_keras):
  if use_keras and keras is None:
    pytest.skip("keras 3 not installed")
  layer = layers.BatchNormalization()
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  model.set_weights(random_weights(model, seed=1))
  layer.trainable = False
  x = make_input((6, 3)) * 4 + 2
  rng = jax.random.PRNGKey(0)
  train_out, train_state = model.apply(model.params, model.state, rng, x,
                                       training=True)
  infer_out, _ = model.apply(model.params, model.state, rng, x,
                             training=False)
  np.testing.assert_array_equal(train_out, infer_out)
  chex.assert_trees_all_equal(train_state, model.state)
  assert model.count_params() == 12
  if use_keras:
    keras_model = keras.Sequential([keras.Input((3,)),
                                    keras.layers.BatchNormalization()])
    keras_model.set_weights(model.get_weights())
    keras_model.layers[0].trainable = False
    assert_close(train_out, keras_model(x, training=True))


def test_batch_normalization_cross_replica_matches_global_batch():
  layer = layers.BatchNormalization(momentum=0.9, cross_replica_axis="replica")
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  model.set_weights(random_weights(model, seed=2))
  x = make_input((16, 3)) * 2 + 1
  reference = hk_keras.Sequential([hk_keras.Input((3,)),
                                   layers.BatchNormalization(momentum=0.9)])
  reference.set_weights(model.get_weights())
  expected, expected_state = jax.jit(reference.apply,
                                     static_argnames="training")(
      reference.params, reference.state, None, x, training=True)
  apply = functools.partial(model.apply, training=True)
  shards = x.reshape(4, 4, 3)
  out, state = jax.jit(jax.vmap(apply, in_axes=(None, None, None, 0),
                                axis_name="replica"))(
                                    model.params, model.state, None, shards)
  np.testing.assert_allclose(out.reshape(16, 3), expected, atol=ATOL)
  for name in ("moving_mean", "moving_variance"):
    got = np.asarray(state[layer.name][name])
    for replica in range(4):
      np.testing.assert_allclose(
          got[replica], expected_state[reference.layers[0].name][name],
          atol=ATOL)
  # Inference needs no axis.
  model.apply(model.params, model.state, None, x, training=False)
  with pytest.raises(ValueError, match="cross_replica_axis"):
    model.apply(model.params, model.state, None, x, training=True)


def test_batch_normalization_statistics_in_float32_for_bfloat16():
  x = (make_input((64, 3)) + 300.0).astype("bfloat16")
  model = hk_keras.Sequential([hk_keras.Input((3,), dtype="bfloat16"),
                               layers.BatchNormalization(dtype="bfloat16",
                                                         name="bn")])
  out, state = model.apply(model.params, model.state, None, x, training=True)
  assert out.dtype == np.dtype("bfloat16")
  x32 = np.asarray(x, np.float32)
  np.testing.assert_allclose(np.asarray(state["bn"]["moving_variance"],
                                        np.float32),
                             0.99 + 0.01 * x32.var(0), rtol=1e-2)
  assert np.all(np.abs(np.asarray(out, np.float32).std(0) - 1) < 0.05)


def test_batch_normalization_errors_and_config():
  for bad in ({"axis": 1.5}, {"momentum": 1.5}, {"epsilon": 0},
              {"center": "yes"}, {"cross_replica_axis": 3}):
    with pytest.raises(ValueError, match=list(bad)[0]):
      layers.BatchNormalization(**bad)
  with pytest.raises(ValueError, match=r"BatchNormalization.*rank >= 2"):
    hk_keras.Sequential([hk_keras.Input(()), layers.BatchNormalization()])
  with pytest.raises(ValueError, match="batch axis"):
    hk_keras.Sequential([hk_keras.Input((3,)),
                         layers.BatchNormalization(axis=0)])
  with pytest.raises(ValueError, match="does not exist"):
    hk_keras.Sequential([hk_keras.Input((3,)),
                         layers.BatchNormalization(axis=3)])
  config = layers.BatchNormalization(momentum=0.9,
                                     cross_replica_axis="i").get_config()
  for key in ("axis", "momentum", "epsilon", "center", "scale",
              "beta_initializer", "gamma_initializer",
              "moving_mean_initializer", "moving_variance_initializer",
              "cross_replica_axis"):
    assert key in config, key
  assert config["cross_replica_axis"] == "i"


# -- LayerNormalization -----------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,params", [
    ({}, (2, 3, 4), 8),
    ({"axis": [1, 2]}, (2, 3, 4), 24),
    ({"axis": 1, "center": False}, (2, 3, 4), 3),
    ({"scale": False, "epsilon": 1e-5}, (2, 3, 4), 4),
    ({"rms_scaling": True}, (2, 3, 4), 4),
])
def test_layer_normalization(kwargs, input_shape, params):
  x = make_input(input_shape) * 3.0 - 1.0
  model, keras_model = run_layer_test(
      layers.LayerNormalization, kwargs, input_shape, input_data=x,
      expected_output_shape=input_shape, expected_num_params=params,
      keras_cls=keras_layer("LayerNormalization"))
  if keras_model is not None:
    check_random_weight_parity(model, keras_model, x, (False, True))


def test_layer_normalization_errors():
  with pytest.raises(ValueError, match="axis"):
    layers.LayerNormalization(axis="last")
  with pytest.raises(ValueError, match="epsilon"):
    layers.LayerNormalization(epsilon=-1.0)
  with pytest.raises(ValueError, match=r"LayerNormalization.*batch axis"):
    hk_keras.Sequential([hk_keras.Input((3,)),
                         layers.LayerNormalization(axis=[0, 1])])
  with pytest.raises(ValueError, match="does not exist"):
    hk_keras.Sequential([hk_keras.Input((3,)),
                         layers.LayerNormalization(axis=2)])


# -- Embedding ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape", [
    ({"input_dim": 10, "output_dim": 3}, (4, 5)),
    ({"input_dim": 10, "output_dim": 3, "mask_zero": True,
      "embeddings_initializer": "glorot_uniform"}, (2, 3, 4)),
])
def test_embedding(kwargs, input_shape):
  out_shape = input_shape + (kwargs["output_dim"],)
  run_layer_test(layers.Embedding, kwargs, input_shape, input_dtype="int32",
                 expected_output_shape=out_shape,
                 expected_num_params=kwargs["input_dim"] * kwargs["output_dim"],
                 keras_cls=keras_layer("Embedding"))


def test_embedding_default_initializer_is_keras_uniform():
  model = hk_keras.Sequential([hk_keras.Input((2,), dtype="int32"),
                               layers.Embedding(500, 8, name="emb")])
  table = np.asarray(model.params["emb"]["embeddings"])
  assert table.shape == (500, 8)
  assert table.min() >= -0.05 and table.max() <= 0.05
  assert table.std() > 0.02


def test_embedding_float_ids_are_truncated_to_int32():
  x = np.array([[0.0, 2.7, 5.2]], np.float32)
  model, _ = run_layer_test(layers.Embedding,
                            {"input_dim": 6, "output_dim": 2}, (1, 3),
                            input_data=x, expected_output_shape=(1, 3, 2),
                            keras_cls=keras_layer("Embedding"))
  table = model.get_weights()[0]
  out, _ = model.apply(model.params, model.state, None, x)
  np.testing.assert_array_equal(out[0], table[[0, 2, 5]])


def test_embedding_out_of_range_ids_match_keras_jax_backend():
  ids = np.array([[0, 9, 10, -1, -10, -11, 1000]], np.int32)
  model, keras_model = run_layer_test(
      layers.Embedding, {"input_dim": 10, "output_dim": 2}, (1, 7),
      input_data=ids, keras_cls=keras_layer("Embedding"),
      training_modes=(False,)) if keras is not None else (None, None)
  if model is None:
    pytest.skip("keras 3 not installed")
  table = model.get_weights()[0]
  out = np.asarray(model(ids))[0]
  np.testing.assert_array_equal(out[[0, 1, 3, 4]], table[[0, 9, 9, 0]])
  assert np.isnan(out[[2, 5, 6]]).all()
  np.testing.assert_array_equal(out, np.asarray(keras_model(ids))[0])


def test_embedding_errors():
  with pytest.raises(ValueError, match="input_dim"):
    layers.Embedding(0, 3)
  with pytest.raises(ValueError, match="output_dim"):
    layers.Embedding(3, 2.5)
  with pytest.raises(ValueError, match="mask_zero"):
    layers.Embedding(3, 2, mask_zero=1)


# -- LSTM and GRU -----------------------------------------------------------------

def lstm_params(features, units, use_bias=True):
  return 4 * units * (features + units + int(use_bias))


def gru_params(features, units, use_bias=True, reset_after=True):
  biases = (2 if reset_after else 1) * int(use_bias)
  return 3 * units * (features + units + biases)


@pytest.mark.parametrize("kwargs", [
    {"units": 3},
    {"units": 3, "go_backwards": True, "return_sequences": True,
     "use_bias": False, "activation": "relu", "recurrent_activation": "tanh"},
])
def test_lstm(kwargs):
  steps = 5
  out_shape = ((2, steps, kwargs["units"]) if kwargs.get("return_sequences")
               else (2, kwargs["units"]))
  model, keras_model = run_layer_test(
      layers.LSTM, kwargs, (2, steps, 4), expected_output_shape=out_shape,
      expected_num_params=lstm_params(4, kwargs["units"],
                                      kwargs.get("use_bias", True)),
      keras_cls=keras_layer("LSTM"),
      training_modes=(False,) if kwargs.get("use_bias", True) else (False, True))
  weights = model.params[model.layers[-1].name]
  assert sorted(weights) == (["bias", "kernel", "recurrent_kernel"]
                             if kwargs.get("use_bias", True)
                             else ["kernel", "recurrent_kernel"])
  if "bias" in weights:
    # unit_forget_bias: the forget gate's block (the 2nd of i, f, c, o) is 1.
    np.testing.assert_array_equal(weights["bias"],
                                  [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
  if keras_model is not None and kwargs.get("use_bias", True):
    # Training mode (no dropout) with random weights, biases included.
    check_random_weight_parity(model, keras_model, make_input((2, steps, 4)),
                               (True,))


@pytest.mark.parametrize("kwargs", [
    {"units": 3},
    {"units": 3, "reset_after": False, "go_backwards": True,
     "return_sequences": True},
    {"units": 3, "use_bias": False, "reset_after": False,
     "activation": "relu"},
])
def test_gru(kwargs):
  steps = 5
  out_shape = ((2, steps, kwargs["units"]) if kwargs.get("return_sequences")
               else (2, kwargs["units"]))
  model, keras_model = run_layer_test(
      layers.GRU, kwargs, (2, steps, 4), expected_output_shape=out_shape,
      expected_num_params=gru_params(4, kwargs["units"],
                                     kwargs.get("use_bias", True),
                                     kwargs.get("reset_after", True)),
      keras_cls=keras_layer("GRU"),
      training_modes=(False,) if kwargs.get("use_bias", True) else (False, True))
  weights = model.params[model.layers[-1].name]
  assert weights["kernel"].shape == (4, 9)
  assert weights["recurrent_kernel"].shape == (3, 9)
  if kwargs.get("use_bias", True):
    assert weights["bias"].shape == ((2, 9) if kwargs.get("reset_after", True)
                                     else (9,))
  if keras_model is not None and kwargs.get("use_bias", True):
    # Training mode (no dropout) with random weights, biases included.
    check_random_weight_parity(model, keras_model, make_input((2, steps, 4)),
                               (True,))


@needs_keras
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_recurrent_return_state_and_initial_state(name):
  num_states = 2 if name == "LSTM" else 1
  kwargs = {"units": 3, "return_sequences": True, "return_state": True}

  def build(lib):
    seq = lib.Input((None, 4))  # unknown number of time steps
    init = [lib.Input((3,)) for _ in range(num_states)]
    outs = getattr(lib.layers, name)(**kwargs)(seq, initial_state=init)
    return lib.Model([seq] + init, list(outs))

  model, keras_model = build(hk_keras), build(keras)
  assert [t.shape for t in model.outputs] == (
      [(None, None, 3)] + [(None, 3)] * num_states)
  model.set_weights(keras_model.get_weights())
  xs = [make_input((2, 5, 4), seed=1)] + [
      make_input((2, 3), seed=2 + i) for i in range(num_states)]
  ours = model(xs)
  assert len(ours) == 1 + num_states
  assert_close(list(ours), list(keras_model(xs)))
  # The returned h is the last step of the sequence.
  np.testing.assert_allclose(ours[0][:, -1], ours[1], atol=1e-6)


def test_recurrent_initial_state_shape_error():
  seq = hk_keras.Input((5, 4))
  with pytest.raises(ValueError, match="initial_state"):
    layers.LSTM(3)(seq, initial_state=[hk_keras.Input((3,))])


def test_recurrent_dropout_only_in_training():
  lstm = layers.LSTM(3, dropout=0.3, recurrent_dropout=0.4)
  gru = layers.GRU(3, dropout=0.5, recurrent_dropout=0.5, reset_after=False,
                   seed=3)
  seq = hk_keras.Input((5, 4))
  model = hk_keras.Model(seq, [lstm(seq), gru(seq)])
  x = make_input((2, 5, 4))
  apply = jax.jit(model.apply, static_argnames="training")
  # Inference draws no random numbers (it runs without an rng).
  infer, _ = apply(model.params, model.state, None, x)
  a, _ = apply(model.params, model.state, jax.random.PRNGKey(1), x,
               training=True)
  b, _ = apply(model.params, model.state, jax.random.PRNGKey(1), x,
               training=True)
  c, _ = apply(model.params, model.state, jax.random.PRNGKey(2), x,
               training=True)
  chex.assert_trees_all_equal(a, b)
  for i in range(2):
    assert not np.allclose(a[i], infer[i]) and not np.allclose(a[i], c[i])
  assert lstm.get_config()["recurrent_dropout"] == 0.4


def test_recurrent_errors():
  for cls in (layers.LSTM, layers.GRU):
    with pytest.raises(ValueError, match="units"):
      cls(0)
    with pytest.raises(ValueError, match="recurrent_dropout"):
      cls(2, recurrent_dropout=1.0)
    with pytest.raises(ValueError, match="return_sequences"):
      cls(2, return_sequences="yes")
    with pytest.raises(ValueError,
                       match=cls.__name__ + r".*\(batch, timesteps, features\)"):
      hk_keras.Sequential([hk_keras.Input((4,)), cls(2)])


# -- MultiHeadAttention ---------------------------------------------------------

def mha_params(heads, key_dim, value_dim, q_dim, k_dim, v_dim, out_dim,
               use_bias=True):
  b = int(use_bias)
  return (heads * key_dim * (q_dim + b) + heads * key_dim * (k_dim + b)
          + heads * value_dim * (v_dim + b) + heads * value_dim * out_dim
          + out_dim * b)


def mha_pair(kwargs, q_shape, v_shape, mask_shape=None, **call_kwargs):
  """The same attention graph in hk_keras and in Keras (built on data)."""
  def build(lib):
    q, v = lib.Input(q_shape[1:]), lib.Input(v_shape[1:])
    inputs, extra = [q, v], dict(call_kwargs)
    if mask_shape is not None:
      mask = lib.Input(mask_shape[1:], dtype="bool")
      inputs.append(mask)
      extra["attention_mask"] = mask
    out = lib.layers.MultiHeadAttention(**kwargs)(q, v, **extra)
    return lib.Model(inputs, out)

  rng = np.random.default_rng(0)
  xs = [make_input(q_shape, seed=1), make_input(v_shape, seed=2)]
  if mask_shape is not None:
    mask = rng.random(mask_shape) > 0.4
    mask[..., 0] = True  # no fully masked query rows (see the docs)
    xs.append(mask)
  model = build(hk_keras)
  keras_model = None
  if keras is not None:
    keras_model = build(keras)
    keras_model(xs)  # Keras creates the attention weights on data
    model.set_weights(keras_model.get_weights())
  return model, keras_model, xs


@pytest.mark.parametrize("kwargs,q_shape,v_shape,mask_shape,params", [
    # Cross-attention with a (batch, T, S) mask.
    ({"num_heads": 2, "key_dim": 3}, (2, 4, 5), (2, 6, 5), (2, 4, 6),
     mha_params(2, 3, 3, 5, 5, 5, 5)),
    # Attention over two axes of rank-4 inputs.
    ({"num_heads": 2, "key_dim": 3, "attention_axes": (1, 2)}, (2, 3, 4, 5),
     (2, 3, 2, 5), (2, 3, 4, 3, 2), mha_params(2, 3, 3, 5, 5, 5, 5)),
    # One attention axis of rank-4 inputs, no biases, a 2-D output shape.
    ({"num_heads": 2, "key_dim": 3, "attention_axes": -2, "use_bias": False,
      "output_shape": (2, 3)}, (2, 3, 4, 5), (2, 3, 2, 5), (2, 3, 4, 2),
     2 * 3 * (5 + 5 + 5) + 2 * 3 * 6),
])
def test_multi_head_attention_cross_attention(kwargs, q_shape, v_shape,
                                              mask_shape, params):
  model, keras_model, xs = mha_pair(kwargs, q_shape, v_shape, mask_shape)
  out_dim = tuple(kwargs.get("output_shape", q_shape[-1:]))
  assert model.outputs[0].shape == (None,) + q_shape[1:-1] + out_dim
  assert model.count_params() == params
  layer = model.layers[-1]
  names = [f"{p}_{w}" for p in ("query", "key", "value", "output")
           for w in (("kernel", "bias") if layer.use_bias else ("kernel",))]
  assert sorted(model.params[layer.name]) == sorted(names)
  # Config round trip: same class, same weight shapes.
  clone = layers.MultiHeadAttention.from_config(
      {**layer.get_config(), "name": layer.name + "_clone"})
  q, v = hk_keras.Input(q_shape[1:]), hk_keras.Input(v_shape[1:])
  clone_model = hk_keras.Model([q, v], clone(q, v))
  assert [w.shape for w in clone_model.get_weights()] == [
      w.shape for w in model.get_weights()]
  if keras_model is None:
    return
  assert keras_model.count_params() == params
  for training in (False, True):
    assert_close(model(xs, training=training),
                 keras_model(xs, training=training))


@pytest.mark.parametrize("kwargs", [
    {"num_heads": 2, "key_dim": 3, "kernel_initializer": "ones",
     "bias_initializer": "ones"},
])
def test_multi_head_attention_self_attention(kwargs):
  def build(lib):
    x = lib.Input((4, 5))
    return lib.Model(x, lib.layers.MultiHeadAttention(**kwargs)(x, x))

  model = build(hk_keras)
  assert model.count_params() == mha_params(kwargs["num_heads"],
                                            kwargs["key_dim"],
                                            kwargs["key_dim"], 5, 5, 5, 5)
  mha_name = model.layers[-1].name
  for weight in model.params[mha_name].values():
    np.testing.assert_array_equal(weight, 1.0)
  x = make_input((2, 4, 5))
  # Pure and jit-able: eager and jitted apply agree.
  rng = jax.random.PRNGKey(0)
  eager, _ = model.apply(model.params, model.state, rng, x)
  jitted, _ = jax.jit(model.apply)(model.params, model.state, rng, x)
  assert_close(eager, jitted)
  if keras is None:
    return
  keras_model = build(keras)
  keras_model(x)
  model.set_weights(keras_model.get_weights())
  check_random_weight_parity(model, keras_model, x, (False, True))


@needs_keras
def test_multi_head_attention_value_dim_and_scores_standalone():
  # Called on arrays (the eager path). Keras 3 only supports
  # value_dim != key_dim on its scores path, so the comparison asks for them.
  kwargs = {"num_heads": 2, "key_dim": 3, "value_dim": 4}
  q, v = make_input((2, 4, 5), seed=1), make_input((2, 6, 5), seed=2)
  mask = np.random.default_rng(0).random((2, 4, 6)) > 0.5
  mask[..., 0] = True
  theirs_layer = keras.layers.MultiHeadAttention(**kwargs)
  theirs = theirs_layer(q, v, attention_mask=mask,
                        return_attention_scores=True)
  ours_layer = layers.MultiHeadAttention(**kwargs)
  ours_layer(q, v)
  assert [w.shape for w in ours_layer.get_weights()] == [
      (5, 2, 3), (2, 3), (5, 2, 3), (2, 3), (5, 2, 4), (2, 4), (2, 4, 5),
      (5,)]
  assert ours_layer.count_params() == mha_params(2, 3, 4, 5, 5, 5, 5)
  ours_layer.set_weights(theirs_layer.get_weights())
  ours = ours_layer(q, v, attention_mask=mask, return_attention_scores=True)
  assert ours[1].shape == (2, 2, 4, 6)
  assert_close(ours, theirs)
  scores = np.asarray(ours[1])
  np.testing.assert_allclose(scores.sum(-1), 1.0, atol=1e-5)
  assert np.all(scores[np.broadcast_to(~mask[:, None], scores.shape)] < 1e-6)


def test_multi_head_attention_errors():
  with pytest.raises(ValueError, match="num_heads"):
    layers.MultiHeadAttention(0, 3)
  with pytest.raises(ValueError, match="key_dim"):
    layers.MultiHeadAttention(2, None)
  with pytest.raises(ValueError, match="dropout"):
    layers.MultiHeadAttention(2, 3, dropout=1.0)
  with pytest.raises(ValueError, match="attention_axes"):
    layers.MultiHeadAttention(2, 3, attention_axes="time")
  q2 = hk_keras.Input((5,))
  with pytest.raises(ValueError, match=r"MultiHeadAttention.*\(batch, sequence"):
    layers.MultiHeadAttention(2, 3)(q2, q2)
  q, v = hk_keras.Input((4, 5)), hk_keras.Input((2, 3, 5))
  with pytest.raises(ValueError, match="same rank"):
    layers.MultiHeadAttention(2, 3)(q, v)
  q4 = hk_keras.Input((3, 4, 5))
  with pytest.raises(ValueError, match="attention axes must be in"):
    layers.MultiHeadAttention(2, 3, attention_axes=(3,))(q4, q4)


@pytest.mark.parametrize("cls", [
    layers.BatchNormalization, layers.LayerNormalization, layers.Embedding,
    layers.LSTM, layers.GRU, layers.MultiHeadAttention])
def test_config_has_every_constructor_argument(cls):
  required = {"Embedding": (10, 3), "LSTM": (2,), "GRU": (2,),
              "MultiHeadAttention": (2, 3)}.get(cls.__name__, ())
  config = cls(*required).get_config()
  arguments = [name for name, p in inspect.signature(cls.__init__).parameters
               .items() if name != "self" and p.kind != p.VAR_KEYWORD]
  assert set(arguments) <= set(config), set(arguments) - set(config)
  json.dumps(config)
  assert cls.from_config(config).get_config() == config
  # Regularizers and constraints are kept and saved.
  extras = [name for name in arguments
            if name.endswith(("_regularizer", "_constraint"))]
  assert extras
  for name in extras:
    value = "l2" if name.endswith("_regularizer") else "non_neg"
    config = cls(*required, **{name: value}).get_config()
    assert config[name]["class_name"] in ("L2", "NonNeg"), name
    json.dumps(config)
    assert cls.from_config(config).get_config() == config


def test_multi_head_attention_flags_and_dropout_in_functional_model():
  model, keras_model, xs = mha_pair(
      {"num_heads": 2, "key_dim": 3, "dropout": 0.5}, (2, 4, 5), (2, 4, 5),
      return_attention_scores=True, use_causal_mask=True)
  assert [t.shape for t in model.outputs] == [(None, 4, 5), (None, 2, 4, 4)]
  apply = jax.jit(model.apply, static_argnames="training")
  # Inference: no dropout, and no rng needed.
  (out, scores), _ = apply(model.params, model.state, None, *xs)
  np.testing.assert_array_equal(np.triu(np.asarray(scores), 1), 0.0)
  if keras_model is not None:
    assert_close([out, scores], list(keras_model(xs)))
  # Training: dropout on the attention weights, driven by the rng.
  (a, _), _ = apply(model.params, model.state, jax.random.PRNGKey(1), *xs,
                    training=True)
  (b, _), _ = apply(model.params, model.state, jax.random.PRNGKey(1), *xs,
                    training=True)
  (c, _), _ = apply(model.params, model.state, jax.random.PRNGKey(2), *xs,
                    training=True)
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, out) and not np.allclose(a, c)
