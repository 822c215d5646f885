"""Subclassed models and custom layers: build/add_weight/call, trainable and
non-trainable weights (state updated with self.assign), layers in layers,
HaikuLayer."""
import chex
import haiku as hk
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


class MLP(hk_keras.Model):
  """Layers created in __init__, Dropout honouring `training`."""

  def __init__(self, hidden=8, **kwargs):
    super().__init__(**kwargs)
    self.hidden = layers.Dense(hidden, activation="relu")
    self.dropout = layers.Dropout(0.5)
    self.head = layers.Dense(1)

  def call(self, inputs, training=False):
    return self.head(self.dropout(self.hidden(inputs), training=training))


class Counter(layers.Layer):
  """A linear map plus non-trainable running statistics."""

  def build(self, input_shape):
    self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones",
                             name="w")
    self.count = self.add_weight(shape=(), initializer="zeros",
                                 trainable=False, name="count")
    self.total = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                 trainable=False, name="total")

  def call(self, inputs, training=False):
    if training:
      self.assign(self.count, self.count + 1.0)
      self.assign(self.total, self.total + jnp.sum(inputs, axis=0))
    return inputs @ self.w


class Block(layers.Layer):
  """A custom layer made of two Dense sub-layers."""

  def __init__(self, units, **kwargs):
    super().__init__(**kwargs)
    self.inner_a = layers.Dense(units, name="a")
    self.inner_b = layers.Dense(units, name="b")

  def call(self, inputs):
    return self.inner_b(jax.nn.relu(self.inner_a(inputs)))


def test_subclassed_model_builds_on_first_call():
  model = MLP(name="mlp")
  assert not model.built
  x = _x(6, 3)
  out = model(x)
  assert model.built
  chex.assert_shape(out, (6, 1))
  assert [l.name for l in model.layers] == [model.hidden.name,
                                            model.dropout.name, model.head.name]
  assert model.count_params() == 3 * 8 + 8 + 8 + 1
  p = model.params
  h = np.maximum(x @ np.asarray(p[model.hidden.name]["kernel"])
                 + np.asarray(p[model.hidden.name]["bias"]), 0)
  expected = h @ np.asarray(p[model.head.name]["kernel"]) + np.asarray(
      p[model.head.name]["bias"])
  chex.assert_trees_all_close(np.asarray(out), expected, atol=1e-5)


def test_subclassed_model_training_flag_reaches_dropout():
  model = MLP()
  model.build((None, 3))
  x = _x(16, 3)
  rng = jax.random.PRNGKey(0)
  a, _ = model.apply(model.params, model.state, rng, x)
  b, _ = model.apply(model.params, model.state, jax.random.PRNGKey(1), x)
  chex.assert_trees_all_equal(a, b)  # inference: deterministic
  c, _ = model.apply(model.params, model.state, rng, x, training=True)
  d, _ = model.apply(model.params, model.state, jax.random.PRNGKey(1), x,
                     training=True)
  assert not np.allclose(c, d)  # training: the mask depends on the rng
  c2, _ = model.apply(model.params, model.state, rng, x, training=True)
  chex.assert_trees_all_equal(c, c2)  # ...and only on the rng


def test_subclass_without_call_is_a_clear_error():
  class NoCall(hk_keras.Model):
    pass
  with pytest.raises(TypeError, match="does not define"):
    NoCall()(_x(2, 3))


def test_custom_layer_trainable_and_state_weights():
  layer = Counter(name="counter")
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  assert set(model.params["counter"]) == {"w"}
  assert set(model.state["counter"]) == {"count", "total"}
  # Keras order: trainable then non-trainable, each in creation order.
  assert [w.shape for w in model.get_weights()] == [(3, 2), (), (3,)]
  assert len(layer.trainable_weights) == 1
  assert len(layer.non_trainable_weights) == 2
  x = np.arange(6, dtype=np.float32).reshape(2, 3)
  np.testing.assert_array_equal(np.asarray(model(x)), x @ np.ones((3, 2)))
  assert float(layer.count) == 0.0  # inference does not update state
  model(x, training=True)
  model(x, training=True)
  assert float(layer.count) == 2.0
  np.testing.assert_array_equal(np.asarray(layer.total), 2 * x.sum(0))
  # The pure pair returns the new state and leaves the model alone.
  _, new_state = model.apply(model.params, model.state, None, x, training=True)
  assert float(new_state["counter"]["count"]) == 3.0
  assert float(model.state["counter"]["count"]) == 2.0


