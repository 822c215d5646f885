"""Config of Functional and Sequential models: layers plus their call graph.

A Functional config lists every layer (Keras order, inputs included) with
its `inbound_nodes`: one entry per call of the layer in this model, holding
the call's `args` and `kwargs` with each symbolic tensor written as
`{"__tensor__": [layer_name, node_index, tensor_index]}` (the `tensor_index`-th
output of the `node_index`-th call of that layer). Lists stay lists; tuples
and dicts are tagged (`{"__tuple__": [...]}`, `{"__dict__": {...}}`) so that
any call structure comes back exactly. `input_layers` and `output_layers`
encode the model's input and output structures the same way.
"""
from typing import Any, Dict

import jax

from . import _serialization


def _is_kt(x):
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  return isinstance(x, _input.KerasTensor)


def _flat(outputs):
  return jax.tree_util.tree_leaves(outputs, is_leaf=_is_kt)


def _policy_name(model):
  policy = getattr(model, "dtype_policy", None)
  return getattr(policy, "name", None) or model.dtype


# -- Functional -------------------------------------------------------------------

def functional_config(model) -> Dict[str, Any]:
  """The full config of a Functional model (see the module docstring)."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  node_ids, nodes_of = {}, {}
  for node in model._nodes:  # pylint: disable=protected-access
    calls = nodes_of.setdefault(id(node.layer), [])
    node_ids[id(node)] = (node.layer.name, len(calls))
    calls.append(node)

  def tensor_ref(t):
    node = t.node
    if isinstance(node.layer, _input.InputLayer):
      return [node.layer.name, 0, 0]
    if id(node) not in node_ids:
      raise ValueError(
          f"Cannot save model {model.name!r}: tensor {t!r} comes from a layer "
          "call that is not part of the model's graph.")
    layer_name, index = node_ids[id(node)]
    flat = _flat(node.outputs[0])
    position = [i for i, o in enumerate(flat) if o is t]
    return [layer_name, index, position[0]]

  def encode(value, where):
    if _is_kt(value):
      return {"__tensor__": tensor_ref(value)}
    if isinstance(value, list):
      return [encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, tuple):
      return {"__tuple__": [encode(v, f"{where}[{i}]")
                            for i, v in enumerate(value)]}
    if isinstance(value, dict):
      return {"__dict__": {k: encode(v, f"{where}[{k!r}]")
                           for k, v in value.items()}}
    return _serialization.jsonable(value, where)

  layers = []
  for layer in getattr(model, "_operations", model.layers):
    entry = _serialization.serialize_keras_object(layer)
    entry["inbound_nodes"] = [
        {"args": encode(list(node.args), f"the call of layer {layer.name!r}"),
         "kwargs": encode(dict(node.kwargs),
                          f"the call of layer {layer.name!r}")["__dict__"]}
        for node in nodes_of.get(id(layer), [])]
    layers.append(entry)
  return {
      "name": model.name,
      "trainable": model.trainable,
      "dtype": _policy_name(model),
      "layers": layers,
      "input_layers": encode(model._inputs_struct, "inputs"),  # pylint: disable=protected-access
      "output_layers": encode(model._outputs_struct, "outputs"),  # pylint: disable=protected-access
  }


def is_functional_config(config) -> bool:
  return isinstance(config, dict) and "input_layers" in config and (
      "output_layers" in config and "layers" in config)


def functional_from_config(cls, config):
  """Rebuilds a Functional model: its layers, then their calls in order."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  from ..models._functional import Functional  # pylint: disable=g-import-not-at-top
  ctx = _serialization._load_context()  # pylint: disable=protected-access
  # (always set: ModelIO.from_config and deserialize_keras_object enter one)
  layers, pending, outputs = {}, [], {}
  for entry in config["layers"]:
    layer = _serialization._deserialize(entry, None, ctx)  # pylint: disable=protected-access
    name = entry.get("name") or entry["config"]["name"]
    layers[name] = layer
    if isinstance(layer, _input.InputLayer):
      outputs[(name, 0)] = [layer.output]
    for index, node in enumerate(entry.get("inbound_nodes", [])):
      pending.append((name, index, node))

  def ready(value):
    if isinstance(value, dict) and "__tensor__" in value:
      name, index, _ = value["__tensor__"]
      return (name, index) in outputs
    if isinstance(value, list):
      return all(ready(v) for v in value)
    if isinstance(value, dict):
      return all(ready(v) for v in value.values())
    return True

  def decode(value):
    if isinstance(value, dict) and "__tensor__" in value:
      name, index, position = value["__tensor__"]
      try:
        return outputs[(name, index)][position]
      except (KeyError, IndexError):
        raise ValueError(
            f"The saved graph refers to output {position} of call {index} of "
            f"layer {name!r}, which does not exist. The config is corrupt or "
            "was edited by hand.") from None
    if isinstance(value, dict) and "__tuple__" in value:
      return tuple(decode(v) for v in value["__tuple__"])
    if isinstance(value, dict) and "__dict__" in value:
      return {k: decode(v) for k, v in value["__dict__"].items()}
    if isinstance(value, list):
      return [decode(v) for v in value]
    return value

  while pending:
    progress = False
    for item in list(pending):
      name, index, node = item
      if index > 0 and (name, index - 1) not in outputs:
        continue
      if not (ready(node["args"]) and ready(node["kwargs"])):
        continue
      args = decode(node["args"])
      kwargs = {k: decode(v) for k, v in node["kwargs"].items()}
      out = layers[name](*args, **kwargs)
      outputs[(name, index)] = _flat(out)
      pending.remove(item)
      progress = True
    if not progress:
      stuck = sorted({name for name, _, _ in pending})
      raise ValueError(
          f"Cannot rebuild model {config.get('name')!r}: the calls of layers "
          f"{stuck} depend on tensors no layer produces. The saved config is "
          "corrupt or was edited by hand.")
  from ..models._model import Model  # pylint: disable=g-import-not-at-top
  # A Model subclass without its own __init__ (e.g. one that only overrides
  # train_step) comes back as itself, built the Functional way.
  target = cls if issubclass(cls, Functional) or (
      issubclass(cls, Model) and cls.__init__ is Model.__init__) else Functional
  return target(decode(config["input_layers"]),
                decode(config["output_layers"]), name=config.get("name"),
                trainable=config.get("trainable", True),
                dtype=config.get("dtype"))


