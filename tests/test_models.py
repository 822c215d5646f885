"""Model weights against Keras 3 (order, shapes, copied weights give the same
predictions), freezing, count_params, summary() numbers and get_layer."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import re

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

keras = pytest.importorskip("keras")

# Keras's own variables warn when get_weights() copies them under NumPy 2.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword")


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  with jax.numpy_rank_promotion("raise"):
    yield


def _x(*shape, seed=0):
  return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _keras_predict(model, x):
  with jax.numpy_rank_promotion("allow"):  # Keras broadcasts implicitly.
    return jax.tree_util.tree_map(np.asarray, model(x, training=False))


def _check_parity(ours, theirs, x, atol=1e-5):
  """Same weight shapes in the same order, and the same predictions both ways."""
  ours_w, theirs_w = ours.get_weights(), theirs.get_weights()
  assert [w.shape for w in ours_w] == [w.shape for w in theirs_w]
  ours.set_weights(theirs_w)
  chex.assert_trees_all_close(
      jax.tree_util.tree_map(np.asarray, ours(x)), _keras_predict(theirs, x),
      atol=atol)
  # And the other way round, from fresh random weights of ours.
  ours.set_weights([w + 0.1 for w in ours.get_weights()])
  with jax.numpy_rank_promotion("allow"):
    theirs.set_weights(ours.get_weights())
  chex.assert_trees_all_close(
      jax.tree_util.tree_map(np.asarray, ours(x)), _keras_predict(theirs, x),
      atol=atol)


# -- Keras 3 parity -------------------------------------------------------------

def test_sequential_with_batchnorm_matches_keras():
  def build(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((5,)), L.Dense(4, activation="relu"),
                           L.BatchNormalization(), L.Dense(3),
                           L.Activation("softmax")])
  ours = build(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = build(keras)
  assert [w.shape for w in ours.get_weights()] == [
      (5, 4), (4,), (4,), (4,), (4,), (4,), (4, 3), (3,)]
  _check_parity(ours, theirs, _x(6, 5))


def test_functional_two_branches_and_shared_layer_matches_keras():
  def build(lib):
    L = lib.layers
    a, b = lib.Input((3,)), lib.Input((2,))
    shared = L.Dense(4)
    ha = shared(L.Dense(3)(a))
    hb = shared(L.Dense(3, activation="tanh")(b))
    out = L.Dense(1)(L.Concatenate()([ha, hb]))
    return lib.Model([a, b], out)
  ours = build(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = build(keras)
  assert [type(l).__name__ for l in ours.layers] == [
      type(l).__name__ for l in theirs.layers]
  _check_parity(ours, theirs, [_x(4, 3), _x(4, 2, seed=1)])


def test_nested_model_matches_keras():
  def build(lib):
    L = lib.layers
    inner = lib.Sequential([lib.Input((4,)), L.Dense(3), L.Dense(2)])
    x = lib.Input((4,))
    return lib.Model(x, L.Dense(1)(L.Concatenate()([inner(x), x])))
  ours = build(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = build(keras)
  _check_parity(ours, theirs, _x(3, 4))


def test_multi_output_dict_matches_keras():
  def build(lib):
    L = lib.layers
    x = lib.Input((4,))
    h = L.Dense(3)(x)
    return lib.Model(x, {"b": L.Dense(2)(L.Dense(2)(h)), "a": L.Dense(1)(h)})
  ours = build(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = build(keras)
  _check_parity(ours, theirs, _x(3, 4))


def _subclassed(lib):
  L = lib.layers

  class Net(lib.Model):
    def __init__(self):
      super().__init__()
      self.head = L.Dense(1)  # assigned first: first in Keras's weight order
      self.body = L.Dense(4, activation="relu")
      self.drop = L.Dropout(0.3)

    def call(self, inputs, training=False):
      return self.head(self.drop(self.body(inputs), training=training))

  return Net()


def test_subclassed_model_matches_keras():
  ours = _subclassed(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = _subclassed(keras)
    theirs(_x(1, 3))
  ours(_x(1, 3))
  assert [w.shape for w in ours.get_weights()] == [(4, 1), (1,), (3, 4), (4,)]
  _check_parity(ours, theirs, _x(5, 3))


def _stats_layer(lib):
  class RunningSum(lib.layers.Layer):
    def build(self, input_shape):
      self.total = self.add_weight(shape=(input_shape[-1],),
                                   initializer="zeros", trainable=False,
                                   name="total")
      self.scale = self.add_weight(shape=(input_shape[-1],),
                                   initializer="ones", name="scale")

    def call(self, inputs):
      return inputs * self.scale[None, :] + self.total[None, :]

  return RunningSum()


def test_custom_layer_weight_order_matches_keras():
  ours = hk_keras.Sequential([hk_keras.Input((3,)), _stats_layer(hk_keras)])
  with jax.numpy_rank_promotion("allow"):
    theirs = keras.Sequential([keras.Input((3,)), _stats_layer(keras)])
  # Trainable first, though `total` was created first.
  assert [w.shape for w in ours.get_weights()] == [(3,), (3,)]
  np.testing.assert_array_equal(ours.get_weights()[0], np.ones(3))
  _check_parity(ours, theirs, _x(2, 3))


# -- freezing and counting ------------------------------------------------------

def _summary_text(model):
  lines = []
  model.summary(print_fn=lines.append)
  return "\n".join(lines)


def _summary_numbers(text):
  rows = {}
  for line in text.splitlines():
    cells = [c.strip() for c in line.strip("│").split("│")]
    if len(cells) == 3 and "(" in cells[0]:
      rows[cells[0].split(" (")[0]] = int(cells[2].replace(",", ""))
  totals = {key: int(m.group(1).replace(",", "")) for key, m in (
      (key, re.search(rf"^ {key} params: ([\d,]+) ", text, re.M))
      for key in ("Total", "Trainable", "Non-trainable"))}
  return rows, totals


def _frozen_model():
  return hk_keras.Sequential([
      hk_keras.Input((5,)),
      layers.Dense(4, name="fz_dense"),
      layers.BatchNormalization(name="fz_bn"),
      layers.Dense(2, name="fz_head")])


def test_summary_numbers_equal_hand_totals():
  model = _frozen_model()
  text = _summary_text(model)
  assert text.startswith(f'Model: "{model.name}"')
  rows, totals = _summary_numbers(text)
  dense, bn, head = 5 * 4 + 4, 4 * 4, 4 * 2 + 2
  assert rows == {"fz_dense": dense, "fz_bn": bn, "fz_head": head}
  assert totals == {"Total": dense + bn + head,
                    "Trainable": dense + 2 * 4 + head,  # gamma, beta
                    "Non-trainable": 2 * 4}  # moving mean and variance
  assert "(None, 4)" in text and "(None, 2)" in text
  assert model.count_params() == dense + bn + head


def test_freezing_a_layer():
  model = _frozen_model()
  model.get_layer("fz_dense").trainable = False
  mask = model.trainable_mask()
  assert mask["fz_dense"] == {"kernel": False, "bias": False}
  assert all(jax.tree_util.tree_leaves(mask["fz_head"]))
  assert all(jax.tree_util.tree_leaves(mask["fz_bn"]))
  _, totals = _summary_numbers(_summary_text(model))
  assert totals == {"Total": 50, "Trainable": 8 + 10, "Non-trainable": 24 + 8}
  assert model.count_params() == 50


def test_freezing_the_model_propagates():
  model = _frozen_model()
  model.trainable = False
  assert not any(l.trainable for l in model.layers)
  assert not any(jax.tree_util.tree_leaves(model.trainable_mask()))
  _, totals = _summary_numbers(_summary_text(model))
  assert totals == {"Total": 50, "Trainable": 0, "Non-trainable": 50}
  model.trainable = True
  assert all(jax.tree_util.tree_leaves(model.trainable_mask()))


def test_freezing_a_nested_model():
  inner = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(2)])
  outer = hk_keras.Sequential([hk_keras.Input((3,)), inner, layers.Dense(1)])
  inner.trainable = False
  rows, totals = _summary_numbers(_summary_text(outer))
  assert rows[inner.name] == 8
  assert totals == {"Total": 11, "Trainable": 3, "Non-trainable": 8}


def test_summary_of_a_functional_model_lists_inputs_and_shapes():
  a, b = hk_keras.Input((3,), name="sum_a"), hk_keras.Input((2,), name="sum_b")
  out = layers.Dense(1, name="sum_head")(layers.Concatenate(name="sum_cat")(
      [a, b]))
  text = _summary_text(hk_keras.Model([a, b], out))
  rows, totals = _summary_numbers(text)
  assert rows == {"sum_a": 0, "sum_b": 0, "sum_cat": 0, "sum_head": 6}
  assert totals["Total"] == 6
  assert re.search(r"sum_cat \(Concatenate\)\s+│ \(None, 5\)", text)


# -- get/set weights and get_layer ------------------------------------------------

def test_set_weights_then_get_weights_round_trip():
  model = _frozen_model()
  new = [np.full(w.shape, i, np.float32) for i, w in
         enumerate(model.get_weights())]
  model.set_weights(new)
  for a, b in zip(new, model.get_weights()):
    np.testing.assert_array_equal(a, b)
  assert float(model.state["fz_bn"]["moving_mean"][0]) == 4.0


def test_layer_get_weights_and_weights_property():
  model = _frozen_model()
  bn = model.get_layer("fz_bn")
  assert [w.shape for w in bn.get_weights()] == [(4,)] * 4
  np.testing.assert_array_equal(bn.get_weights()[0], np.ones(4))  # gamma
  np.testing.assert_array_equal(bn.get_weights()[3], np.ones(4))  # variance
  assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
  dense = model.get_layer("fz_dense")
  dense.set_weights([np.zeros((5, 4)), np.ones(4)])
  np.testing.assert_array_equal(np.asarray(model.params["fz_dense"]["bias"]),
                                np.ones(4))


def test_get_layer():
  model = _frozen_model()
  assert model.get_layer("fz_bn") is model.layers[1]
  assert model.get_layer(index=2).name == "fz_head"
  with pytest.raises(ValueError, match=r"No such layer: 'nope'.*fz_dense"):
    model.get_layer("nope")


def test_standalone_layer_weights_move_into_a_model():
  dense = layers.Dense(2, name="solo")
  x = _x(3, 4)
  standalone = np.asarray(dense(x))
  model = hk_keras.Sequential([hk_keras.Input((4,)), dense])
  chex.assert_trees_all_close(np.asarray(model(x)), standalone, atol=1e-6)
  model.set_weights([jnp.zeros((4, 2)), jnp.ones(2)])
  np.testing.assert_array_equal(np.asarray(dense(x)), np.ones((3, 2)))


def test_automatic_layer_names_follow_keras():
  for cls in ("Conv2D", "MaxPooling2D", "Conv2DTranspose", "BatchNormalization",
              "GlobalAveragePooling2D", "LSTM", "UpSampling2D"):
    ours = getattr(hk_keras.layers, cls)
    theirs = getattr(keras.layers, cls)
    args = {"Conv2D": (2, 3), "Conv2DTranspose": (2, 3), "LSTM": (2,)}.get(
        cls, ())
    base = lambda name: re.sub(r"_\d+$", "", name)
    assert base(ours(*args).name) == base(theirs(*args).name)


def test_integer_data_is_converted_like_keras():
  images = (np.arange(2 * 6 * 6).reshape(2, 6, 6, 1) % 7).astype(np.uint8)

  def conv(lib):
    return lib.Sequential([lib.Input((6, 6, 1)), lib.layers.Conv2D(2, 3),
                           lib.layers.Flatten(), lib.layers.Dense(1)])
  ours = conv(hk_keras)
  with jax.numpy_rank_promotion("allow"):
    theirs = conv(keras)
  # Fed to a float32 Input, uint8 data is converted to float32 first.
  _check_parity(ours, theirs, images)
  out, _ = ours.apply(ours.params, ours.state, None, images)
  assert out.dtype == jnp.float32

  # A lazily built Dense on int features computes in float, as Keras.
  features = np.arange(8, dtype=np.int32).reshape(2, 4)
  ours = hk_keras.Sequential([layers.Dense(1)])
  ours(features)
  with jax.numpy_rank_promotion("allow"):
    theirs = keras.Sequential([keras.layers.Dense(1)])
    theirs(features)
  _check_parity(ours, theirs, features)
