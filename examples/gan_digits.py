"""A GAN on the UCI digits shipped with hk_keras: a custom `train_step` with
two optimizers (one per network) from `optax.multi_transform`.

The generator maps noise to 8x8 images; the discriminator scores images as
real or fake. One step computes both losses from one forward pass
(`jax.vjp`), takes each network's gradient of its own loss, and applies
both with `apply_gradients` (each part's optimizer sees only its params).
Runs in well under a minute on 2 CPU cores; prints the losses and an ASCII
sample.

    python examples/gan_digits.py [--epochs 30]
"""
import argparse

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

import hk_keras
from hk_keras import layers


def _bce_with_logits(target, logits):
  return jnp.mean(optax.sigmoid_binary_cross_entropy(
      logits, jnp.full_like(logits, target)))


class DigitsGAN(hk_keras.Model):
  """`call(images)` -> (real scores, fake scores, fake images)."""

  def __init__(self, latent_dim=16, **kwargs):
    super().__init__(**kwargs)
    self.latent_dim = latent_dim
    self.generator = hk_keras.Sequential([
        layers.Dense(128, activation="relu", name="gen_hidden"),
        layers.Dense(64, activation="sigmoid", name="gen_pixels"),
    ], name="generator")
    self.discriminator = hk_keras.Sequential([
        layers.Dense(128, activation="relu", name="disc_hidden"),
        layers.Dense(1, name="disc_logit"),
    ], name="discriminator")

  def call(self, images, training=False):
    noise = jax.random.normal(hk.next_rng_key(),
                              (images.shape[0], self.latent_dim))
    fake = self.generator(noise)
    return self.discriminator(images), self.discriminator(fake), fake

  def train_step(self, state, data):
    images, _, _ = data
    rng, step_rng = jax.random.split(state.rng)

    def losses(params):
      (real, fake, _), _ = self.apply(params, state.state, step_rng, images,
                                      training=True)
      d_loss = _bce_with_logits(1.0, real) + _bce_with_logits(0.0, fake)
      g_loss = _bce_with_logits(1.0, fake)
      return d_loss, g_loss

    # One forward pass, two backward passes: each network's gradient of its
    # own loss.
    (d_loss, g_loss), backward = jax.vjp(losses, state.params)
    d_grads, = backward((jnp.ones(()), jnp.zeros(())))
    g_grads, = backward((jnp.zeros(()), jnp.ones(())))
    grads = {module: (g_grads if module.startswith("gen") else d_grads)[module]
             for module in state.params}
    state = self.apply_gradients(state, grads)
    return state._replace(rng=rng), {"d_loss": d_loss, "g_loss": g_loss}


def part_of(params):
  """optax.multi_transform labels: each layer's params by its name."""
  return {module: {name: ("generator" if module.startswith("gen")
                          else "discriminator") for name in entries}
          for module, entries in params.items()}


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  hk_keras.utils.set_random_seed(args.seed)

  (x_train, _), _ = hk_keras.datasets.digits.load_data()
  images = (x_train.reshape(len(x_train), 64) / 16.0).astype(np.float32)

  gan = DigitsGAN(name="digits_gan")
  gan.build((None, 64))
  gan.compile(optimizer=optax.multi_transform(
      {"generator": optax.adam(2e-3, b1=0.5),
       "discriminator": optax.adam(1e-3, b1=0.5)}, part_of))
  history = gan.fit(images, batch_size=64, epochs=args.epochs, verbose=0)
  for epoch in range(0, args.epochs, max(1, args.epochs // 6)):
    print(f"epoch {epoch + 1:3d}  d_loss {history.history['d_loss'][epoch]:.3f}"
          f"  g_loss {history.history['g_loss'][epoch]:.3f}")

  _, _, fake = gan.predict(images[:256], verbose=0)
  print(f"mean pixel: real {images.mean():.3f}, generated {fake.mean():.3f}")
  print("a generated digit:")
  for row in fake[0].reshape(8, 8):
    print("".join(" .:-=+*#"[min(7, int(v * 8))] for v in row))


if __name__ == "__main__":
  main()
