"""Sequential: add, pop, and the four ways of building (Input, input_shape=,
build(input_shape), first data)."""
import chex
import jax
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


def _dense_stack_numpy(model, x):
  """The model's prediction computed by hand from its weights (linear Dense)."""
  weights = model.get_weights()
  for kernel, bias in zip(weights[::2], weights[1::2]):
    x = x @ kernel + bias
  return x


def test_input_first_builds_immediately():
  model = hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(3),
                               layers.Dense(2)])
  assert model.built
  assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 2), (2,)]
  assert model.count_params() == 4 * 3 + 3 + 3 * 2 + 2
  x = _x(5, 4)
  chex.assert_trees_all_close(np.asarray(model(x)), _dense_stack_numpy(model, x),
                              atol=1e-5)


def test_input_shape_on_first_layer_builds_immediately():
  model = hk_keras.Sequential([layers.Dense(3, input_shape=(6,)),
                               layers.Dense(1)])
  assert model.built
  assert [w.shape for w in model.get_weights()] == [(6, 3), (3,), (3, 1), (1,)]


def test_lazy_build_on_first_data():
  model = hk_keras.Sequential([layers.Dense(3), layers.Dense(2)])
  assert not model.built
  with pytest.raises(ValueError, match="not been built"):
    model.get_weights()
  x = _x(7, 5)
  out = model(x)
  assert model.built
  chex.assert_shape(out, (7, 2))
  assert [w.shape for w in model.get_weights()] == [(5, 3), (3,), (3, 2), (2,)]
  chex.assert_trees_all_close(np.asarray(out), _dense_stack_numpy(model, x),
                              atol=1e-5)
  # Any batch size works afterwards; the feature size is now fixed.
  chex.assert_shape(model(_x(2, 5)), (2, 2))
  with pytest.raises(ValueError, match=r"expected shape \(None, 5\)"):
    model(_x(2, 4))


def test_build_with_input_shape():
  model = hk_keras.Sequential([layers.Dense(4), layers.Dense(1)])
  model.build((None, 3))
  assert model.built
  assert model.count_params() == 3 * 4 + 4 + 4 * 1 + 1
  chex.assert_shape(model(_x(2, 3)), (2, 1))


def test_add_grows_the_model_and_keeps_trained_weights():
  model = hk_keras.Sequential([hk_keras.Input((4,))])
  first = layers.Dense(3)
  model.add(first)
  assert model.built
  before = [w.copy() for w in model.get_weights()]
  model.add(layers.Dense(2))
  assert len(model.layers) == 2
  weights = model.get_weights()
  assert [w.shape for w in weights] == [(4, 3), (3,), (3, 2), (2,)]
  # The first layer keeps its weights when the model is rebuilt.
  for a, b in zip(before, weights[:2]):
    np.testing.assert_array_equal(a, b)
  chex.assert_shape(model(_x(5, 4)), (5, 2))


def test_pop_removes_the_last_layer():
  model = hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(3),
                               layers.Dense(2)])
  kept = [w.copy() for w in model.get_weights()[:2]]
  last = model.layers[-1]
  assert model.pop() is last
  assert len(model.layers) == 1
  assert model.count_params() == 15
  assert set(model.params) == {model.layers[0].name}
  for a, b in zip(kept, model.get_weights()):
    np.testing.assert_array_equal(a, b)
  chex.assert_shape(model(_x(5, 4)), (5, 3))


def test_pop_on_lazy_model_then_call():
  model = hk_keras.Sequential([layers.Dense(3), layers.Dense(2)])
  model(_x(2, 4))
  model.pop()
  chex.assert_shape(model(_x(2, 4)), (2, 3))


def test_pop_empty_raises():
  with pytest.raises(ValueError, match="no layers to pop"):
    hk_keras.Sequential().pop()


def test_add_rejects_non_layers_and_duplicates():
  model = hk_keras.Sequential()
  with pytest.raises(TypeError, match="expects an hk_keras layer"):
    model.add(lambda x: x)
  dense = layers.Dense(2)
  model.add(dense)
  with pytest.raises(ValueError, match="already in this Sequential"):
    model.add(dense)


def test_input_only_first():
  model = hk_keras.Sequential([layers.Dense(2)])
  with pytest.raises(ValueError, match="first entry"):
    model.add(hk_keras.Input((3,)))


def test_dropout_only_in_training():
  model = hk_keras.Sequential([hk_keras.Input((100,)), layers.Dropout(0.5)])
  x = np.ones((4, 100), np.float32)
  np.testing.assert_array_equal(np.asarray(model(x)), x)
  out = np.asarray(model(x, training=True))
  assert set(np.unique(out)) <= {0.0, 2.0}
  assert 0 < (out == 0).mean() < 1


def test_layers_and_get_layer():
  model = hk_keras.Sequential([hk_keras.Input((2,)),
                               layers.Dense(3, name="hidden"),
                               layers.Dense(1, name="head")])
  assert [l.name for l in model.layers] == ["hidden", "head"]
  assert model.get_layer("head") is model.layers[1]
  assert model.get_layer(index=0).name == "hidden"


def test_model_as_first_layer_gives_the_input_shape():
  i = hk_keras.Input((4,))
  base = hk_keras.Model(i, layers.Dense(3)(i))
  model = hk_keras.Sequential([base, layers.Dense(1)])
  assert model.built
  assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 1), (1,)]
  chex.assert_shape(model(_x(2, 4)), (2, 1))
