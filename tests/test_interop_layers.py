"""JaxLayer, FlaxLayer (Linen, NNX) and EquinoxLayer: parity, training, saving.

Parity: Keras 3's JaxLayer/FlaxLayer on the same function and params, and
the original Flax/Equinox module called directly. Training: `fit` changes
exactly the wrapped params and matches a hand-written optax loop.
"""
import equinox as eqx
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
import keras
import numpy as np
import optax
import pytest
from flax import nnx

import hk_keras
from hk_keras import layers

ATOL = 1e-6
RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 3)).astype("float32")
Y = RNG.normal(size=(8, 2)).astype("float32")


def _max_diff(a, b):
  a, b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
  assert len(a) == len(b)
  return max(float(np.max(np.abs(np.asarray(p) - np.asarray(q))))
             for p, q in zip(a, b))


def _mse(model):
  """The inference loss on (X, Y), through the already compiled apply."""
  return float(np.mean((np.asarray(model(X)) - Y) ** 2))


def _model(layer, shape=(3,)):
  inputs = hk_keras.Input(shape)
  return hk_keras.Model(inputs, layer(inputs))


class LinenMLP(nn.Module):
  dropout: float = 0.5

  @nn.compact
  def __call__(self, x, training):
    x = nn.Dense(8)(x)
    x = nn.BatchNorm(use_running_average=not training)(x)
    x = nn.relu(x)
    x = nn.Dropout(self.dropout, deterministic=not training)(x)
    return nn.Dense(2)(x)


class NNXMLP(nnx.Module):

  def __init__(self, rngs):
    self.linear = nnx.Linear(3, 8, rngs=rngs)
    self.bn = nnx.BatchNorm(8, rngs=rngs)
    self.dropout = nnx.Dropout(0.5, rngs=rngs)
    self.out = nnx.Linear(8, 2, rngs=rngs)

  def __call__(self, x):
    return self.out(self.dropout(nnx.relu(self.bn(self.linear(x)))))


def _linen_variables(module=None):
  module = module or LinenMLP()
  return module, module.init({"params": jax.random.PRNGKey(1),
                              "dropout": jax.random.PRNGKey(2)}, X, False)


def _eqx_mlp():
  return eqx.nn.MLP(3, 2, width_size=8, depth=2, key=jax.random.PRNGKey(0))


# -- JaxLayer ---------------------------------------------------------------------

def _dense_call(params, state, inputs, training):
  y = inputs @ params["dense"]["w"] + params["dense"]["b"]
  return y, {"calls": state["calls"] + jnp.where(training, 1.0, 0.0)}


def _dense_params():
  return ({"dense": {"w": RNG.normal(size=(3, 2)).astype("float32"),
                     "b": np.ones(2, "float32")}},
          {"calls": np.zeros((), "float32")})


def test_jax_layer_matches_keras_and_names_weights_by_path():
  params, state = _dense_params()
  ours = layers.JaxLayer(_dense_call, params=params, state=state,
                         name="fn")
  model = _model(ours)
  theirs = keras.layers.JaxLayer(_dense_call, params=params, state=state)
  assert _max_diff(model(X), theirs(X)) < ATOL
  assert set(model.params["fn"]) == {"dense.w", "dense.b"}
  assert set(model.state["fn"]) == {"calls"}
  # Keras weight order: params then state, each in tree order.
  assert [w.shape for w in ours.get_weights()] == [
      tuple(w.shape) for w in theirs.get_weights()]
  assert _max_diff(ours.get_weights(), theirs.get_weights()) == 0
  model.compile("sgd", "mse")
  model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
  assert float(ours.state["calls"]) == 2.0  # updated in training only
  model.predict(X, verbose=0)
  assert float(ours.state["calls"]) == 2.0


def test_jax_layer_init_fn_with_haiku_inside():
  transformed = hk.transform(lambda x: hk.nets.MLP([4, 2])(x))

  def init_fn(rng, inputs):
    return transformed.init(rng, inputs)

  def call_fn(params, inputs):
    return transformed.apply(params, None, inputs)

  layer = layers.JaxLayer(call_fn, init_fn=init_fn, name="hk_mlp")
  model = _model(layer)
  assert sorted(model.params["hk_mlp"]) == [
      "mlp.~.linear_0.b", "mlp.~.linear_0.w", "mlp.~.linear_1.b",
      "mlp.~.linear_1.w"]
  assert list(model.params) == ["hk_mlp"]  # no stray inner-transform params
  expected = transformed.apply(layer.params, None, X)
  assert _max_diff(model(X), expected) < ATOL


def test_jax_layer_rejects_bad_signatures():
  with pytest.raises(ValueError, match="Unsupported argument"):
    layers.JaxLayer(lambda params, inputs, x: x, params={})
  with pytest.raises(ValueError, match="`inputs`"):
    layers.JaxLayer(lambda params: params, params={})
  with pytest.raises(ValueError, match="init_fn"):
    layers.JaxLayer(lambda params, inputs: inputs)
  with pytest.raises(TypeError, match="callable"):
    layers.JaxLayer("not a function")


