"""`SpectralNormalization` against Keras 3 (issue 12, item 5).

One sweep model (Dense, Conv2D and Embedding wrapped) checks weights, order,
config, `.keras` save/load and outputs in both modes with Keras's weights
copied in; the training step's new `vector_u` and the gradient through
`kernel / sigma` are compared with Keras's stateless call on the same model.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from tests.layer_test_utils import SweepCase, run_layer_sweep

keras = pytest.importorskip("keras")

ATOL = 1e-5


def _cases():
  k = keras.layers
  return [
      SweepCase("SpectralNormalization",
                {"layer": layers.Dense(3), "power_iterations": 2}, (2, 4),
                keras_kwargs={"layer": k.Dense(3), "power_iterations": 2}),
      SweepCase("SpectralNormalization", {"layer": layers.Conv2D(2, 2)},
                (2, 4, 4, 3), keras_kwargs={"layer": k.Conv2D(2, 2)}),
      SweepCase("SpectralNormalization", {"layer": layers.Embedding(5, 3)},
                (2, 4), keras_kwargs={"layer": k.Embedding(5, 3)},
                input_dtype="int32"),
  ]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
  return run_layer_sweep(_cases(), save_dir=tmp_path_factory.mktemp("sn"),
                         atol=ATOL)


def _keras_step(keras_model, xs):
  tv = [v.value for v in keras_model.trainable_variables]
  ntv = [v.value for v in keras_model.non_trainable_variables]

  def loss(tv):
    outs, new_ntv = keras_model.stateless_call(tv, ntv, xs, training=True)
    return sum(jnp.sum(jnp.sin(o.astype("float32"))) for o in outs), new_ntv
  return jax.grad(loss, has_aux=True)(tv)


def test_weights_order_config_and_outputs_match_keras(sweep):
  model, keras_model, ours, theirs, _ = sweep
  for layer, klayer in zip(ours, theirs):
    assert [w.name for w in klayer.weights][1] == "vector_u"
    assert layer.get_config()["layer"]["class_name"] == type(
        klayer.layer).__name__
  assert model.count_params() == keras_model.count_params()


def test_training_updates_u_and_gradients_as_keras(sweep):
  model, keras_model, ours, _, xs = sweep
  key = jax.random.PRNGKey(0)

  def loss(params):
    outs, state = model.apply(params, model.state, key, xs, training=True)
    return sum(jnp.sum(jnp.sin(o.astype("float32"))) for o in outs), state
  grads, state = jax.jit(jax.grad(loss, has_aux=True))(model.params)
  k_grads, k_ntv = _keras_step(keras_model, xs)

  new_u = [np.asarray(state[l.name]["vector_u"]) for l in ours]
  old_u = [np.asarray(model.state[l.name]["vector_u"]) for l in ours]
  for ours_u, theirs_u, before in zip(new_u, k_ntv, old_u):
    np.testing.assert_allclose(ours_u, np.asarray(theirs_u), atol=ATOL)
    assert np.abs(ours_u - before).max() > 1e-3  # power iteration moved u
  # Gradients in Keras's trainable order: kernel, bias per wrapped layer.
  flat = []
  for layer in ours:
    inner = f"{layer.name}/{layer.layer.name}"
    flat += [grads[inner][n] for n in ("kernel", "bias", "embeddings")
             if n in grads[inner]]
  assert len(flat) == len(k_grads)
  for g, kg in zip(flat, k_grads):
    np.testing.assert_allclose(np.asarray(g), np.asarray(kg), atol=1e-4,
                               rtol=1e-4)


def test_zero_kernel_is_left_alone():
  layer = layers.SpectralNormalization(layers.Dense(2, use_bias=False))
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  model.set_weights([np.zeros((3, 2), "float32"),
                     np.ones((1, 2), "float32")])
  out, state = model.apply(model.params, model.state, jax.random.PRNGKey(0),
                           np.ones((1, 3), "float32"), training=True)
  np.testing.assert_array_equal(np.asarray(out), 0.0)
  np.testing.assert_array_equal(state[layer.name]["vector_u"], 1.0)


def test_bad_arguments_are_explained():
  with pytest.raises(ValueError, match="power_iterations"):
    layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
  with pytest.raises(ValueError, match="hk_keras layer"):
    layers.SpectralNormalization(keras.layers.Dense(2))
  model_in = hk_keras.Input((3,))
  with pytest.raises(ValueError, match="nor 'embeddings'"):
    layers.SpectralNormalization(layers.ReLU())(model_in)
