"""`serialize_keras_object` / `deserialize_keras_object` for every Keras object.

Layers and models go through `_serialization` (their graph, build config and
functions); optimizers, learning-rate schedules, losses, metrics,
initializers, regularizers, constraints and functions (activations, loss and
metric functions) become Keras 3's dict,
`{"module", "class_name", "config", "registered_name"}`, through their
family's own `serialize`. Built-in objects name the public hk_keras module
(`"hk_keras.optimizers"` where Keras writes `"keras.optimizers"`); registered
custom objects name their defining module and `"package>name"`, as Keras.

Reading accepts both libraries' dicts: a class is found by its registered
name or `custom_objects` first, then by its family (from the module, with
the `hk_keras.` / `keras.` / `keras.src.` prefix dropped), then among the
built-in classes. Nothing from the dict is imported or run.
"""
import inspect
import types
from typing import Any, Mapping, NamedTuple, Optional

import jax
import numpy as np

from .._core import _registry
from . import _serialization


class _Family(NamedTuple):
  """One kind of config object: its module key, base class and functions."""
  key: str
  module: str
  base: type
  serialize: Any
  deserialize: Any


def _families():
  from .. import constraints  # pylint: disable=g-import-not-at-top
  from .. import initializers  # pylint: disable=g-import-not-at-top
  from .. import losses  # pylint: disable=g-import-not-at-top
  from .. import metrics  # pylint: disable=g-import-not-at-top
  from .. import optimizers  # pylint: disable=g-import-not-at-top
  from .. import regularizers  # pylint: disable=g-import-not-at-top
  from ..initializers import _base as init_base  # pylint: disable=g-import-not-at-top
  from ..losses import _loss  # pylint: disable=g-import-not-at-top
  from ..metrics import _stateless  # pylint: disable=g-import-not-at-top
  from ..optimizers import schedules  # pylint: disable=g-import-not-at-top
  from ..optimizers import _stateless as opt_stateless  # pylint: disable=g-import-not-at-top
  from ..optimizers.schedules import _base as schedule_base  # pylint: disable=g-import-not-at-top
  from ..constraints import _constraints  # pylint: disable=g-import-not-at-top
  from ..regularizers import _regularizers  # pylint: disable=g-import-not-at-top
  return (
      _Family("optimizers", "hk_keras.optimizers",
              opt_stateless.StatelessOptimizer, optimizers.serialize,
              optimizers.deserialize),
      _Family("optimizers.schedules", "hk_keras.optimizers.schedules",
              schedule_base.LearningRateSchedule, schedules.serialize,
              schedules.deserialize),
      _Family("losses", "hk_keras.losses", _loss.Loss, losses.serialize,
              losses.deserialize),
      _Family("metrics", "hk_keras.metrics", _stateless.StatelessMetric,
              metrics.serialize, metrics.deserialize),
      _Family("initializers", "hk_keras.initializers", init_base.Initializer,
              initializers.serialize, initializers.deserialize),
      _Family("regularizers", "hk_keras.regularizers",
              _regularizers.Regularizer, regularizers.serialize,
              regularizers.deserialize),
      _Family("constraints", "hk_keras.constraints", _constraints.Constraint,
              constraints.serialize, constraints.deserialize),
  )


def _is_layer(obj) -> bool:
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  return isinstance(obj, _layer.Layer)


def _family_of(obj) -> Optional[_Family]:
  for family in _families():
    if isinstance(obj, family.base):
      return family
  return None


def _is_builtin(cls) -> bool:
  return cls.__module__.startswith("hk_keras.") and (
      _registry.registered_name_or_none(cls) is None)


# -- serializing ------------------------------------------------------------------

def _function_entry(fn) -> dict:
  from .. import activations  # pylint: disable=g-import-not-at-top
  from ..losses import _registry as loss_registry  # pylint: disable=g-import-not-at-top
  from ..metrics import _registry as metric_registry  # pylint: disable=g-import-not-at-top
  registered = _registry.registered_name_or_none(fn)
  if registered is not None:
    return {"module": fn.__module__, "class_name": "function",
            "config": registered, "registered_name": registered}
  name = getattr(fn, "__name__", None)
  if not name or name == "<lambda>":
    raise ValueError(
        f"Cannot serialize the function {fn!r}: it is a lambda (or has no "
        "name), and hk_keras never stores code. Use a module-level function "
        "registered with @hk_keras.saving.register_keras_serializable().")
  try:
    name = activations.serialize(fn)
    return {"module": "hk_keras.activations", "class_name": "function",
            "config": name, "registered_name": name}
  except ValueError:
    pass
  for module, table in (("hk_keras.losses", loss_registry.FUNCTIONS_BY_NAME),
                        ("hk_keras.metrics",
                         metric_registry._FUNCTIONS_BY_NAME)):  # pylint: disable=protected-access
    for key, value in table.items():
      if value is fn:
        return {"module": module, "class_name": "function", "config": key,
                "registered_name": key}
  # A named function that is not registered: saved by name, as Keras; the
  # loading process passes it in `custom_objects`.
  return {"module": fn.__module__, "class_name": "function", "config": name,
          "registered_name": name}


