"""Tests for hk_keras.initializers: statistics, fans, Haiku use, configs."""

import json
import math
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import chex
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hk_keras import initializers as I


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  """Strict numerics for this module's tests only: a global config update at
  import time would also apply to every other test file in the session."""
  with jax.numpy_rank_promotion("raise"):
    yield


def _sample(init, shape, seed=0, dtype=jnp.float32):
  """Runs an unseeded initializer inside a Haiku transform."""
  def f():
    return hk.get_parameter("w", shape, dtype, init=init)
  params = hk.transform(f).init(jax.random.PRNGKey(seed))
  return np.asarray(params["~"]["w"], np.float64)


def test_glorot_uniform_bounds_and_variance():
  fan_in, fan_out = 200, 300
  w = _sample(I.GlorotUniform(), (fan_in, fan_out))
  limit = math.sqrt(6.0 / (fan_in + fan_out))
  assert np.abs(w).max() <= limit
  assert np.abs(w).max() > 0.99 * limit
  target = 2.0 / (fan_in + fan_out)
  assert abs(w.var() / target - 1.0) < 0.05
  assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize("cls,scale,mode,uniform", [
    (I.GlorotUniform, 1.0, "fan_avg", True),
    (I.GlorotNormal, 1.0, "fan_avg", False),
    (I.HeNormal, 2.0, "fan_in", False),
    (I.HeUniform, 2.0, "fan_in", True),
    (I.LecunNormal, 1.0, "fan_in", False),
    (I.LecunUniform, 1.0, "fan_in", True),
])
def test_named_variance_scaling_statistics(cls, scale, mode, uniform):
  shape = (3, 3, 40, 60)  # conv kernel: receptive field 9.
  fan_in, fan_out = 9 * 40, 9 * 60
  n = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
  target = scale / n
  w = _sample(cls(), shape)
  chex.assert_shape(w, shape)
  assert abs(w.var() / target - 1.0) < 0.05
  if uniform:
    assert np.abs(w).max() <= math.sqrt(3 * target)
  else:
    stddev = math.sqrt(target) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * stddev + 1e-6


def test_compute_fans():
  assert I.compute_fans(()) == (1, 1)
  assert I.compute_fans((7,)) == (7, 7)
  assert I.compute_fans((5, 6)) == (5, 6)
  assert I.compute_fans((3, 16, 32)) == (48, 96)
  assert I.compute_fans((3, 3, 16, 32)) == (144, 288)
  assert I.compute_fans((2, 3, 3, 16, 32)) == (288, 576)
  assert I.compute_fans((4, 5, 6), input_axes=[0, 1],
                        output_axes=[2]) == (20, 6)


def test_compute_fans_matches_keras():
  pytest.importorskip("keras")
  from keras.src.initializers.random_initializers import compute_fans
  for shape in [(), (7,), (5, 6), (3, 16, 32), (3, 3, 16, 32),
                (2, 3, 3, 16, 32)]:
    assert I.compute_fans(shape) == compute_fans(shape)


def test_truncated_normal_bounds_and_correction():
  w = _sample(I.TruncatedNormal(mean=1.0, stddev=0.5), (400, 300))
  assert w.min() >= 0.0 and w.max() <= 2.0
  # Variance of N(0, 1) truncated to [-2, 2] is 0.8796**2.
  assert abs(w.std() / (0.5 * 0.87962566103423978) - 1) < 0.02
  assert abs(w.mean() - 1.0) < 0.01
  vs = _sample(I.VarianceScaling(scale=3.0, mode="fan_out"), (300, 400))
  assert abs(vs.var() / (3.0 / 400) - 1) < 0.05


def test_variance_scaling_untruncated_and_normal_alias():
  vs = I.VarianceScaling(distribution="normal")
  assert vs.distribution == "truncated_normal"
  w = _sample(I.VarianceScaling(scale=2.0, distribution="untruncated_normal"),
              (500, 200))
  assert abs(w.var() / (2.0 / 500) - 1) < 0.05
  assert np.abs(w).max() > 2.5 * math.sqrt(2.0 / 500)


