"""The table of Keras optimizer names, and `get`/`serialize`/`deserialize`."""

import inspect
from typing import Any, Dict, Mapping, Optional, Union

import optax

from ._adadelta import Adadelta
from ._adagrad import Adagrad
from ._adam import Adam, AdamW
from ._adamax import Adamax
from ._base import Optimizer
from ._lion import Lion
from ._nadam import Nadam
from ._rmsprop import RMSprop
from ._sgd import SGD

# Keras 3 optimizer names (lower case, as `keras.optimizers.get` accepts
# them) to our classes; each class's defaults are Keras 3's.
OPTIMIZERS: Dict[str, type] = {
    "adadelta": Adadelta,
    "adagrad": Adagrad,
    "adam": Adam,
    "adamax": Adamax,
    "adamw": AdamW,
    "lion": Lion,
    "nadam": Nadam,
    "rmsprop": RMSprop,
    "sgd": SGD,
}

_RAW_OPTAX_NOT_SERIALIZABLE = (
    "A raw optax GradientTransformation is a pair of closures and has no "
    "config, so it cannot be serialized. Use an hk_keras.optimizers class "
    "(e.g. `hk_keras.optimizers.Adam(learning_rate=...)`) or a Keras "
    "optimizer name if the optimizer must be saved; otherwise pass the same "
    "optax transform again when loading.")

OptimizerLike = Union[str, Dict[str, Any], Optimizer,
                      optax.GradientTransformation]


def _valid_names() -> str:
  return ", ".join(repr(n) for n in sorted(OPTIMIZERS))


def _lookup(name: str,
            custom_objects: Optional[Mapping[str, Any]] = None) -> type:
  if custom_objects and name in custom_objects:
    return custom_objects[name]
  cls = OPTIMIZERS.get(name.lower())
  if cls is None:
    raise ValueError(
        f"Unknown optimizer: {name!r}. Valid names are: {_valid_names()} "
        "(case-insensitive). You can also pass an hk_keras.optimizers "
        "instance or any optax.GradientTransformation.")
  return cls


def _is_transform(obj: Any) -> bool:
  return (isinstance(obj, optax.GradientTransformation)
          or (callable(getattr(obj, "init", None))
              and callable(getattr(obj, "update", None))
              and not inspect.isclass(obj)))


def get(identifier: OptimizerLike,
        custom_objects: Optional[Mapping[str, Any]] = None) -> Any:
  """Returns an optimizer for `compile(optimizer=...)`.

  Args:
    identifier: A Keras optimizer name (`"adam"`, `"sgd"`, `"rmsprop"`,
      `"adamw"`, `"adagrad"`, `"adamax"`, `"nadam"`, `"adadelta"`, `"lion"`;
      case-insensitive; Keras 3 defaults), a config dict from `serialize`, an
      hk_keras optimizer instance (returned as is), or any
      `optax.GradientTransformation` (returned as is). None gives None.
    custom_objects: Optional mapping of extra class names to classes.

  Returns:
    An `Optimizer` (which has optax's `init`/`update`) or the optax transform
    given.

  Raises:
    ValueError: If a name is unknown (the message lists valid names).
    TypeError: If the identifier is of an unsupported type.

  >>> get("adam")
  Adam(learning_rate=0.001, name='adam')
  """
  if identifier is None:
    return None
  if isinstance(identifier, str):
    return _lookup(identifier, custom_objects)()
  if isinstance(identifier, dict):
    return deserialize(identifier, custom_objects=custom_objects)
  if isinstance(identifier, Optimizer) or _is_transform(identifier):
    return identifier
  if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
    return identifier()
  hint = ""
  module = type(identifier).__module__ or ""
  if module.split(".")[0] == "keras":
    hint = (" Keras optimizer objects are not accepted: use the same name "
            "from hk_keras.optimizers (e.g. hk_keras.optimizers.Adam) or a "
            "string name.")
  raise TypeError(
      "Could not interpret optimizer identifier. Expected a Keras optimizer "
      "name, a config dict, an hk_keras.optimizers instance or an "
      f"optax.GradientTransformation. Received: identifier={identifier!r} "
      f"of type {type(identifier).__name__}.{hint}")


def as_gradient_transformation(identifier: OptimizerLike
                               ) -> optax.GradientTransformation:
  """Returns the genuine optax transform for anything `get` accepts.

  >>> import optax
  >>> isinstance(as_gradient_transformation("sgd"),
  ...            optax.GradientTransformation)
  True
  """
  obj = get(identifier)
  if obj is None:
    raise ValueError("An optimizer is required. Received: identifier=None")
  if isinstance(obj, Optimizer):
    return obj.build()
  return obj


def serialize(optimizer: Optimizer) -> Dict[str, Any]:
  """Returns a JSON-able config dict for an hk_keras optimizer.

  Args:
    optimizer: An `Optimizer` instance.

  Returns:
    `{"module": "hk_keras.optimizers", "class_name": ..., "config": ...,
    "registered_name": None}`.

  Raises:
    ValueError: For a raw optax transform (it is a pair of closures), or a
      learning-rate schedule without config.
    TypeError: For other objects.

  >>> serialize(SGD())["class_name"]
  'SGD'
  """
  if isinstance(optimizer, Optimizer):
    return {
        "module": "hk_keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }
  if _is_transform(optimizer):
    raise ValueError(f"Cannot serialize the optimizer {optimizer!r}. "
                     f"{_RAW_OPTAX_NOT_SERIALIZABLE}")
  raise TypeError(
      "Expected an hk_keras.optimizers.Optimizer to serialize. Received: "
      f"optimizer={optimizer!r} of type {type(optimizer).__name__}")


def deserialize(config: Dict[str, Any],
                custom_objects: Optional[Mapping[str, Any]] = None
                ) -> Optimizer:
  """Rebuilds an optimizer from `serialize`'s output (or Keras 3's).

  Args:
    config: A dict with `class_name` and `config`.
    custom_objects: Optional mapping of names to optimizer or schedule
      classes.

  Returns:
    The optimizer.

  Raises:
    ValueError: If the dict is malformed or the class name unknown.

  >>> deserialize(serialize(Adam(learning_rate=0.01))).learning_rate
  0.01
  """
  if not isinstance(config, dict) or not isinstance(
      config.get("class_name"), str):
    raise ValueError(
        "An optimizer config must be a dict with a string 'class_name' and "
        f"a 'config' dict. Received: config={config!r}")
  cls = _lookup(config["class_name"], custom_objects)
  return cls.from_config(dict(config.get("config") or {}),
                         custom_objects=custom_objects)
