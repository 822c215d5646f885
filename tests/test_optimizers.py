"""Tests for hk_keras.optimizers: Keras 3 parity, optax use, lr helpers."""
import json
import os
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hk_keras import optimizers as O


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  """Strict numerics for this module's tests only (a global config update
  would leak into every other test file of the session)."""
  with jax.numpy_rank_promotion("raise"):
    yield


_RNG = np.random.default_rng(0)
_PARAMS = {"kernel": _RNG.normal(size=(3, 4)).astype(np.float32),
           "bias": _RNG.normal(size=(4,)).astype(np.float32)}
_GRADS = [
    {k: (_RNG.normal(size=v.shape) * scale).astype(np.float32)
     for k, v in _PARAMS.items()}
    for scale in (1.0, 0.1, 3.0, 0.5, 2.0, 1.0)
]


def _run_ours(opt, steps=len(_GRADS), jit=True):
  params = jax.tree.map(jnp.asarray, _PARAMS)
  state = opt.init(params)
  update = jax.jit(opt.update) if jit else opt.update
  for grads in _GRADS[:steps]:
    updates, state = update(grads, state, params)
    params = optax.apply_updates(params, updates)
  return params, state


def _run_keras(keras_opt, steps=len(_GRADS)):
  keras = pytest.importorskip("keras")
  variables = [keras.Variable(_PARAMS["kernel"]),
               keras.Variable(_PARAMS["bias"])]
  for grads in _GRADS[:steps]:
    keras_opt.apply([jnp.asarray(grads["kernel"]),
                     jnp.asarray(grads["bias"])], variables)
  return {"kernel": np.asarray(variables[0]), "bias": np.asarray(variables[1])}


