"""Saving the wrapper layers of other JAX libraries: names and shapes only.

A saved `JaxLayer` names its functions; a `FlaxLayer`/`EquinoxLayer` names
its module's class. No code is stored: loading finds the function, module or
a factory of the module by name in `custom_objects` (by layer name first),
the active custom-object scope or the registry, and the weights come from
the arrays file.
"""
from typing import Any, Optional

import jax.numpy as jnp
import numpy as np

from .._core import _registry

_MODULE_MISSING = (
    "Cannot rebuild layer {layer!r} ({cls}): the {what} {ref!r} is not stored "
    "in the file (hk_keras never saves code). Pass it when loading, "
    "load_model(path, custom_objects={{{layer!r}: {hint}}}), or register a "
    "function that returns it with "
    "@hk_keras.saving.register_keras_serializable(name={ref!r}).")


def function_ref(fn) -> Optional[str]:
  """The name a function is saved under (None for None and lambdas)."""
  if fn is None:
    return None
  registered = _registry.registered_name_or_none(fn)
  if registered is not None:
    return registered
  name = getattr(fn, "__name__", None)
  if not name or name == "<lambda>":
    return None
  return name


def resolve_function(ref, what: str, layer: Optional[str]):
  """The function saved as `ref` (`what` is "call_fn" or "init_fn")."""
  found = None if ref is None else _registry.get_registered_object(ref)
  if found is None:
    raise ValueError(
        f"Cannot rebuild JaxLayer {layer!r}: its {what} "
        f"{'was a lambda' if ref is None else repr(ref)}, and no code is "
        "stored in the file. Give the layer module-level functions and pass "
        f"them when loading, load_model(path, custom_objects={{'{ref or 'fn'}'"
        ": fn}), or register them with "
        "@hk_keras.saving.register_keras_serializable().")
  if not callable(found):
    raise TypeError(f"The object found for the {what} {ref!r} of layer "
                    f"{layer!r} is not callable: {found!r}.")
  return found


def resolve_module(config, cls_name: str, is_module):
  """The wrapped module: `custom_objects[layer name]` or by class name.

  The object found is either the module itself (`is_module(obj)`) or a
  factory called with no arguments that returns it.
  """
  layer = config.get("name")
  ref = config.get("module")
  found = None
  if layer is not None:
    found = _registry.lookup_given(layer)
  if found is None and isinstance(ref, str):
    found = _registry.get_registered_object(ref)
  if found is None:
    raise ValueError(_MODULE_MISSING.format(
        layer=layer, cls=cls_name, what="module of class", ref=ref,
        hint="module_or_factory"))
  if not is_module(found):
    if not callable(found):
      raise TypeError(f"custom_objects gave {found!r} for the module of layer "
                      f"{layer!r}; expected the module or a function "
                      "returning it.")
    found = found()
    if not is_module(found):
      raise TypeError(
          f"The factory for the module of layer {layer!r} returned "
          f"{type(found).__name__}, not a module. It must return the module "
          f"({cls_name} expects one).")
  return found


def encode_tree_spec(tree, kind: str, layer: str) -> Any:
  """Shapes and dtypes of a tree of dicts/lists of arrays, as JSON.

  None when there is no tree; a tree of other node types cannot be
  described in JSON, and then the layer needs `init_fn` to be rebuilt.
  """
  if tree is None:
    return None
  if isinstance(tree, dict):
    if not all(isinstance(k, str) for k in tree):
      return _unsupported(kind, layer)
    return {"dict": {k: encode_tree_spec(v, kind, layer)
                     for k, v in tree.items()}}
  if isinstance(tree, (list, tuple)) and type(tree) in (list, tuple):
    return {"list": [encode_tree_spec(v, kind, layer) for v in tree],
            "tuple": isinstance(tree, tuple)}
  if hasattr(tree, "shape") and hasattr(tree, "dtype"):
    return {"shape": [int(d) for d in np.shape(tree)],
            "dtype": np.dtype(tree.dtype).name}
  if isinstance(tree, (bool, int, float)):
    return {"scalar": type(tree).__name__}
  return _unsupported(kind, layer)


def _unsupported(kind, layer):
  return {"unsupported": f"the {kind} of layer {layer!r} is not a tree of "
                         "dicts, lists and arrays"}


def decode_tree_spec(data) -> Any:
  """Zeros shaped as saved by `encode_tree_spec` (the weights file fills
  in the values)."""
  if data is None:
    return None
  if not isinstance(data, dict):
    raise ValueError(f"Malformed tree spec in a saved JaxLayer config: "
                     f"{data!r}")
  if "unsupported" in data:
    raise ValueError(
        f"Cannot rebuild a JaxLayer without init_fn: {data['unsupported']}, "
        "so its structure could not be saved. Give the layer an init_fn.")
  if "dict" in data:
    return {k: decode_tree_spec(v) for k, v in data["dict"].items()}
  if "list" in data:
    items = [decode_tree_spec(v) for v in data["list"]]
    return tuple(items) if data.get("tuple") else items
  if "shape" in data:
    return np.zeros(tuple(int(d) for d in data["shape"]),
                    jnp.dtype(str(data["dtype"])))
  if "scalar" in data:
    return {"bool": False, "int": 0, "float": 0.0}[data["scalar"]]
  raise ValueError(f"Malformed tree spec in a saved JaxLayer config: {data!r}")
