"""`Rescaling`: `inputs * scale + offset`."""
import jax.numpy as jnp

from ._layer import Layer


class Rescaling(Layer):
  """Multiplies by `scale` and adds `offset` (e.g. `1/255` to map pixels).

  >>> Rescaling(1.0 / 255)
  <Rescaling ...>
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, scale, offset=0.0, **kwargs):
    super().__init__(**kwargs)
    self.scale = scale
    self.offset = offset

  def call(self, inputs):
    dtype = inputs.dtype if jnp.issubdtype(inputs.dtype, jnp.floating) else (
        jnp.dtype(self.compute_dtype))
    inputs = inputs.astype(dtype)
    return inputs * jnp.asarray(self.scale, dtype) + jnp.asarray(
        self.offset, dtype)

  def get_config(self):
    def plain(v):
      return v.tolist() if hasattr(v, "tolist") else v
    return {**super().get_config(), "scale": plain(self.scale),
            "offset": plain(self.offset)}
