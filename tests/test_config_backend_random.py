"""hk_keras.config, hk_keras.backend and hk_keras.random against Keras 3."""
import inspect
import os

import haiku as hk
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import hk_keras
from hk_keras import random as R

# keras.config names hk_keras does not offer, each with its reason (also in
# docs/differences_from_keras.md). Any other missing name fails the sweep.
CONFIG_NOT_PROVIDED = {
    "set_backend": "hk_keras runs on JAX only",
    "is_nnx_enabled": "hk_keras runs on Haiku, not Flax NNX",
    "enable_flash_attention": "attention uses jax.nn.dot_product_attention",
    "disable_flash_attention": "attention uses jax.nn.dot_product_attention",
    "is_flash_attention_enabled": "attention uses jax.nn.dot_product_attention",
    "enable_traceback_filtering": "JAX's own jax_traceback_filtering applies",
    "disable_traceback_filtering": "JAX's own jax_traceback_filtering applies",
    "is_traceback_filtering_enabled": "JAX's own jax_traceback_filtering",
    "max_epochs": "debug caps on fit are not provided",
    "set_max_epochs": "debug caps on fit are not provided",
    "max_steps_per_epoch": "debug caps on fit are not provided",
    "set_max_steps_per_epoch": "debug caps on fit are not provided",
    "enable_interactive_logging": "progress bars always print to stdout",
    "disable_interactive_logging": "progress bars always print to stdout",
    "is_interactive_logging_enabled": "progress bars always print to stdout",
}


@pytest.fixture(autouse=True)
def _restore_settings():
  yield
  hk_keras.config.set_image_data_format("channels_last")
  hk_keras.config.set_floatx("float32")
  hk_keras.config.set_epsilon(1e-7)
  keras.config.set_image_data_format("channels_last")


def _public(module):
  return sorted(n for n in dir(module) if not n.startswith("_"))


def test_backend_exports_every_keras_backend_name():
  missing = [n for n in _public(keras.backend) if not hasattr(hk_keras.backend, n)]
  assert not missing
  assert hk_keras.backend.backend() == keras.backend.backend() == "jax"


def test_config_exports_every_keras_config_name_or_documents_it():
  missing = [n for n in _public(keras.config)
             if n not in CONFIG_NOT_PROVIDED and not hasattr(hk_keras.config, n)]
  assert not missing
  assert all(not hasattr(hk_keras.config, n) for n in CONFIG_NOT_PROVIDED)


def test_settings_round_trip_and_defaults_equal_keras():
  c = hk_keras.config
  for name in ("floatx", "epsilon", "image_data_format", "backend"):
    assert getattr(c, name)() == getattr(keras.config, name)()
  c.set_floatx("float16")
  assert c.floatx() == hk_keras.backend.floatx() == "float16"
  assert hk_keras.layers.Dense(2).dtype_policy.compute_dtype == "float16"
  c.set_epsilon(1e-5)
  assert hk_keras.backend.epsilon() == 1e-5
  with pytest.raises(ValueError, match="floatx"):
    c.set_floatx("int8")
  with pytest.raises(ValueError, match="channels_first"):
    c.set_image_data_format("NCHW")
  with pytest.raises(TypeError, match="float"):
    c.set_epsilon("small")


def test_dtype_helpers_equal_keras():
  dtypes = ["float16", "float32", "bfloat16", "int8", "int32", "int64",
            "uint8", "uint32", "uint64", "bool", "complex64", bool, int, float,
            None, np.float32, jnp.int16]
  b = hk_keras.backend
  for d in dtypes:
    assert b.standardize_dtype(d) == keras.backend.standardize_dtype(d), d
    assert b.is_float_dtype(d) == keras.backend.is_float_dtype(d), d
    assert b.is_int_dtype(d) == keras.backend.is_int_dtype(d), d
  for x in dtypes:
    for y in dtypes:
      for z in (None, int, "float16", "int8", "uint64"):
        assert b.result_type(x, y, z) == keras.backend.result_type(x, y, z), (
            x, y, z)
  assert b.result_type() == keras.backend.result_type()
  with pytest.raises(ValueError, match="Invalid dtype"):
    b.standardize_dtype("float7")


