"""`EquinoxLayer`: an Equinox module as a Keras layer."""
import inspect
from typing import Optional

import jax

from .._core._optional import import_optional
from ._jax_layer import JaxLayer


class EquinoxLayer(JaxLayer):
  """Wraps an `equinox.Module` as a layer.

  The module's floating-point array leaves become this layer's trainable
  weights, named by their path (`params[layer.name]["layers.0.weight"]` for
  an `eqx.nn.MLP`); other leaves (activation functions, integer arrays)
  stay part of the module. An `eqx.nn.State` passed as `state` (from
  `eqx.nn.make_with_state`) becomes Haiku state, and the module is then
  called as `module(x, state, key=key)` and returns `(y, new_state)`.

  Equinox modules work on one example, so by default the layer maps the
  module over the batch axis with `jax.vmap` under the axis name
  `axis_name` (give `eqx.nn.BatchNorm(..., axis_name="batch")` the same
  name); pass `batch_axis=None` for a module that takes the whole batch.
  In training the module runs with `eqx.nn.inference_mode(module, False)`
  and gets `key=` from the step's RNG (one key per example when mapped);
  otherwise in inference mode with `key=None`.

  >>> import equinox as eqx, jax
  >>> mlp = eqx.nn.MLP(4, 2, width_size=8, depth=1, key=jax.random.PRNGKey(0))
  >>> layer = EquinoxLayer(mlp, name="mlp")

  Args:
    module: an `equinox.Module`.
    state: its `eqx.nn.State`, or None for a stateless module.
    batch_axis: the axis of `inputs` mapped over, or None.
    axis_name: the `jax.vmap` axis name when mapping.
    **kwargs: base layer arguments (`name`, `trainable`, `dtype`).

  Raises:
    TypeError: if `module` is not an Equinox module.
    ImportError: if Equinox is not installed (the `equinox` extra).
  """

  def __init__(self, module, state=None, batch_axis: Optional[int] = 0,
               axis_name: str = "batch", **kwargs):
    eqx = import_optional("equinox", "equinox", "equinox", "EquinoxLayer")
    if not isinstance(module, eqx.Module):
      raise TypeError(
          "EquinoxLayer expects an equinox.Module. Received: "
          f"module={module!r} of type {type(module).__name__}.")
    if state is not None and not isinstance(state, eqx.nn.State):
      raise TypeError(
          "EquinoxLayer: `state` must be the eqx.nn.State returned by "
          "eqx.nn.make_with_state(...), or None. Received: "
          f"{type(state).__name__}.")
    self.module = module
    self.batch_axis = batch_axis
    self.axis_name = axis_name
    self._stateful = state is not None
    params, static = eqx.partition(module, eqx.is_inexact_array)
    takes_key = _takes_key(module)

    def run(params, state, key, inputs, training):
      model = eqx.nn.inference_mode(eqx.combine(params, static),
                                    value=not training)
      def one(x, s, k):
        kwargs = {"key": k} if takes_key else {}
        if s is None:
          return model(x, **kwargs), None
        return model(x, s, **kwargs)
      if batch_axis is None:
        return one(inputs, state, key)
      size = jax.tree_util.tree_leaves(inputs)[0].shape[batch_axis]
      keys = None if key is None else jax.random.split(key, size)
      return jax.vmap(one, in_axes=(batch_axis, None, 0 if keys is not None
                                    else None),
                      out_axes=(batch_axis, None), axis_name=axis_name)(
                          inputs, state, keys)

    if self._stateful:
      def call_fn(params, state, rng, inputs, training):
        out, new_state = run(params, state["state"], rng, inputs, training)
        return out, {"state": new_state}
      super().__init__(call_fn=call_fn, params=params,
                       state={"state": state}, **kwargs)
    else:
      def call_fn(params, rng, inputs, training):  # pylint: disable=function-redefined
        return run(params, None, rng, inputs, training)[0]
      super().__init__(call_fn=call_fn, params=params, **kwargs)

  def get_config(self):
    config = super().get_config()
    for key in ("call_fn", "init_fn", "params", "state", "seed"):
      config.pop(key, None)
    config.update(module=type(self.module).__name__,
                  batch_axis=self.batch_axis, axis_name=self.axis_name)
    return config

  @classmethod
  def from_config(cls, config):
    import equinox as eqx  # pylint: disable=g-import-not-at-top
    from ..saving import _interop_io  # pylint: disable=g-import-not-at-top
    config = dict(config)
    found = _interop_io.resolve_module(
        config, cls.__name__,
        lambda m: isinstance(m, eqx.Module) or (
            isinstance(m, tuple) and len(m) == 2
            and isinstance(m[0], eqx.Module)))
    module, state = found if isinstance(found, tuple) else (found, None)
    config["module"] = module
    return cls(state=state, **config)


def _takes_key(module) -> bool:
  try:
    params = inspect.signature(module.__call__).parameters
  except (TypeError, ValueError):
    return False
  return "key" in params or any(p.kind == p.VAR_KEYWORD
                                for p in params.values())
