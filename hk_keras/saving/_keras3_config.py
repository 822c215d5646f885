"""Keras 3 `config.json` to hk_keras's serialized form and back.

Keras 3 and hk_keras describe a layer the same way (`module`, `class_name`,
`registered_name`, `config`), with the same constructor arguments for the
layers the two share. What differs, and is translated here:

* a dtype policy is a `DTypePolicy` object in Keras, its name in hk_keras;
* initializers, regularizers and constraints name their module
  `keras.<subpackage>` in Keras and `hk_keras.<subpackage>` in hk_keras;
* arguments one side has and the other lacks (`KERAS_ONLY`, `HK_ONLY`):
  dropped when they hold their default, otherwise an error naming the layer;
* Functional graphs: Keras writes a call argument as a `__keras_tensor__`
  with its `keras_history` `[layer, node, index]`, hk_keras as
  `{"__tensor__": [layer, node, index]}` (same indices);
* Sequential: Keras lists its `InputLayer` first among the layers, hk_keras
  keeps it apart as `input_layer`.

Nothing here imports or runs code named by a file: classes are looked up by
name among hk_keras's built-in layers (or `custom_objects` and registered
classes, as for hk_keras's own files).
"""
from typing import Any, Dict

from . import _serialization

# Keras-only constructor arguments hk_keras accepts only at these values.
KERAS_ONLY: Dict[str, Any] = {
    "quantization_config": None, "use_gate": False, "sliding_window": None,
    "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
    "synchronized": False, "sparse": False, "ragged": False,
    "optional": False, "lora_rank": None, "lora_alpha": None,
}
# hk_keras-only constructor arguments, left out of a Keras file at these
# values (Keras would refuse them).
HK_ONLY: Dict[str, Any] = {
    "cross_replica_axis": None,
}
_HK_ONLY_NEVER = ("use_cudnn",)  # Keras accepts it but does not save it
# Keras classes whose constructor refuses `trainable`.
_NO_TRAINABLE = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
_POLICIES = ("DTypePolicy", "FloatDTypePolicy", "DTypePolicyFloat",
             "QuantizedDTypePolicy")
_MODELS = ("Functional", "Sequential", "Model")
# Config keys that hold a nested layer (wrappers) or a list of them.
_LAYER_KEYS = ("layer", "backward_layer", "cell", "cells", "layers")


class Keras3ConfigError(ValueError):
  """A Keras 3 config that hk_keras cannot map (the message says why)."""


# -- reading -----------------------------------------------------------------------

def _is_object(value) -> bool:
  return isinstance(value, dict) and "class_name" in value and (
      "config" in value)


def _value_from_keras(value, layer: str, key: str):
  """A config value with Keras objects in hk_keras's form."""
  if isinstance(value, list):
    return [_value_from_keras(v, layer, key) for v in value]
  if not isinstance(value, dict):
    return value
  if _is_object(value):
    cls = value["class_name"]
    if cls in _POLICIES:
      return (value.get("config") or {}).get("name")
    if cls in ("__tuple__", "__list__"):
      return [_value_from_keras(v, layer, key)
              for v in (value["config"] or {}).get("value", [])]
    if cls == "__numpy__":
      return (value["config"] or {}).get("value")
    if cls in ("__bytes__", "__lambda__", "__typespec__", "function"):
      raise Keras3ConfigError(
          f"Layer {layer!r}: its argument {key!r} is a Keras {cls} object, "
          "which hk_keras does not read from a file (no code is loaded).")
    out = {k: _value_from_keras(v, layer, key) for k, v in value.items()
           if k != "shared_object_id"}
    module = out.get("module")
    if isinstance(module, str) and (module == "keras" or
                                    module.startswith("keras.")):
      out["module"] = "hk_keras" + module[len("keras"):].replace(
          ".src.", ".")
    return out
  return {k: _value_from_keras(v, layer, key) for k, v in value.items()
          if k != "shared_object_id"}


def _function_ref(value):
  """A Keras-serialized function as the name hk_keras saves it under (None
  for a lambda: its bytecode in the file is never read)."""
  if isinstance(value, dict):
    if value.get("class_name") == "function":
      config = value.get("config")
      return config if isinstance(config, str) else None
    return None
  return value if isinstance(value, str) else None


