"""Where each hk_keras weight lives in a Keras 3 `.weights.h5` file.

Keras 3 stores a model's variables by walking its object tree: the model's
own variables under `vars/`, each layer of `model.layers` under
`layers/<name>/vars/0..n-1`, where `<name>` is the snake-case class name,
numbered `_1`, `_2`, ... among layers of the same class in `model.layers`
order (not the layer's name; that is the `name` attribute of the `vars`
group). Layers holding sublayers nest them under the attribute name:
`layers/lstm/cell/vars`, `layers/bidirectional/forward_layer/cell/vars`,
`layers/time_distributed/layer/vars`, `layers/multi_head_attention/
query_dense/vars`, and a nested model its layers under `.../layers/...`.
Within a `vars` group, the order is the layer's own Keras weight order
(trainable, then non-trainable), which is hk_keras's `get_weights()` order.

`layout(model)` lists every `vars` group of `model` with the weight records
it holds; reading and writing both follow it.
"""
import re
from typing import List, NamedTuple, Tuple

_RNNS = ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D",
         "ConvLSTM3D", "RNN")
# hk_keras classes whose Keras class has another name than its export
# (the class name decides the file path; configs use the export name).
KERAS_CLASS_NAMES = {"GroupQueryAttention": "GroupedQueryAttention"}
_CELL_NAMES = {"LSTM": "lstm_cell", "GRU": "gru_cell",
               "SimpleRNN": "simple_rnn_cell"}
# MultiHeadAttention's projections: attribute, sublayer name, weight prefix.
_MHA = (("query_dense", "query", "query_"), ("key_dense", "key", "key_"),
        ("value_dense", "value", "value_"),
        ("output_dense", "attention_output", "output_"))
_MHA_EMPTY = (("_dropout_layer", "dropout"), ("_softmax", "softmax"))
_ATTENTION = {"MultiHeadAttention": "", "GroupedQueryAttention": "_"}


def keras_class_name(layer) -> str:
  name = type(layer).__name__
  return KERAS_CLASS_NAMES.get(name, name)


class Group(NamedTuple):
  """One `vars` group: its path, the `name` attribute, the records (Keras
  order) and the layer they belong to (for messages)."""
  path: str
  name: str
  records: Tuple
  layer: object


def snake_case(name: str) -> str:
  """Keras's `to_snake_case` of a class name (`Conv2D` -> `conv2d`)."""
  out = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
  out = re.sub(r"([a-z])([A-Z])", r"\1_\2", out).lower()
  return out


def _join(*parts):
  return "/".join(p for p in parts if p)


def _is_model(layer) -> bool:
  from ..models import _model  # pylint: disable=g-import-not-at-top
  return isinstance(layer, _model.Model)


def _records(layer):
  return tuple(layer._ordered_records()) if layer.built else ()  # pylint: disable=protected-access


def _container(container, prefix: str, out: List[Group], seen) -> None:
  used = {}
  for layer in container.layers:
    base = snake_case(keras_class_name(layer))
    count = used.get(base, 0)
    used[base] = count + 1
    if id(layer) in seen:
      continue  # Keras saves an object once, where its walk first meets it
    seen.add(id(layer))
    _layer(layer, _join(prefix, base if count == 0 else f"{base}_{count}"),
           out, seen)


def _owned(sub, records):
  return tuple(r for r in records if sub._owns(r.layer))  # pylint: disable=protected-access


def _cells(layer, path, records, out):
  """An RNN's cell group; a stack of cells nests them under `cells/`."""
  cell = getattr(layer, "cell", None)
  cells = getattr(cell, "cells", None)
  cls = type(layer).__name__
  if not cells:
    name = _CELL_NAMES.get(cls) or snake_case(type(cell).__name__ if cell
                                              is not None else cls + "Cell")
    out.append(Group(_join(path, "cell", "vars"), name, tuple(records),
                     layer))
    return
  out.append(Group(_join(path, "cell", "vars"), "stacked_rnn_cells", (),
                   layer))
  used = {}
  for sub in cells:
    base = snake_case(type(sub).__name__)
    count = used.get(base, 0)
    used[base] = count + 1
    key = base if count == 0 else f"{base}_{count}"
    mine = _owned(sub, records) or tuple(
        r for r in records if r.module.rsplit("/", 1)[-1] == sub.name)
    out.append(Group(_join(path, "cell", "cells", key, "vars"), sub.name,
                     mine, layer))


def _layer(layer, path: str, out: List[Group], seen, records=None) -> None:
  cls = keras_class_name(layer)
  if _is_model(layer):
    out.append(Group(_join(path, "vars"), layer.name, (), layer))
    _container(layer, _join(path, "layers"), out, seen)
    return
  if records is None:
    records = _records(layer)
  if cls in _RNNS:
    out.append(Group(_join(path, "vars"), layer.name, (), layer))
    _cells(layer, path, records, out)
    return
  if cls == "Bidirectional":
    out.append(Group(_join(path, "vars"), layer.name, (), layer))
    for attr, sub in (("forward_layer", layer.forward_layer),
                      ("backward_layer", layer.backward_layer)):
      # The wrapper may hold its sublayers' records.
      _layer(sub, _join(path, attr), out, seen, _owned(sub, records))
    return
  if cls == "TimeDistributed":
    out.append(Group(_join(path, "vars"), layer.name, (), layer))
    _layer(layer.layer, _join(path, "layer"), out, seen, records)
    return
  if cls in _ATTENTION:
    out.append(Group(_join(path, "vars"), layer.name, (), layer))
    for attr, name, prefix in _MHA:
      mine = tuple(r for r in records if r.name.startswith(prefix))
      out.append(Group(_join(path, _ATTENTION[cls] + attr, "vars"), name,
                       mine, layer))
    for attr, name in _MHA_EMPTY:
      out.append(Group(_join(path, attr, "vars"), name, (), layer))
    return
  out.append(Group(_join(path, "vars"), layer.name, tuple(records), layer))


def layout(model) -> List[Group]:
  """Every `vars` group of `model`'s Keras 3 weights file, in Keras order."""
  out = [Group("vars", model.name, (), model)]
  if _is_model(model):
    _container(model, "layers", out, {id(model)})
  else:
    out[0] = out[0]._replace(records=_records(model))
  return out


def check_complete(model, groups) -> None:
  """Every weight of `model` is placed exactly once (else a layer's
  sublayers are laid out in a way this module does not know)."""
  placed = [id(r) for g in groups for r in g.records]
  want = {id(r): r for r in model._records}  # pylint: disable=protected-access
  if len(placed) != len(set(placed)) or set(placed) != set(want):
    missing = [r for k, r in want.items() if k not in set(placed)]
    layer = missing[0].layer.name if missing else "?"
    raise ValueError(
        f"Cannot place the weights of layer {layer!r} in the Keras 3 file "
        "layout: hk_keras does not know how Keras nests this layer's "
        "sublayers. Save in hk_keras's own format instead.")
