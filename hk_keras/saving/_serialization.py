"""Layers and models to JSON-able dicts and back (no code is ever stored).

A serialized layer is `{"module", "class_name", "registered_name", "name",
"config"}` (plus `"build_config"` for a built model that is not Functional):
the class is found again by its registered name, `custom_objects` or the
table of built-in classes, and rebuilt with `from_config(config)`. Functions
of `Lambda` and `HaikuLayer` layers are saved by name only.
"""
import contextlib
import inspect
import threading
import warnings
from typing import Any, Dict, Mapping, Optional

import numpy as np

from .._core import _registry
from ..config import _settings as _config

_local = threading.local()

_LAMBDA_REFUSED = (
    "Layer {layer!r} ({cls}) wraps a Python lambda (or another function "
    "without a usable name). hk_keras never stores code in a saved file, and "
    "load_model(safe_mode=True) refuses such layers, as Keras does for "
    "lambdas. Either give the layer a module-level function registered with "
    "@hk_keras.saving.register_keras_serializable() and save again, or load "
    "with safe_mode=False and pass the function by layer name: "
    "load_model(path, custom_objects={{{layer!r}: fn}}, safe_mode=False).")

_FUNCTION_MISSING = (
    "Layer {layer!r} ({cls}) calls the function {fn!r}, which is not stored "
    "in the file (hk_keras never saves code). Pass it when loading, "
    "load_model(path, custom_objects={{{fn!r}: fn}}) (or keyed by the layer "
    "name {layer!r}), or register it in the loading process with "
    "@hk_keras.saving.register_keras_serializable().")

_CLASS_MISSING = (
    "Cannot rebuild layer {layer!r}: its class {name!r} (module {module!r}) "
    "is not a built-in hk_keras class and is not registered. Import the code "
    "that defines it, decorated with "
    "@hk_keras.saving.register_keras_serializable(), before loading, or pass "
    "it: load_model(path, custom_objects={{{short!r}: {short}}}).")


# Public non-layer classes a crafted file might name as a layer class.
_NOT_LAYERS = ("KerasTensor", "InputSpec", "ShapeSpec", "Node")


class RebuildError(TypeError):
  """A saved layer's class could not be rebuilt from its config."""


class _LoadContext:
  """What one `deserialize` run shares: options and layers rebuilt so far."""

  def __init__(self, safe_mode):
    self.safe_mode = safe_mode
    self.layers: Dict[str, Any] = {}


def _load_context() -> Optional[_LoadContext]:
  return getattr(_local, "ctx", None)


@contextlib.contextmanager
def load_context(safe_mode=True):
  """Rebuilds inside share layers by name (a layer used by two nested models
  is one layer: names are unique across a model, nested ones included)."""
  outer = _load_context()
  if outer is not None:
    yield outer
    return
  _local.ctx = _LoadContext(safe_mode)
  try:
    yield _local.ctx
  finally:
    _local.ctx = None


# -- JSON-able values -----------------------------------------------------------

def jsonable(value: Any, where: str) -> Any:
  """A copy of `value` with tuples as lists and NumPy scalars as Python ones.

  Raises:
    TypeError: naming `where` and the offending entry, for anything JSON
      cannot hold (arrays, functions, objects).
  """
  if value is None or isinstance(value, (bool, int, float, str)):
    return value
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, (list, tuple)):
    return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
  if isinstance(value, dict):
    out = {}
    for k, v in value.items():
      if not isinstance(k, str):
        raise TypeError(f"{where} has a non-string key {k!r}; configs must be "
                        "JSON objects with string keys.")
      out[k] = jsonable(v, f"{where}[{k!r}]")
    return out
  raise TypeError(
      f"{where} holds {value!r} of type {type(value).__name__}, which cannot "
      "be saved in a JSON config. get_config() must return only numbers, "
      "strings, bools, None and lists/dicts of them (serialize objects such as "
      "activations or initializers with their subpackage's serialize()).")


# -- classes -----------------------------------------------------------------------

def _builtin_classes() -> Dict[str, type]:
  from .. import layers  # pylint: disable=g-import-not-at-top
  from .. import models  # pylint: disable=g-import-not-at-top
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  table = {}
  for module in (layers, models):
    for name in module.__all__:
      obj = getattr(module, name)
      # Only layer classes: KerasTensor, InputSpec... are not rebuildable.
      if inspect.isclass(obj) and issubclass(obj, _layer.Layer):
        table[name] = obj
  return table


def _check_layer_class(cls, entry):
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  if not (inspect.isclass(cls) and issubclass(cls, _layer.Layer)):
    raise ValueError(
        f"Cannot rebuild layer {entry.get('name')!r}: its class name "
        f"{entry.get('class_name')!r} resolves to {cls!r}, which is not an "
        "hk_keras layer or model class.")
  return cls


def _is_model(obj) -> bool:
  from ..models import _model  # pylint: disable=g-import-not-at-top
  return isinstance(obj, _model.Model)