def _layer_config_from_keras(class_name, config, layer):
  out = {}
  for key, value in config.items():
    if key in KERAS_ONLY:
      if value != KERAS_ONLY[key] and not (
          isinstance(value, (list, tuple)) and not value):
        raise Keras3ConfigError(
            f"Layer {layer!r} ({class_name}) uses the Keras 3 argument "
            f"{key}={value!r}, which hk_keras does not support (only "
            f"{key}={KERAS_ONLY[key]!r}), so the model cannot be mapped.")
      continue
    if class_name == "Lambda" and key in ("function", "output_shape",
                                          "mask"):
      out[key] = _function_ref(value) if (
          key == "function" or isinstance(value, dict)) else value
      continue
    if key in _LAYER_KEYS and class_name not in _MODELS:
      if isinstance(value, list):
        out[key] = [entry_from_keras(v) for v in value]
      elif isinstance(value, dict):
        out[key] = entry_from_keras(value)
      else:
        out[key] = value
      continue
    out[key] = _value_from_keras(value, layer, key)
  return out


def _check_known(entry, class_name, layer):
  """Refuses a Keras class hk_keras lacks (unless custom_objects/registry
  can name it), with a message naming the layer."""
  builtins = _serialization._builtin_classes()  # pylint: disable=protected-access
  if class_name in builtins or entry.get("registered_name"):
    return
  from .._core import _registry  # pylint: disable=g-import-not-at-top
  if _registry.lookup_given(class_name) is not None:
    return
  raise Keras3ConfigError(
      f"Cannot map layer {layer!r}: its Keras class {class_name!r} (module "
      f"{entry.get('module')!r}) has no hk_keras counterpart. Pass an "
      "equivalent hk_keras layer class when loading: "
      f"load_model(path, custom_objects={{{class_name!r}: YourLayer}}).")


def _tensor_from_keras(value):
  """Keras call arguments (`__keras_tensor__` ...) in hk_keras's graph form."""
  if isinstance(value, list):
    return [_tensor_from_keras(v) for v in value]
  if isinstance(value, dict):
    if value.get("class_name") == "__keras_tensor__":
      history = (value.get("config") or {}).get("keras_history")
      if not (isinstance(history, list) and len(history) == 3):
        raise Keras3ConfigError(
            f"A Keras tensor in the saved graph has no valid keras_history: "
            f"{value!r}. The config is corrupt.")
      return {"__tensor__": list(history)}
    if value.get("class_name") == "__tuple__" and "config" in value:
      return {"__tuple__": [_tensor_from_keras(v) for v in
                            (value["config"] or {}).get("value", [])]}
    if _is_object(value):
      return _value_from_keras(value, "?", "call argument")
    return {"__dict__": {k: _tensor_from_keras(v) for k, v in value.items()}}
  return value


def _node_from_keras(node, layer):
  if isinstance(node, list):
    raise Keras3ConfigError(
        f"Layer {layer!r}: its inbound_nodes are in the Keras 2 (tf.keras) "
        "format; hk_keras reads files written by Keras 3.")
  kwargs = {}
  for key, value in (node.get("kwargs") or {}).items():
    # The call's training flag comes from the model's call, and a mask of
    # None is the default: Keras records both for every node.
    if key == "training" or (key == "mask" and value is None):
      continue
    kwargs[key] = _tensor_from_keras(value)
  return {"args": _tensor_from_keras(node.get("args") or []),
          "kwargs": kwargs}


def _ref_from_keras(value):
  """Keras's `input_layers`/`output_layers` in hk_keras's form."""
  if isinstance(value, list) and len(value) == 3 and isinstance(
      value[0], str) and isinstance(value[1], int):
    return {"__tensor__": list(value)}
  if isinstance(value, list):
    return [_ref_from_keras(v) for v in value]
  if isinstance(value, dict):
    return {"__dict__": {k: _ref_from_keras(v) for k, v in value.items()}}
  raise Keras3ConfigError(f"Malformed input/output reference {value!r} in "
                          "the saved Functional config.")