def serialize_keras_object(obj: Any) -> Any:
  """Returns the JSON-able description of a Keras object (Keras 3's format).

  Layers and models give their layer entry (see `hk_keras.saving`);
  optimizers, schedules, losses, metrics, initializers, regularizers and
  constraints give `{"module", "class_name", "config", "registered_name"}`;
  functions (activations, loss functions, registered functions) give
  `{"class_name": "function", "config": name, ...}`; plain values, lists
  and dicts are returned with their items serialized.

  Args:
    obj: the object.

  Returns:
    A JSON-able value that `deserialize_keras_object` turns back into an
    equal object.

  Raises:
    TypeError: for an object without a config (the message says what
      hk_keras can serialize).
    ValueError: for a lambda, or an object its family cannot serialize (a
      raw optax transform).

  >>> import hk_keras
  >>> serialize_keras_object(hk_keras.losses.MeanSquaredError())["module"]
  'hk_keras.losses'
  """
  if obj is None or isinstance(obj, (bool, int, float, str)):
    return obj
  if isinstance(obj, np.generic):
    return obj.item()
  if isinstance(obj, (list, tuple)):
    items = [serialize_keras_object(x) for x in obj]
    return tuple(items) if isinstance(obj, tuple) else items
  if isinstance(obj, dict):
    return {k: serialize_keras_object(v) for k, v in obj.items()}
  if _is_layer(obj):
    return _serialization.serialize_keras_object(obj)
  if isinstance(obj, (np.ndarray, jax.Array)):
    array = np.asarray(obj)
    if array.dtype.kind not in "biuf":
      raise TypeError(f"Cannot serialize an array of dtype {array.dtype}.")
    return {"class_name": "__numpy__",
            "config": {"value": array.tolist(), "dtype": array.dtype.name}}
  if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)) or (
      inspect.isfunction(getattr(obj, "__wrapped__", None))):
    return _function_entry(obj)
  family = _family_of(obj)
  if family is not None:
    entry = family.serialize(obj)
    cls = type(obj)
    registered = _registry.registered_name_or_none(cls)
    return {"module": (family.module if _is_builtin(cls)
                       else cls.__module__),
            "class_name": cls.__name__,
            "config": serialize_keras_object(entry.get("config")),
            "registered_name": registered}
  if callable(obj) and hasattr(obj, "__name__"):
    return _function_entry(obj)
  raise TypeError(
      f"Cannot serialize {obj!r} of type {type(obj).__name__}: "
      "serialize_keras_object takes layers, models, optimizers, learning-rate "
      "schedules, losses, metrics, initializers, regularizers, constraints, "
      "named functions, and plain values, lists and dicts of them.")


# -- deserializing ----------------------------------------------------------------

def _module_key(module) -> Optional[str]:
  """`"hk_keras.optimizers.schedules._x"` / `"keras.src.losses.losses"` ->
  `"optimizers.schedules"` / `"losses"`; None when the module says nothing
  (absent, or a user's module)."""
  if not isinstance(module, str):
    return None
  for prefix in ("hk_keras.", "keras.src.", "keras."):
    if module.startswith(prefix):
      parts = module[len(prefix):].split(".")
      if parts[:2] == ["optimizers", "schedules"]:
        return "optimizers.schedules"
      return parts[0]
  if module in ("keras", "hk_keras"):
    return "models"
  return None


def _function(entry, custom_objects):
  from .. import activations  # pylint: disable=g-import-not-at-top
  from ..losses import _registry as loss_registry  # pylint: disable=g-import-not-at-top
  from ..metrics import _registry as metric_registry  # pylint: disable=g-import-not-at-top
  name = entry.get("config")
  if not isinstance(name, str):
    raise ValueError("A serialized function must hold its name under "
                     f"'config'. Received: {entry!r}")
  found = _registry.get_registered_object(name, custom_objects)
  if found is not None:
    return found
  key = _module_key(entry.get("module"))
  order = {"losses": ("losses", "activations", "metrics"),
           "metrics": ("metrics", "losses", "activations")}.get(
               key, ("activations", "losses", "metrics"))
  tables = {"losses": loss_registry.FUNCTIONS_BY_NAME,
            "metrics": metric_registry._FUNCTIONS_BY_NAME}  # pylint: disable=protected-access
  for kind in order:
    if kind == "activations":
      try:
        return activations.get(name)
      except (ValueError, TypeError):
        continue
    if name in tables[kind]:
      return tables[kind][name]
  raise ValueError(
      f"Unknown function {name!r} (module {entry.get('module')!r}): it is "
      "neither a built-in activation, loss or metric nor registered. Register "
      "it with @hk_keras.saving.register_keras_serializable() in the loading "
      f"process, or pass custom_objects={{{name!r}: fn}}.")


def _numpy(entry):
  config = entry.get("config") or {}
  dtype = np.dtype(config.get("dtype", "float32"))
  if dtype.kind not in "biuf":
    raise ValueError(f"A serialized array must be numeric; found dtype "
                     f"{dtype}.")
  return np.asarray(config.get("value"), dtype)


