"""`FlaxLayer`: a Flax module (Linen or NNX) as a Keras layer."""
import inspect

import jax

from .._core._optional import import_optional
from ._jax_layer import JaxLayer


def _takes(fn, name) -> bool:
  try:
    params = inspect.signature(fn).parameters
  except (TypeError, ValueError):
    return False
  return name in params or any(p.kind == p.VAR_KEYWORD
                               for p in params.values())


class FlaxLayer(JaxLayer):
  """Wraps a Flax module, Linen or NNX, as a layer.

  **Linen** (`flax.linen.Module`), as Keras 3's `FlaxLayer`: the module is
  initialised at build time with `module.init` (or given `variables`), the
  `"params"` collection becomes this layer's trainable weights and every
  other collection (e.g. BatchNorm's `"batch_stats"`) its Haiku state,
  updated in training. `method` (default `__call__`) receives `inputs` and,
  if it takes one, `training`; Dropout gets its `"dropout"` key from the
  step's RNG in training.

  **NNX** (`flax.nnx.Module`, already initialised): the module is split with
  `flax.nnx.split` into `nnx.Param` variables (trainable weights), RNG
  streams, and all other variables (Haiku state, e.g. `nnx.BatchStat`), and
  merged back in each call. The module runs in `module.train()` mode in
  training and `module.eval()` mode otherwise (and gets `training=` if its
  `__call__` takes it); its RNG streams are reseeded from the step's RNG in
  training, so Dropout masks change every step.

  Weights are named by their path, e.g. `params[layer.name]
  ["params.Dense_0.kernel"]` (Linen) or `["linear.kernel"]` (NNX).

  >>> import flax.linen as nn
  >>> layer = FlaxLayer(nn.Dense(4), name="dense")

  Args:
    module: a `flax.linen.Module` or a `flax.nnx.Module`.
    method: Linen only: the method (or function of the module) to call.
    variables: Linen only: the variables of `module.init`, or None to
      initialise at build time.
    **kwargs: base layer arguments (`name`, `trainable`, `dtype`).

  Raises:
    TypeError: if `module` is not a Flax module.
    ImportError: if Flax is not installed (the `flax` extra).
  """

  def __init__(self, module, method=None, variables=None, **kwargs):
    import_optional("flax", "flax", "flax", "FlaxLayer")
    from flax import linen  # pylint: disable=g-import-not-at-top
    from flax import nnx  # pylint: disable=g-import-not-at-top
    self.module = module
    self.method = method
    if isinstance(module, nnx.Module):
      if method is not None or variables is not None:
        raise ValueError(
            "FlaxLayer: `method` and `variables` apply to Linen modules only; "
            "an NNX module carries its own variables and is called with "
            f"__call__. Received: method={method!r}, variables given: "
            f"{variables is not None}.")
      self._kind = "nnx"
      call_fn, params, state = self._nnx_functions(nnx, module)
      super().__init__(call_fn=call_fn, params=params, state=state, **kwargs)
    elif isinstance(module, linen.Module):
      self._kind = "linen"
      call_fn, init_fn = self._linen_functions(linen, module, method)
      params, state = _split_variables(variables)
      super().__init__(call_fn=call_fn, init_fn=init_fn, params=params,
                       state=state, **kwargs)
    else:
      raise TypeError(
          "FlaxLayer expects a flax.linen.Module or a flax.nnx.Module. "
          f"Received: module={module!r} of type {type(module).__name__}. "
          "Wrap plain JAX functions with hk_keras.layers.JaxLayer and Equinox "
          "modules with hk_keras.layers.EquinoxLayer.")

  # -- Linen --------------------------------------------------------------------
  def _linen_functions(self, linen, module, method):
    mutable = linen.DenyList(["params"])
    training = _takes(method or module.__call__, "training")
    extra = (lambda t: {"training": t}) if training else (lambda t: {})

    def call_fn(params, state, rng, inputs, training):
      out, new_state = module.apply(
          {**params, **state}, inputs, rngs=rng, method=method,
          mutable=mutable, **extra(training))
      return out, dict(new_state)

    def init_fn(rng, inputs, training):
      variables = module.init(rng, inputs, method=method, **extra(training))
      return _split_variables(variables)

    return call_fn, init_fn

  def _get_init_rng(self, next_key):
    if self._kind == "linen":
      return {"params": next_key(), "dropout": next_key()}
    return super()._get_init_rng(next_key)

  def _get_call_rng(self, training, next_key):
    if self._kind == "linen":
      return {"dropout": next_key()} if training else {}
    return super()._get_call_rng(training, next_key)

  # -- NNX ----------------------------------------------------------------------
  def _nnx_functions(self, nnx, module):
    graphdef, params, rngs, rest = nnx.split(module, nnx.Param, nnx.RngState,
                                             ...)
    param_def = jax.tree_util.tree_structure(params)
    rest_def = jax.tree_util.tree_structure(rest)
    rng_leaves, rng_def = jax.tree_util.tree_flatten(rngs)
    takes_training = _takes(type(module).__call__, "training")

    def call_fn(params, state, rng, inputs, training):
      param_state = jax.tree_util.tree_unflatten(
          param_def, jax.tree_util.tree_leaves(params))
      rest_state = jax.tree_util.tree_unflatten(
          rest_def, jax.tree_util.tree_leaves(state))
      rng_state = jax.tree_util.tree_unflatten(rng_def,
                                               _reseed(rng_leaves, rng))
      model = nnx.merge(graphdef, param_state, rng_state, rest_state)
      if training:
        model.train()
      else:
        model.eval()
      kwargs = {"training": training} if takes_training else {}
      out = model(inputs, **kwargs)
      _, _, _, new_rest = nnx.split(model, nnx.Param, nnx.RngState, ...)
      return out, nnx.to_pure_dict(new_rest)

    return call_fn, nnx.to_pure_dict(params), nnx.to_pure_dict(rest)

  # -- config -------------------------------------------------------------------
  def get_config(self):
    config = super().get_config()
    for key in ("call_fn", "init_fn", "params", "state", "seed"):
      config.pop(key, None)
    method = self.method
    if method is not None:
      method = getattr(method, "__name__", None)
    config["module"] = type(self.module).__name__
    config["method"] = method
    return config

  @classmethod
  def from_config(cls, config):
    from flax import linen, nnx  # pylint: disable=g-import-not-at-top
    from ..saving import _interop_io  # pylint: disable=g-import-not-at-top
    config = dict(config)
    module = _interop_io.resolve_module(
        config, cls.__name__,
        lambda m: isinstance(m, (linen.Module, nnx.Module)))
    config["module"] = module
    method = config.pop("method", None)
    if isinstance(method, str):
      method = getattr(module, method)
    return cls(method=method, **config)


def _split_variables(variables):
  """Linen variables -> ({"params": ...}, {other collections}), as Keras."""
  if variables is None:
    return None, None
  variables = {k: dict(v) if hasattr(v, "items") else v
               for k, v in dict(variables).items()}
  params = {"params": variables["params"]} if "params" in variables else {}
  state = {k: v for k, v in variables.items() if k != "params"}
  return params, state


def _reseed(leaves, rng):
  """RNG stream leaves with fresh keys from `rng` (None keeps them)."""
  if rng is None:
    return list(leaves)
  out = []
  for i, leaf in enumerate(leaves):
    if jax.dtypes.issubdtype(getattr(leaf, "dtype", None), jax.dtypes.prng_key):
      key = jax.random.wrap_key_data(rng, impl=jax.random.key_impl(leaf))
      out.append(jax.random.fold_in(key, i))
    else:
      out.append(leaf)
  return out