def test_random_normal_and_uniform_statistics():
  w = _sample(I.RandomNormal(mean=2.0, stddev=3.0), (300, 300))
  assert abs(w.mean() - 2.0) < 0.05 and abs(w.std() / 3.0 - 1) < 0.02
  u = _sample(I.RandomUniform(minval=-1.0, maxval=3.0), (300, 300))
  assert u.min() >= -1.0 and u.max() < 3.0
  assert abs(u.mean() - 1.0) < 0.02
  assert abs(u.var() / (16 / 12) - 1) < 0.02


@pytest.mark.parametrize("shape", [(6, 6), (20, 5), (5, 20), (3, 3, 4, 8)])
def test_orthogonal(shape):
  w = _sample(I.Orthogonal(gain=2.0), shape)
  chex.assert_shape(w, shape)
  m = w.reshape(-1, shape[-1]) / 2.0
  if m.shape[0] >= m.shape[1]:
    np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-5)
  else:
    np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-5)


def test_orthogonal_rank_error():
  with pytest.raises(ValueError, match="rank 2 or more.*shape=\\(3,\\)"):
    I.Orthogonal(seed=0)((3,))


class ConstantInitializersTest(chex.TestCase):

  def test_zeros_ones_constant_identity(self):
    chex.assert_trees_all_equal(I.Zeros()((2, 3), jnp.float32),
                                jnp.zeros((2, 3)))
    chex.assert_trees_all_equal(I.Ones()((2,), jnp.int32),
                                jnp.ones((2,), jnp.int32))
    chex.assert_trees_all_equal(I.Constant(0.25)((2, 2)),
                                jnp.full((2, 2), 0.25))
    chex.assert_trees_all_equal(I.Identity(gain=3.0)((2, 3)),
                                3.0 * jnp.eye(2, 3))
    chex.assert_type(I.Zeros()((2,), jnp.bfloat16), jnp.bfloat16)
    with pytest.raises(ValueError, match="2-D.*rank 3"):
      I.Identity()((2, 2, 2))

  @chex.variants(with_jit=True, without_jit=True)
  def test_seeded_is_deterministic_under_jit(self):
    init = self.variant(lambda: I.HeNormal(seed=7)((4, 5)))
    # Same draws; compiled and op-by-op arithmetic may differ in the last bit
    # (XLA fuses the scaling differently, e.g. at the suite's -O0).
    chex.assert_trees_all_close(init(), I.HeNormal(seed=7)((4, 5)),
                                rtol=1e-6, atol=0)


def test_seeded_initializers_match_keras_bitwise():
  keras = pytest.importorskip("keras")
  for name in ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform",
               "lecun_normal", "lecun_uniform", "random_normal",
               "random_uniform", "truncated_normal", "orthogonal"]:
    ours = I.get(name).__class__(seed=11)((6, 7), "float32")
    with jax.numpy_rank_promotion("allow"):  # Keras itself broadcasts.
      theirs = keras.initializers.get(name).__class__(seed=11)((6, 7))
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_seeded_works_outside_transform_and_ignores_haiku_key():
  a = I.GlorotUniform(seed=3)((4, 4))
  b = _sample(I.GlorotUniform(seed=3), (4, 4), seed=99)
  np.testing.assert_array_equal(np.asarray(a), b)


def test_unseeded_outside_transform_error():
  with pytest.raises(ValueError, match="pass an integer seed") as err:
    I.GlorotUniform()((3, 3))
  assert "GlorotUniform was called without a seed" in str(err.value)
  assert "model.init" in str(err.value)


def test_unseeded_inside_transform_without_rng_error():
  def f():
    return hk.get_parameter("w", (2,), init=I.RandomNormal())
  with pytest.raises(ValueError, match="without a Haiku PRNG key"):
    hk.transform(f).init(None)


def test_different_haiku_keys_give_different_values():
  a = _sample(I.GlorotUniform(), (4, 4), seed=0)
  b = _sample(I.GlorotUniform(), (4, 4), seed=1)
  assert not np.allclose(a, b)


