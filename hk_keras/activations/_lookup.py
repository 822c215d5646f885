"""Name <-> function lookup for activations: `get`, `serialize`, `deserialize`."""

from typing import Any, Callable, Dict, Mapping, Optional

from . import _rectifiers, _smooth, _softmax

Activation = Callable[..., Any]

# Keras 3 names of the built-in activations. Aliases come after the
# canonical name so that serialising an alias gives the canonical name.
BUILTINS: Dict[str, Activation] = {
    "relu": _rectifiers.relu,
    "relu6": _rectifiers.relu6,
    "leaky_relu": _rectifiers.leaky_relu,
    "elu": _rectifiers.elu,
    "selu": _rectifiers.selu,
    "gelu": _smooth.gelu,
    "sigmoid": _smooth.sigmoid,
    "hard_sigmoid": _smooth.hard_sigmoid,
    "hard_silu": _smooth.hard_silu,
    "hard_swish": _smooth.hard_silu,
    "silu": _smooth.silu,
    "swish": _smooth.silu,
    "softmax": _softmax.softmax,
    "log_softmax": _softmax.log_softmax,
    "softplus": _smooth.softplus,
    "softsign": _smooth.softsign,
    "tanh": _smooth.tanh,
    "exponential": _smooth.exponential,
    "linear": _smooth.linear,
    "mish": _smooth.mish,
}

_CANONICAL_NAME: Dict[int, str] = {}
for _name, _fn in BUILTINS.items():
  _CANONICAL_NAME.setdefault(id(_fn), _name)

# Custom activations registered by name (see `register`).
_CUSTOM: Dict[str, Activation] = {}

_CUSTOM_HINT = (
    "Custom activations are not saved as code. Register the function with "
    "`hk_keras.activations.register(fn)` (or "
    "`hk_keras.saving.register_keras_serializable()`) so it can be saved by "
    "name, and pass it back through `custom_objects={name: fn}` when loading."
)


def _valid_names(custom_objects: Optional[Mapping[str, Any]] = None) -> str:
  names = sorted(BUILTINS) + sorted(_CUSTOM)
  if custom_objects:
    names += sorted(custom_objects)
  return ", ".join(repr(n) for n in names)


def register(fn: Optional[Activation] = None, *, name: Optional[str] = None):
  """Registers a custom activation so `get` and `serialize` know its name.

  Usable as `register(fn)`, `register(fn, name="...")` or as a decorator.

  Args:
    fn: The activation function.
    name: The name to save it under; defaults to `fn.__name__`.

  Returns:
    `fn` itself (or a decorator when `fn` is None).

  Raises:
    ValueError: If `name` is a built-in activation name.

  >>> @register
  ... def cube(x):
  ...   return x ** 3
  >>> serialize(cube)
  'cube'
  """
  def do_register(f: Activation) -> Activation:
    key = name or getattr(f, "__name__", None)
    if not key:
      raise ValueError(f"Cannot register {f!r}: it has no __name__; pass "
                       "name=.")
    if key in BUILTINS and BUILTINS[key] is not f:
      raise ValueError(f"Cannot register a custom activation as {key!r}: "
                       "that is the name of a built-in activation.")
    _CUSTOM[key] = f
    return f

  if fn is None:
    return do_register
  return do_register(fn)


def _saving_lookup(name: str) -> Optional[Activation]:
  """Functions registered with `hk_keras.saving` or in a custom-object scope
  (as `load_model(custom_objects=...)` sets while rebuilding layers)."""
  from .._core import _registry  # pylint: disable=g-import-not-at-top
  found = _registry.get_registered_object(name)
  return found if callable(found) and not isinstance(found, type) else None


def get(identifier: Any,
        custom_objects: Optional[Mapping[str, Any]] = None) -> Activation:
  """Returns the activation function for an identifier.

  Args:
    identifier: None (gives `linear`), a Keras activation name such as
      `"relu"`, a name from `custom_objects` or `register`, a config dict
      `{"class_name": "function", "config": name}`, or any callable (returned
      unchanged).
    custom_objects: Optional mapping of extra names to functions.

  Returns:
    A callable `fn(x) -> array`.

  Raises:
    ValueError: If a name is not known; the message lists valid names.
    TypeError: If the identifier is neither None, a string, a dict nor a
      callable.

  >>> from hk_keras import activations
  >>> get("relu") is activations.relu
  True
  >>> get(None)(3.0)
  3.0
  """
  if identifier is None:
    return _smooth.linear
  if isinstance(identifier, dict):
    return deserialize(identifier, custom_objects=custom_objects)
  if isinstance(identifier, str):
    if custom_objects and identifier in custom_objects:
      return custom_objects[identifier]
    if identifier in BUILTINS:
      return BUILTINS[identifier]
    if identifier in _CUSTOM:
      return _CUSTOM[identifier]
    found = _saving_lookup(identifier)
    if found is not None:
      return found
    raise ValueError(
        f"Unknown activation: {identifier!r}. Valid names are: "
        f"{_valid_names(custom_objects)}. {_CUSTOM_HINT}")
  if callable(identifier):
    return identifier
  raise TypeError(
      "Could not interpret activation identifier. Expected None, a string "
      "name, a config dict or a callable. Received: "
      f"identifier={identifier!r} of type {type(identifier).__name__}")


def serialize(activation: Activation) -> str:
  """Returns the name under which an activation is saved in configs.

  Built-ins give their Keras name (aliases give the canonical one:
  `swish` -> `"silu"`); registered custom activations give their registered
  name.

  Args:
    activation: An activation function.

  Returns:
    A string name, JSON-able, which `get`/`deserialize` turns back into the
    function.

  Raises:
    ValueError: If `activation` is neither built in nor registered.

  >>> from hk_keras import activations
  >>> serialize(activations.relu)
  'relu'
  """
  if activation is None:
    return "linear"
  if isinstance(activation, str):
    get(activation)  # Validates the name.
    return activation
  name = _CANONICAL_NAME.get(id(activation))
  if name is not None:
    return name
  for key, fn in _CUSTOM.items():
    if fn is activation:
      return key
  registered = getattr(activation, "_hk_keras_registered_name", None)
  if isinstance(registered, str):
    return registered
  raise ValueError(
      f"Cannot serialize the activation {activation!r}: it is not a built-in "
      f"activation and it is not registered. {_CUSTOM_HINT}")


def deserialize(config: Any,
                custom_objects: Optional[Mapping[str, Any]] = None
                ) -> Activation:
  """Inverse of `serialize`: a name (or Keras function dict) to a function.

  Args:
    config: A string name, or a Keras-style dict whose `"config"` entry is the
      name.
    custom_objects: Optional mapping of extra names to functions.

  Returns:
    The activation function.

  Raises:
    ValueError: If the name is unknown or the dict has no string `"config"`.

  >>> from hk_keras import activations
  >>> deserialize("tanh") is activations.tanh
  True
  """
  if isinstance(config, dict):
    name = config.get("config")
    if not isinstance(name, str):
      raise ValueError(
          "An activation config dict must hold the function name under "
          f"'config'. Received: config={config!r}")
    # Keras writes registered names as "package>name".
    if (name not in BUILTINS and name not in _CUSTOM
        and not (custom_objects and name in custom_objects) and ">" in name):
      name = name.split(">", 1)[1]
    return get(name, custom_objects=custom_objects)
  if isinstance(config, str) or config is None:
    return get(config, custom_objects=custom_objects)
  raise TypeError(
      "An activation config must be a string name or a dict. Received: "
      f"config={config!r} of type {type(config).__name__}")