def _given_class(entry, custom_objects):
  """The class a registered name or `custom_objects` gives, else None."""
  registered = entry.get("registered_name")
  if isinstance(registered, str) and registered:
    cls = _registry.get_registered_object(registered, custom_objects)
    if cls is not None:
      return cls
  return _registry.lookup_given(entry["class_name"], custom_objects)


def _by_family(family, entry, custom_objects):
  plain = {"class_name": entry["class_name"],
           "config": entry.get("config") or {}}
  return family.deserialize(plain, custom_objects)


def _layer_entry(entry, custom_objects, safe_mode):
  if not str(entry.get("module") or "").startswith("keras"):
    return _serialization.deserialize_keras_object(entry, custom_objects,
                                                   safe_mode)
  # A Keras 3 layer or model dict: map its config to hk_keras first.
  from . import _keras3_config  # pylint: disable=g-import-not-at-top
  return _serialization.deserialize_keras_object(
      _keras3_config.entry_from_keras(entry), custom_objects, safe_mode)


def _guess(entry, custom_objects, safe_mode):
  """A dict without a telling module: the families in turn, by class name
  (a config with a `reduction` is a loss before a metric)."""
  families = {f.key: f for f in _families()}
  config = entry.get("config")
  order = ["optimizers", "optimizers.schedules", "losses", "metrics",
           "initializers", "regularizers", "constraints"]
  if not (isinstance(config, dict) and "reduction" in config):
    order[2], order[3] = "metrics", "losses"
  if entry["class_name"] in _serialization._builtin_classes():  # pylint: disable=protected-access
    return _serialization.deserialize_keras_object(entry, custom_objects,
                                                   safe_mode)
  for key in order:
    try:
      return _by_family(families[key], entry, custom_objects)
    except ValueError:
      continue
  raise ValueError(
      f"Cannot deserialize {entry['class_name']!r} (module "
      f"{entry.get('module')!r}): it is not a built-in hk_keras class and is "
      "not registered. Import the code that defines it, decorated with "
      "@hk_keras.saving.register_keras_serializable(), or pass "
      f"custom_objects={{{entry['class_name']!r}: cls}}.")


def deserialize_keras_object(config: Any,
                             custom_objects: Optional[Mapping[str, Any]] = None,
                             safe_mode: bool = True) -> Any:
  """Rebuilds an object from `serialize_keras_object`'s output (or Keras 3's).

  Args:
    config: what `serialize_keras_object` returned (hk_keras's or Keras
      3's): a dict with `class_name` and `config`, or a plain value, list or
      dict of them.
    custom_objects: `{name: class_or_function}` for custom classes and
      functions.
    safe_mode: refuse layers whose function was a lambda (as Keras).

  Returns:
    The object (a plain value is returned as it is).

  Raises:
    ValueError: for an unknown class or function (the message says what to
      pass).
    TypeError: if a class cannot be rebuilt from its config.

  >>> import hk_keras
  >>> opt = hk_keras.optimizers.SGD(learning_rate=0.5)
  >>> deserialize_keras_object(serialize_keras_object(opt)).learning_rate
  0.5
  """
  if config is None or isinstance(config, (bool, int, float, str)):
    return config
  if isinstance(config, (list, tuple)):
    return [deserialize_keras_object(c, custom_objects, safe_mode)
            for c in config]
  if not isinstance(config, dict):
    raise TypeError(
        "deserialize_keras_object expects what serialize_keras_object "
        f"returned (a dict, list or plain value). Received: {config!r} of "
        f"type {type(config).__name__}")
  if not isinstance(config.get("class_name"), str) or "config" not in config:
    return {k: deserialize_keras_object(v, custom_objects, safe_mode)
            for k, v in config.items()}
  with _registry.custom_object_scope(custom_objects or {}):
    return _deserialize_entry(config, custom_objects, safe_mode)


def _deserialize_entry(entry, custom_objects, safe_mode):
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  class_name = entry["class_name"]
  if class_name == "function":
    return _function(entry, custom_objects)
  if class_name == "__numpy__":
    return _numpy(entry)
  if class_name == "__tuple__":
    return tuple(deserialize_keras_object(
        (entry.get("config") or {}).get("value", []), custom_objects,
        safe_mode))
  cls = _given_class(entry, custom_objects)
  if cls is not None and inspect.isclass(cls):
    if issubclass(cls, _layer.Layer):
      return _serialization.deserialize_keras_object(entry, custom_objects,
                                                     safe_mode)
    inner = dict(entry.get("config") or {})
    if not hasattr(cls, "from_config"):
      return cls(**inner)
    params = inspect.signature(cls.from_config).parameters
    if "custom_objects" in params:
      return cls.from_config(inner, custom_objects=custom_objects)
    return cls.from_config(inner)
  key = _module_key(entry.get("module"))
  if key in ("layers", "models"):
    return _layer_entry(entry, custom_objects, safe_mode)
  for family in _families():
    if family.key == key:
      return _by_family(family, entry, custom_objects)
  return _guess(entry, custom_objects, safe_mode)
