"""`JaxLayer`: a pure JAX function and its params/state as a Keras layer."""
import contextlib
import inspect
from typing import Any, Callable, Optional

import haiku as hk
import jax
import jax.numpy as jnp

from .._core import _context
from . import _tree_weights
from ._layer import Layer
from ._layer import _lookup

_CALL_ARGS = ("params", "state", "rng", "inputs", "training")
_INIT_ARGS = ("rng", "inputs", "training")

_NO_WEIGHTS = (
    "JaxLayer: `call_fn` takes a `params` or `state` argument, but `init_fn`, "
    "`params` and `state` are all None, so there is nothing to pass it. Give "
    "the initial values (params=..., state=...) or a function "
    "init_fn(rng, inputs) that returns them.")


def function_arguments(fn, fn_name: str, allowed) -> list:
  """The argument names of `fn`, checked against the ones JaxLayer passes."""
  if not callable(fn):
    raise TypeError(f"JaxLayer expects `{fn_name}` to be a callable. "
                    f"Received: {fn_name}={fn!r} of type {type(fn).__name__}.")
  names = list(inspect.signature(fn).parameters)
  if "inputs" not in names:
    raise ValueError(
        f"`{fn_name}` must take an argument named `inputs`. Received a "
        f"function with arguments {names}. Arguments are passed by these "
        f"names: {', '.join(allowed)}.")
  unknown = [n for n in names if n not in allowed]
  if unknown:
    raise ValueError(
        f"Unsupported argument(s) {unknown} in `{fn_name}`: the supported "
        f"arguments are {', '.join(allowed)} (matched by name). Wrap the "
        "function to rename its arguments.")
  return names


def _foreign():
  """While other libraries' code runs, Haiku params of nested transforms
  are not recorded as this model's weights."""
  ctx = _context.current()
  return contextlib.nullcontext() if ctx is None else ctx.foreign_code()


