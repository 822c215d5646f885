"""The Functional API: a model defined by a graph of layer calls."""
import jax

from .._core import _masking
from .._core import _naming
from ..layers import _input
from ._model import Model


class Functional(Model):
  """A model built by calling layers on `hk_keras.Input` tensors.

  Created through `hk_keras.Model(inputs, outputs)`. Inputs and outputs may be
  one tensor, a list or a dict of tensors. A layer object called several
  times shares its weights; a model can be called as a layer.
  """

  def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
    if name is None:  # a subclass built this way is named after it (Keras)
      subclass = getattr(type(self), "_functional_subclass_of", None)
      name = _naming.unique_name(
          "functional" if subclass is None else
          _naming.to_snake_case(subclass.__name__))
    super().__init__(name=name,
                     trainable=trainable, **kwargs)
    self._inputs_struct = _normalize(inputs)
    self._outputs_struct = _normalize(outputs)
    flat_inputs = _leaves(self._inputs_struct)
    for i, t in enumerate(flat_inputs):
      if not isinstance(t, _input.KerasTensor) or not isinstance(
          t.node.layer, _input.InputLayer):
        raise ValueError(
            f"Model inputs must be tensors returned by hk_keras.Input(...). "
            f"Received: inputs[{i}]={t!r}.")
    for i, t in enumerate(_leaves(self._outputs_struct)):
      if not isinstance(t, _input.KerasTensor):
        raise ValueError(
            f"Model outputs must be tensors produced by calling layers on "
            f"hk_keras.Input tensors. Received: outputs[{i}]={t!r}.")
    self._nodes = _topological_nodes(self._outputs_struct, flat_inputs)
    # Op nodes (hk_keras.ops on symbolic tensors) are graph operations but,
    # as in Keras, not `model.layers`; summaries and configs list them all.
    self._operations = _keras_layer_order(self._outputs_struct, flat_inputs)
    self._tracked_layers = [op for op in self._operations
                            if not getattr(op, "_is_op_node", False)]
    self._input_spec = jax.tree_util.tree_map(
        lambda t: _input.ShapeSpec(t.shape, t.dtype), self._inputs_struct,
        is_leaf=_is_kt)
    specs = self._unpack_inputs(self._input_spec)
    self._build_from_specs(specs)

  @property
  def inputs(self):
    return _leaves(self._inputs_struct)

  @property
  def outputs(self):
    return _leaves(self._outputs_struct)

  @property
  def input_names(self):
    return [t.node.layer.name for t in self.inputs]

  def _pack_inputs(self, args):
    if isinstance(self._inputs_struct, list) and len(args) > 1:
      return list(args)
    return args[0] if len(args) == 1 else list(args)

  def _unpack_inputs(self, inputs):
    if isinstance(self._inputs_struct, list):
      if isinstance(inputs, dict) and set(inputs) == set(self.input_names):
        # Keras 3: a list-input model also takes a dict keyed by input name.
        return tuple(inputs[name] for name in self.input_names)
      if isinstance(inputs, (list, tuple)):
        return tuple(inputs)
      return (inputs,)
    if isinstance(self._inputs_struct, dict):
      return (inputs,)
    if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
      return (inputs[0],)
    return (inputs,)

  def _check_inputs(self, inputs):
    structure = self._inputs_struct
    if isinstance(structure, dict):
      if not isinstance(inputs, dict) or set(inputs) != set(structure):
        got = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            f"Model {self.name!r} takes a dict of inputs with keys "
            f"{sorted(structure)}; received {got}.")
    super()._check_inputs(inputs)

  def call(self, inputs, training=False, mask=None):
    values = {}
    structure = self._inputs_struct
    if isinstance(structure, dict):
      for key, tensor in structure.items():
        values[id(tensor)] = _input.as_input_dtype(inputs[key], tensor.dtype)
    elif isinstance(structure, list):
      items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
      for tensor, value in zip(structure, items):
        values[id(tensor)] = _input.as_input_dtype(value, tensor.dtype)
    else:
      if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
        inputs = inputs[0]
      values[id(structure)] = _input.as_input_dtype(inputs, structure.dtype)

    _masking.carry_input_masks(inputs, mask, values, structure)

    def resolve(x):
      return values[id(x)] if _is_kt(x) else x

    for node in self._nodes:
      args = jax.tree_util.tree_map(resolve, node.args, is_leaf=_is_kt)
      kwargs = jax.tree_util.tree_map(resolve, node.kwargs, is_leaf=_is_kt)
      kwargs.setdefault("training", training)
      out = node.layer(*args, **kwargs)
      symbolic = node.outputs[0]
      jax.tree_util.tree_map(
          lambda t, v: values.__setitem__(id(t), v), symbolic, out,
          is_leaf=_is_kt)
    return jax.tree_util.tree_map(resolve, self._outputs_struct, is_leaf=_is_kt)

  def get_config(self):
    """The layers, their call graph and the input/output structure."""
    from ..saving import _graph  # pylint: disable=g-import-not-at-top
    return _graph.functional_config(self)


