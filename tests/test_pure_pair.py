"""The pure transform pair: model.init / model.apply / model.transformed under
jit, grad and vmap, as research code uses them."""
import chex
import haiku as hk
import jax
import jax.numpy as jnp
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


def _linear_model():
  return hk_keras.Sequential([hk_keras.Input((3,)),
                              layers.Dense(2, name="lin")])


def test_transformed_is_a_haiku_transformed_with_state():
  model = _linear_model()
  assert isinstance(model.transformed, hk.TransformedWithState)
  assert model.init is model.transformed.init
  assert model.apply is model.transformed.apply


def test_init_returns_params_and_state_keyed_by_layer_name():
  model = hk_keras.Sequential([hk_keras.Input((3,)),
                               layers.Dense(4, name="first"),
                               layers.Dense(2, name="second")])
  params, state = model.init(jax.random.PRNGKey(0), _x(1, 3))
  assert set(params) == {"first", "second"}
  assert state == {}
  chex.assert_shape([params["first"]["kernel"], params["first"]["bias"],
                     params["second"]["kernel"]], [(3, 4), (4,), (4, 2)])
  # Pure: the same rng gives the same params, another rng others.
  again, _ = model.init(jax.random.PRNGKey(0), _x(1, 3))
  chex.assert_trees_all_equal(params, again)
  other, _ = model.init(jax.random.PRNGKey(1), _x(1, 3))
  assert not np.allclose(params["first"]["kernel"], other["first"]["kernel"])
  # init is pure: the model's own weights stay as they were.
  before = model.get_weights()
  model.init(jax.random.PRNGKey(2), _x(1, 3))
  chex.assert_trees_all_equal(before, model.get_weights())


class ApplyTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_apply_matches_hand_computation(self):
    model = _linear_model()
    params, state = model.init(jax.random.PRNGKey(0), _x(1, 3))
    x = _x(5, 3)

    @self.variant
    def apply(params, state, x):
      return model.apply(params, state, None, x)

    out, new_state = apply(params, state, x)
    w = np.asarray(params["lin"]["kernel"])
    b = np.asarray(params["lin"]["bias"])
    chex.assert_trees_all_close(np.asarray(out), x @ w + b, atol=1e-5)
    assert new_state == {}

  @chex.variants(with_jit=True, without_jit=True)
  def test_apply_with_training_flag_and_state(self):
    model = hk_keras.Sequential([
        hk_keras.Input((3,)),
        layers.HaikuLayer(
            lambda x, training: hk.BatchNorm(True, True, 0.5)(
                x, is_training=training), name="bn")])
    params, state = model.init(jax.random.PRNGKey(0), _x(1, 3))
    x = _x(8, 3) + 2.0

    @self.variant
    def step(params, state, x):
      return model.apply(params, state, None, x, training=True)

    _, new_state = step(params, state, x)
    assert all(k.startswith("bn/") for k in new_state)
    mean = new_state["bn/batch_norm/~/mean_ema"]["average"]
    # Haiku's zero-debiased EMA equals the batch mean after one update.
    chex.assert_trees_all_close(np.asarray(mean).ravel(), x.mean(0),
                                atol=1e-5)
    # In inference (the default) the state comes back unchanged.
    _, same = model.apply(params, state, None, x)
    chex.assert_trees_all_equal(same, state)


def test_apply_under_jit_with_the_model_weights():
  model = _linear_model()
  x = _x(4, 3)
  out, _ = jax.jit(model.apply)(model.params, model.state, None, x)
  chex.assert_trees_all_close(np.asarray(out), np.asarray(model(x)), atol=1e-6)