def _function_ref(fn) -> Optional[str]:
  """The name a layer's function is saved under (None for lambdas)."""
  registered = _registry.registered_name_or_none(fn)
  if registered is not None:
    return registered
  name = getattr(fn, "__name__", None)
  if not name or name == "<lambda>":
    return None
  return name


def serialize_keras_object(obj: Any) -> Dict[str, Any]:
  """Returns the JSON-able description of a layer or model.

  Args:
    obj: an `hk_keras.layers.Layer` (models included).

  Returns:
    `{"module", "class_name", "registered_name", "name", "config"}` and, for
    a built model that is not Functional, `"build_config"`.

  Raises:
    TypeError: if `get_config()` returns something JSON cannot hold.

  >>> import hk_keras
  >>> serialize_keras_object(hk_keras.layers.Dense(3))["class_name"]
  'Dense'
  """
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  if not isinstance(obj, _layer.Layer):
    raise TypeError(
        "serialize_keras_object expects an hk_keras layer or model. Received: "
        f"{obj!r} of type {type(obj).__name__}. Losses, metrics, optimizers, "
        "activations and initializers have their own serialize() functions.")
  cls = type(obj)
  config = obj.get_config()
  if not isinstance(config, dict):
    raise TypeError(f"{cls.__name__}.get_config() of layer {obj.name!r} must "
                    f"return a dict. Received: {config!r}")
  config = dict(config)
  fn_key = _function_key(obj)
  if fn_key is not None:
    fn = getattr(obj, fn_key)
    config[fn_key] = _function_ref(fn)
  entry = {
      "module": cls.__module__,
      "class_name": cls.__name__,
      "registered_name": _registry.registered_name_or_none(cls),
      "name": obj.name,
      "config": jsonable(config, f"the config of layer {obj.name!r}"),
  }
  if _is_model(obj) and obj.built and not hasattr(obj, "_inputs_struct"):
    spec = getattr(obj, "_input_spec", None)
    if spec is not None:
      entry["build_config"] = {"input_spec": encode_specs(spec)}
  return entry


def warn_about_lambdas(model) -> None:
  """Warns once per layer whose function is a lambda (it is not saved)."""
  seen, stack = set(), [model]
  while stack:
    layer = stack.pop()
    if id(layer) in seen:
      continue
    seen.add(id(layer))
    stack.extend(layer.layers)
    key = _function_key(layer)
    if key is not None and _function_ref(getattr(layer, key)) is None:
      warnings.warn(
          f"Layer {layer.name!r} ({type(layer).__name__}) wraps a lambda, "
          "which is not saved (hk_keras never stores code). Loading will need "
          f"safe_mode=False and custom_objects={{{layer.name!r}: fn}}; a "
          "module-level function registered with "
          "@hk_keras.saving.register_keras_serializable() avoids that.",
          stacklevel=4)


def _function_key(obj) -> Optional[str]:
  from ..layers import _haiku_layer  # pylint: disable=g-import-not-at-top
  from ..layers import _lambda  # pylint: disable=g-import-not-at-top
  if isinstance(obj, _lambda.Lambda):
    return "function"
  if isinstance(obj, _haiku_layer.HaikuLayer):
    return "fn"
  return None


def _resolve_class(entry, custom_objects):
  layer = entry.get("name") or (entry.get("config") or {}).get("name")
  registered = entry.get("registered_name")
  class_name = entry.get("class_name")
  if not isinstance(class_name, str):
    raise ValueError(f"A saved layer entry has no 'class_name': {entry!r}")
  if registered:
    cls = _registry.get_registered_object(registered, custom_objects)
    if cls is not None:
      return _check_layer_class(cls, entry)
  # Unregistered when saved: only names given explicitly when loading can
  # stand for it (a registered class of the same short name must not
  # replace a built-in layer).
  cls = _registry.lookup_given(class_name, custom_objects)
  if cls is not None and inspect.isclass(cls):
    return _check_layer_class(cls, entry)
  module = entry.get("module") or ""
  builtins = _builtin_classes()
  if class_name in builtins and (not module or module.startswith("hk_keras")):
    return builtins[class_name]
  short = (registered or class_name).split(">")[-1]
  if class_name in _NOT_LAYERS:
    raise ValueError(
        f"Cannot rebuild layer {layer!r}: {class_name!r} is an internal "
        "hk_keras class, not a layer; a saved file never names it as one "
        "(the file is corrupt or crafted).")
  raise ValueError(_CLASS_MISSING.format(layer=layer, name=registered or
                                         class_name, module=module,
                                         short=short))


