"""`HaikuLayer`: any Haiku code as a Keras layer."""
import inspect

import haiku as hk
import jax.numpy as jnp

from ._layer import Layer


class HaikuLayer(Layer):
  """Wraps a function that builds Haiku modules as a layer.

  `fn(x, training)` or `fn(x)` runs inside this layer's module, so the
  parameters and state it creates appear under the layer's name, e.g.
  `params["haiku_layer/linear"]` for an `hk.Linear` (the standard Haiku
  nesting), and `hk.get_state`/`hk.set_state` become non-trainable weights.

  >>> import haiku as hk
  >>> mlp = HaikuLayer(lambda x: hk.nets.MLP([32, 10])(x), name="mlp")
  """

  def __init__(self, fn, name=None, **kwargs):
    super().__init__(name=name, **kwargs)
    if not callable(fn):
      raise TypeError(f"HaikuLayer expects a callable. Received: fn={fn!r}")
    self.fn = fn
    try:
      params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
      params = {}
    self._fn_takes_training = "training" in params or (
        len([p for p in params.values()
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]) >= 2)

  def call(self, inputs, training=False):
    policy = self.dtype_policy
    if not policy.is_mixed:
      return self._call_fn(inputs, training)
    # Under a mixed policy the Haiku modules inside create their params in
    # the variable dtype and read them cast to the compute dtype, with
    # Haiku's custom creator/getter mechanism (as hk.mixed_precision does);
    # their state stays as created.
    jmp_policy = policy.jmp_policy
    def create(next_creator, shape, dtype, init, context):
      del context
      if jnp.issubdtype(dtype, jnp.floating):
        dtype = jmp_policy.param_dtype
      return next_creator(shape, dtype, init)
    def cast(next_getter, value, context):
      del context
      return next_getter(jmp_policy.cast_to_compute(value))
    with hk.custom_creator(create, state=False), hk.custom_getter(cast):
      return self._call_fn(inputs, training)

  def _call_fn(self, inputs, training):
    if self._fn_takes_training:
      return self.fn(inputs, training)
    return self.fn(inputs)

  def get_config(self):
    return {**super().get_config(),
            "fn": getattr(self.fn, "__name__", None)}
