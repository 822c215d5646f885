"""Layer tests for the core layers, with Keras 3 parity."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

from layer_test_utils import keras, make_input, run_layer_test


@pytest.mark.parametrize("kwargs,params", [
    ({"units": 3}, 15),
    ({"units": 3, "activation": "relu", "use_bias": False}, 12),
    ({"units": 2, "activation": "softmax"}, 10),
])
def test_dense(kwargs, params):
  run_layer_test(layers.Dense, kwargs, (5, 4),
                 expected_output_shape=(5, kwargs["units"]),
                 expected_num_params=params,
                 keras_cls=keras and keras.layers.Dense)


def test_dense_on_rank3_inputs():
  run_layer_test(layers.Dense, {"units": 3}, (2, 5, 4),
                 expected_output_shape=(2, 5, 3), expected_num_params=15,
                 keras_cls=keras and keras.layers.Dense)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid", "softmax", "gelu"])
def test_activation(name):
  run_layer_test(layers.Activation, {"activation": name}, (3, 4),
                 expected_output_shape=(3, 4), expected_num_params=0,
                 keras_cls=keras and keras.layers.Activation)


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 1.0},
                                    {"negative_slope": 0.1, "threshold": 0.2}])
def test_relu(kwargs):
  run_layer_test(layers.ReLU, kwargs, (3, 4), expected_output_shape=(3, 4),
                 keras_cls=keras and keras.layers.ReLU)


def test_softmax():
  run_layer_test(layers.Softmax, {"axis": 1}, (3, 4, 2),
                 expected_output_shape=(3, 4, 2),
                 keras_cls=keras and keras.layers.Softmax)


def test_flatten_and_reshape():
  run_layer_test(layers.Flatten, {}, (2, 3, 4, 5), expected_output_shape=(2, 60),
                 keras_cls=keras and keras.layers.Flatten)
  run_layer_test(layers.Reshape, {"target_shape": (4, -1)}, (2, 3, 4),
                 expected_output_shape=(2, 4, 3),
                 keras_cls=keras and keras.layers.Reshape)


def test_rescaling():
  run_layer_test(layers.Rescaling, {"scale": 1 / 255, "offset": -0.5}, (2, 4),
                 expected_output_shape=(2, 4),
                 keras_cls=keras and keras.layers.Rescaling)


def test_dropout_inference_is_identity_and_training_scales():
  model, _ = run_layer_test(layers.Dropout, {"rate": 0.5}, (4, 1000),
                            expected_output_shape=(4, 1000),
                            keras_cls=keras and keras.layers.Dropout,
                            training_modes=(False,))
  x = np.ones((4, 1000), np.float32)
  out, _ = model.apply(model.params, model.state, jax.random.PRNGKey(3), x,
                       training=True)
  out = np.asarray(out)
  assert set(np.unique(out)) == {0.0, 2.0}
  assert abs((out == 0).mean() - 0.5) < 0.03
  other, _ = model.apply(model.params, model.state, jax.random.PRNGKey(4), x,
                         training=True)
  assert not np.array_equal(out, np.asarray(other))


@pytest.mark.parametrize("cls", ["Add", "Multiply"])
def test_elementwise_merge(cls):
  a, b = hk_keras.Input((4,)), hk_keras.Input((4,))
  model = hk_keras.Model([a, b], getattr(layers, cls)()([a, b]))
  x, y = make_input((3, 4), seed=1), make_input((3, 4), seed=2)
  out = model([x, y])
  expected = x + y if cls == "Add" else x * y
  chex.assert_trees_all_close(np.asarray(out), expected, atol=1e-6)
  if keras is not None:
    ka, kb = keras.Input((4,)), keras.Input((4,))
    km = keras.Model([ka, kb], getattr(keras.layers, cls)()([ka, kb]))
    np.testing.assert_allclose(out, km([x, y]), atol=1e-6)


def test_concatenate():
  a, b = hk_keras.Input((4,)), hk_keras.Input((2,))
  model = hk_keras.Model([a, b], layers.Concatenate()([a, b]))
  assert model.outputs[0].shape == (None, 6)
  x, y = make_input((3, 4)), make_input((3, 2))
  np.testing.assert_allclose(model([x, y]), np.concatenate([x, y], -1))


def test_concatenate_mismatch_is_a_clear_error():
  a, b = hk_keras.Input((4, 3)), hk_keras.Input((5, 2))
  with pytest.raises(ValueError, match="match except on the concatenation"):
    layers.Concatenate(axis=-1)([a, b])


def test_lambda():
  x = hk_keras.Input((3,))
  model = hk_keras.Model(x, layers.Lambda(lambda t, k: t * k,
                                          arguments={"k": 3.0})(x))
  np.testing.assert_allclose(model(np.ones((2, 3), np.float32)),
                             3 * np.ones((2, 3)))


def test_haiku_layer_params_live_under_its_name():
  import haiku as hk
  layer = layers.HaikuLayer(lambda x: hk.nets.MLP([5, 2])(x), name="mlp")
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  keys = sorted(model.params)
  assert keys == ["mlp/mlp/~/linear_0", "mlp/mlp/~/linear_1"], keys
  assert model.count_params() == 3 * 5 + 5 + 5 * 2 + 2
  x = make_input((4, 3))
  out, _ = model.apply(model.params, model.state, None, x)
  # Parity with the same Haiku code run directly on the same params.
  direct = hk.transform(lambda x: hk.nets.MLP([5, 2])(x))
  direct_params = {k[len("mlp/"):]: v for k, v in model.params.items()}
  np.testing.assert_allclose(out, direct.apply(direct_params, None, x),
                             atol=1e-6)


def test_haiku_layer_with_state_and_training():
  import haiku as hk
  def fn(x, training):
    bn = hk.BatchNorm(True, True, 0.9)
    return bn(x, is_training=training)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.HaikuLayer(fn)])
  assert model.state and model.count_params() > 6
  x = make_input((8, 3)) * 3 + 1
  _, new_state = model.apply(model.params, model.state, None, x, training=True)
  key = "haiku_layer/batch_norm/~/mean_ema"
  before = np.asarray(model.state[key]["hidden"])
  after = np.asarray(new_state[key]["hidden"])
  np.testing.assert_allclose(after.reshape(-1), 0.1 * x.mean(0), atol=1e-5)
  assert not np.array_equal(before, after)


def test_unknown_spatial_dims_stay_unknown_and_weights_need_known_dims():
  x = hk_keras.Input((None, None, 3))
  assert layers.MaxPooling2D(2)(x).shape == (None, None, None, 3)
  assert layers.Conv2D(4, 4)(x).shape == (None, None, None, 4)
  model = hk_keras.Sequential([hk_keras.Input((None, None, 3)),
                               layers.Conv2D(4, 3),
                               layers.GlobalAveragePooling2D(), layers.Dense(2)])
  assert model(np.ones((1, 8, 8, 3), np.float32)).shape == (1, 2)
  assert model(np.ones((2, 5, 7, 3), np.float32)).shape == (2, 2)
  with pytest.raises(ValueError, match="weight shapes depend on an input"):
    hk_keras.Sequential([hk_keras.Input((None, None, 3)),
                         layers.MaxPooling2D(2), layers.Flatten(),
                         layers.Dense(2)])


def test_regularizers_are_accepted_and_configured():
  layer = layers.Dense(3, kernel_regularizer="l2", bias_constraint="non_neg")
  assert isinstance(layer.kernel_regularizer, hk_keras.regularizers.L2)
  config = layer.get_config()
  assert config["kernel_regularizer"]["class_name"] == "L2"
  assert config["bias_constraint"]["class_name"] == "NonNeg"
  assert config["bias_regularizer"] is None
  with pytest.raises(ValueError, match="Unknown regularizer"):
    layers.Dense(3, kernel_regularizer="l7")


def test_freezing_after_an_eager_call_takes_effect():
  bn = layers.BatchNormalization(name="bn_freeze")
  model = hk_keras.Sequential([hk_keras.Input((3,)), bn])
  x = make_input((8, 3)) * 2 + 1
  model(x, training=True)
  moved = np.asarray(model.state["bn_freeze"]["moving_mean"])
  assert not np.allclose(moved, 0)
  bn.trainable = False
  model(x, training=True)  # frozen BN runs in inference mode (Keras 3)
  np.testing.assert_array_equal(model.state["bn_freeze"]["moving_mean"], moved)
