"""`Model`: a container of layers with a pure Haiku init/apply pair underneath."""
from typing import Any, Optional

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .. import utils
from .._core import _context
from .._core import _naming
from ..layers import _input
from ..layers import _layer
from .._engine._trainer import Trainer
from ..layers._layer import Layer
from ..saving import _load_guard
from ._attributes import ModelAttributes
from ._export import ExportMixin
from . import _functional_subclass
from ._model_io import ModelIO
from ._stateless import StatelessModel

_NOT_BUILT = (
    "Model {name!r} has not been built yet, so it has no weights. Build it "
    "first: model.build(input_shape) (e.g. model.build((None, 784))), call it "
    "on a batch of data, or give it an hk_keras.Input as its first layer.")


class Model(ModelAttributes, StatelessModel, ExportMixin, ModelIO, Trainer,
            Layer):
  """A model: layers grouped with training features on top.

  Three ways to make one, as in Keras:

  * `Model(inputs, outputs)` on `hk_keras.Input` tensors (Functional API);
  * `Sequential([...])`;
  * subclassing: create layers in `__init__` and write
    `call(self, inputs, training=False)`.

  Underneath, `model.transformed` is an `hk.TransformedWithState` of the whole
  model, and `model.init(rng, *inputs) -> (params, state)` and
  `model.apply(params, state, rng, *inputs, training=False) -> (outputs,
  state)` are its pure functions, ready for `jax.jit`, `jax.grad` and
  `jax.vmap` in research code.

  >>> import hk_keras
  >>> inputs = hk_keras.Input((4,))
  >>> outputs = hk_keras.layers.Dense(2)(inputs)
  >>> model = hk_keras.Model(inputs, outputs)
  >>> model.count_params()
  10
  """

  _is_container = True

  def __new__(cls, *args, **kwargs):
    if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
      from ._functional import Functional
      return super().__new__(Functional)
    return super().__new__(cls)

  def __init__(self, *args, name: Optional[str] = None, trainable: bool = True,
               dtype: Any = None, **kwargs):
    if _functional_subclass.functional_init_arguments(args, kwargs):
      # `CustomModel(inputs, outputs)` or `super().__init__(inputs=...,
      # outputs=...)` in a subclass: a Functional model with its methods.
      _functional_subclass.init_as_functional(
          self, args, dict(kwargs, name=name, trainable=trainable, dtype=dtype))
      return
    if args:
      raise TypeError(
          f"{type(self).__name__}.__init__ takes keyword arguments only "
          f"(name=, trainable=, dtype=), or the Functional form (inputs, "
          f"outputs); received {len(args)} positional argument(s).")
    if name is None:
      name = _naming.unique_name(_naming.to_snake_case(type(self).__name__))
    super().__init__(name=name, trainable=trainable, dtype=dtype, **kwargs)
    self._records = []
    self._transformed = None
    self._input_spec = None
    self._jitted_apply = None
    self._layer_output_shapes = {}

  # -- the pure pair ----------------------------------------------------------
  @property
  def transformed(self) -> hk.TransformedWithState:
    """The model as a genuine `hk.TransformedWithState`."""
    if self._transformed is None:
      self._transformed = hk.transform_with_state(self._model_fn)
    return self._transformed

  @property
  def init(self):
    """`init(rng, *inputs) -> (params, state)`: pure Haiku init."""
    return self.transformed.init

  @property
  def apply(self):
    """`apply(params, state, rng, *inputs, training=False) -> (out, state)`."""
    return self.transformed.apply

  def _model_fn(self, *inputs, training=None):
    if training is None:
      # init traces the training path so that state created only in training
      # (e.g. hk.BatchNorm's moving averages) exists; Haiku's init returns
      # initial state values, never the updated ones. apply defaults to False.
      training = hk.running_init()
    with _context.trace_context() as ctx:
      out = ctx.call_layer(self, (self._pack_inputs(inputs),),
                           {"training": training})
    self._last_trace = ctx
    scope = _context.current_loss_scope()
    if scope is not None and not hk.running_init():
      # Keras order: add_loss/activity values, then weight penalties.
      scope.publish(ctx.losses + ctx.weight_losses)
    return out

  def _weight_constraints(self):
    """{(module, name): constraint} of the trainable params (static)."""
    out = {}
    for r in self._records:
      if r.kind == "params":
        c = r.layer._weight_constraints_by_name.get(r.name)
        if c is not None:
          out[(r.module, r.name)] = c
    return out

  def _pack_inputs(self, args):
    """Positional apply arguments -> the single structure `call` takes."""
    if len(args) == 1:
      return args[0]
    return list(args)

  def _unpack_inputs(self, inputs):
    """What `model(x)` / fit received -> positional apply arguments."""
    return (inputs,)

  # -- tracing as a container -------------------------------------------------
  def _call_in_trace(self, inputs, training=False, **kwargs):
    self._check_inputs(inputs)
    if self._call_accepts_training:
      kwargs["training"] = training
    return self.call(inputs, **kwargs)

  def call(self, inputs, training=False):
    raise TypeError(
        f"{type(self).__name__} subclasses hk_keras.Model but does not define "
        "call(self, inputs, training=False). Define it, or build the model "
        "with hk_keras.Model(inputs, outputs) or hk_keras.Sequential([...]).")

  def _check_inputs(self, inputs):
    if self._input_spec is None:
      return
    spec_leaves = jax.tree_util.tree_leaves(
        self._input_spec, is_leaf=lambda s: isinstance(s, _input.ShapeSpec))
    try:
      leaves = jax.tree_util.tree_leaves(inputs)
    except Exception:  # pylint: disable=broad-except
      return
    if len(leaves) != len(spec_leaves):
      raise ValueError(
          f"Model {self.name!r} expects {len(spec_leaves)} input(s), received "
          f"{len(leaves)}: "
          f"{[tuple(np.shape(l)) for l in leaves]}. Pass one array per model "
          "input (a list in the order of `inputs`, or a dict keyed by input "
          "name).")
    for i, (spec, x) in enumerate(zip(spec_leaves, leaves)):
      shape = tuple(np.shape(x))
      expected = spec.shape
      ok = len(shape) == len(expected) and all(
          e is None or e == d for e, d in zip(expected[1:], shape[1:]))
      if not ok:
        raise ValueError(
            f"Input {i} of model {self.name!r} is incompatible with the model: "
            f"expected shape {_fmt_shape(expected)}, received shape {shape}. "
            "Reshape the data (the first axis is the batch) or rebuild the "
            "model for this input shape.")

  # -- building -----------------------------------------------------------------
  def build(self, input_shape):
    """Creates the weights for inputs of `input_shape` (batch dim included).

    Args:
      input_shape: e.g. `(None, 784)`; a list of shapes for several inputs.
        A batch of data stands for its shape (the keras.io JAX guides
        pass one).
    """
    if hasattr(input_shape, "shape") and not isinstance(input_shape,
                                                        (tuple, list)):
      input_shape = tuple(np.shape(input_shape))
    def is_shape(s):
      return isinstance(s, (tuple, list)) and all(
          d is None or isinstance(d, int) for d in s)
    specs = jax.tree_util.tree_map(
        lambda s: _input.ShapeSpec(tuple(s), "float32"), input_shape,
        is_leaf=is_shape)
    if isinstance(specs, list) and len(specs) > 1:
      self._build_from_specs(tuple(specs))
    else:
      self._build_from_specs((specs,))

  def _build_from_specs(self, arg_specs):
    """Initialises weights from abstract positional inputs.

    An unknown batch size becomes 1. Unknown other dimensions take a dummy
    size, after checking (abstractly, at two sizes) that no weight shape
    depends on them: a Dense after Flatten of an image of unknown size has
    no defined kernel, in Keras as here.
    """
    is_spec = lambda s: isinstance(s, _input.ShapeSpec)

    def concrete(size):
      return jax.tree_util.tree_map(
          lambda s: jax.ShapeDtypeStruct(
              tuple(1 if (d is None and i == 0) else size if d is None else d
                    for i, d in enumerate(s.shape)), s.dtype),
          arg_specs, is_leaf=is_spec)

    unknown = any(d is None for s in jax.tree_util.tree_leaves(
        arg_specs, is_leaf=is_spec) for d in s.shape[1:])
    if unknown:
      shapes = [jax.eval_shape(self.transformed.init, jax.random.PRNGKey(0),
                               *concrete(size))
                for size in _input._DUMMY_SIZES]
      if jax.tree_util.tree_structure(shapes[0]) != jax.tree_util.tree_structure(
          shapes[1]) or jax.tree_util.tree_leaves(shapes[0]) != \
          jax.tree_util.tree_leaves(shapes[1]):
        raise ValueError(
            f"Cannot build model {self.name!r}: some weight shapes depend on "
            "an input dimension that is unknown (None) in input shape "
            f"{[s.shape for s in jax.tree_util.tree_leaves(arg_specs, is_leaf=is_spec)]}"
            ". Give the Input a concrete size for that dimension (e.g. "
            "Input((28, 28, 1))), or use a global pooling layer instead of "
            "Flatten before Dense.")
    self._input_spec = jax.tree_util.tree_map(
        lambda s: _input.ShapeSpec((None,) + tuple(s.shape[1:]), s.dtype),
        self._pack_inputs(arg_specs),
        is_leaf=lambda s: isinstance(s, _input.ShapeSpec))
    # Loading checks the weight shapes against the file before this
    # allocates them (see saving/_load_guard.py).
    params, state = _load_guard.initial_weights(
        self, concrete(_input._DUMMY_SIZES[-1]))
    self._finish_build(self._last_trace, params, state)

  def _build_from_arrays(self, args):
    specs = tuple(jax.tree_util.tree_map(
        lambda a: _input.ShapeSpec(
            tuple(np.shape(a)),
            jax.dtypes.canonicalize_dtype(np.result_type(a))), args))
    self._build_from_specs(specs)

  def _finish_build(self, ctx, params, state):
    records = ctx.containers_records.get(id(self), [])
    _layer._adopt(records, params, state)
    for layer in ctx.traced_layers:
      if getattr(layer, "_is_container", False):
        layer._records = ctx.containers_records.get(id(layer), [])
        if layer is not self and layer._input_spec is None:
          shape = ctx.input_shapes.get(id(layer))
          if shape is not None:
            layer._input_spec = jax.tree_util.tree_map(
                lambda s: _input.ShapeSpec((None,) + tuple(s[1:]), "float32"),
                shape, is_leaf=lambda s: isinstance(s, tuple))
        layer.built = True
      shapes = ctx.output_shapes.get(id(layer))
      if shapes is not None:
        self._layer_output_shapes[id(layer)] = jax.tree_util.tree_map(
            lambda s: (None,) + tuple(s[1:]), shapes,
            is_leaf=lambda s: isinstance(s, tuple))
    self._jitted_apply = None
    self.built = True

  def _ensure_built_for(self, args):
    if not self.built:
      self._build_from_arrays(args)

  # -- eager use ----------------------------------------------------------------
  def _eager_call(self, args, kwargs):
    training = bool(kwargs.pop("training", False))
    if len(args) != 1 or kwargs:
      raise TypeError(
          f"Call a model on one input structure, as model(x, training=False); "
          f"for several inputs pass a list or dict. Received {len(args)} "
          f"positional and {sorted(kwargs)} keyword arguments.")
    arrays = self._unpack_inputs(args[0])
    self._ensure_built_for(arrays)
    if self._jitted_apply is None or (
        self._jitted_version != _layer.trainable_version()):
      # A fresh closure: jax caches traces per function object, and a
      # changed trainable flag must trigger a new trace.
      apply = self.apply
      owners = []

      def apply_collecting(*a, **k):
        # The call's add_loss/activity values (weight penalties are
        # computed from the current weights when model.losses is read).
        with _context.loss_scope() as scope:
          out, new_state = apply(*a, **k)
        entries = [e for e in scope.losses or []
                   if not any(e is w for w in self._last_trace.weight_losses)]
        owners[:] = [layer for layer, _ in entries]
        return out, new_state, [v for _, v in entries]
      self._jitted_apply = jax.jit(apply_collecting,
                                   static_argnames="training")
      self._jitted_owners = owners
      self._jitted_version = _layer.trainable_version()
    out, new_state, losses = self._jitted_apply(
        self.params, self.state, utils.next_rng_key(), *arrays,
        training=training)
    self._eager_losses = list(zip(self._jitted_owners, losses))
    if training or any(r.kind == "state" and r.name.startswith("rnn_state_")
                       for r in self._records):
      # Stateful RNNs carry their states to the next call, as in Keras.
      self.state = new_state
    return out

  # -- weights ------------------------------------------------------------------
  def _require_built(self):
    if not self.built:
      raise ValueError(_NOT_BUILT.format(name=self.name))

  @property
  def params(self):
    """Current trainable values as a Haiku params dict."""
    self._require_built()
    return _layer._collect([r for r in self._records if r.kind == "params"])[0]

  @params.setter
  def params(self, value):
    self._set_tree("params", value)

  @property
  def state(self):
    """Current Haiku state (non-trainable weights such as moving stats)."""
    self._require_built()
    return _layer._collect([r for r in self._records if r.kind == "state"])[1]

  @state.setter
  def state(self, value):
    self._set_tree("state", value)

  def _set_tree(self, kind, value, notify=True):
    self._require_built()
    records = [r for r in self._records if r.kind == kind]
    owners = {id(r.owner): r.owner for r in records}.values()
    if notify:
      _layer.sync_owners(owners)
    for r in records:
      try:
        leaf = value[r.module][r.name]
      except (KeyError, TypeError):
        raise ValueError(
            f"Setting model.{kind}: missing entry {r.module!r}/{r.name!r}. "
            f"Pass a dict with the same structure as model.{kind}.") from None
      if tuple(leaf.shape) != r.shape:
        raise ValueError(
            f"Setting model.{kind}: {r.module}/{r.name} expects shape "
            f"{r.shape}, received {tuple(leaf.shape)}.")
    for r in records:
      r.owner._variables[kind][r.module][r.name] = value[r.module][r.name]
    _layer.owners_written(owners)

  def _write_trees(self, params, state):
    """Writes a train state's params and Haiku state into the layers (the
    engine's `LiveState.sync_to_layers`)."""
    self._set_tree("params", params, notify=False)
    self._set_tree("state", state, notify=False)

  def trainable_mask(self):
    """A params-shaped tree of bools: False for frozen layers' weights."""
    self._require_built()
    mask = {}
    for r in self._records:
      if r.kind == "params":
        mask.setdefault(r.module, {})[r.name] = _layer.is_trainable(r)
    return mask

  def _ordered_records(self):
    self._require_built()
    out, seen = [], set()
    for layer in self.layers:
      if getattr(layer, "_is_container", False):
        group = [r for r in layer._ordered_records()]
      else:
        group = _layer.owner_order(
            layer, [r for r in self._records if r.owner is layer])
      for r in group:
        key = (r.kind, r.module, r.name)
        if key not in seen:
          seen.add(key)
          out.append(r)
    rest = [r for r in self._records if (r.kind, r.module, r.name) not in seen]
    return out + _layer._keras_order(rest)

  def count_params(self) -> int:
    self._require_built()
    return int(sum(np.prod(r.shape, dtype=np.int64) for r in self._records))

  def get_layer(self, name: Optional[str] = None, index: Optional[int] = None):
    """Returns a layer by name (or index), as Keras.

    Raises:
      ValueError: if no layer has that name (the names are listed).
    """
    if index is not None:
      return self.layers[index]
    for layer in self.layers:
      if layer.name == name:
        return layer
    raise ValueError(
        f"No such layer: {name!r} in model {self.name!r}. Existing layers are: "
        f"{[l.name for l in self.layers]}.")

  def summary(self, line_length=None, print_fn=None, show_sharding=False,
              **kwargs):
    """Prints a Keras-style table of layers, output shapes and params.

    With `show_sharding=True` it adds each param's layout over the
    distribution's device mesh and the bytes of params, optimizer state and
    Haiku state each device holds (docs/distributed_training.md).
    """
    from ._summary import print_summary
    print_summary(self, line_length=line_length, print_fn=print_fn)
    if show_sharding:
      from ._sharding_summary import sharding_lines
      (print_fn or print)("\n".join(sharding_lines(self)))

  def get_config(self):
    # The dtype policy decides, e.g., float16 loss scaling in fit.
    return {"name": self.name, "trainable": self.trainable,
            "dtype": self.dtype_policy.name}


def _fmt_shape(shape):
  return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
      ",)" if len(shape) == 1 else ")")