def test_grad_matches_hand_computed_gradient():
  model = _linear_model()
  params, state = model.init(jax.random.PRNGKey(0), _x(1, 3))
  x, y = _x(6, 3), _x(6, 2, seed=1)

  def loss(params):
    pred, _ = model.apply(params, state, None, x)
    return jnp.mean((pred - y) ** 2)

  grads = jax.jit(jax.grad(loss))(params)
  w, b = np.asarray(params["lin"]["kernel"]), np.asarray(params["lin"]["bias"])
  err = x @ w + b - y
  n = err.size
  chex.assert_trees_all_close(
      grads, {"lin": {"kernel": 2 * x.T @ err / n, "bias": 2 * err.sum(0) / n}},
      atol=1e-5)


def test_grad_matches_finite_differences():
  model = hk_keras.Sequential([hk_keras.Input((3,)),
                               layers.Dense(4, activation="tanh"),
                               layers.Dense(1)])
  params, state = model.init(jax.random.PRNGKey(0), _x(1, 3))
  params = jax.tree_util.tree_map(lambda p: p.astype(jnp.float32), params)
  x = _x(5, 3)

  def loss(flat):
    p = unravel(flat)
    return jnp.sum(model.apply(p, state, None, x)[0] ** 2)

  flat, unravel = jax.flatten_util.ravel_pytree(params)
  grad = np.asarray(jax.grad(loss)(flat), np.float64)
  eps = 1e-2
  basis = np.eye(flat.size, dtype=np.float32)
  numeric = np.array([(loss(flat + eps * e) - loss(flat - eps * e)) / (2 * eps)
                      for e in basis[:12]])
  np.testing.assert_allclose(grad[:12], numeric, rtol=2e-2, atol=2e-3)


def test_vmap_over_a_leading_axis_equals_a_loop():
  model = _linear_model()
  xs = _x(4, 5, 3)
  batched, _ = jax.vmap(lambda x: model.apply(model.params, model.state, None,
                                              x))(xs)
  looped = np.stack([np.asarray(model.apply(model.params, model.state, None,
                                            x)[0]) for x in xs])
  chex.assert_trees_all_close(np.asarray(batched), looped, atol=1e-6)


def test_vmap_over_init_rngs_gives_an_ensemble():
  model = _linear_model()
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  x = _x(2, 3)
  params, state = jax.vmap(lambda k: model.init(k, x))(keys)
  chex.assert_shape(params["lin"]["kernel"], (3, 3, 2))
  outs, _ = jax.vmap(lambda p, s: model.apply(p, s, None, x))(params, state)
  for i in range(3):
    p_i = jax.tree_util.tree_map(lambda a, i=i: a[i], params)
    single, _ = model.apply(p_i, {}, None, x)
    chex.assert_trees_all_close(outs[i], single, atol=1e-6)


def test_multi_input_model_takes_inputs_positionally():
  a, b = hk_keras.Input((2,), name="pos_a"), hk_keras.Input((3,), name="pos_b")
  model = hk_keras.Model([a, b], layers.Concatenate()([a, b]))
  xa, xb = _x(4, 2), _x(4, 3, seed=1)
  params, state = model.init(jax.random.PRNGKey(0), xa, xb)
  out, _ = jax.jit(model.apply)(params, state, None, xa, xb)
  np.testing.assert_array_equal(np.asarray(out),
                                np.concatenate([xa, xb], -1))


def test_put_trained_params_back():
  model = _linear_model()
  x = _x(3, 3)
  params = jax.tree_util.tree_map(jnp.zeros_like, model.params)
  params["lin"]["bias"] = jnp.array([1.0, -1.0])
  model.params = params
  np.testing.assert_array_equal(np.asarray(model(x)),
                                np.tile([1.0, -1.0], (3, 1)))
  with pytest.raises(ValueError, match="missing entry"):
    model.params = {"other": {}}
  with pytest.raises(ValueError, match="expects shape"):
    model.params = {"lin": {"kernel": jnp.zeros((2, 2)),
                            "bias": jnp.zeros((2,))}}


def test_jit_apply_compiles_once_per_input_signature():
  model = _linear_model()
  apply = chex.assert_max_traces(model.apply, n=1)
  jitted = jax.jit(apply)
  for seed in range(3):
    jitted(model.params, model.state, None, _x(4, 3, seed=seed))
