"""`model_to_dot` and `plot_model`: the layer graph as Graphviz (pydot).

pydot is an optional dependency (`pip install hk_keras[plot]`); writing an
image also needs Graphviz's `dot` program. A `.dot` file needs only pydot.
"""
import os
import shutil

_NEED_PYDOT = (
    "{what} needs pydot: `pip install pydot` (or `pip install "
    "hk_keras[plot]`).")
_NEED_DOT = (
    "plot_model needs Graphviz's `dot` program to write {fmt!r} files, and "
    "it is not on PATH. Install Graphviz (e.g. `apt-get install graphviz`, "
    "`brew install graphviz`, `conda install graphviz`; see "
    "https://graphviz.org/download/), or write the graph as text with "
    "to_file='model.dot' (needs pydot only), or use model_to_dot(model).")


def _pydot(what):
  try:
    import pydot  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError(_NEED_PYDOT.format(what=what)) from None
  return pydot


def _fmt_shape(shape):
  if shape is None:
    return "?"
  if isinstance(shape, list):
    return ", ".join(_fmt_shape(s) for s in shape)
  return "(" + ", ".join("None" if d is None else str(d)
                         for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _edges(model):
  """`(from_layer, to_layer)` pairs of the model's graph, in order."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  nodes = getattr(model, "_nodes", None)
  if nodes is None:  # Sequential or subclassed: a chain of layers
    layers = list(model.layers)
    return layers, list(zip(layers, layers[1:]))
  import jax  # pylint: disable=g-import-not-at-top
  is_kt = lambda x: isinstance(x, _input.KerasTensor)
  layers, edges = [], []
  for t in model.inputs:
    layers.append(t.node.layer)
  for node in nodes:
    if node.layer not in layers:
      layers.append(node.layer)
    for t in jax.tree_util.tree_leaves((node.args, node.kwargs),
                                       is_leaf=is_kt):
      if is_kt(t) and (t.node.layer, node.layer) not in edges:
        edges.append((t.node.layer, node.layer))
  return layers, edges


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200,
                 subgraph: bool = False, show_layer_activations: bool = False,
                 show_trainable: bool = False, **kwargs):
  """The model's layer graph as a `pydot.Dot` (one node per layer).

  Args:
    model: a built model.
    show_shapes: add each layer's output shape.
    show_dtype: add each layer's dtype.
    show_layer_names: label nodes with layer names (else class names).
    rankdir: "TB" (top to bottom) or "LR".
    expand_nested: accepted for Keras compatibility; nested models are one
      node.
    dpi: the image resolution.
    subgraph: return a `pydot.Cluster` instead of a `pydot.Dot`.
    show_layer_activations: add the activation of layers that have one.
    show_trainable: add whether each layer is trainable.

  Raises:
    ImportError: without pydot (the message says what to install).
    ValueError: if the model is not built.
  """
  del expand_nested, kwargs
  pydot = _pydot("model_to_dot")
  if not getattr(model, "built", False):
    raise ValueError(
        f"model_to_dot: model {model.name!r} is not built. Build it first "
        "(model.build(input_shape) or call it on data).")
  if subgraph:
    dot = pydot.Cluster(style="dashed", graph_name=model.name)
    dot.set("label", model.name)
  else:
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
  dot.set_node_defaults(shape="record")
  layers, edges = _edges(model)
  shapes = getattr(model, "_layer_output_shapes", {})
  for layer in layers:
    title = (f"{layer.name} ({type(layer).__name__})" if show_layer_names
             else type(layer).__name__)
    parts = [title]
    if show_shapes:
      shape = shapes.get(id(layer))
      if shape is None and hasattr(layer, "input_shape"):
        shape = layer.input_shape
      parts.append("Output shape: " + _fmt_shape(shape))
    if show_dtype:
      parts.append(f"dtype: {layer.dtype}")
    if show_layer_activations and getattr(layer, "activation", None):
      act = layer.activation
      parts.append("Activation: " + getattr(act, "__name__", str(act)))
    if show_trainable:
      parts.append(f"Trainable: {layer.trainable}")
    label = "{" + "|".join(p.replace("{", "\\{").replace("}", "\\}")
                           for p in parts) + "}"
    dot.add_node(pydot.Node(str(id(layer)), label=label))
  for src, dst in edges:
    dot.add_edge(pydot.Edge(str(id(src)), str(id(dst))))
  return dot


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True,
               rankdir: str = "TB", expand_nested: bool = False,
               dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs):
  """Writes the layer graph to `to_file` (png, svg, pdf, ... or .dot).

  Raises:
    ImportError: without pydot, or without Graphviz's `dot` for an image
      format (the message says what to install; `.dot` needs pydot only).
  """
  dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                     show_layer_names=show_layer_names, rankdir=rankdir,
                     expand_nested=expand_nested, dpi=dpi,
                     show_layer_activations=show_layer_activations,
                     show_trainable=show_trainable, **kwargs)
  to_file = os.fspath(to_file)
  ext = os.path.splitext(to_file)[1][1:].lower() or "png"
  if ext in ("dot", "gv"):
    with open(to_file, "w", encoding="utf-8") as f:
      f.write(dot.to_string())
    return None
  if shutil.which("dot") is None:
    raise ImportError(_NEED_DOT.format(fmt=ext))
  dot.write(to_file, format=ext)
  if ext != "pdf":
    try:
      from IPython import display  # pylint: disable=g-import-not-at-top
      return display.Image(filename=to_file)
    except ImportError:
      pass
  return None