def _resolve_function(cls, config, key, custom_objects, ctx):
  layer = config.get("name")
  ref = config.get(key)
  if ref is None and ctx.safe_mode:
    raise ValueError(_LAMBDA_REFUSED.format(layer=layer, cls=cls.__name__))
  found = None
  if layer is not None:
    found = _registry.lookup_given(layer, custom_objects)
  if found is None and ref is not None:
    found = _registry.get_registered_object(ref, custom_objects)
  if found is None:
    if ref is None:
      raise ValueError(
          f"Layer {layer!r} ({cls.__name__}) wraps a lambda that is not stored "
          f"in the file. Pass it: load_model(path, custom_objects={{{layer!r}: "
          "fn}, safe_mode=False).")
    raise ValueError(_FUNCTION_MISSING.format(layer=layer, cls=cls.__name__,
                                              fn=ref))
  if not callable(found):
    raise TypeError(f"custom_objects gave {found!r} for the function of layer "
                    f"{layer!r}; expected a callable.")
  return found


def deserialize_keras_object(config: Dict[str, Any],
                             custom_objects: Optional[Mapping[str, Any]] = None,
                             safe_mode: bool = True) -> Any:
  """Rebuilds a layer or model from `serialize_keras_object`'s output.

  Classes are found by registered name, in `custom_objects` or among the
  built-in layers and models; nothing from the config is imported or run.

  Args:
    config: the dict from `serialize_keras_object`.
    custom_objects: `{name: class_or_function}` for custom classes and for
      the functions of `Lambda`/`HaikuLayer` layers (by function or layer
      name).
    safe_mode: refuse layers whose function was a lambda (as Keras).

  Returns:
    The layer or model (a model with a saved input shape comes back built).

  Raises:
    ValueError: for unknown classes or missing functions (the message says
      what to pass).
    TypeError: if the class cannot be rebuilt from its config.
  """
  if not isinstance(config, dict):
    raise ValueError("A serialized layer must be a dict with 'class_name' and "
                     f"'config'. Received: {config!r}")
  with _registry.custom_object_scope(custom_objects), \
      load_context(safe_mode and _config.in_safe_mode()) as ctx:
    return _deserialize(config, custom_objects, ctx)


def _deserialize(entry, custom_objects, ctx):
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  cls = _resolve_class(entry, custom_objects)
  config = dict(entry.get("config") or {})
  name = config.get("name")
  is_model = _is_model_class(cls)
  shareable = not is_model and not issubclass(cls, _input.InputLayer)
  if shareable and name in ctx.layers:
    existing = ctx.layers[name]
    if type(existing) is not cls:
      raise ValueError(
          f"The saved model has two different layers named {name!r} "
          f"({type(existing).__name__} and {cls.__name__}); layer names must "
          "be unique across a model and its nested models.")
    return existing
  key = _function_key_for_class(cls)
  if key is not None:
    config[key] = _resolve_function(cls, config, key, custom_objects, ctx)
  try:
    obj = cls.from_config(config)
  except RebuildError:
    raise
  except (TypeError, KeyError) as err:
    raise RebuildError(
        f"Could not rebuild layer {name!r} of class {cls.__name__} from its "
        f"saved config {_short(config)}: {err}. A custom class must define "
        "get_config() returning its constructor arguments (and from_config() "
        "if they need converting back).") from err
  if name is not None and obj.name != name:
    obj._name = name  # pylint: disable=protected-access
  build = entry.get("build_config")
  if is_model and build and not obj.built:
    spec = decode_specs(build["input_spec"])
    obj._build_from_specs(obj._unpack_inputs(spec))  # pylint: disable=protected-access
  if shareable and name is not None:
    ctx.layers[name] = obj
  return obj


def _is_model_class(cls) -> bool:
  from ..models import _model  # pylint: disable=g-import-not-at-top
  return issubclass(cls, _model.Model)


def _function_key_for_class(cls) -> Optional[str]:
  from ..layers import _haiku_layer  # pylint: disable=g-import-not-at-top
  from ..layers import _lambda  # pylint: disable=g-import-not-at-top
  if issubclass(cls, _lambda.Lambda):
    return "function"
  if issubclass(cls, _haiku_layer.HaikuLayer):
    return "fn"
  return None


def _short(config, limit=300):
  text = repr(config)
  return text if len(text) <= limit else text[:limit] + "...}"


# -- input specs ------------------------------------------------------------------

def encode_specs(spec) -> Any:
  """A structure of `ShapeSpec`s (a model's input spec) as JSON."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  if isinstance(spec, _input.ShapeSpec):
    return {"shape": [None if d is None else int(d) for d in spec.shape],
            "dtype": jnp.dtype(spec.dtype).name}
  if isinstance(spec, (list, tuple)):
    return {"list": [encode_specs(s) for s in spec],
            "tuple": isinstance(spec, tuple)}
  if isinstance(spec, dict):
    return {"dict": {k: encode_specs(v) for k, v in spec.items()}}
  raise TypeError(f"Cannot save the input spec {spec!r}.")


def decode_specs(data) -> Any:
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  if "shape" in data:
    return _input.ShapeSpec(tuple(data["shape"]), data["dtype"])
  if "list" in data:
    items = [decode_specs(s) for s in data["list"]]
    return tuple(items) if data.get("tuple") else items
  if "dict" in data:
    return {k: decode_specs(v) for k, v in data["dict"].items()}
  raise ValueError(f"Malformed input spec in the saved config: {data!r}")