class JaxLayer(Layer):
  """Wraps a pure JAX function and its params (and state) as a layer.

  As Keras 3's `keras.layers.JaxLayer`: `call_fn` takes, by these names and
  in any order, `inputs` and optionally `params`, `state`, `rng` and
  `training`; with `state` it returns `(outputs, new_state)`. The params and
  state are given as pytrees, or created by `init_fn(rng, inputs, training)`
  (`inputs` and optionally `rng`, `training`), which returns `params`, or
  `(params, state)` when `call_fn` takes `state`. `init_fn` receives ones
  shaped like the first batch and `training=True`.

  Every array leaf becomes a weight of this layer, named by its tree path:
  `params[layer.name]["dense.kernel"]` for `params={"dense": {"kernel":
  w}}`; params are trainable (frozen with `layer.trainable = False`), state
  entries are Haiku state. `rng` is a key drawn from the step's RNG in
  training and None in inference, as in Keras.

  >>> import jax.numpy as jnp
  >>> def call_fn(params, inputs):
  ...   return inputs @ params["w"] + params["b"]
  >>> layer = JaxLayer(call_fn, params={"w": jnp.ones((3, 2)),
  ...                                   "b": jnp.zeros((2,))})
  >>> layer(jnp.ones((1, 3))).tolist()
  [[3.0, 3.0]]

  Args:
    call_fn: the forward function, as above.
    init_fn: the function creating params (and state), or None.
    params: a pytree of initial params, or None.
    state: a pytree of initial state, or None.
    seed: an integer folded into the step's key for this layer's `rng`.
    **kwargs: base layer arguments (`name`, `trainable`, `dtype`).

  Raises:
    ValueError: if `call_fn` or `init_fn` take other arguments, or if
      `call_fn` needs params/state and none are given.
  """

  def __init__(self, call_fn: Callable, init_fn: Optional[Callable] = None,
               params: Any = None, state: Any = None,
               seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    self.call_fn_arguments = function_arguments(call_fn, "call_fn",
                                                _CALL_ARGS)
    self.init_fn_arguments = (None if init_fn is None else function_arguments(
        init_fn, "init_fn", _INIT_ARGS))
    self.call_fn = call_fn
    self.init_fn = init_fn
    self.call_fn_has_params = "params" in self.call_fn_arguments
    self.call_fn_has_state = "state" in self.call_fn_arguments
    if (init_fn is None and params is None and state is None
        and (self.call_fn_has_params or self.call_fn_has_state)):
      raise ValueError(_NO_WEIGHTS)
    self.seed = seed
    self._given = None
    if params is not None or state is not None:
      self._given = (params, state)
    self._templates = None

  # -- the trees --------------------------------------------------------------
  def _get_init_rng(self, next_key):
    """The `rng` passed to `init_fn`; `next_key()` draws one key."""
    return next_key()

  def _get_call_rng(self, training, next_key):
    """The `rng` passed to `call_fn`: a key in training, else None."""
    return next_key() if training else None

  def _split_init_result(self, result):
    if self.call_fn_has_state:
      if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(
            "JaxLayer: `call_fn` takes `state`, so `init_fn` must return "
            f"(params, state). Received: {type(result).__name__}.")
      return tuple(result)
    return result, None

  def _run_init(self, inputs, next_key):
    kwargs = {}
    for name in self.init_fn_arguments:
      if name == "rng":
        kwargs[name] = self._get_init_rng(next_key)
      elif name == "inputs":
        kwargs[name] = jax.tree_util.tree_map(jnp.ones_like, inputs)
      else:
        kwargs[name] = True
    with _foreign():
      result = self.init_fn(**kwargs)
    return self._split_init_result(result)

  def _initial_trees(self, inputs):
    """(params, state) initial values (init) or abstract values (apply)."""
    if self._given is not None:
      return self._given
    if hk.running_init():
      return self._run_init(inputs, hk.next_rng_key)
    specs = jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype), inputs)
    fake_key = lambda: jnp.zeros((2,), jnp.uint32)
    return jax.eval_shape(lambda i: self._run_init(i, fake_key), specs)

  def _weight_trees(self, inputs):
    values = (None, None)  # apply: the values come from params/state
    if hk.running_init() or self._templates is None:
      # Apply traces reuse the structure found at init (an abstract init
      # only when this layer object was never initialised).
      trees = self._initial_trees(inputs)
      self._templates = tuple(
          _tree_weights.template(tree, kind, self.dtype)
          for tree, kind in zip(trees, ("params", "state")))
      if hk.running_init():
        values = trees
    templates = self._templates
    return (_tree_weights.read("params", templates[0], values[0]),
            _tree_weights.read("state", templates[1], values[1]),
            templates[1])

  # -- calling ----------------------------------------------------------------
  def _next_call_key(self):
    key = hk.next_rng_key()
    return key if self.seed is None else jax.random.fold_in(key, self.seed)

  def call(self, inputs, training=False):
    params, state, state_template = self._weight_trees(inputs)
    kwargs = {}
    for name in self.call_fn_arguments:
      if name == "params":
        kwargs[name] = params
      elif name == "state":
        kwargs[name] = state
      elif name == "rng":
        kwargs[name] = self._get_call_rng(training, self._next_call_key)
      elif name == "inputs":
        kwargs[name] = inputs
      else:
        kwargs[name] = training
    with _foreign():
      result = self.call_fn(**kwargs)
    if not self.call_fn_has_state:
      return result
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
      raise TypeError(
          f"{type(self).__name__} {self.name!r}: `call_fn` takes `state`, so "
          "it must return (outputs, new_state). Received: "
          f"{type(result).__name__}.")
    outputs, new_state = result
    _tree_weights.write(state_template, new_state,
                        f"{type(self).__name__} {self.name!r}")
    return outputs

  # -- current values (outside a trace) -----------------------------------------
  def _current_tree(self, kind):
    if self._templates is None:
      return None
    tmpl = self._templates[0 if kind == "params" else 1]
    leaves = [static if name is None else _lookup((self, kind, name))
              for name, static in zip(tmpl.names, tmpl.statics)]
    return jax.tree_util.tree_unflatten(tmpl.treedef, leaves)

  @property
  def params(self):
    """The current params as a pytree of the original structure."""
    return self._current_tree("params")

  @property
  def state(self):
    """The current state as a pytree of the original structure."""
    return self._current_tree("state")

  # -- config -----------------------------------------------------------------
  def get_config(self):
    from ..saving import _interop_io  # pylint: disable=g-import-not-at-top
    config = {**super().get_config(),
              "call_fn": _interop_io.function_ref(self.call_fn),
              "init_fn": _interop_io.function_ref(self.init_fn),
              "seed": self.seed}
    if self.init_fn is None:
      config["params"] = _interop_io.encode_tree_spec(
          self._given[0], "params", self.name)
      config["state"] = _interop_io.encode_tree_spec(
          self._given[1], "state", self.name)
    return config

  @classmethod
  def from_config(cls, config):
    from ..saving import _interop_io  # pylint: disable=g-import-not-at-top
    config = dict(config)
    name = config.get("name")
    config["call_fn"] = _interop_io.resolve_function(config.get("call_fn"),
                                                     "call_fn", name)
    if config.get("init_fn") is not None:
      config["init_fn"] = _interop_io.resolve_function(config["init_fn"],
                                                       "init_fn", name)
    for key in ("params", "state"):
      if key in config:
        config[key] = _interop_io.decode_tree_spec(config[key])
    return cls(**config)
