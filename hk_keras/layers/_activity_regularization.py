"""`ActivityRegularization`: adds an L1/L2 penalty on its inputs to the loss."""
from ._layer import Layer


class ActivityRegularization(Layer):
  """Returns its inputs unchanged and adds `l1 * sum(|x|) + l2 * sum(x**2)`
  (divided by the batch size, as Keras 3) to the loss of the step.

  Args:
    l1: L1 factor (>= 0).
    l2: L2 factor (>= 0).
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  >>> layer = ActivityRegularization(l1=0.01)
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, l1=0.0, l2=0.0, **kwargs):
    from .. import regularizers  # pylint: disable=g-import-not-at-top
    kwargs.pop("activity_regularizer", None)
    super().__init__(
        activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
    self.l1 = float(l1)
    self.l2 = float(l2)

  def call(self, inputs):
    return inputs

  def compute_output_shape(self, input_shape):
    return input_shape

  def get_config(self):
    config = super().get_config()
    config.pop("activity_regularizer", None)
    config.update({"l1": self.l1, "l2": self.l2})
    return config
