"""`Dropout`."""
import haiku as hk
import jax
import jax.numpy as jnp

from ._layer import Layer


class Dropout(Layer):
  """Zeroes inputs with probability `rate` in training, scaling the rest by
  `1 / (1 - rate)`; the identity at inference.

  The random mask comes from the `rng` passed to `apply` (via
  `hk.next_rng_key()`), or from `seed` folded with it.

  Args:
    rate: fraction of units to drop, in [0, 1).
    noise_shape: shape of the mask, broadcast to the inputs (None entries take
      the input's size).
    seed: optional integer folded into the key.
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
    super().__init__(**kwargs)
    if not 0 <= rate < 1:
      raise ValueError(
          f"Dropout rate must be in [0, 1). Received: rate={rate!r}")
    self.rate = float(rate)
    self.noise_shape = noise_shape
    self.seed = seed

  def call(self, inputs, training=False):
    if not training or self.rate == 0:
      return inputs
    key = hk.next_rng_key()
    if self.seed is not None:
      key = jax.random.fold_in(key, self.seed)
    shape = inputs.shape
    if self.noise_shape is not None:
      shape = tuple(s if n is None else n
                    for s, n in zip(inputs.shape, self.noise_shape))
    keep = jax.random.bernoulli(key, 1.0 - self.rate, shape)
    return jnp.where(keep, inputs / (1.0 - self.rate), jnp.zeros_like(inputs))

  def get_config(self):
    return {**super().get_config(), "rate": self.rate,
            "noise_shape": self.noise_shape, "seed": self.seed}
