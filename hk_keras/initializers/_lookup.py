"""Name, config and instance lookup for initializers."""

import inspect
import re
from typing import Any, Callable, Dict, Mapping, Optional

from ._base import Initializer
from ._constant import Constant, Identity, Ones, Zeros
from ._orthogonal import Orthogonal
from ._random import RandomNormal, RandomUniform, TruncatedNormal
from ._variance_scaling import (GlorotNormal, GlorotUniform, HeNormal,
                                HeUniform, LecunNormal, LecunUniform,
                                VarianceScaling)

_CLASSES = (Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
            Identity, LecunNormal, LecunUniform, Ones, Orthogonal,
            RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
            Zeros)


def _snake_case(name: str) -> str:
  return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Every name Keras 3 accepts for a built-in initializer: the class name, its
# snake_case form and Keras's historical aliases.
BUILTINS: Dict[str, type] = {}
for _cls in _CLASSES:
  BUILTINS[_cls.__name__] = _cls
  BUILTINS[_snake_case(_cls.__name__)] = _cls
BUILTINS.update({
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
})


def _valid_names(custom_objects: Optional[Mapping[str, Any]]) -> str:
  names = sorted(BUILTINS, key=lambda n: (n[0].isupper(), n))
  if custom_objects:
    names += sorted(custom_objects)
  return ", ".join(repr(n) for n in names)


def _lookup_class(name: str,
                  custom_objects: Optional[Mapping[str, Any]]) -> Any:
  if custom_objects and name in custom_objects:
    return custom_objects[name]
  if name in BUILTINS:
    return BUILTINS[name]
  from .._core import _registry  # pylint: disable=g-import-not-at-top
  found = _registry.get_registered_object(name)  # registry or load scope
  if found is not None:
    return found
  raise ValueError(
      f"Unknown initializer: {name!r}. Valid names are: "
      f"{_valid_names(custom_objects)}. For a custom initializer pass "
      "`custom_objects={name: cls}`.")


def get(identifier: Any,
        custom_objects: Optional[Mapping[str, Any]] = None
        ) -> Optional[Callable[..., Any]]:
  """Returns an initializer `init(shape, dtype)` for an identifier.

  Args:
    identifier: None (returned as None, as Keras does), a Keras name
      (`"glorot_uniform"`, `"GlorotUniform"`, `"zeros"`, ...), a config dict
      `{"class_name": ..., "config": {...}}` (as written by `serialize` or
      by Keras 3), an initializer class (instantiated with defaults), an
      `Initializer` instance or any callable `init(shape, dtype)` such as a
      `hk.initializers` object (returned unchanged).
    custom_objects: Optional mapping of extra names to classes or functions.

  Returns:
    The initializer, or None.

  Raises:
    ValueError: If a name is unknown (the message lists valid names) or a
      dict is malformed.
    TypeError: If the identifier is of an unsupported type.

  >>> get("he_normal")
  HeNormal(seed=None, input_axes=None, output_axes=None)
  """
  if identifier is None:
    return None
  if isinstance(identifier, dict):
    return deserialize(identifier, custom_objects=custom_objects)
  if isinstance(identifier, str):
    obj = _lookup_class(identifier, custom_objects)
  else:
    obj = identifier
  if inspect.isclass(obj):
    return obj()
  if callable(obj):
    return obj
  raise TypeError(
      "Could not interpret initializer identifier. Expected None, a string "
      "name, a config dict, an Initializer or a callable "
      "`init(shape, dtype)`; for a fixed array use `Constant(value)`. "
      f"Received: identifier={identifier!r} of type "
      f"{type(identifier).__name__}")


def serialize(initializer: Initializer) -> Dict[str, Any]:
  """Returns a JSON-able config dict for an initializer.

  The dict has the same `class_name`/`config` layout as Keras 3's, so
  `deserialize` (and `get`) rebuild an equal initializer.

  Args:
    initializer: An `Initializer` instance (built-in or a subclass).

  Returns:
    `{"module": "hk_keras.initializers", "class_name": ..., "config": ...,
    "registered_name": None}`.

  Raises:
    ValueError: If `initializer` is a plain function or a non-hk_keras object
      (for example a `hk.initializers` instance), which has no config.

  >>> serialize(Zeros())["class_name"]
  'Zeros'
  """
  if not isinstance(initializer, Initializer):
    raise ValueError(
        f"Cannot serialize the initializer {initializer!r}: only "
        "hk_keras.initializers.Initializer instances have a config. Use a "
        "built-in initializer, or subclass Initializer (implementing "
        "get_config) and pass it back with `custom_objects` when loading.")
  return {
      "module": "hk_keras.initializers",
      "class_name": type(initializer).__name__,
      "config": initializer.get_config(),
      "registered_name": None,
  }


def deserialize(config: Any,
                custom_objects: Optional[Mapping[str, Any]] = None
                ) -> Callable[..., Any]:
  """Rebuilds an initializer from `serialize`'s output (or a name).

  Args:
    config: A dict with `class_name` and optional `config`, or a name.
    custom_objects: Optional mapping of extra names to classes.

  Returns:
    The initializer instance.

  Raises:
    ValueError: If the class name is unknown or the dict has no class_name.

  >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}})
  Constant(value=2.0)
  """
  if isinstance(config, str):
    return get(config, custom_objects=custom_objects)
  if not isinstance(config, dict) or not isinstance(
      config.get("class_name"), str):
    raise ValueError(
        "An initializer config must be a dict with a string 'class_name' "
        f"(and optional 'config'). Received: config={config!r}")
  name = config.get("registered_name") or config["class_name"]
  if custom_objects and name in custom_objects:
    cls = custom_objects[name]
  else:
    cls = _lookup_class(config["class_name"], custom_objects)
  kwargs = dict(config.get("config") or {})
  if hasattr(cls, "from_config"):
    return cls.from_config(kwargs)
  if inspect.isclass(cls):
    return cls(**kwargs)
  return cls