def test_jax_layer_save_load_round_trip(tmp_path):
  params, state = _dense_params()
  model = _model(layers.JaxLayer(_dense_call, params=params, state=state,
                                 name="fn"))
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(
      path, custom_objects={"_dense_call": _dense_call})
  assert _max_diff(loaded(X), model(X)) == 0
  with pytest.raises(ValueError, match="_dense_call"):
    hk_keras.saving.load_model(path)


# -- FlaxLayer: Linen ---------------------------------------------------------------

@pytest.fixture(scope="module")
def linen_model():
  module, variables = _linen_variables()
  layer = layers.FlaxLayer(module, variables=variables, name="linen")
  return module, variables, layer, _model(layer)


def test_linen_matches_module_and_keras(linen_model):
  module, variables, layer, model = linen_model
  expected = module.apply(variables, X, False)
  assert _max_diff(model(X), expected) < ATOL
  theirs = keras.layers.FlaxLayer(module, variables=variables)
  assert _max_diff(model(X), theirs(X)) < ATOL
  assert set(model.params["linen"]) == {
      "params.Dense_0.kernel", "params.Dense_0.bias", "params.Dense_1.kernel",
      "params.Dense_1.bias", "params.BatchNorm_0.scale",
      "params.BatchNorm_0.bias"}
  assert set(model.state["linen"]) == {"batch_stats.BatchNorm_0.mean",
                                       "batch_stats.BatchNorm_0.var"}
  assert layer.params["params"]["Dense_0"]["kernel"].shape == (3, 8)


def test_linen_training_uses_dropout_keys_and_batch_stats():
  module, variables = _linen_variables()
  model = _model(layers.FlaxLayer(module, variables=variables))
  model.compile("adam", "mse")
  before_params, before_state = model.params, model.state
  loss_before = _mse(model)
  model.fit(X, Y, batch_size=8, epochs=5, verbose=0)
  assert _mse(model) < loss_before
  changed = jax.tree_util.tree_map(lambda a, b: bool(np.any(a != b)),
                                   before_params, model.params)
  assert all(jax.tree_util.tree_leaves(changed))
  assert _max_diff(before_state, model.state) > 0  # moving statistics
  # Two training calls draw different dropout masks from the step RNG.
  a = model(X, training=True)
  b = model(X, training=True)
  assert _max_diff(a, b) > 0
  # Inference is deterministic and equals the module with the new values.
  layer = model.layers[-1]
  assert _max_diff(model(X), module.apply(
      {**layer.params, **layer.state}, X, False)) < ATOL


def test_linen_training_step_matches_keras_flax_layer():
  """Without dropout, a training call (batch statistics, state update)
  equals Keras 3's FlaxLayer on the same variables."""
  module, variables = _linen_variables(LinenMLP(dropout=0.0))
  ours = layers.FlaxLayer(module, variables=variables, name="bn_mlp")
  model = _model(ours)
  theirs = keras.layers.FlaxLayer(module, variables=variables)
  theirs(X)  # build
  out_ours = model(X, training=True)
  out_theirs = theirs(X, training=True)
  assert _max_diff(out_ours, out_theirs) < ATOL
  new_mean = ours.state["batch_stats"]["BatchNorm_0"]["mean"]
  keras_mean = theirs.state["batch_stats"]["BatchNorm_0"]["mean"].value
  assert _max_diff(new_mean, keras_mean) < ATOL
  assert _max_diff(new_mean, variables["batch_stats"]["BatchNorm_0"][
      "mean"]) > 0


def test_frozen_flax_layer_does_not_change():
  module, variables = _linen_variables(LinenMLP(dropout=0.0))
  wrapped = layers.FlaxLayer(module, variables=variables, name="frozen")
  inputs = hk_keras.Input((3,))
  outputs = layers.Dense(2, name="head")(wrapped(inputs))
  model = hk_keras.Model(inputs, outputs)
  wrapped.trainable = False
  model.compile("adam", "mse")
  before = model.params
  model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
  after = model.params
  assert _max_diff(before["frozen"], after["frozen"]) == 0
  assert _max_diff(before["head"], after["head"]) > 0


def test_linen_save_load_round_trip(tmp_path, linen_model):
  module, _, layer, model = linen_model
  path = str(tmp_path / "linen.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(path,
                                      custom_objects={layer.name: LinenMLP})
  assert _max_diff(loaded(X), model(X)) == 0
  with pytest.raises(ValueError, match="LinenMLP"):
    hk_keras.saving.load_model(path)
  del module


def test_linen_matches_hand_written_optax_loop():
  """A Linen module in a model trains to the weights of plain optax."""
  module = nn.Dense(2)
  variables = module.init(jax.random.PRNGKey(0), X)
  model = _model(layers.FlaxLayer(module, variables=variables, name="d"))
  model.compile(hk_keras.optimizers.SGD(0.1), "mse")
  model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)

  tx = optax.sgd(0.1)
  params = variables["params"]
  opt_state = tx.init(params)
  loss = lambda p, x, y: jnp.mean((module.apply({"params": p}, x) - y) ** 2)
  for _ in range(2):
    for i in range(0, 8, 4):
      grads = jax.grad(loss)(params, X[i:i + 4], Y[i:i + 4])
      updates, opt_state = tx.update(grads, opt_state, params)
      params = optax.apply_updates(params, updates)
  assert _max_diff(model.layers[-1].params["params"], params) < 1e-6


