"""`clone_model` and `model_from_json`, as in `keras.models`."""
import json
from typing import Any, Callable, Mapping, Optional

import jax

from ..layers import _input
from ..saving import _serialization


def _is_kt(x):
  return isinstance(x, _input.KerasTensor)


def _fresh_copy(layer):
  """A new layer of the same class and config (fresh weights, same name)."""
  return _serialization.deserialize_keras_object(
      _serialization.serialize_keras_object(layer))


def model_from_json(json_string: str,
                    custom_objects: Optional[Mapping[str, Any]] = None):
  """Rebuilds a model (fresh weights) from `model.to_json()`.

  Safe as `load_model`: classes come from hk_keras, the registry or
  `custom_objects`, never from code in the string.

  Raises:
    ValueError: for a string that is not JSON or not a model config.

  >>> import hk_keras
  >>> x = hk_keras.Input((3,))
  >>> model = hk_keras.Model(x, hk_keras.layers.Dense(2)(x))
  >>> model_from_json(model.to_json()).count_params()
  8
  """
  try:
    config = json.loads(json_string)
  except (TypeError, json.JSONDecodeError) as err:
    raise ValueError(
        "model_from_json expects the string returned by model.to_json(). "
        f"It is not valid JSON: {err}") from None
  if not isinstance(config, dict) or "class_name" not in config:
    raise ValueError(
        "model_from_json expects a serialized model with 'class_name' and "
        f"'config'. Received keys: {sorted(config) if isinstance(config, dict) else type(config).__name__}")
  return _serialization.deserialize_keras_object(config,
                                                 custom_objects=custom_objects)


def clone_model(model, input_tensors=None,
                clone_function: Optional[Callable] = None,
                call_function: Optional[Callable] = None,
                recursive: bool = False, **kwargs):
  """A new model with the same architecture and fresh weights, as Keras.

  Functional models are rebuilt by calling the cloned layers on new inputs
  (or `input_tensors`); Sequential models get the cloned layers in order;
  subclassed models are rebuilt from `get_config()`.

  Args:
    model: the model to clone.
    input_tensors: new `hk_keras.Input` tensors (Functional/Sequential).
    clone_function: `layer -> new layer`; default a fresh copy from
      config (same name and arguments, new weights). Return the layer
      itself to share it.
    call_function: `(layer, *args, **kwargs) -> outputs`, to change how the
      cloned layers are called (Functional only).
    recursive: also clone the layers inside nested models with
      `clone_function` (otherwise a nested model is cloned as one layer).

  Returns:
    The new model (uncompiled, as in Keras).

  Raises:
    ValueError: for arguments that do not fit the model type.
  """
  if kwargs:
    raise ValueError(f"clone_model got unexpected arguments {sorted(kwargs)}.")
  from ._functional import Functional  # pylint: disable=g-import-not-at-top
  from ._sequential import Sequential  # pylint: disable=g-import-not-at-top
  base = clone_function or _fresh_copy

  def clone_layer(layer):
    if recursive and isinstance(layer, (Functional, Sequential)):
      return clone_model(layer, clone_function=clone_function,
                         recursive=True)
    return base(layer)

  if isinstance(model, Functional):
    return _clone_functional(model, input_tensors, clone_layer, call_function)
  if isinstance(model, Sequential):
    if call_function is not None:
      raise ValueError("clone_model: call_function only works with "
                       "Functional models.")
    layers = [clone_layer(l) for l in model.layers]
    if input_tensors is not None:
      x = input_tensors[0] if isinstance(input_tensors, (list, tuple)) else (
          input_tensors)
      return _sequential_on(x, layers, model.name)
    clone = Sequential(name=model.name)
    if model._input_layer is not None:  # pylint: disable=protected-access
      spec = model._input_spec  # pylint: disable=protected-access
      clone.add(_input.Input(tuple(spec.shape[1:]), dtype=spec.dtype))
    for layer in layers:
      clone.add(layer)
    if not clone.built and model.built and model._input_spec is not None:  # pylint: disable=protected-access
      clone.build(tuple(model._input_spec.shape))  # pylint: disable=protected-access
    return clone
  if input_tensors is not None or clone_function is not None:
    raise ValueError(
        "clone_model: input_tensors and clone_function only work with "
        "Functional and Sequential models; a subclassed model is cloned from "
        "its get_config().")
  return _fresh_copy(model)


def _sequential_on(x, layers, name):
  from ._sequential import Sequential  # pylint: disable=g-import-not-at-top
  clone = Sequential(name=name)
  clone.add(x)
  for layer in layers:
    clone.add(layer)
  return clone


def _clone_functional(model, input_tensors, clone_layer, call_function):
  old_inputs = model.inputs
  if input_tensors is None:
    new_inputs = [_input.Input(tuple(t.shape[1:]), dtype=t.dtype,
                               name=t.node.layer.name) for t in old_inputs]
  else:
    new_inputs = jax.tree_util.tree_leaves(input_tensors, is_leaf=_is_kt)
    if len(new_inputs) != len(old_inputs) or not all(map(_is_kt, new_inputs)):
      raise ValueError(
          f"clone_model: input_tensors must be {len(old_inputs)} "
          "hk_keras.Input tensor(s), one per model input. Received: "
          f"{input_tensors!r}")
  values = {id(o): n for o, n in zip(old_inputs, new_inputs)}
  clones = {}

  def resolve(x):
    return values[id(x)] if _is_kt(x) else x

  for node in model._nodes:  # pylint: disable=protected-access
    layer = clones.get(id(node.layer))
    if layer is None:
      layer = clones[id(node.layer)] = clone_layer(node.layer)
    args = jax.tree_util.tree_map(resolve, node.args, is_leaf=_is_kt)
    kwargs = jax.tree_util.tree_map(resolve, node.kwargs, is_leaf=_is_kt)
    out = (call_function(layer, *args, **kwargs) if call_function else
           layer(*args, **kwargs))
    jax.tree_util.tree_map(lambda t, v: values.__setitem__(id(t), v),
                           node.outputs[0], out, is_leaf=_is_kt)
  inputs_struct = jax.tree_util.tree_unflatten(
      jax.tree_util.tree_structure(model._inputs_struct, is_leaf=_is_kt),  # pylint: disable=protected-access
      new_inputs)
  outputs = jax.tree_util.tree_map(resolve, model._outputs_struct,  # pylint: disable=protected-access
                                   is_leaf=_is_kt)
  return type(model)(inputs_struct, outputs, name=model.name)
