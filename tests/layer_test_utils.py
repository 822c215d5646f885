"""One helper to test a layer end to end (Keras's `run_layer_test` idea).

`run_layer_test` builds the layer in a one-layer model and checks: output
shape, param count, purity of init/apply, jit vs no-jit, the config round
trip, Keras 3 weight order and shapes, and numerical parity with Keras 3 (JAX
backend) with the same weights, in inference and training mode.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import chex
import jax
import numpy as np

import hk_keras

try:
  import keras  # pylint: disable=g-import-not-at-top
except ImportError:  # keras is in the `test` extra; parity is skipped without it
  keras = None


def make_input(shape, dtype="float32", seed=0, low=None, high=None):
  rng = np.random.default_rng(seed)
  if np.issubdtype(np.dtype(dtype), np.integer):
    return rng.integers(low or 0, high or 10, size=shape).astype(dtype)
  return rng.normal(size=shape).astype(dtype)


def one_layer_model(layer, input_shape, dtype="float32"):
  return hk_keras.Sequential([hk_keras.Input(input_shape[1:], dtype=dtype),
                              layer])


def run_layer_test(layer_cls, init_kwargs, input_shape, *,
                   expected_output_shape=None, expected_num_params=None,
                   keras_cls=None, keras_kwargs=None, input_dtype="float32",
                   input_data=None, atol=1e-5, training_modes=(False, True),
                   check_state_after_training=False, check_config=True):
  """Checks one layer thoroughly; returns (model, keras_model or None)."""
  x = input_data if input_data is not None else make_input(
      input_shape, input_dtype)
  layer = layer_cls(**init_kwargs)
  model = one_layer_model(layer, input_shape, input_dtype)
  rng = jax.random.PRNGKey(0)

  # Output shape and parameter count.
  out, _ = model.apply(model.params, model.state, rng, x)
  if expected_output_shape is not None:
    chex.assert_shape(out, expected_output_shape)
  if expected_num_params is not None:
    assert model.count_params() == expected_num_params, (
        model.count_params(), expected_num_params)

  # Purity: same rng -> same params; same inputs -> same outputs.
  p1, s1 = model.init(rng, x)
  p2, s2 = model.init(rng, x)
  chex.assert_trees_all_equal((p1, s1), (p2, s2))
  for training in training_modes:
    a, _ = model.apply(p1, s1, rng, x, training=training)
    b, _ = model.apply(p1, s1, rng, x, training=training)
    chex.assert_trees_all_equal(a, b)
    # jit vs no jit.
    jitted = jax.jit(model.apply, static_argnames="training")
    c, _ = jitted(p1, s1, rng, x, training=training)
    chex.assert_trees_all_close(a, c, atol=1e-5, rtol=1e-5)

  # Config round trip: same class, same weight shapes.
  if check_config:
    config = layer.get_config()
    clone = layer_cls.from_config({**config, "name": layer.name + "_clone"})
    clone_model = one_layer_model(clone, input_shape, input_dtype)
    assert [w.shape for w in clone_model.get_weights()] == [
        w.shape for w in model.get_weights()]

  keras_model = None
  if keras is not None and keras_cls is not None:
    keras_model = keras.Sequential([
        keras.Input(input_shape[1:], dtype=input_dtype),
        keras_cls(**(init_kwargs if keras_kwargs is None else keras_kwargs))])
    kw = keras_model.get_weights()
    # Same Keras weight order and shapes.
    assert [w.shape for w in kw] == [w.shape for w in model.get_weights()], (
        [w.shape for w in kw], [w.shape for w in model.get_weights()])
    model.set_weights(kw)
    for training in training_modes:
      if training and check_state_after_training:
        continue
      ours, _ = model.apply(model.params, model.state, rng, x,
                            training=training)
      theirs = keras_model(x, training=training)
      chex.assert_trees_all_close(
          jax.tree_util.tree_map(np.asarray, ours),
          jax.tree_util.tree_map(np.asarray, theirs), atol=atol, rtol=atol)
    if check_state_after_training:
      ours, new_state = model.apply(model.params, model.state, rng, x,
                                    training=True)
      theirs = keras_model(x, training=True)
      chex.assert_trees_all_close(np.asarray(ours), np.asarray(theirs),
                                  atol=atol, rtol=atol)
      model.state = new_state
      for a, b in zip(model.get_weights(), keras_model.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol, rtol=atol)
  return model, keras_model
