"""`model.export(path, format="jax")`: a serving artifact without model code.

The "jax" format is a directory with two files:

* `model.jax_export`: `jax.export.Exported.serialize()` of the inference
  function, StableHLO with the weights bound in as constants and a symbolic
  batch dimension ("batch"; other unknown dimensions get their own symbols);
* `signature.json`: the inputs and outputs (names, shapes with null for
  symbolic dimensions, dtypes) and the format version.

`hk_keras.saving.load_exported(path)` calls it, or any process with JAX alone:
`jax.export.deserialize(open(path + "/model.jax_export", "rb").read())
.call(x)`.
"""
import importlib.util
import json
import os
from typing import Optional, Sequence

import jax
import numpy as np

from ..saving._exported import EXPORT_FILE
from ..saving._exported import SIGNATURE_FILE

FORMAT_VERSION = 1
_FORMATS = ("jax", "tf_saved_model")

_NO_TENSORFLOW = (
    "model.export(format='tf_saved_model') converts the model with "
    "jax.experimental.jax2tf and needs TensorFlow, which is not installed. "
    "Install the extra (`pip install hk_keras[tensorflow]`), or export with "
    "format='jax' (a jax.export artifact that needs only JAX to run).")


class ExportMixin:
  """Adds `export` to `Model` (kept apart from the training engine)."""

  def export(self, filepath, format: str = "jax", verbose: bool = True,  # pylint: disable=redefined-builtin
             input_signature=None, platforms: Optional[Sequence[str]] = None,
             **kwargs):
    """Exports the model's inference function for serving.

    Args:
      filepath: the directory to write (created; must not hold a previous
        export).
      format: "jax" (a `jax.export` artifact, the default) or
        "tf_saved_model" (through `jax2tf`; needs the `tensorflow` extra).
        Keras 3 defaults to "tf_saved_model"; hk_keras to "jax", which
        needs nothing beyond JAX.
      verbose: print where the artifact was written.
      input_signature: None (the model's input shapes, batch symbolic), or
        a structure of `jax.ShapeDtypeStruct` / shapes to export for.
      platforms: the platforms to lower for ("cpu", "cuda", "tpu"); default
        the current backend.
      **kwargs: none are supported; Keras's backend-specific options
        (e.g. for ONNX) raise a TypeError.

    Returns:
      None.

    Raises:
      ValueError: for an unknown format, an unbuilt model or an existing
        export at `filepath`.
      ImportError: for "tf_saved_model" without TensorFlow.

    >>> import hk_keras
    >>> model = hk_keras.Sequential([hk_keras.Input((3,)),
    ...                              hk_keras.layers.Dense(2)])
    >>> model.export("/tmp/served", verbose=False)  # doctest: +SKIP
    """
    if kwargs:
      raise TypeError(f"model.export got unsupported arguments {sorted(kwargs)}.")
    if format not in _FORMATS:
      raise ValueError(
          f"model.export supports format='jax' and format='tf_saved_model'. "
          f"Received: format={format!r}. (Keras's 'onnx', 'openvino' and "
          "'litert' exporters are not provided by hk_keras.)")
    self._require_built()
    filepath = os.fspath(filepath)
    serve, arg_specs = _serving_function(self, input_signature)
    if format == "jax":
      _write_jax(self, filepath, serve, arg_specs, platforms)
    else:
      _write_tf_saved_model(filepath, serve, arg_specs)
    if verbose:
      print(f"Saved the model's inference function ({format}) to {filepath}")


def _serving_function(model, input_signature):
  """(serve(*inputs) -> outputs with weights bound, abstract inputs)."""
  if input_signature is None:
    spec = model._input_spec  # pylint: disable=protected-access
    if spec is None:
      raise ValueError(
          f"Model {model.name!r} has no known input shape to export for. Pass "
          "input_signature=jax.ShapeDtypeStruct((None, ...), 'float32') (None "
          "for the symbolic batch).")
    specs = jax.tree_util.tree_map(lambda s: _Leaf(s.shape, s.dtype), spec,
                                   is_leaf=lambda s: hasattr(s, "shape"))
  else:
    specs = jax.tree_util.tree_map(
        lambda s: (_Leaf(s, "float32") if isinstance(s, tuple)
                   else _Leaf(s.shape, getattr(s, "dtype", "float32"))),
        input_signature, is_leaf=lambda s: hasattr(s, "shape") or (
            isinstance(s, tuple) and all(d is None or isinstance(d, int)
                                         for d in s)))
  arg_specs = _symbolic(model._unpack_inputs(specs))  # pylint: disable=protected-access
  params = jax.device_get(model.params)
  state = jax.device_get(model.state)
  apply = model.apply

  def serve(*inputs):
    outputs, _ = apply(params, state, jax.random.PRNGKey(0), *inputs,
                       training=False)
    return outputs

  return serve, arg_specs


class _Leaf:
  """One input's shape (None for unknown dimensions) and dtype."""

  def __init__(self, shape, dtype):
    self.shape = tuple(shape)
    self.dtype = dtype


