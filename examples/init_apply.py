"""A Keras-defined model driven as a pure Haiku init/apply pair.

Builds a small Functional model, initialises it with `model.init`, runs
`model.apply` under `jax.jit`, takes a few optax steps on the params, puts
them back into the model and prints its summary.

Run: python examples/init_apply.py
"""
import jax
import jax.numpy as jnp
import numpy as np
import optax

import hk_keras
from hk_keras import layers


def build_model():
  inputs = hk_keras.Input((8,), name="features")
  x = layers.Dense(16, activation="relu", name="hidden")(inputs)
  x = layers.Dropout(0.1, name="dropout")(x)
  outputs = layers.Dense(1, name="score")(x)
  return hk_keras.Model(inputs, outputs, name="regressor")


def main():
  hk_keras.utils.set_random_seed(0)
  model = build_model()
  x = np.random.default_rng(0).normal(size=(32, 8)).astype("float32")
  y = x[:, :1] - 2.0 * x[:, 1:2]

  rng = jax.random.PRNGKey(0)
  params, state = model.init(rng, x)
  print("params:", jax.tree_util.tree_map(jnp.shape, params))

  apply = jax.jit(model.apply, static_argnames="training")
  out, _ = apply(params, state, None, x)
  print("outputs:", out.shape)

  optimizer = optax.adam(1e-2)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, opt_state, rng):
    def loss_fn(p):
      pred, _ = model.apply(p, state, rng, x, training=True)
      return jnp.mean((pred - y) ** 2)
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  for i in range(50):
    rng, key = jax.random.split(rng)
    params, opt_state, loss = step(params, opt_state, key)
    if i % 10 == 0:
      print(f"step {i:2d}  loss {float(loss):.4f}")

  model.params = params  # the Keras side now holds the trained weights
  np.testing.assert_allclose(np.asarray(model(x)),
                             np.asarray(apply(params, state, None, x)[0]),
                             atol=1e-5)
  model.summary()


if __name__ == "__main__":
  main()