def _model_config_from_keras(class_name, config):
  name = config.get("name")
  base = {"name": name, "trainable": config.get("trainable", True),
          "dtype": _value_from_keras(config.get("dtype"), name, "dtype")}
  layers = config.get("layers") or []
  if class_name == "Sequential" or "input_layers" not in config:
    entries = [entry_from_keras(e) for e in layers]
    input_layer = None
    if entries and entries[0]["class_name"] == "InputLayer":
      input_layer, entries = entries[0], entries[1:]
    spec = None
    shape = config.get("build_input_shape")
    if input_layer is None and isinstance(shape, list):
      spec = {"shape": shape, "dtype": "float32"}
    return {**base, "layers": entries, "input_layer": input_layer,
            "input_spec": spec}
  entries = []
  for raw in layers:
    entry = entry_from_keras(raw)
    entry["inbound_nodes"] = [_node_from_keras(n, entry["name"])
                              for n in raw.get("inbound_nodes") or []]
    entries.append(entry)
  return {**base, "layers": entries,
          "input_layers": _ref_from_keras(config["input_layers"]),
          "output_layers": _ref_from_keras(config["output_layers"])}


def entry_from_keras(entry: Dict[str, Any]) -> Dict[str, Any]:
  """One serialized Keras 3 layer or model in hk_keras's form.

  Raises:
    Keras3ConfigError: for a class or argument hk_keras cannot map (the
      message names the layer).
  """
  if not isinstance(entry, dict) or not isinstance(
      entry.get("class_name"), str) or not isinstance(
          entry.get("config"), dict):
    raise Keras3ConfigError(
        f"A saved Keras layer must be a dict with 'class_name' and 'config'. "
        f"Received: {str(entry)[:200]}")
  class_name = entry["class_name"]
  config = entry["config"]
  layer = entry.get("name") or config.get("name")
  module = entry.get("module") or ""
  registered = entry.get("registered_name")
  if registered and (registered.startswith("keras") or
                     registered in _MODELS or registered == class_name and
                     (module == "keras" or module.startswith("keras."))):
    registered = None
  if class_name in _MODELS and not registered:
    config = _model_config_from_keras(class_name, config)
    if class_name == "Model":
      class_name = "Functional" if "input_layers" in config else "Sequential"
  else:
    _check_known(entry, class_name, layer)
    config = _layer_config_from_keras(class_name, config, layer)
  hk_module = ("hk_keras" + module[len("keras"):]) if (
      module == "keras" or module.startswith("keras.")) else module
  out = {"module": hk_module, "class_name": class_name,
         "registered_name": registered, "name": layer, "config": config}
  return out


# -- writing -------------------------------------------------------------------------

def _value_to_keras(value):
  if isinstance(value, list):
    return [_value_to_keras(v) for v in value]
  if isinstance(value, dict):
    out = {k: _value_to_keras(v) for k, v in value.items()}
    module = out.get("module")
    if isinstance(module, str) and module.startswith("hk_keras"):
      out["module"] = "keras" + module[len("hk_keras"):]
    return out
  return value


def _policy(name):
  if name is None:
    return None
  return {"module": "keras", "class_name": "DTypePolicy",
          "config": {"name": name}, "registered_name": None}


def layer_config_to_keras(class_name: str, config: Dict[str, Any],
                          layer: str) -> Dict[str, Any]:
  """An hk_keras `get_config()` as Keras 3 expects it."""
  out = {}
  for key, value in config.items():
    if key in _HK_ONLY_NEVER or (key == "trainable" and value is True and
                                 class_name in _NO_TRAINABLE):
      continue
    if key in HK_ONLY:
      if value != HK_ONLY[key]:
        raise Keras3ConfigError(
            f"Layer {layer!r} ({class_name}) uses {key}={value!r}, which "
            "Keras 3 does not have, so it cannot be written as a Keras 3 "
            "file. Save it in hk_keras's format (model.save(path)).")
      continue
    if key == "dtype" and isinstance(value, str):
      out[key] = _policy(value)
    elif key in _LAYER_KEYS and isinstance(value, dict) and (
        "class_name" in value):
      out[key] = entry_to_keras_config(value)
    elif key in _LAYER_KEYS and isinstance(value, list) and all(
        isinstance(v, dict) and "class_name" in v for v in value):
      out[key] = [entry_to_keras_config(v) for v in value]
    else:
      out[key] = _value_to_keras(value)
  return out


def entry_to_keras_config(entry: Dict[str, Any]) -> Dict[str, Any]:
  """A nested hk_keras entry (a wrapper's `layer`) in Keras's form."""
  return {"module": "keras.layers", "class_name": entry["class_name"],
          "config": layer_config_to_keras(entry["class_name"],
                                          entry.get("config") or {},
                                          entry.get("name")),
          "registered_name": None}
