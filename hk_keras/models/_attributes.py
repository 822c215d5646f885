"""Model attributes Keras code reads: `input(s)`, `output(s)`, shapes,
`metrics_names`, `metrics`, compile and build configs, `to_json`."""
import json

import jax

from .. import _engine
from ..layers import _input
from ..layers import _node_attributes

_NO_GRAPH = (
    "Model {name!r} ({cls}) has no symbolic {what}: it is a subclassed model "
    "(its graph is Python code), or a Sequential model that is not built "
    "yet. Build it (model.build(input_shape) or call it on data) or use the "
    "Functional API to get `model.{what}`.")


def _is_kt(x):
  return isinstance(x, _input.KerasTensor)


def _shape_of(struct):
  shapes = jax.tree_util.tree_map(lambda t: tuple(t.shape), struct,
                                  is_leaf=_is_kt)
  return shapes


class ModelAttributes:
  """Mixed into `Model` (Functional and Sequential get graphs; subclassed
  models raise a clear AttributeError for the symbolic attributes)."""

  # -- the symbolic graph --------------------------------------------------------
  def _symbolic_structs(self, what):
    if "_inputs_struct" in self.__dict__:
      return self._inputs_struct, self._outputs_struct
    # Rebuilt when layers were added or popped since.
    key = (tuple(id(l) for l in getattr(self, "_tracked_layers", ())),
           self._input_spec)
    cached = getattr(self, "_sequential_graph", None)
    if cached is None or cached[0] != key:
      cached = (key, self._make_sequential_graph(what))
      self._sequential_graph = cached
    return cached[1]

  def _make_sequential_graph(self, what):
    layers = getattr(self, "_tracked_layers", None)
    input_layer = self.__dict__.get("_input_layer")
    is_sequential = "_input_layer" in self.__dict__
    if not is_sequential or not self.built or self._input_spec is None:
      raise _node_attributes.GraphAttributeError(_NO_GRAPH.format(name=self.name,
                                            cls=type(self).__name__,
                                            what=what))
    if input_layer is not None:
      x = input_layer.output
    else:
      spec = self._input_spec
      x = _input.Input(tuple(spec.shape[1:]), dtype=spec.dtype)
    inputs = x
    for layer in layers:
      x = layer(x)
    return inputs, x

  @property
  def input(self):
    """The model's symbolic input(s), with the structure given to `Model`."""
    return self._symbolic_structs("input")[0]

  @property
  def output(self):
    """The model's symbolic output(s)."""
    return self._symbolic_structs("output")[1]

  @property
  def inputs(self):
    """The symbolic inputs as a flat list."""
    return jax.tree_util.tree_leaves(self._symbolic_structs("inputs")[0],
                                     is_leaf=_is_kt)

  @property
  def outputs(self):
    """The symbolic outputs as a flat list."""
    return jax.tree_util.tree_leaves(self._symbolic_structs("outputs")[1],
                                     is_leaf=_is_kt)

  @property
  def input_shape(self):
    """Shape(s) of the input(s), batch axis None: `(None, 4)` or a list."""
    if "_input_shape_value" in self.__dict__:
      return self.__dict__["_input_shape_value"]
    if "_inputs_struct" not in self.__dict__ and self.built and (
        self._input_spec is not None):
      # Subclassed and Sequential models know their built input shape.
      return jax.tree_util.tree_map(
          lambda s: tuple(s.shape), self._input_spec,
          is_leaf=lambda s: isinstance(s, _input.ShapeSpec))
    return _shape_of(self._symbolic_structs("input_shape")[0])

  @input_shape.setter
  def input_shape(self, value):
    # A subclass may keep its own `input_shape` attribute, as in plain Python.
    self.__dict__["_input_shape_value"] = value

  @property
  def output_shape(self):
    """Shape(s) of the output(s), batch axis None."""
    if "_output_shape_value" in self.__dict__:
      return self.__dict__["_output_shape_value"]
    return _shape_of(self._symbolic_structs("output_shape")[1])

  @output_shape.setter
  def output_shape(self, value):
    self.__dict__["_output_shape_value"] = value

  # -- metrics -------------------------------------------------------------------
  @property
  def metrics_names(self):
    """`["loss", <metric log names>...]`, the order of `evaluate`'s list.

    Empty before `compile`; the metric names are known once the model has
    seen data (fit, evaluate, train_on_batch). Keras 3 lists its two
    trackers here (`["loss", "compile_metrics"]`); see
    docs/differences_from_keras.md.
    """
    if not getattr(self, "compiled", False):
      return []
    objective = _engine.live_state(self).options.objective
    return ["loss"] + [m.log_name for m in objective.metrics or []]

  @property
  def metrics(self):
    """Keras 3's list: once compiled, the loss tracker (`"loss"`) and the
    compiled metrics (`"compile_metrics"`, built when the model has seen
    data), then the metrics assigned as attributes of the model."""
    from ._stateless_metrics import keras_metrics  # pylint: disable=g-import-not-at-top
    return keras_metrics(self)

  # -- configs -------------------------------------------------------------------
  def get_compile_config(self):
    """The `compile` arguments as JSON-able config, or None if uncompiled."""
    from ..saving import _compile_io  # pylint: disable=g-import-not-at-top
    return _compile_io.compile_config(self)

  def compile_from_config(self, config):
    """Compiles the model from `get_compile_config()`'s output."""
    from ..saving import _compile_io  # pylint: disable=g-import-not-at-top
    if not isinstance(config, dict):
      raise ValueError(
          "compile_from_config expects the dict from get_compile_config(). "
          f"Received: {config!r}")
    _compile_io.compile_from_config(self, config, None, repr(self.name))

  def get_build_config(self):
    """`{"input_shape": ...}` for a built model (as Keras), else None."""
    if not self.built or self._input_spec is None:
      return None
    shapes = jax.tree_util.tree_map(
        lambda s: tuple(s.shape), self._input_spec,
        is_leaf=lambda s: isinstance(s, _input.ShapeSpec))
    return {"input_shape": shapes}

  def build_from_config(self, config):
    """Builds the model from `get_build_config()`'s output."""
    if not isinstance(config, dict) or "input_shape" not in config:
      raise ValueError(
          "build_from_config expects {'input_shape': ...} as returned by "
          f"get_build_config(). Received: {config!r}")
    if not self.built:
      self.build(config["input_shape"])

  def to_json(self, **kwargs) -> str:
    """The architecture as a JSON string (no weights); see
    `hk_keras.models.model_from_json`. `kwargs` go to `json.dumps`."""
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    entry = _serialization.serialize_keras_object(self)
    entry.setdefault("backend", "jax")
    return json.dumps(entry, **kwargs)