# -- Sequential -------------------------------------------------------------------

def sequential_config(model) -> Dict[str, Any]:
  """`{"name", "trainable", "layers", "input_layer", "input_spec"}`."""
  input_layer = getattr(model, "_input_layer", None)
  spec = getattr(model, "_input_spec", None)
  return {
      "name": model.name,
      "trainable": model.trainable,
      "dtype": _policy_name(model),
      "layers": [_serialization.serialize_keras_object(layer)
                 for layer in model.layers],
      "input_layer": (None if input_layer is None
                      else _serialization.serialize_keras_object(input_layer)),
      "input_spec": (None if spec is None
                     else _serialization.encode_specs(spec)),
  }


def is_sequential_config(config) -> bool:
  return isinstance(config, dict) and "layers" in config and (
      "input_layers" not in config)


def sequential_from_config(cls, config):
  ctx = _serialization._load_context()  # pylint: disable=protected-access
  # (always set: ModelIO.from_config and deserialize_keras_object enter one)

  def rebuild(entry):
    return _serialization._deserialize(entry, None, ctx)  # pylint: disable=protected-access

  layers = [rebuild(entry) for entry in config["layers"]]
  if config.get("input_layer"):
    layers = [rebuild(config["input_layer"]).output] + layers
  model = cls(layers, name=config.get("name"),
              trainable=config.get("trainable", True),
              dtype=config.get("dtype"))
  spec = config.get("input_spec")
  if not model.built and spec is not None and model.layers:
    model._input_spec = _serialization.decode_specs(spec)  # pylint: disable=protected-access
    model._build_from_specs((model._input_spec,))  # pylint: disable=protected-access
  return model
