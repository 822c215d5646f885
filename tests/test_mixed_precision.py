"""Mixed precision (hk_keras.mixed_precision): policies, casts, loss scaling."""
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from hk_keras import mixed_precision


@pytest.fixture(autouse=True)
def _float32_afterwards():
  yield
  mixed_precision.set_global_policy(None)


def _dot_dtypes(jaxpr):
  """Output dtypes of every dot_general in a jaxpr, nested ones included."""
  found = []

  def walk(j):
    for eqn in j.eqns:
      if eqn.primitive.name == "dot_general":
        found.append(eqn.outvars[0].aval.dtype)
      for param in eqn.params.values():
        for sub in param if isinstance(param, (list, tuple)) else [param]:
          inner = getattr(sub, "jaxpr", sub)
          if hasattr(inner, "eqns"):
            walk(inner)
  walk(jaxpr.jaxpr)
  return found


def test_policies():
  p = mixed_precision.Policy("mixed_bfloat16")
  assert (p.name, p.variable_dtype, p.compute_dtype) == (
      "mixed_bfloat16", "float32", "bfloat16")
  p = mixed_precision.Policy("mixed_float16")
  assert (p.variable_dtype, p.compute_dtype) == ("float32", "float16")
  assert p.jmp_policy.compute_dtype == jnp.float16
  p = mixed_precision.Policy("float32")
  assert (p.variable_dtype, p.compute_dtype) == ("float32", "float32")
  assert mixed_precision.DTypePolicy is mixed_precision.Policy
  with pytest.raises(ValueError, match="mixed_bfloat16"):
    mixed_precision.set_global_policy("mixed_int3")
  assert mixed_precision.global_policy().name == "float32"


def test_layers_take_the_global_policy_when_constructed():
  before = layers.Dense(2)
  mixed_precision.set_global_policy("mixed_bfloat16")
  assert mixed_precision.global_policy().compute_dtype == "bfloat16"
  during = layers.Dense(2)
  pinned = layers.Dense(2, dtype="float32")  # Keras's float32 output layer
  mixed_precision.set_global_policy("float32")
  assert before.compute_dtype == "float32"
  assert (during.dtype, during.compute_dtype) == ("float32", "bfloat16")
  assert pinned.compute_dtype == "float32"
  config = during.get_config()
  assert config["dtype"] == "mixed_bfloat16"
  assert layers.Dense.from_config(config).compute_dtype == "bfloat16"


def _model(batchnorm=True):
  stack = [hk_keras.Input((8, 8)), layers.Rescaling(1 / 16), layers.Flatten(),
           layers.Dense(64, activation="relu")]
  if batchnorm:
    stack.append(layers.BatchNormalization())
  stack.append(layers.Dense(10, activation="softmax"))
  return hk_keras.Sequential(stack)


def test_compute_in_bfloat16_params_and_outputs_in_float32():
  mixed_precision.set_global_policy("mixed_bfloat16")
  model = _model()
  model.compile("adam", "sparse_categorical_crossentropy")
  x = np.random.default_rng(0).uniform(0, 16, (16, 8, 8)).astype("float32")
  y = np.arange(16) % 10
  model.fit(x, y, batch_size=8, verbose=0)
  assert all(w.dtype == np.float32 for w in model.get_weights())
  assert model._ts.loss_scale is None  # bfloat16 needs no loss scaling
  jaxpr = jax.make_jaxpr(model.train_step)(model._ts, (x[:8], y[:8], None))
  dots = _dot_dtypes(jaxpr)
  assert dots and all(d == jnp.bfloat16 for d in dots), dots
  # Softmax outputs (what the loss sees) are float32.
  assert model.predict(x, verbose=0).dtype == np.float32


def test_normalization_computes_in_float32():
  mixed_precision.set_global_policy("mixed_bfloat16")
  bn, ln = layers.BatchNormalization(), layers.LayerNormalization()
  model = hk_keras.Sequential([hk_keras.Input((4,)), bn, ln])
  x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 4)) * 100 + 1000,
                  jnp.float32)
  jaxpr = jax.make_jaxpr(
      lambda p, s: model.apply(p, s, None, x, training=True))(
          model.params, model.state)
  # gamma/beta are read in float32, not rounded to bfloat16 first.
  casts = [eqn for eqn in jaxpr.jaxpr.eqns
           if eqn.primitive.name == "convert_element_type"
           and eqn.params["new_dtype"] == jnp.bfloat16
           and eqn.invars[0] in jaxpr.jaxpr.invars[:4]]
  assert not casts
  out, state = model.apply(model.params, model.state, None, x, training=True)
  assert out.dtype == jnp.bfloat16
  assert state[bn.name]["moving_mean"].dtype == jnp.float32


def test_haiku_layer_params_are_cast():
  mixed_precision.set_global_policy("mixed_bfloat16")
  model = hk_keras.Sequential([
      hk_keras.Input((3,)),
      layers.HaikuLayer(lambda x: hk.Linear(4)(x), name="linear_block")])
  x = jnp.ones((2, 3))
  jaxpr = jax.make_jaxpr(lambda p: model.apply(p, model.state, None, x))(
      model.params)
  assert _dot_dtypes(jaxpr) == [jnp.bfloat16]
  assert jax.tree_util.tree_leaves(model.params)[0].dtype == jnp.float32


def test_float16_dynamic_loss_scale_skips_overflowing_steps():
  mixed_precision.set_global_policy("mixed_float16")
  model = hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(1)])
  model.compile("sgd", "mse")
  before = [w.copy() for w in model.get_weights()]
  # Scaled by 2**15 the gradients overflow float16: the step is skipped and
  # the scale halves, without touching the weights or the optimizer.
  x = np.full((4, 4), 300.0, np.float32)
  y = np.zeros((4, 1), np.float32)
  model.train_on_batch(x, y)
  scale = model._ts.loss_scale
  assert float(scale.loss_scale) == 2.0 ** 14
  for a, b in zip(before, model.get_weights()):
    np.testing.assert_array_equal(a, b)
  # Small inputs: finite gradients, the step is applied.
  model.train_on_batch(x / 30000, y)
  assert any(np.any(a != b) for a, b in zip(before, model.get_weights()))
  assert float(model._ts.loss_scale.loss_scale) == 2.0 ** 14


def test_auto_scale_loss_false_has_no_loss_scale():
  mixed_precision.set_global_policy("mixed_float16")
  model = hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(1)])
  model.compile("sgd", "mse", auto_scale_loss=False)
  model.train_on_batch(np.ones((4, 4), np.float32), np.zeros((4, 1)))
  assert model._ts.loss_scale is None


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_digits_accuracy_within_two_points_of_float32(policy):
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.digits.load_data()
  accuracy = {}
  for name in ("float32", policy):
    mixed_precision.set_global_policy(name)
    hk_keras.utils.set_random_seed(0)
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=8, verbose=0)
    accuracy[name] = model.evaluate(x_test, y_test, verbose=0)[1]
    assert all(w.dtype == np.float32 for w in model.get_weights())
  assert accuracy["float32"] > 0.9, accuracy
  assert abs(accuracy[policy] - accuracy["float32"]) <= 0.02, accuracy
