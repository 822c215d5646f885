"""`Identity`: a placeholder layer that returns its inputs unchanged."""
from ._layer import Layer


class Identity(Layer):
  """Returns its inputs unchanged (any structure), as Keras 3's `Identity`.

  Useful as a no-op branch in architectures built from configuration.

  >>> import numpy as np
  >>> Identity()(np.ones(3)).tolist()
  [1.0, 1.0, 1.0]
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def call(self, inputs):
    return inputs