_PARITY_CASES = [
    ("SGD", {}),
    ("SGD", {"momentum": 0.9}),
    ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"amsgrad": True, "beta_1": 0.8, "epsilon": 1e-3}),
    ("AdamW", {}),
    ("AdamW", {"weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"momentum": 0.5, "centered": True, "rho": 0.8}),
    ("Adagrad", {}),
    ("Adagrad", {"initial_accumulator_value": 0.5}),
    ("Adamax", {}),
    ("Nadam", {}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Lion", {}),
    ("Adam", {"clipnorm": 0.5}),
    ("Adam", {"clipvalue": 0.1}),
    ("Adam", {"global_clipnorm": 1.0}),
    ("SGD", {"momentum": 0.9, "weight_decay": 0.1}),
    ("RMSprop", {"weight_decay": 0.05, "clipnorm": 1.0}),
    ("Adam", {"loss_scale_factor": 8.0}),
]


@pytest.mark.parametrize("name,kwargs", _PARITY_CASES)
def test_matches_keras_over_several_steps(name, kwargs):
  keras = pytest.importorskip("keras")
  kwargs = {"learning_rate": 0.1, **kwargs}
  expected = _run_keras(getattr(keras.optimizers, name)(**kwargs))
  got, _ = _run_ours(getattr(O, name)(**kwargs))
  chex.assert_trees_all_close(got, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", sorted(O.OPTIMIZERS))
def test_string_names_match_keras_defaults(name):
  keras = pytest.importorskip("keras")
  theirs = keras.optimizers.get(name).get_config()
  ours = O.get(name).get_config()
  for key, value in ours.items():
    if key == "name":  # both number repeated names (adam_1, ...)
      base = lambda n: re.sub(r"_\d+$", "", n)
      assert base(theirs[key]) == base(value), (theirs[key], value)
    elif value is not None and not isinstance(value, bool):
      # Keras stores the learning rate in a float32 variable.
      np.testing.assert_allclose(theirs[key], value, rtol=1e-7,
                                 err_msg=f"{name}.{key}")
    else:
      assert theirs[key] == value, (name, key)
  expected = _run_keras(keras.optimizers.get(name))
  got, _ = _run_ours(O.get(name))
  chex.assert_trees_all_close(got, expected, atol=1e-6, rtol=0)


def test_schedule_matches_keras_schedule():
  keras = pytest.importorskip("keras")
  k_sched = keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
  o_sched = optax.exponential_decay(0.1, 2, 0.5)
  for name, kw in [("SGD", {"momentum": 0.9}), ("Adam", {}),
                   ("RMSprop", {"momentum": 0.3}), ("AdamW", {})]:
    expected = _run_keras(getattr(keras.optimizers, name)(
        learning_rate=k_sched, **kw))
    got, state = _run_ours(getattr(O, name)(learning_rate=o_sched, **kw))
    chex.assert_trees_all_close(got, expected, atol=1e-6, rtol=0)
    # The last update used the schedule at step 5.
    np.testing.assert_allclose(float(O.get_learning_rate(state)),
                               0.1 * 0.5 ** 2.5, rtol=1e-6)


class OptaxInteropTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_build_is_a_gradient_transformation(self):
    opt = O.Adam(learning_rate=0.05)
    tx = opt.build()
    assert isinstance(tx, optax.GradientTransformation)
    assert opt.build() is tx  # Cached.
    params = {"w": jnp.ones((2, 2))}
    update = self.variant(tx.update)
    updates, _ = update({"w": jnp.ones((2, 2))}, tx.init(params), params)
    chex.assert_trees_all_close(updates, {"w": -0.05 * jnp.ones((2, 2))},
                                atol=1e-6)

  def test_usable_inside_optax_chain(self):
    tx = optax.chain(optax.identity(), O.SGD(learning_rate=0.5))
    params = {"w": jnp.ones(2)}
    updates, _ = tx.update({"w": jnp.ones(2)}, tx.init(params), params)
    chex.assert_trees_all_close(updates["w"], -0.5 * jnp.ones(2))

  def test_attribute_change_rebuilds(self):
    opt = O.SGD(learning_rate=0.5)
    tx = opt.build()
    opt.learning_rate = 0.25
    assert opt.build() is not tx
    assert opt.get_config()["learning_rate"] == 0.25

  def test_state_is_jit_stable(self):
    opt = O.Adam()
    params = {"w": jnp.ones(3)}
    state = opt.init(params)

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(state, params, grads):
      updates, state = opt.update(grads, state, params)
      return state, optax.apply_updates(params, updates)

    for lr in (0.1, 0.01, 0.5):
      state = O.set_learning_rate(state, lr)
      state, params = step(state, params, {"w": jnp.ones(3)})
    chex.assert_trees_all_equal_shapes_and_dtypes(state, opt.init(params))


def test_gradient_accumulation_applies_every_k_steps():
  opt = O.SGD(learning_rate=1.0, gradient_accumulation_steps=2)
  params = {"w": jnp.zeros(1)}
  state = opt.init(params)
  u1, state = opt.update({"w": jnp.array([1.0])}, state, params)
  chex.assert_trees_all_close(u1["w"], jnp.zeros(1))
  u2, state = opt.update({"w": jnp.array([3.0])}, state, params)
  chex.assert_trees_all_close(u2["w"], jnp.array([-2.0]))
  assert float(O.get_learning_rate(state)) == 1.0


def test_learning_rate_helpers():
  opt = O.RMSprop(learning_rate=0.1)
  params = {"w": jnp.ones(2)}
  state = opt.init(params)
  np.testing.assert_allclose(float(O.get_learning_rate(state)), 0.1,
                             rtol=1e-7)
  state2 = O.set_learning_rate(state, 0.0)
  assert float(O.get_learning_rate(state2)) == 0.0
  assert float(O.get_learning_rate(state)) == np.float32(0.1)  # Unchanged.
  updates, state2 = opt.update({"w": jnp.ones(2)}, state2, params)
  chex.assert_trees_all_close(updates["w"], jnp.zeros(2))
  # Under jit, with a traced value.
  state3 = jax.jit(O.set_learning_rate)(state, jnp.float32(0.3))
  np.testing.assert_allclose(float(O.get_learning_rate(state3)), 0.3)


def test_learning_rate_helpers_on_raw_optax_inject():
  tx = optax.chain(optax.clip(1.0),
                   optax.inject_hyperparams(optax.sgd)(learning_rate=0.2))
  state = tx.init({"w": jnp.ones(1)})
  np.testing.assert_allclose(float(O.get_learning_rate(state)), 0.2)
  state = O.set_learning_rate(state, 0.7)
  np.testing.assert_allclose(float(O.get_learning_rate(state)), 0.7)


def test_learning_rate_helper_errors():
  plain = optax.adam(1e-3).init({"w": jnp.ones(1)})
  with pytest.raises(ValueError, match="inject_hyperparams"):
    O.get_learning_rate(plain)
  with pytest.raises(ValueError, match="inject_hyperparams"):
    O.set_learning_rate(plain, 0.1)
  scheduled = O.Adam(learning_rate=optax.constant_schedule(0.1)).init(
      {"w": jnp.ones(1)})
  with pytest.raises(TypeError, match="schedule"):
    O.set_learning_rate(scheduled, 0.1)
  state = O.Adam().init({"w": jnp.ones(1)})
  with pytest.raises(ValueError, match="scalar"):
    O.set_learning_rate(state, jnp.ones(2))


def test_get():
  assert isinstance(O.get("adam"), O.Adam)
  assert isinstance(O.get("Adam"), O.Adam)
  assert isinstance(O.get("RMSprop"), O.RMSprop)
  assert isinstance(O.get("sgd"), O.SGD)
  assert O.get("sgd").learning_rate == 0.01
  assert O.get("adamw").weight_decay == 0.004
  opt = O.Nadam()
  assert O.get(opt) is opt
  tx = optax.adam(1e-3)
  assert O.get(tx) is tx
  assert O.get(None) is None
  assert isinstance(O.get(O.serialize(O.Lion())), O.Lion)
  assert isinstance(O.as_gradient_transformation("adam"),
                    optax.GradientTransformation)
  assert O.as_gradient_transformation(tx) is tx


def test_get_unknown_name_lists_valid_names():
  with pytest.raises(ValueError) as err:
    O.get("adamm")
  msg = str(err.value)
  assert "'adamm'" in msg
  for name in ["'adam'", "'sgd'", "'rmsprop'", "'adamw'", "'adagrad'",
               "'adamax'", "'nadam'", "'adadelta'", "'lion'"]:
    assert name in msg


def test_get_wrong_type():
  with pytest.raises(TypeError, match="optax.GradientTransformation.*"
                     "Received: identifier=3 of type int"):
    O.get(3)
  keras = pytest.importorskip("keras")
  with pytest.raises(TypeError, match="Keras optimizer objects"):
    O.get(keras.optimizers.Adam())


@pytest.mark.parametrize("name", sorted(O.OPTIMIZERS))
def test_serialize_roundtrip_json(name):
  opt = O.get(name)
  saved = json.loads(json.dumps(O.serialize(opt)))
  back = O.deserialize(saved)
  assert type(back) is type(opt)
  assert back.get_config() == opt.get_config()


def test_serialize_custom_args_and_keras_configs():
  opt = O.Adam(learning_rate=0.02, beta_1=0.8, clipnorm=1.0, name="my_adam")
  back = O.deserialize(json.loads(json.dumps(O.serialize(opt))))
  assert back.get_config() == opt.get_config()
  keras = pytest.importorskip("keras")
  k_cfg = keras.optimizers.serialize(
      keras.optimizers.RMSprop(learning_rate=0.02, momentum=0.3))
  ours = O.deserialize(json.loads(json.dumps(k_cfg)))
  assert isinstance(ours, O.RMSprop)
  assert ours.momentum == 0.3
  np.testing.assert_allclose(ours.learning_rate, 0.02)


def test_serialize_raw_optax_raises():
  with pytest.raises(ValueError, match="closures.*cannot be serialized"):
    O.serialize(optax.adam(1e-3))
  with pytest.raises(ValueError, match="has no config"):
    O.serialize(O.Adam(learning_rate=optax.constant_schedule(0.1)))


def test_argument_validation():
  with pytest.raises(ValueError, match="Only one of `clipnorm`"):
    O.Adam(clipnorm=1.0, clipvalue=1.0)
  with pytest.raises(ValueError, match="momentum"):
    O.SGD(momentum=1.5)
  with pytest.raises(ValueError, match="weight_decay=None"):
    O.AdamW(weight_decay=None)
  with pytest.raises(ValueError, match="use_ema"):
    O.Adam(use_ema=True)
  with pytest.raises(ValueError, match="learning_rate='fast'"):
    O.Adam(learning_rate="fast")
  with pytest.raises(ValueError, match="gradient_accumulation_steps"):
    O.SGD(gradient_accumulation_steps=1)
  with pytest.raises(ValueError, match="beta_1"):
    O.Lion(beta_1=0.0)


def test_weight_decay_needs_params():
  opt = O.AdamW()
  params = {"w": jnp.ones(1)}
  state = opt.init(params)
  with pytest.raises(ValueError, match="needs the current parameters"):
    opt.update({"w": jnp.ones(1)}, state)


# Learning-rate schedules ---------------------------------------------------

_S = O.schedules


def _schedule_pairs(keras):
  k = keras.optimizers.schedules
  return [
      (_S.ExponentialDecay(0.1, 3, 0.7), k.ExponentialDecay(0.1, 3, 0.7)),
      (_S.ExponentialDecay(0.1, 3, 0.7, staircase=True),
       k.ExponentialDecay(0.1, 3, 0.7, staircase=True)),
      (_S.InverseTimeDecay(0.1, 2, 0.5), k.InverseTimeDecay(0.1, 2, 0.5)),
      (_S.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
       k.InverseTimeDecay(0.1, 2, 0.5, staircase=True)),
      (_S.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1]),
       k.PiecewiseConstantDecay([3, 7], [1.0, 0.5, 0.1])),
      (_S.PolynomialDecay(0.1, 5, 0.01, power=2.0),
       k.PolynomialDecay(0.1, 5, 0.01, power=2.0)),
      (_S.PolynomialDecay(0.1, 5, 0.01, power=0.5, cycle=True),
       k.PolynomialDecay(0.1, 5, 0.01, power=0.5, cycle=True)),
      (_S.CosineDecay(0.1, 6, alpha=0.1), k.CosineDecay(0.1, 6, alpha=0.1)),
      (_S.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.2, warmup_steps=4),
       k.CosineDecay(0.0, 6, alpha=0.1, warmup_target=0.2, warmup_steps=4)),
  ]