def test_get_uid_clear_session_is_keras_tensor():
  b = hk_keras.backend
  b.clear_session()
  first = hk_keras.layers.Dense(1, name=None)
  assert first.name == "dense"
  assert b.get_uid("dense") == 2
  assert hk_keras.layers.Dense(1).name == "dense_2"
  b.clear_session(free_memory=False)
  assert hk_keras.layers.Dense(1).name == "dense"
  assert b.is_keras_tensor(hk_keras.Input((2,)))
  assert not b.is_keras_tensor(np.zeros(2))


# -- data_format: every layer with the argument follows the config ----------

_REQUIRED = {"filters": 2, "kernel_size": 3, "pool_size": 2, "output_size": 2,
             "factor": 0.5, "height": 4, "width": 4, "rate": 0.5,
             "height_factor": 0.2, "width_factor": 0.2}


_FORMAT_ONLY = {"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "STFTSpectrogram"}


def _data_format_layers():
  out = []
  for name in hk_keras.layers.__all__:
    cls = getattr(hk_keras.layers, name)
    if inspect.isclass(cls) and "data_format" in inspect.signature(
        cls.__init__).parameters:
      out.append(name)
  return out


def _rank(name, cls):
  for r in (1, 2, 3):
    if f"{r}D" in name:
      return r
  return 2


def _required(cls):
  return [p.name for p in inspect.signature(cls.__init__).parameters.values()
          if p.default is inspect.Parameter.empty and p.name != "self"
          and p.kind == p.POSITIONAL_OR_KEYWORD]


def _make(module, name):
  """The layer built with the arguments either library requires."""
  names = set(_required(getattr(hk_keras.layers, name))) | set(
      _required(getattr(keras.layers, name)))
  if name == "RandomPosterization":  # factor is a bit count in [1, 8]
    return getattr(module, name)(factor=4)
  missing = names - set(_REQUIRED)
  assert not missing, f"{name}: add values for {missing} to _REQUIRED"
  return getattr(module, name)(**{n: _REQUIRED[n] for n in names})


@pytest.mark.parametrize("name", _data_format_layers())
def test_data_format_none_follows_image_data_format_and_matches_keras(name):
  assert len(_data_format_layers()) >= 10
  hk_keras.config.set_image_data_format("channels_first")
  keras.config.set_image_data_format("channels_first")
  layer = _make(hk_keras.layers, name)
  assert layer.data_format == "channels_first"
  assert layer.get_config()["data_format"] == "channels_first"
  if name in _FORMAT_ONLY or getattr(type(layer), "_random", False):
    # Random layers draw differently from Keras (their statistics are
    # compared in test_preprocessing_image.py); the others take inputs of
    # another rank (a time axis, audio), compared in their own test files.
    hk_keras.config.set_image_data_format("channels_last")
    assert _make(hk_keras.layers, name).data_format == "channels_last"
    return
  ref = _make(keras.layers, name)
  rank = _rank(name, type(layer))
  x = np.random.default_rng(0).normal(
      size=(2, 3) + (6,) * rank).astype("float32")
  ours = layer(x)
  expected = ref(x)
  if ref.get_weights():
    layer.set_weights(ref.get_weights())
    ours = layer(x)
  np.testing.assert_allclose(np.asarray(ours), np.asarray(expected), atol=1e-5)
  hk_keras.config.set_image_data_format("channels_last")
  assert _make(hk_keras.layers, name).data_format == "channels_last"


def test_batch_normalization_on_channels_first_axis_matches_keras():
  x = np.random.default_rng(1).normal(size=(4, 3, 5, 5)).astype("float32")
  ours = hk_keras.layers.BatchNormalization(axis=1)
  ref = keras.layers.BatchNormalization(axis=1)
  ref(x)
  ours(x)
  ours.set_weights([w + 0.5 for w in ref.get_weights()])
  ref.set_weights([w + 0.5 for w in ref.get_weights()])
  np.testing.assert_allclose(ours(x), ref(x), atol=1e-5)


def test_unsafe_deserialization_switch(tmp_path, monkeypatch):
  from hk_keras.config import _settings
  monkeypatch.setitem(_settings._settings, "safe_mode", True)
  inputs = hk_keras.Input((2,))
  model = hk_keras.Model(inputs, hk_keras.layers.Lambda(lambda t: t * 2)(inputs))
  path = str(tmp_path / "m.keras")
  model.save(path)
  with pytest.raises(Exception, match="lambda"):
    hk_keras.models.load_model(path)
  hk_keras.config.enable_unsafe_deserialization()
  loaded = hk_keras.models.load_model(
      path, custom_objects={model.layers[-1].name: lambda t: t * 2})
  np.testing.assert_allclose(loaded(np.ones((1, 2))), 2.0)


def test_enable_jit_cache_sets_jax_cache_dir(tmp_path, monkeypatch):
  old = jax.config.jax_compilation_cache_dir
  old_time = jax.config.jax_persistent_cache_min_compile_time_secs
  old_size = jax.config.jax_persistent_cache_min_entry_size_bytes
  try:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    path = hk_keras.config.enable_jit_cache()
    assert path == str(tmp_path / "xdg" / "hk_keras" / "jax_cache")
    assert jax.config.jax_compilation_cache_dir == path
    assert os.path.isdir(path)
    other = hk_keras.config.enable_jit_cache(tmp_path / "mine")
    assert jax.config.jax_compilation_cache_dir == other
    with pytest.raises(TypeError, match="folder path"):
      hk_keras.config.enable_jit_cache(3)
  finally:
    jax.config.update("jax_compilation_cache_dir", old)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", old_time)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", old_size)


