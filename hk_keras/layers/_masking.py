"""`Masking`: marks timesteps whose features all equal `mask_value` as padding."""
import jax.numpy as jnp

from .._core import _masking
from ._layer import Layer


class Masking(Layer):
  """Skips timesteps whose features all equal `mask_value` (Keras 3).

  For inputs `(batch, timesteps, features)`, a timestep is valid when any of
  its features differs from `mask_value`. The output is the input with the
  padded timesteps set to 0, and it carries the mask `(batch, timesteps)` to
  the layers downstream (RNNs keep their state over padded steps, losses and
  metrics leave them out).

  Args:
    mask_value: the padding value (default 0.0).
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  >>> import hk_keras
  >>> Masking(mask_value=-1.0)(hk_keras.Input((5, 3))).shape
  (None, 5, 3)
  """

  supports_masking = True

  def __init__(self, mask_value: float = 0.0, **kwargs):
    super().__init__(**kwargs)
    if isinstance(mask_value, bool) or not isinstance(mask_value,
                                                      (int, float)):
      raise ValueError(
          "Masking argument `mask_value` must be a number. Received: "
          f"mask_value={mask_value!r}")
    self.mask_value = mask_value

  def compute_mask(self, inputs, previous_mask=None):
    del previous_mask
    return jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1)

  def call(self, inputs):
    valid = jnp.any(jnp.not_equal(inputs, self.mask_value), axis=-1,
                    keepdims=True)
    outputs = inputs * valid.astype(inputs.dtype)
    _masking.set_keras_mask(outputs, jnp.squeeze(valid, -1))
    return outputs

  def get_config(self):
    return {**super().get_config(), "mask_value": self.mask_value}
