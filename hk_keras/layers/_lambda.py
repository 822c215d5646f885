"""`Lambda`: wraps an arbitrary function of arrays as a layer."""
import inspect

from ._layer import Layer


class Lambda(Layer):
  """Wraps `function(inputs, **arguments)` (any jnp code) as a layer.

  Lambda layers have no weights. When saving, the function is not stored:
  `load_model` takes it from `custom_objects` or a registered function.

  >>> import jax.numpy as jnp
  >>> double = Lambda(lambda x: 2 * x)
  """

  def __init__(self, function, output_shape=None, mask=None, arguments=None,
               **kwargs):
    super().__init__(**kwargs)
    if not callable(function):
      raise TypeError(
          f"Lambda expects a callable. Received: function={function!r}")
    self.function = function
    self.output_shape = output_shape
    self.arguments = dict(arguments or {})
    # Keras 3: a Lambda supports masking only when given `mask` (a callable
    # `mask(inputs, previous_mask)` or a fixed mask); otherwise masks stop.
    self.mask = mask
    self.supports_masking = mask is not None
    try:
      params = inspect.signature(function).parameters
      self._fn_takes_training = "training" in params
    except (TypeError, ValueError):
      self._fn_takes_training = False

  def call(self, inputs, training=False):
    kwargs = dict(self.arguments)
    if self._fn_takes_training:
      kwargs["training"] = training
    return self.function(inputs, **kwargs)

  def compute_mask(self, inputs, previous_mask=None):
    if callable(self.mask):
      return self.mask(inputs, previous_mask)
    return self.mask

  def get_config(self):
    name = getattr(self.function, "__name__", None)
    return {**super().get_config(), "function": name,
            "arguments": self.arguments}