# -- random ------------------------------------------------------------------

_DRAWS = [("normal", ((3, 4),), {"mean": 1.0, "stddev": 2.0}),
          ("uniform", ((3, 4),), {"minval": -1.0, "maxval": 3.0}),
          ("truncated_normal", ((3, 4),), {"stddev": 0.5}),
          ("randint", ((3, 4), 0, 10), {}),
          ("gamma", ((3, 4), 2.0), {}),
          ("beta", ((3, 4), 2.0, 3.0), {}),
          ("binomial", ((3, 4), 10, 0.3), {})]


def test_random_names_equal_keras():
  assert sorted(R.__all__) == _public(keras.random)


@pytest.mark.parametrize("name,args,kwargs", _DRAWS, ids=[d[0] for d in _DRAWS])
def test_int_seed_and_seed_generator_draw_exactly_what_keras_draws(
    name, args, kwargs):
  ours = getattr(R, name)(*args, seed=7, **kwargs)
  ref = getattr(keras.random, name)(*args, seed=7, **kwargs)
  np.testing.assert_array_equal(ours, ref)
  assert ours.dtype == ref.dtype
  gen, kgen = R.SeedGenerator(3), keras.random.SeedGenerator(3)
  draws = [getattr(R, name)(*args, seed=gen, **kwargs) for _ in range(2)]
  for d in draws:
    np.testing.assert_array_equal(
        d, getattr(keras.random, name)(*args, seed=kgen, **kwargs))
  assert not np.array_equal(draws[0], draws[1])


def test_same_seed_same_numbers_under_jit():
  # gamma/beta/binomial compile slowly; their seeds are handled by the same
  # draw_seed, and their numbers equal Keras's above.
  draws_under_test = _DRAWS[:4]

  def draws(key):
    return ([getattr(R, n)(*a, seed=key, **k) for n, a, k in draws_under_test]
            + [R.normal((3, 4), seed=7)])
  draw = jax.jit(draws)
  first, again = draw(jax.random.key(5)), draw(jax.random.key(5))
  other = draw(jax.random.key(6))
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a, b)
  for a, b in zip(first[:-1], other[:-1]):
    assert not np.array_equal(a, b)
  # XLA may fuse `sample * stddev + mean` differently: equal to the ulp.
  np.testing.assert_allclose(first[-1], R.normal((3, 4), seed=7), rtol=1e-6)


def test_shuffle_dropout_categorical_equal_keras():
  x = np.arange(12.0).reshape(6, 2)
  np.testing.assert_array_equal(R.shuffle(x, axis=0, seed=1),
                                keras.random.shuffle(x, axis=0, seed=1))
  ones = np.ones((5, 8), np.float32)
  for noise_shape in (None, (5, 1), (None, 1)):
    np.testing.assert_array_equal(
        R.dropout(ones, 0.4, noise_shape=noise_shape, seed=2),
        keras.random.dropout(ones, 0.4, noise_shape=noise_shape, seed=2))
  logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], np.float32))
  np.testing.assert_array_equal(R.categorical(logits, 6, seed=3),
                                keras.random.categorical(logits, 6, seed=3))