def test_custom_layer_summary_splits_trainable_and_not():
  model = hk_keras.Sequential([hk_keras.Input((3,)), Counter()])
  lines = []
  model.summary(print_fn=lines.append)
  text = lines[0]
  assert " Total params: 10 " in text
  assert " Trainable params: 6 " in text
  assert " Non-trainable params: 4 " in text


def test_add_weight_outside_a_trace_needs_a_known_shape():
  # Keras 3 creates an __init__ weight at once, so its shape must be known
  # (issue 19: a known shape is created when the model is initialised).
  weight = layers.Layer().add_weight(shape=(2,))
  assert weight.shape == (2,)
  with pytest.raises(ValueError, match="not fully known"):
    layers.Layer().add_weight(shape=(None, 2))
  with pytest.raises(RuntimeError, match="outside of a model trace"):
    hk_keras.Sequential([]).add_weight(shape=(2,))


def test_assign_rejects_trainable_weights():
  class Bad(layers.Layer):
    def build(self, input_shape):
      self.w = self.add_weight(shape=(input_shape[-1],), name="w")

    def call(self, inputs):
      self.assign(self.w, self.w + 1)
      return inputs

  with pytest.raises(ValueError, match="non-trainable weight"):
    hk_keras.Sequential([hk_keras.Input((2,)), Bad()])


def test_custom_layer_with_sub_layers():
  block = Block(4, name="block")
  model = hk_keras.Sequential([hk_keras.Input((3,)), block,
                               layers.Dense(1, name="blk_head")])
  assert set(model.params) == {"block/a", "block/b", "blk_head"}
  assert [w.shape for w in model.get_weights()] == [
      (3, 4), (4,), (4, 4), (4,), (4, 1), (1,)]
  assert [w.shape for w in block.weights] == [(3, 4), (4,), (4, 4), (4,)]
  assert [l.name for l in block.layers] == ["a", "b"]
  x = _x(2, 3)
  p = jax.tree_util.tree_map(np.asarray, model.params)
  h = np.maximum(x @ p["block/a"]["kernel"] + p["block/a"]["bias"], 0)
  h = h @ p["block/b"]["kernel"] + p["block/b"]["bias"]
  expected = h @ p["blk_head"]["kernel"] + p["blk_head"]["bias"]
  chex.assert_trees_all_close(np.asarray(model(x)), expected, atol=1e-5)
  # Freezing the outer layer freezes its sub-layers.
  block.trainable = False
  mask = model.trainable_mask()
  assert not any(jax.tree_util.tree_leaves(
      {k: v for k, v in mask.items() if k.startswith("block/")}))
  assert all(jax.tree_util.tree_leaves(mask["blk_head"]))


def test_haiku_layer_params_under_the_layer_name():
  mlp = layers.HaikuLayer(lambda x: hk.nets.MLP([4, 2])(x), name="hk_mlp")
  model = hk_keras.Sequential([hk_keras.Input((3,)), mlp])
  assert set(model.params) == {"hk_mlp/mlp/~/linear_0",
                               "hk_mlp/mlp/~/linear_1"}
  assert model.count_params() == 3 * 4 + 4 + 4 * 2 + 2
  chex.assert_shape(model(_x(5, 3)), (5, 2))


def test_haiku_layer_with_training_flag_and_state():
  def fn(x, training):
    bn = hk.BatchNorm(create_scale=True, create_offset=True, decay_rate=0.9)
    return bn(x, is_training=training)

  model = hk_keras.Sequential([hk_keras.Input((3,)),
                               layers.HaikuLayer(fn, name="hk_bn")])
  assert model.state  # moving statistics are Haiku state
  x = _x(8, 3) * 3.0 + 1.0
  out = model(x, training=True)
  chex.assert_trees_all_close(np.asarray(out).mean(0), np.zeros(3), atol=1e-4)