def _is_kt(x):
  return isinstance(x, _input.KerasTensor)


def _normalize(struct):
  if isinstance(struct, tuple):
    struct = list(struct)
  if isinstance(struct, list) and len(struct) == 1:
    return struct[0]
  return struct


def _leaves(struct):
  return jax.tree_util.tree_leaves(struct, is_leaf=_is_kt)


_MASK_NOT_IN_GRAPH = (
    "{tensor} is not the output of a layer call: symbolic masks "
    "(`x._keras_mask`) describe what the model will propagate, they are not "
    "nodes of the graph. Masks follow their tensors automatically (a layer "
    "whose call takes `mask` receives it); to pass one explicitly, compute it "
    "inside a layer (e.g. `self.embedding.compute_mask(inputs)`).")


def _topological_nodes(outputs, inputs):
  """Nodes needed for `outputs`, each after the nodes it depends on."""
  input_ids = {id(t) for t in inputs}
  order, done, active = [], set(), set()

  def visit_tensor(t):
    if id(t) in input_ids:
      return
    node = t.node
    if node is None:
      raise ValueError(_MASK_NOT_IN_GRAPH.format(tensor=t))
    if isinstance(node.layer, _input.InputLayer):
      raise ValueError(
          f"Graph disconnected: an output depends on input {node.layer.name!r} "
          "which is not in the model's `inputs`. Add it to `inputs`.")
    visit_node(node)

  def visit_node(node):
    if id(node) in done:
      return
    if id(node) in active:
      raise ValueError("The layer graph has a cycle.")
    active.add(id(node))
    for t in _leaves((node.args, node.kwargs)):
      if _is_kt(t):
        visit_tensor(t)
    active.discard(id(node))
    done.add(id(node))
    order.append(node)

  for t in _leaves(outputs):
    visit_tensor(t)
  return order


def _keras_layer_order(outputs, inputs):
  """`model.layers` in Keras 3's order, which also fixes the weight order.

  Keras lists layers by decreasing depth (the number of calls between a
  layer and the outputs, its deepest call counting for a shared layer) and,
  at equal depth, in the order a depth-first walk from the outputs first
  meets them. A plain topological order would put, e.g., the two branch
  Dense layers of a two-input model in a different order, and
  `get_weights()` would no longer match a Keras model of the same graph.
  """
  first_seen = {}
  post_order = []
  finished = set()

  def walk(node):
    first_seen.setdefault(id(node.layer), (len(first_seen), node.layer))
    if id(node) in finished:
      return
    finished.add(id(node))
    for t in _leaves((node.args, node.kwargs)):
      if _is_kt(t):
        walk(t.node)
    post_order.append(node)

  for t in _leaves(outputs):
    walk(t.node)

  node_depth, layer_depth = {}, {}
  for node in reversed(post_order):
    depth = max(node_depth.get(id(node), 0),
                layer_depth.get(id(node.layer), 0))
    node_depth[id(node)] = depth
    layer_depth[id(node.layer)] = depth
    for t in _leaves((node.args, node.kwargs)):
      if _is_kt(t):
        parent = id(t.node)
        node_depth[parent] = max(node_depth.get(parent, 0), depth + 1)
  for t in inputs:  # inputs no output depends on come first at depth 0
    layer = t.node.layer
    if id(layer) not in layer_depth:
      layer_depth[id(layer)] = 0
      first_seen[id(layer)] = (-1, layer)
  ranked = sorted(first_seen.values(),
                  key=lambda e: (-layer_depth[id(e[1])], e[0]))
  return [layer for _, layer in ranked]