def test_statistics_dtypes_and_ranges():
  n = (5000,)
  u = R.uniform(n, 2.0, 5.0, seed=1)
  assert 2.0 <= float(u.min()) and float(u.max()) < 5.0
  np.testing.assert_allclose(u.mean(), 3.5, atol=0.1)
  g = R.normal(n, 1.0, 2.0, seed=2, dtype="bfloat16")
  assert g.dtype == jnp.bfloat16
  np.testing.assert_allclose(np.float32(g).var(), 4.0, rtol=0.1)
  t = R.truncated_normal(n, seed=3)
  assert float(jnp.abs(t).max()) <= 2.0
  r = R.randint(n, -3, 4, seed=4, dtype="int16")
  assert r.dtype == jnp.int16 and set(np.unique(r)) == set(range(-3, 4))


def test_bad_seeds_and_arguments_raise_clear_errors():
  with pytest.raises(ValueError, match="seed"):
    R.normal((2,), seed="abc")
  with pytest.raises(ValueError, match="integer"):
    R.SeedGenerator(seed=1.5)
  with pytest.raises(ValueError, match="randint"):
    R.uniform((2,), dtype="int32")
  with pytest.raises(ValueError, match="logits"):
    R.categorical(np.zeros(3), 2)
  with pytest.raises(ValueError, match="jax.jit"):
    jax.jit(lambda: R.normal((2,)))()


def test_unseeded_draw_follows_set_random_seed():
  hk_keras.utils.set_random_seed(3)
  a = R.normal((3,))
  hk_keras.utils.set_random_seed(3)
  np.testing.assert_array_equal(R.normal((3,)), a)
  assert not np.array_equal(R.normal((3,)), a)


def test_seed_generator_inside_a_transform_draws_from_haiku_rng():
  gen = R.SeedGenerator(11)
  f = hk.transform(lambda: (R.normal((3,), seed=gen), R.uniform((2,))))
  a = f.apply({}, jax.random.PRNGKey(0))
  b = f.apply({}, jax.random.PRNGKey(0))
  c = jax.jit(f.apply)({}, jax.random.PRNGKey(1))
  jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)
  assert not np.array_equal(a[0], c[0])
  np.testing.assert_array_equal(gen.state, [11, 0])  # own state untouched
  with pytest.raises(ValueError, match="rng"):
    f.apply({}, None)


@hk_keras.saving.register_keras_serializable(package="TestRandom")
class NoisyDense(hk_keras.layers.Layer):
  """Dense plus training-time noise from the layer's own SeedGenerator."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.seed_generator = R.SeedGenerator(1337)
    self.dense = hk_keras.layers.Dense(1)

  def call(self, inputs, training=False):
    if training:
      inputs = inputs + R.normal(jnp.shape(inputs), stddev=0.5,
                                 seed=self.seed_generator)
    return self.dense(inputs)


def _noisy_model():
  inputs = hk_keras.Input((3,))
  model = hk_keras.Model(inputs, NoisyDense()(inputs))
  model.compile(optimizer="sgd", loss="mse")
  return model


def test_layer_seed_generator_fresh_each_step_reproducible_and_resumes(
    tmp_path):
  x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
  y = x.sum(-1, keepdims=True)
  hk_keras.utils.set_random_seed(0)
  a = _noisy_model()
  a.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
  hk_keras.utils.set_random_seed(0)
  b = _noisy_model()
  b.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
  path = str(tmp_path / "noisy.keras")
  b.save(path)
  c = hk_keras.models.load_model(path)
  c.fit(x, y, batch_size=8, epochs=2, initial_epoch=1, verbose=0,
        shuffle=False)
  for wa, wc in zip(a.get_weights(), c.get_weights()):
    np.testing.assert_array_equal(wa, wc)
  # Fresh noise each step: two training-mode calls differ.
  out1 = a(x, training=True)
  out2 = a(x, training=True)
  assert not np.allclose(out1, out2)
  np.testing.assert_array_equal(a(x), a(x))


def test_set_epsilon_reaches_the_losses_as_in_keras():
  y_true = np.array([[0.0, 1.0]], np.float32)
  y_pred = np.array([[0.5, 0.0]], np.float32)
  for eps in (1e-7, 1e-3):
    hk_keras.config.set_epsilon(eps)
    keras.config.set_epsilon(eps)
    for name in ("categorical_crossentropy", "binary_crossentropy",
                 "kl_divergence", "poisson", "mean_absolute_percentage_error",
                 "mean_squared_logarithmic_error"):
      ours = hk_keras.losses.get(name)(y_true, y_pred)
      ref = keras.losses.get(name)(y_true, y_pred)
      np.testing.assert_allclose(ours, ref, rtol=1e-5, err_msg=name)
  keras.config.set_epsilon(1e-7)