def test_get_names_classes_instances_callables():
  assert isinstance(I.get("glorot_uniform"), I.GlorotUniform)
  assert isinstance(I.get("GlorotUniform"), I.GlorotUniform)
  assert isinstance(I.get("he_normal"), I.HeNormal)
  assert isinstance(I.get("zeros"), I.Zeros)
  assert isinstance(I.get("zero"), I.Zeros)
  assert isinstance(I.get("ones"), I.Ones)
  assert isinstance(I.get("orthogonal"), I.Orthogonal)
  assert isinstance(I.get("normal"), I.RandomNormal)
  assert isinstance(I.get("variance_scaling"), I.VarianceScaling)
  assert isinstance(I.get(I.Ones), I.Ones)
  inst = I.Constant(3.0)
  assert I.get(inst) is inst
  hk_init = hk.initializers.TruncatedNormal(1.0)
  assert I.get(hk_init) is hk_init
  assert I.get(None) is None


def test_get_unknown_name_lists_valid_names():
  with pytest.raises(ValueError) as err:
    I.get("glorot_uniformm")
  msg = str(err.value)
  assert "'glorot_uniformm'" in msg
  for name in ["'glorot_uniform'", "'he_normal'", "'zeros'", "'ones'",
               "'orthogonal'", "'GlorotUniform'", "'variance_scaling'"]:
    assert name in msg


def test_get_wrong_type():
  with pytest.raises(TypeError, match="Received: identifier=3 of type int"):
    I.get(3)


def test_config_roundtrip_is_json():
  for init in [I.Zeros(), I.Ones(), I.Constant(1.5), I.Constant([1.0, 2.0]),
               I.RandomNormal(1.0, 2.0, seed=3), I.RandomUniform(-1, 1),
               I.TruncatedNormal(stddev=0.1), I.Orthogonal(gain=0.5, seed=2),
               I.Identity(2.0), I.VarianceScaling(2.0, "fan_avg", "uniform"),
               I.GlorotUniform(seed=1), I.GlorotNormal(), I.HeNormal(),
               I.HeUniform(), I.LecunNormal(), I.LecunUniform()]:
    saved = json.loads(json.dumps(I.serialize(init)))
    back = I.deserialize(saved)
    assert type(back) is type(init)
    assert back.get_config() == init.get_config()
    assert I.get(saved).get_config() == init.get_config()
    assert init.clone().get_config() == init.get_config()


def test_keras_configs_deserialize():
  keras = pytest.importorskip("keras")
  for k_init in [keras.initializers.GlorotUniform(seed=4),
                 keras.initializers.VarianceScaling(2.0, "fan_out", "uniform"),
                 keras.initializers.Constant(0.3),
                 keras.initializers.Orthogonal(gain=2.0),
                 keras.initializers.RandomNormal(stddev=0.2)]:
    cfg = keras.initializers.serialize(k_init)
    ours = I.get(json.loads(json.dumps(cfg)))
    assert type(ours).__name__ == type(k_init).__name__
    assert ours.get_config() == k_init.get_config()


def test_serialize_non_hk_keras_raises():
  with pytest.raises(ValueError, match="only .*Initializer instances"):
    I.serialize(hk.initializers.TruncatedNormal())


def test_custom_initializer_via_custom_objects():
  class Fives(I.Initializer):
    def __call__(self, shape, dtype=None):
      return jnp.full(shape, 5.0)
  cfg = I.serialize(Fives())
  with pytest.raises(ValueError, match="'Fives'"):
    I.deserialize(cfg)
  assert isinstance(I.deserialize(cfg, custom_objects={"Fives": Fives}), Fives)


def test_argument_validation():
  with pytest.raises(ValueError, match="scale=-1"):
    I.VarianceScaling(scale=-1)
  with pytest.raises(ValueError, match="mode"):
    I.VarianceScaling(mode="fan_sum")
  with pytest.raises(ValueError, match="distribution"):
    I.VarianceScaling(distribution="cauchy")
  with pytest.raises(TypeError, match="seed"):
    I.RandomNormal(seed="0")