def _symbolic(specs):
  """Shapes with None -> jax.ShapeDtypeStruct with symbolic dimensions."""
  leaves, treedef = jax.tree_util.tree_flatten(
      specs, is_leaf=lambda s: isinstance(s, _Leaf))
  leaves = [(leaf.shape, leaf.dtype) for leaf in leaves]
  names, count = [], 0
  for shape, _ in leaves:
    for i, d in enumerate(shape):
      if d is None and i > 0:
        names.append(f"d{count}")
        count += 1
  symbols = jax.export.symbolic_shape(", ".join(["batch"] + names))
  batch, others = symbols[0], iter(symbols[1:])
  out = []
  for shape, dtype in leaves:
    dims = tuple(batch if (d is None and i == 0) else
                 next(others) if d is None else int(d)
                 for i, d in enumerate(shape))
    out.append(jax.ShapeDtypeStruct(dims, np.dtype(dtype)))
  return jax.tree_util.tree_unflatten(treedef, out)


def _describe(tree, names):
  leaves = jax.tree_util.tree_leaves(tree)
  return [{"name": name,
           "shape": [d if isinstance(d, int) else None for d in leaf.shape],
           "symbolic_shape": [str(d) for d in leaf.shape],
           "dtype": np.dtype(leaf.dtype).name}
          for name, leaf in zip(names, leaves)]


def _prepare_directory(filepath):
  if os.path.exists(os.path.join(filepath, EXPORT_FILE)):
    raise ValueError(
        f"{filepath!r} already holds an exported model ({EXPORT_FILE}). "
        "Export to a new directory, or delete the old export first.")
  if os.path.isfile(filepath):
    raise ValueError(f"model.export writes a directory, but {filepath!r} is "
                     "a file. Pass a directory path.")
  os.makedirs(filepath, exist_ok=True)


def _write_jax(model, filepath, serve, arg_specs, platforms):
  exported = jax.export.export(jax.jit(serve), platforms=platforms)(*arg_specs)
  _prepare_directory(filepath)
  input_names = _input_names(model, len(exported.in_avals))
  output_names = [f"output_{i}" for i in range(len(exported.out_avals))]
  signature = {
      "format": "jax.export",
      "format_version": FORMAT_VERSION,
      "model_name": model.name,
      "platforms": list(exported.platforms),
      "calling_convention_version": exported.calling_convention_version,
      "inputs": _describe(exported.in_avals, input_names),
      "outputs": _describe(exported.out_avals, output_names),
      "input_tree": str(exported.in_tree),
      "output_tree": str(exported.out_tree),
      "file": EXPORT_FILE,
  }
  tmp = os.path.join(filepath, EXPORT_FILE + ".tmp")
  with open(tmp, "wb") as f:
    f.write(exported.serialize())
  os.replace(tmp, os.path.join(filepath, EXPORT_FILE))
  with open(os.path.join(filepath, SIGNATURE_FILE), "w") as f:
    json.dump(signature, f, indent=2)


def _input_names(model, count):
  inputs = getattr(model, "inputs", None)
  names = []
  if isinstance(inputs, list) and len(inputs) == count:
    names = [getattr(t, "name", None) for t in inputs]
  if len(names) != count or not all(isinstance(n, str) for n in names):
    names = [f"input_{i}" for i in range(count)]
  return names


def tf_conversion_plan(serve, arg_specs):
  """What `jax2tf.convert` and `tf.function` are given, TensorFlow aside.

  A TensorFlow signature is a flat list of tensors, so the serving function
  takes the input leaves in order (dicts and nested inputs are rebuilt
  inside it). Each leaf gets a jax2tf polymorphic shape string, the batch
  dimension named "batch" as in the "jax" format, and a `tf.TensorSpec`
  shape with None for the symbolic dimensions.

  Returns:
    `(flat_serve(*leaves), polymorphic_shapes, [(shape, dtype)] per leaf)`.
  """
  leaves, treedef = jax.tree_util.tree_flatten(arg_specs)

  def flat_serve(*flat):
    return serve(*jax.tree_util.tree_unflatten(treedef, list(flat)))

  polymorphic = ["(" + ", ".join(str(d) for d in leaf.shape) + ")"
                 for leaf in leaves]
  specs = [([d if isinstance(d, int) else None for d in leaf.shape],
            np.dtype(leaf.dtype)) for leaf in leaves]
  return flat_serve, polymorphic, specs


def _write_tf_saved_model(filepath, serve, arg_specs):
  """A TF SavedModel through jax2tf (native serialization: the StableHLO
  runs in one XlaCallModule op), signature "serving_default". Untested in
  hk_keras's CI, which has no TensorFlow."""
  if importlib.util.find_spec("tensorflow") is None:
    raise ImportError(_NO_TENSORFLOW)
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from jax.experimental import jax2tf  # pylint: disable=g-import-not-at-top
  flat_serve, polymorphic, specs = tf_conversion_plan(serve, arg_specs)
  # Serving only: no gradient function is recorded.
  converted = jax2tf.convert(flat_serve, polymorphic_shapes=polymorphic,
                             with_gradient=False)
  signature = [tf.TensorSpec(shape, dtype) for shape, dtype in specs]
  module = tf.Module()
  module.serve = tf.function(converted, input_signature=signature,
                             autograph=False)
  tf.saved_model.save(module, filepath,
                      signatures={"serving_default": module.serve})
