"""A variational autoencoder on the UCI digits, written as Keras code.

The encoder maps an 8x8 digit to the mean and log-variance of a 2-D latent
Gaussian; a custom `Sampling` layer draws `z` with `hk_keras.random.normal`
and its own `SeedGenerator` (inside the compiled step the draws come from
the step RNG: fresh noise every step, reproducible under
`set_random_seed`); the decoder maps `z` back to pixel probabilities. The
loss is the usual ELBO: pixel binary cross-entropy plus the KL divergence of
the latent Gaussian from N(0, 1).

Keras's own VAE example adds the KL term with a custom `train_step`; here the
model outputs `[reconstruction, z_mean, z_log_var]` concatenated and one loss
function splits them, so plain `compile`/`fit` train it. The arithmetic uses
`jax.numpy`; with `hk_keras.ops` it reads the same with `keras.ops`.

    python examples/vae_digits.py [--epochs 60]

With the defaults (seed 0) it goes from a train loss of 42.7 in the first
epoch to 25.4 after 60, and reaches a test negative ELBO of 25.0 nats per
image, in about 30 s on 2 busy CPU cores.
"""
import argparse

import jax.numpy as jnp
import numpy as np

import hk_keras as keras
from hk_keras import layers

LATENT = 2
PIXELS = 64


@keras.saving.register_keras_serializable(package="vae_digits")
class Sampling(layers.Layer):
  """Draws z = mean + exp(log_var / 2) * eps, eps ~ N(0, 1)."""

  def __init__(self, seed=1337, **kwargs):
    super().__init__(**kwargs)
    self.seed = seed
    self.seed_generator = keras.random.SeedGenerator(seed)

  def call(self, inputs):
    z_mean, z_log_var = inputs
    eps = keras.random.normal(jnp.shape(z_mean), seed=self.seed_generator)
    return z_mean + jnp.exp(0.5 * z_log_var) * eps

  def get_config(self):
    return {**super().get_config(), "seed": self.seed}


def build_vae():
  inputs = keras.Input((PIXELS,), name="pixels")
  h = layers.Dense(64, activation="relu")(inputs)
  z_mean = layers.Dense(LATENT, name="z_mean")(h)
  z_log_var = layers.Dense(LATENT, name="z_log_var")(h)
  z = Sampling(name="sampling")([z_mean, z_log_var])
  decoder_h = layers.Dense(64, activation="relu", name="decoder_h")
  decoder_out = layers.Dense(PIXELS, activation="sigmoid", name="decoder_out")
  reconstruction = decoder_out(decoder_h(z))
  outputs = layers.Concatenate(name="vae_outputs")(
      [reconstruction, z_mean, z_log_var])
  return keras.Model(inputs, outputs, name="vae")


@keras.saving.register_keras_serializable(package="vae_digits")
def negative_elbo(y_true, y_pred):
  """Per-image negative ELBO: summed pixel cross-entropy plus the KL term."""
  reconstruction = jnp.clip(y_pred[:, :PIXELS], 1e-7, 1 - 1e-7)
  z_mean = y_pred[:, PIXELS:PIXELS + LATENT]
  z_log_var = y_pred[:, PIXELS + LATENT:]
  bce = -(y_true * jnp.log(reconstruction) +
          (1 - y_true) * jnp.log(1 - reconstruction)).sum(-1)
  kl = -0.5 * (1 + z_log_var - z_mean ** 2 - jnp.exp(z_log_var)).sum(-1)
  return bce + kl


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--epochs", type=int, default=60)
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  keras.utils.set_random_seed(args.seed)
  (x_train, _), (x_test, y_test) = keras.datasets.digits.load_data()
  x_train = (x_train.reshape(-1, PIXELS) / 16.0).astype("float32")
  x_test = (x_test.reshape(-1, PIXELS) / 16.0).astype("float32")

  vae = build_vae()
  vae.summary()
  vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss=negative_elbo)
  history = vae.fit(x_train, x_train, epochs=args.epochs,
                    batch_size=args.batch_size, verbose=0,
                    validation_data=(x_test, x_test))
  print(f"train loss: {history.history['loss'][0]:.2f} (epoch 1) -> "
        f"{history.history['loss'][-1]:.2f} (epoch {args.epochs})")
  test_loss = vae.evaluate(x_test, x_test, verbose=0)
  print(f"test negative ELBO per image: {test_loss:.2f} nats")

  # The latent means of the test digits (an encoder sharing the trained
  # layers, as in Keras): the classes form clusters.
  encoder = keras.Model(vae.input, vae.get_layer("z_mean").output)
  means = encoder.predict(x_test, verbose=0)
  centres = np.stack([means[y_test == c].mean(0) for c in range(10)])
  spread = np.mean([np.linalg.norm(means[y_test == c] - centres[c], axis=1)
                    .mean() for c in range(10)])
  between = np.mean(np.linalg.norm(centres[:, None] - centres[None], axis=-1))
  print(f"latent: mean distance within a class {spread:.2f}, between class "
        f"centres {between:.2f}")


if __name__ == "__main__":
  main()
