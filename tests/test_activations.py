"""Tests for hk_keras.activations: Keras 3 parity, lookup and errors."""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hk_keras import activations


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  """Strict numerics for this module's tests only: a global config update at
  import time would also apply to every other test file in the session."""
  with jax.numpy_rank_promotion("raise"):
    yield

_X = np.random.default_rng(0).normal(scale=4.0, size=(3, 5, 7)).astype(
    np.float32)
# Make sure the interesting kinks are exercised exactly.
_X.flat[:8] = [-3.0, 3.0, 0.0, 6.0, -6.0, 1.5, -1.5, 0.5]

# (name, kwargs) pairs compared against keras.activations.<name>(x, **kwargs).
_PARITY_CASES = [
    ("relu", {}),
    ("relu", {"negative_slope": 0.3}),
    ("relu", {"max_value": 6.0}),
    ("relu", {"max_value": 2.5}),
    ("relu", {"threshold": 1.5}),
    ("relu", {"negative_slope": 0.1, "threshold": 1.5}),
    ("relu", {"negative_slope": 0.1, "max_value": 4.0}),
    ("relu", {"negative_slope": 0.2, "max_value": 3.0, "threshold": -1.0}),
    ("relu6", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.01}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("gelu", {}),
    ("gelu", {"approximate": True}),
    ("sigmoid", {}),
    ("hard_sigmoid", {}),
    ("hard_silu", {}),
    ("hard_swish", {}),
    ("silu", {}),
    ("swish", {}),
    ("softmax", {}),
    ("softmax", {"axis": 1}),
    ("log_softmax", {}),
    ("log_softmax", {"axis": 0}),
    ("softplus", {}),
    ("softsign", {}),
    ("tanh", {}),
    ("exponential", {}),
    ("linear", {}),
    ("mish", {}),
]


@pytest.mark.parametrize("name,kwargs", _PARITY_CASES)
def test_parity_with_keras(name, kwargs):
  keras = pytest.importorskip("keras")
  expected = np.asarray(getattr(keras.activations, name)(_X, **kwargs))
  ours = getattr(activations, name)(jnp.asarray(_X), **kwargs)
  np.testing.assert_allclose(np.asarray(ours), expected, atol=1e-6,
                             rtol=1e-6)
  # Keras's lookup gives the same function our lookup resolves to.
  np.testing.assert_allclose(
      np.asarray(activations.get(name)(_X, **kwargs)), expected, atol=1e-6,
      rtol=1e-6)


@pytest.mark.parametrize("name", sorted(activations._lookup.BUILTINS))
def test_shape_and_dtype_preserved(name):
  fn = activations.get(name)
  out = jax.jit(fn)(jnp.asarray(_X))
  chex.assert_shape(out, _X.shape)
  chex.assert_type(out, jnp.float32)


class JitVariantsTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_relu_variants(self):
    fn = self.variant(lambda x: activations.relu(x, negative_slope=0.5,
                                                 max_value=5.0))
    out = fn(jnp.array([-10., -5., 0., 5., 10.]))
    chex.assert_trees_all_close(out, jnp.array([-5., -2.5, 0., 5., 5.]))

  @chex.variants(with_jit=True, without_jit=True)
  def test_hard_sigmoid_is_keras3_definition(self):
    fn = self.variant(activations.hard_sigmoid)
    out = fn(jnp.array([-4., -3., 0., 1.2, 3., 4.]))
    chex.assert_trees_all_close(out, jnp.array([0., 0., .5, .7, 1., 1.]))


def test_get_none_string_callable():
  assert activations.get(None) is activations.linear
  assert activations.get("relu") is activations.relu
  assert activations.get("swish") is activations.silu
  assert activations.get("hard_swish") is activations.hard_silu
  fn = lambda x: x * 2
  assert activations.get(fn) is fn
  assert activations.get(jax.nn.relu) is jax.nn.relu


def test_get_unknown_name_lists_valid_names():
  with pytest.raises(ValueError) as err:
    activations.get("rellu")
  msg = str(err.value)
  assert "'rellu'" in msg
  for name in activations._lookup.BUILTINS:
    assert repr(name) in msg
  assert "custom_objects" in msg


def test_get_wrong_type():
  with pytest.raises(TypeError, match="Received: identifier=3 of type int"):
    activations.get(3)


def test_get_custom_objects():
  def cube(x):
    return x ** 3
  assert activations.get("cube", custom_objects={"cube": cube}) is cube


def test_serialize_builtins_roundtrip():
  for name, fn in activations._lookup.BUILTINS.items():
    saved = activations.serialize(fn)
    assert isinstance(saved, str)
    assert activations.deserialize(saved) is fn
  assert activations.serialize(activations.swish) == "silu"
  assert activations.serialize(activations.hard_swish) == "hard_silu"
  assert activations.serialize(None) == "linear"


def test_serialize_unregistered_custom_raises():
  def my_act(x):
    return x
  with pytest.raises(ValueError, match="custom_objects") as err:
    activations.serialize(my_act)
  assert "not registered" in str(err.value)
  # jax.nn functions are not Keras names either.
  with pytest.raises(ValueError):
    activations.serialize(jax.nn.relu)


def test_register_custom():
  @activations.register(name="my_cube_for_test")
  def cube(x):
    return x ** 3
  assert activations.serialize(cube) == "my_cube_for_test"
  assert activations.get("my_cube_for_test") is cube
  assert activations.deserialize(
      {"class_name": "function", "config": "pkg>my_cube_for_test"}) is cube


def test_register_refuses_builtin_name():
  with pytest.raises(ValueError, match="built-in"):
    activations.register(lambda x: x, name="relu")


def test_keras_serialized_names_are_accepted():
  keras = pytest.importorskip("keras")
  for name in activations._lookup.BUILTINS:
    keras_fn = keras.activations.get(name)
    saved = keras.activations.serialize(keras_fn)
    assert activations.serialize(activations.get(saved)) == saved
