"""The Functional API: multi-input/-output (lists and dicts), shared layers,
nested models, models built from pre-trained layers."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  with jax.numpy_rank_promotion("raise"):
    yield


def _x(*shape, seed=0):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _dense(params, name, x):
  return x @ np.asarray(params[name]["kernel"]) + np.asarray(params[name]["bias"])


def test_input_shapes_and_dtypes():
  x = hk_keras.Input((4,))
  assert x.shape == (None, 4) and x.dtype == "float32"
  y = hk_keras.Input((2, 3), dtype="int32", batch_size=8)
  assert y.shape == (8, 2, 3) and y.dtype == "int32"
  out = layers.Dense(5)(x)
  assert out.shape == (None, 5)
  assert layers.Dense(5)(hk_keras.Input((None, 3))).shape == (None, None, 5)


def test_multi_input_list_positional_order():
  a = hk_keras.Input((3,), name="list_a")
  b = hk_keras.Input((2,), name="list_b")
  out = layers.Dense(1, name="list_head")(layers.Concatenate()([a, b]))
  model = hk_keras.Model([a, b], out)
  xa, xb = _x(4, 3), _x(4, 2, seed=1)
  expected = _dense(model.params, "list_head", np.concatenate([xa, xb], -1))
  chex.assert_trees_all_close(np.asarray(model([xa, xb])), expected, atol=1e-5)
  got, _ = model.apply(model.params, model.state, None, xa, xb)
  chex.assert_trees_all_close(np.asarray(got), expected, atol=1e-5)
  # Swapped inputs: a clear shape error, not silent garbage.
  with pytest.raises(ValueError, match=r"expected shape \(None, 3\)"):
    model.apply(model.params, model.state, None, xb, xa)
  with pytest.raises(ValueError, match="expects 2 input"):
    model.apply(model.params, model.state, None, xa)


def test_dict_inputs_and_dict_outputs():
  a = hk_keras.Input((3,), name="dict_a")
  b = hk_keras.Input((2,), name="dict_b")
  joined = layers.Concatenate(name="dict_cat")([a, b])
  model = hk_keras.Model(
      {"a": a, "b": b},
      {"score": layers.Dense(1, name="dict_score")(joined), "joined": joined})
  xa, xb = _x(4, 3), _x(4, 2, seed=1)
  out = model({"a": xa, "b": xb})
  assert set(out) == {"score", "joined"}
  cat = np.concatenate([xa, xb], -1)
  chex.assert_trees_all_close(np.asarray(out["joined"]), cat)
  chex.assert_trees_all_close(np.asarray(out["score"]),
                              _dense(model.params, "dict_score", cat), atol=1e-5)
  # The pure pair takes the dict as one argument.
  params, state = model.init(jax.random.PRNGKey(0), {"a": xa, "b": xb})
  out2, _ = model.apply(params, state, None, {"a": xa, "b": xb})
  chex.assert_shape(out2["score"], (4, 1))
  with pytest.raises(ValueError, match=r"keys \['a', 'b'\]"):
    model({"a": xa})


def test_multi_output_list():
  x = hk_keras.Input((4,))
  h = layers.Dense(3, activation="relu", name="mo_h")(x)
  model = hk_keras.Model(x, [layers.Dense(1, name="mo_1")(h),
                             layers.Dense(2, name="mo_2")(h)])
  out = model(_x(5, 4))
  assert isinstance(out, list) and len(out) == 2
  chex.assert_shape(out, [(5, 1), (5, 2)])
  p = model.params
  hidden = np.maximum(_dense(p, "mo_h", _x(5, 4)), 0)
  chex.assert_trees_all_close([np.asarray(o) for o in out],
                              [_dense(p, "mo_1", hidden),
                               _dense(p, "mo_2", hidden)], atol=1e-5)


def test_shared_layer_has_one_params_entry_and_gets_both_gradients():
  a = hk_keras.Input((3,), name="sh_a")
  b = hk_keras.Input((3,), name="sh_b")
  shared = layers.Dense(2, name="shared")
  out = layers.Add()([shared(a), shared(b)])
  model = hk_keras.Model([a, b], out)
  assert set(model.params) == {"shared"}
  assert model.count_params() == 3 * 2 + 2
  xa, xb = _x(4, 3), _x(4, 3, seed=1)

  def loss(params):
    y, _ = model.apply(params, model.state, None, xa, xb)
    return jnp.sum(y)

  grads = jax.grad(loss)(model.params)
  # d/dW sum((xa + xb) W + 2b) = (xa + xb)^T 1,  d/db = 2 * batch.
  ones = np.ones((4, 2), np.float32)
  chex.assert_trees_all_close(grads["shared"]["kernel"], (xa + xb).T @ ones,
                              atol=1e-5)
  chex.assert_trees_all_close(grads["shared"]["bias"], np.full((2,), 8.0))


def test_shared_layer_in_summary_counts_once():
  a = hk_keras.Input((3,))
  shared = layers.Dense(2)
  model = hk_keras.Model(a, layers.Add()([shared(a), shared(a)]))
  lines = []
  model.summary(print_fn=lines.append)
  assert " Total params: 8 " in lines[0]


def test_nested_sequential_shares_weights_with_outer_model():
  inner = hk_keras.Sequential([hk_keras.Input((4,)),
                               layers.Dense(3, name="nest_in1"),
                               layers.Dense(2, name="nest_in2")], name="inner")
  x = hk_keras.Input((4,))
  outer = hk_keras.Model(x, layers.Dense(1, name="nest_out")(inner(x)))
  assert set(outer.params) == {"nest_in1", "nest_in2", "nest_out"}
  assert outer.count_params() == inner.count_params() + 3
  data = _x(5, 4)
  # One "training" step on the outer model's params...
  def loss(params):
    y, _ = outer.apply(params, outer.state, None, data)
    return jnp.mean(y ** 2)
  grads = jax.grad(loss)(outer.params)
  outer.params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g,
                                        outer.params, grads)
  # ...is what the inner model now holds and computes with.
  chex.assert_trees_all_close(inner.params["nest_in1"],
                              outer.params["nest_in1"])
  p = outer.params
  expected = _dense(p, "nest_in2", _dense(p, "nest_in1", data))
  chex.assert_trees_all_close(np.asarray(inner(data)), expected, atol=1e-5)


def test_nested_functional_inside_sequential():
  i = hk_keras.Input((4,))
  inner = hk_keras.Model(i, layers.Dense(3, name="nf_d")(i), name="nf_inner")
  model = hk_keras.Sequential([hk_keras.Input((4,)), inner,
                               layers.Dense(1, name="nf_head")])
  assert [l.name for l in model.layers] == ["nf_inner", "nf_head"]
  assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 1), (1,)]
  data = _x(2, 4)
  p = model.params
  chex.assert_trees_all_close(
      np.asarray(model(data)),
      _dense(p, "nf_head", _dense(p, "nf_d", data)), atol=1e-5)


def test_model_from_pretrained_layers_keeps_their_weights():
  d1, d2 = layers.Dense(3, name="pre_1"), layers.Dense(2, name="pre_2")
  first = hk_keras.Sequential([hk_keras.Input((4,)), d1, d2])
  trained = [w + 1.0 for w in first.get_weights()]
  first.set_weights(trained)
  x = hk_keras.Input((4,))
  second = hk_keras.Model(x, layers.Dense(1, name="pre_3")(d2(d1(x))))
  for a, b in zip(trained, second.get_weights()[:4]):
    np.testing.assert_array_equal(a, b)
  data = _x(3, 4)
  chex.assert_trees_all_close(np.asarray(d2(d1(data))), np.asarray(first(data)),
                              atol=1e-6)


def test_layer_order_follows_keras_depth_order():
  # Keras lists both branches before the shared layer (deepest first).
  a = hk_keras.Input((3,), name="ord_a")
  b = hk_keras.Input((2,), name="ord_b")
  shared = layers.Dense(4, name="ord_shared")
  out = layers.Concatenate(name="ord_cat")([
      shared(layers.Dense(3, name="ord_da")(a)),
      shared(layers.Dense(3, name="ord_db")(b))])
  model = hk_keras.Model([a, b], out)
  assert [l.name for l in model.layers] == [
      "ord_a", "ord_b", "ord_da", "ord_db", "ord_shared", "ord_cat"]
  assert [w.shape for w in model.get_weights()] == [
      (3, 3), (3,), (2, 3), (3,), (3, 4), (4,)]


def test_graph_disconnected():
  a, b = hk_keras.Input((3,)), hk_keras.Input((3,), name="forgotten")
  out = layers.Add()([a, b])
  with pytest.raises(ValueError, match="Graph disconnected.*'forgotten'"):
    hk_keras.Model(a, out)


def test_model_inputs_must_come_from_input():
  x = hk_keras.Input((3,))
  h = layers.Dense(2)(x)
  with pytest.raises(ValueError, match="hk_keras.Input"):
    hk_keras.Model(h, layers.Dense(1)(h))
  with pytest.raises(ValueError, match="outputs must be tensors"):
    hk_keras.Model(x, np.zeros((1, 3)))


def test_python_arguments_of_a_layer_call_stay_python_values():
  # training=True is recorded with the call and used in every later run.
  x = hk_keras.Input((50,))
  model = hk_keras.Model(x, layers.Dropout(0.5)(x, training=True))
  out = np.asarray(model(np.ones((2, 50), np.float32)))
  assert set(np.unique(out)) == {0.0, 2.0}


def test_fitting_the_outer_model_trains_the_nested_one():
  inner = hk_keras.Sequential([hk_keras.Input((4,)),
                               layers.Dense(3, name="fit_in")])
  x = hk_keras.Input((4,))
  outer = hk_keras.Model(x, layers.Dense(1, name="fit_out")(inner(x)))
  data = _x(16, 4)
  target = data.sum(1, keepdims=True)
  before = inner.get_weights()
  outer.compile(optimizer="sgd", loss="mse")
  outer.fit(data, target, epochs=1, batch_size=8, verbose=0)
  after = inner.get_weights()
  assert not np.allclose(before[0], after[0])
  chex.assert_trees_all_close(after, [np.asarray(outer.params["fit_in"][k])
                                      for k in ("kernel", "bias")])
  expected = _dense(outer.params, "fit_in", data)
  chex.assert_trees_all_close(np.asarray(inner(data)), expected, atol=1e-5)
  chex.assert_trees_all_close(inner.predict(data, verbose=0), expected,
                              atol=1e-5)