# -- FlaxLayer: NNX -----------------------------------------------------------------

def test_nnx_matches_module_trains_and_round_trips(tmp_path):
  module = NNXMLP(nnx.Rngs(0))
  layer = layers.FlaxLayer(module, name="nnx_mlp")
  model = _model(layer)
  assert set(model.params["nnx_mlp"]) == {
      "linear.kernel", "linear.bias", "bn.scale", "bn.bias", "out.kernel",
      "out.bias"}
  assert set(model.state["nnx_mlp"]) == {"bn.mean", "bn.var"}
  module.eval()
  assert _max_diff(model(X), module(X)) < ATOL
  assert _max_diff(model(X, training=True), model(X, training=True)) > 0
  model.compile("adam", "mse")
  before, before_state = model.params, model.state
  loss_before = _mse(model)
  model.fit(X, Y, batch_size=8, epochs=5, verbose=0)
  assert _mse(model) < loss_before
  assert _max_diff(before, model.params) > 0
  assert _max_diff(before_state, model.state) > 0
  path = str(tmp_path / "nnx.keras")
  model.save(path)
  factory = lambda: NNXMLP(nnx.Rngs(5))  # different initial values
  loaded = hk_keras.saving.load_model(path, custom_objects={
      "nnx_mlp": factory})
  assert _max_diff(loaded(X), model(X)) == 0


def test_flax_layer_rejects_other_objects():
  with pytest.raises(TypeError, match="flax.linen.Module or a flax.nnx"):
    layers.FlaxLayer(lambda x: x)
  with pytest.raises(ValueError, match="Linen modules only"):
    layers.FlaxLayer(NNXMLP(nnx.Rngs(0)), variables={})


# -- EquinoxLayer ---------------------------------------------------------------------

class EqxBN(eqx.Module):
  linear: eqx.nn.Linear
  norm: eqx.nn.BatchNorm
  dropout: eqx.nn.Dropout

  def __init__(self, key):
    self.linear = eqx.nn.Linear(3, 2, key=key)
    self.norm = eqx.nn.BatchNorm(2, axis_name="batch", mode="batch")
    self.dropout = eqx.nn.Dropout(0.5)

  def __call__(self, x, state, *, key=None):
    y, state = self.norm(self.linear(x), state)
    return self.dropout(y, key=key), state


def test_equinox_mlp_matches_module_and_optax_loop(tmp_path):
  mlp = _eqx_mlp()
  layer = layers.EquinoxLayer(mlp, name="eqx_mlp")
  model = _model(layer)
  assert set(model.params["eqx_mlp"]) == {
      f"layers.{i}.{w}" for i in range(3) for w in ("weight", "bias")}
  assert _max_diff(model(X), jax.vmap(mlp)(X)) < ATOL
  model.compile(hk_keras.optimizers.SGD(0.1), "mse")
  model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)

  params, static = eqx.partition(mlp, eqx.is_inexact_array)
  tx = optax.sgd(0.1)
  opt_state = tx.init(params)

  def loss(p, x, y):
    return jnp.mean((jax.vmap(eqx.combine(p, static))(x) - y) ** 2)

  for _ in range(2):
    for i in range(0, 8, 4):
      grads = jax.grad(loss)(params, X[i:i + 4], Y[i:i + 4])
      updates, opt_state = tx.update(grads, opt_state, params)
      params = optax.apply_updates(params, updates)
  assert _max_diff(layer.params, params) < 1e-6
  path = str(tmp_path / "eqx.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(path, custom_objects={
      "eqx_mlp": _eqx_mlp})
  assert _max_diff(loaded(X), model(X)) == 0


def test_equinox_state_and_key_plumbing():
  module, state = eqx.nn.make_with_state(EqxBN)(jax.random.PRNGKey(0))
  layer = layers.EquinoxLayer(module, state=state, name="eqx_bn")
  model = _model(layer)
  assert len(model.state["eqx_bn"]) == len(jax.tree_util.tree_leaves(state))
  inference = eqx.nn.inference_mode(module)
  expected, _ = jax.vmap(inference, axis_name="batch", in_axes=(0, None),
                         out_axes=(0, None))(X, state)
  assert _max_diff(model(X), expected) < ATOL
  assert _max_diff(model(X, training=True), model(X, training=True)) > 0
  model.compile("adam", "mse")
  before = model.state
  model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
  assert _max_diff(before, model.state) > 0  # running statistics updated
  with pytest.raises(TypeError, match="equinox.Module"):
    layers.EquinoxLayer(lambda x: x)


def test_missing_extra_is_named():
  from hk_keras._core._optional import import_optional  # pylint: disable=g-import-not-at-top
  with pytest.raises(ImportError, match=r"pip install hk_keras\[flax\]"):
    import_optional("hk_keras_no_such_module", "flax", "flax", "FlaxLayer")