def test_schedules_match_keras_and_roundtrip():
  keras = pytest.importorskip("keras")
  steps = jnp.arange(15)
  for ours, theirs in _schedule_pairs(keras):
    expected = np.array([float(theirs(int(s))) for s in steps])
    got = jax.vmap(jax.jit(ours))(steps)
    np.testing.assert_allclose(got, expected, atol=1e-8, rtol=1e-6,
                               err_msg=type(ours).__name__)
    assert ours.get_config() == theirs.get_config()
    keras_saved = json.loads(json.dumps(
        keras.optimizers.schedules.serialize(theirs)))
    assert _S.deserialize(keras_saved).get_config() == ours.get_config()
    ours_saved = json.loads(json.dumps(_S.serialize(ours)))
    assert _S.deserialize(ours_saved).get_config() == ours.get_config()


def test_optimizer_with_schedule_matches_keras_and_serializes():
  keras = pytest.importorskip("keras")
  kw = {"momentum": 0.9}
  expected = _run_keras(keras.optimizers.SGD(
      learning_rate=keras.optimizers.schedules.CosineDecay(0.1, 4), **kw))
  opt = O.SGD(learning_rate=_S.CosineDecay(0.1, 4), **kw)
  got, _ = _run_ours(opt)
  chex.assert_trees_all_close(got, expected, atol=1e-6, rtol=0)
  back = O.deserialize(json.loads(json.dumps(O.serialize(opt))))
  assert isinstance(back.learning_rate, _S.CosineDecay)
  assert back.get_config() == opt.get_config()
  k_cfg = keras.optimizers.serialize(keras.optimizers.Adam(
      learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 5, 0.5)))
  ours = O.deserialize(json.loads(json.dumps(k_cfg)))
  assert isinstance(ours.learning_rate, _S.ExponentialDecay)


def test_schedule_errors():
  with pytest.raises(ValueError, match="decay_steps=0"):
    _S.CosineDecay(0.1, 0)
  with pytest.raises(ValueError, match="1 less than"):
    _S.PiecewiseConstantDecay([1, 2], [1.0])
  with pytest.raises(ValueError, match="Unknown learning-rate schedule"):
    _S.deserialize({"class_name": "Nope", "config": {}})
  with pytest.raises(ValueError, match="closures"):
    _S.serialize(optax.constant_schedule(0.1))


def test_adam_state_can_be_donated_in_a_hand_written_loop():
  """Each slot has its own buffer, so `donate_argnums` works on the state."""
  import jax
  import jax.numpy as jnp
  import optax
  from hk_keras import optimizers
  tx = optimizers.Adam(learning_rate=0.1).build()
  params = {"w": jnp.ones(3)}
  opt_state = tx.init(params)

  @jax.jit
  def update(params, opt_state):
    grads = {"w": jnp.ones(3)}
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  update = jax.jit(update, donate_argnums=(0, 1))
  for _ in range(2):
    params, opt_state = update(params, opt_state)
  assert float(params["w"][0]) < 1.0
