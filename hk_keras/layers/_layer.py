"""`Layer`: the Keras layer facade over one Haiku module per layer per trace."""
import inspect
import weakref
from typing import Any, List, Optional

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .. import utils
from .._core import _context
from .._core import _naming
from ..mixed_precision import _policy
from . import _init_weights
from ._layer_saving import LayerSaving
from ._node_attributes import NodeAttributes, explain_missing
from ._weight_view import WeightView, is_user_layer

_ADD_WEIGHT_OUTSIDE_TRACE = (
    "add_weight() was called on model {name!r} outside of a model trace. In "
    "hk_keras, weights are Haiku parameters and state: they are created while "
    "the model is initialised, and a model's own weights come from its "
    "layers. Put the weight in a layer (created in its __init__ with a known "
    "shape, or in its build(input_shape)).")


class Layer(NodeAttributes, LayerSaving):
  """Base class of all layers: subclass it for custom layers.

  A layer is a plain Python object created outside any transform. When a
  model is traced by Haiku, the layer runs inside its own `hk.Module` named
  after the layer, so its weights live under `params[layer.name]` (trainable)
  and `state[layer.name]` (non-trainable).

  Subclasses implement `build(input_shape)` (create weights with
  `add_weight`) and `call(inputs, training=False)`. As in Keras, `build`
  stores the weights it creates as attributes (`self.kernel = ...`) and
  `call` uses them. Non-trainable weights are Haiku state: update them in
  `call` with `self.assign(self.moving_mean, new_value)` (or `hk.set_state`).

  >>> import jax.numpy as jnp
  >>> class Scale(Layer):
  ...   def build(self, input_shape):
  ...     self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")
  ...   def call(self, inputs):
  ...     return inputs * self.scale

  Args:
    trainable: whether the layer's weights are updated by `fit`.
    name: unique name; defaults to the snake_case class name made unique.
    dtype: a dtype policy: None (the global policy of
      `hk_keras.mixed_precision`, read now), a policy name such as
      "mixed_bfloat16", a `Policy`, or a dtype name for both variables and
      computation.
    autocast: cast floating inputs to the compute dtype.
  """

  _is_container = False

  def __init__(self, *, trainable: bool = True, name: Optional[str] = None,
               dtype: Any = None, autocast: bool = True, **kwargs):
    input_shape = kwargs.pop("input_shape", None)
    input_dim = kwargs.pop("input_dim", None)
    activity_regularizer = kwargs.pop("activity_regularizer", None)
    batch_input_shape = kwargs.pop("batch_input_shape", None)
    if kwargs:
      raise TypeError(
          f"{type(self).__name__}.__init__ got unexpected keyword argument(s) "
          f"{sorted(kwargs)}. Check the argument names against the Keras 3 "
          "documentation for this layer.")
    object.__setattr__(self, "_tracked_layers", [])
    if name is None:
      name = _naming.unique_name(_naming.to_snake_case(type(self).__name__))
    self._name = _naming.validate_name(name, "layer")
    self._trainable = bool(trainable)
    self._dtype_policy = _policy.resolve(dtype)
    self._dtype = self._dtype_policy.variable_dtype
    self.autocast = autocast
    self.built = False
    self._weight_attrs = {}
    self._trace_values = {}
    self._variables = None
    self._weight_records: List[_context.WeightRecord] = []
    self._standalone = None
    # Regularizers and constraints by weight name (add_weight and
    # `_set_weight_extras`), and the losses of the last call outside a step.
    self._weight_regularizers = {}
    self._weight_constraints_by_name = {}
    self._default_weight_extras = {}
    self._eager_losses = []
    from .. import regularizers  # pylint: disable=g-import-not-at-top
    self.activity_regularizer = regularizers.get(activity_regularizer)
    if batch_input_shape is not None:
      self._declared_input_shape = tuple(batch_input_shape)[1:]
    elif input_shape is not None:
      self._declared_input_shape = tuple(input_shape)
    elif input_dim is not None:
      self._declared_input_shape = (input_dim,)
    else:
      self._declared_input_shape = None
    sig = inspect.signature(self.call)
    params = sig.parameters.values()
    self._call_accepts_training = (
        "training" in sig.parameters
        or any(p.kind == p.VAR_KEYWORD for p in params))

  # -- identity and flags ---------------------------------------------------
  @property
  def name(self) -> str:
    return self._name

  @property
  def dtype(self) -> str:
    """The variable dtype."""
    return self._dtype

  @property
  def compute_dtype(self) -> str:
    """The dtype of the computation (the policy's; inputs are cast to it)."""
    return self._dtype_policy.compute_dtype

  @property
  def dtype_policy(self) -> "_policy.Policy":
    """The layer's `hk_keras.mixed_precision.Policy`."""
    return self._dtype_policy

  @property
  def trainable(self) -> bool:
    return self._trainable

  @trainable.setter
  def trainable(self, value: bool):
    if bool(value) != self._trainable:
      _trainable_version[0] += 1  # compiled functions read the flag
    self._trainable = bool(value)
    for layer in self._tracked_layers:
      layer.trainable = value

  @property
  def layers(self) -> List["Layer"]:
    return list(self._tracked_layers)

  def __init_subclass__(cls, **kwargs):
    super().__init_subclass__(**kwargs)
    if "build" in cls.__dict__:
      cls.build = _routed_build(cls.__dict__["build"])

  def __setattr__(self, name, value):
    if isinstance(value, _init_weights.UnbuiltWeight):
      _init_weights.noticed_attribute(self, name, value)
    tracked = self.__dict__.get("_tracked_layers")
    if tracked is not None and not name.startswith("_"):
      candidates = value if isinstance(value, (list, tuple)) else [value]
      for item in candidates:
        if isinstance(item, Layer) and all(item is not l for l in tracked):
          tracked.append(item)
    object.__setattr__(self, name, value)

  def __getattr__(self, name):
    # Only reached when normal lookup fails: weights stored by build() as
    # attributes are served from the current values outside a trace.
    attrs = self.__dict__.get("_weight_attrs")
    if attrs and name in attrs:
      record = attrs[name]
      return _lookup(record)
    explain_missing(self, name)  # input/output/inputs/...: say why
    raise AttributeError(
        f"{type(self).__name__!r} object has no attribute {name!r}")

  def __repr__(self):
    return f"<{type(self).__name__} name={self.name}, built={self.built}>"

  # -- the Keras contract ---------------------------------------------------
  def build(self, input_shape):
    """Creates the layer's weights; called once per trace before `call`."""
    del input_shape

  def call(self, inputs, *args, **kwargs):
    raise TypeError(
        f"Layer {type(self).__name__} does not define call(self, inputs, "
        "training=False): subclasses of hk_keras.layers.Layer must implement "
        "it.")

  def add_weight(self, shape=None, initializer=None, dtype=None,
                 trainable: bool = True, name: Optional[str] = None, **kwargs):
    """Creates (during init) or fetches (during apply) a weight.

    Trainable weights are Haiku parameters; non-trainable ones are Haiku
    state, as with Keras's BatchNormalization moving statistics.

    Args:
      shape: the weight's shape (default scalar).
      initializer: a name ("glorot_uniform", "zeros", ...), an initializer
        object or any Haiku initializer `init(shape, dtype)`; default
        glorot_uniform for floating dtypes and zeros otherwise, as Keras.
      dtype: defaults to the layer's variable dtype.
      trainable: trainable weights are params, others are state.
      name: the entry name inside this layer's params/state dict.
      autocast: under a mixed policy, return a trainable floating weight
        cast to the compute dtype (the stored param stays in the variable
        dtype and gets float32 gradients), as Keras autocasts variables
        read in `call`. Pass False to keep full precision (normalization
        layers do).

    Returns:
      Inside a trace, the weight's current value (a jax array). Outside
      (e.g. in `__init__`, shape fully known): an `UnbuiltWeight`; the
      weight is created when the model is initialised, and the attribute
      holding it then reads as the weight (see `_init_weights`).

    Raises:
      ValueError: outside a trace with a shape that is not fully known.
    """
    if _context.current() is None:
      if self._is_container:
        raise RuntimeError(_ADD_WEIGHT_OUTSIDE_TRACE.format(name=self.name))
      return _init_weights.declare(self, dict(
          kwargs, shape=shape, initializer=initializer, dtype=dtype,
          trainable=trainable, name=name))
    from .. import constraints as constraints_lib
    from .. import initializers
    from .. import regularizers as regularizers_lib
    regularizer = kwargs.pop("regularizer", None)
    constraint = kwargs.pop("constraint", None)
    autocast = kwargs.pop("autocast", True)
    if kwargs:
      raise TypeError(f"add_weight got unexpected arguments {sorted(kwargs)}.")
    shape = () if shape is None else tuple(int(d) for d in shape)
    dtype = jnp.dtype(dtype or self._dtype)
    if name is None:
      name = f"variable_{len(self._trace_values)}"
    if initializer is None:
      initializer = ("glorot_uniform" if jnp.issubdtype(dtype, jnp.floating)
                     else "zeros")
    init = initializers.get(initializer)
    defaults = self._default_weight_extras.get(name) or (
        self._default_weight_extras.get(name.rpartition("_")[2],
                                        (None, None)))
    regularizer = regularizers_lib.get(
        defaults[0] if regularizer is None else regularizer)
    constraint = constraints_lib.get(
        defaults[1] if constraint is None else constraint)
    if regularizer is not None:
      self._weight_regularizers[name] = regularizer
    if constraint is not None:
      self._weight_constraints_by_name[name] = constraint
    if trainable:
      value = hk.get_parameter(name, shape, dtype, init=init)
    else:
      value = hk.get_state(name, shape, dtype, init=init)
    if (regularizer is not None and trainable and self.trainable
        and not hk.running_init()):
      # The penalty of this very apply (Keras: trainable weights only).
      _context.current().weight_losses.append(
          (self, jnp.asarray(regularizer(value), jnp.float32)))
    kind = "params" if trainable else "state"
    policy = self._dtype_policy
    if (trainable and autocast and policy.is_mixed
        and jnp.issubdtype(dtype, jnp.floating)):
      value = policy.jmp_policy.cast_to_compute(value)
    self._trace_values[id(value)] = (kind, name, value)
    return value

  def assign(self, variable, value):
    """Sets a non-trainable weight (Haiku state) for the rest of this trace.

    Args:
      variable: the value returned by `add_weight(..., trainable=False)` (or
        its name).
      value: the new value, same shape.
    """
    if isinstance(variable, WeightView):
      variable.assign(value)
      return
    if isinstance(variable, str):
      name = variable
    else:
      entry = self._trace_values.get(id(variable))
      if entry is None or entry[0] != "state":
        raise ValueError(
            f"Layer {self.name!r}: assign() takes a non-trainable weight "
            "returned by add_weight(..., trainable=False) or its name; "
            "trainable weights are changed by the optimizer only.")
      name = entry[1]
    hk.set_state(name, value)

  # -- losses from layers ------------------------------------------------------
  def add_loss(self, loss):
    """Adds a loss term (a scalar or an array, summed) from inside `call`.

    `fit` adds it to the loss of the step whose apply computed it (Keras 3's
    `add_loss`). Call it inside `call` (not inside a `jax.lax.scan` body).

    Raises:
      RuntimeError: when called outside a call of the layer.
    """
    ctx = _context.current()
    if ctx is None:
      raise RuntimeError(
          f"Layer {self.name!r}: add_loss() takes a value computed inside "
          "call(); call it there (hk_keras losses belong to one apply of the "
          "model). To penalise a weight use a regularizer instead.")
    ctx.losses.append((self, jnp.asarray(loss)))

  @property
  def losses(self) -> List[jax.Array]:
    """Scalar losses of this layer and its sublayers (Keras 3).

    Inside a step: the `add_loss` values, activity penalties and weight
    penalties of the apply that made the predictions. Outside: the
    `add_loss`/activity values of the last direct call plus the weight
    penalties of the current weights.
    """
    scope = _context.current_loss_scope()
    if scope is not None:
      return [v for layer, v in scope.losses if self._owns(layer)]
    out = [v for layer, v in self._eager_losses if self._owns(layer)]
    for r in self._ordered_records() if self.built else []:
      reg = r.layer._weight_regularizers.get(r.name)
      if reg is not None and is_trainable(r):
        out.append(jnp.asarray(reg(_lookup(r)), jnp.float32))
    return out

  def _owns(self, layer) -> bool:
    if layer is self:
      return True
    return any(l._owns(layer) for l in self._tracked_layers)

  def _set_weight_extras(self, **extras):
    """Accepts Keras's regularizer/constraint arguments for this layer.

    Layer authors call it once in `__init__` with the arguments as received
    (`kernel_regularizer=kernel_regularizer, bias_constraint=...,
    activity_regularizer=...`). Each `<weight>_regularizer` /
    `<weight>_constraint` applies to the weight that `build` creates with
    `add_weight(name="<weight>")` (`recurrent_*` to "recurrent_kernel");
    each is stored as an attribute of that name (resolved, as Keras) and
    `_weight_extras_config()` gives them back for `get_config`. A weight
    named "<prefix>_<weight>" (e.g. MultiHeadAttention's "query_kernel")
    takes the `<weight>_*` arguments unless it has its own.
    """
    from .. import constraints as constraints_lib  # pylint: disable=g-import-not-at-top
    from .. import regularizers as regularizers_lib  # pylint: disable=g-import-not-at-top
    self._extras_args = tuple(extras)
    for arg, value in extras.items():
      if arg == "activity_regularizer":
        self.activity_regularizer = regularizers_lib.get(value)
        continue
      weight, _, kind = arg.rpartition("_")
      if kind not in ("regularizer", "constraint") or not weight:
        raise TypeError(f"{type(self).__name__}: {arg!r} is not a "
                        "regularizer or constraint argument.")
      value = (regularizers_lib.get(value) if kind == "regularizer"
               else constraints_lib.get(value))
      object.__setattr__(self, arg, value)
      if weight in ("recurrent", "depthwise", "pointwise"):
        weight += "_kernel"
      # A layer whose weight is named otherwise maps it here (Keras 3's
      # DepthwiseConv's `depthwise_*` arguments apply to its "kernel").
      weight = getattr(self, "_extras_targets", {}).get(weight, weight)
      entry = list(self._default_weight_extras.get(weight, (None, None)))
      entry[0 if kind == "regularizer" else 1] = value
      self._default_weight_extras[weight] = tuple(entry)

  def _weight_extras_config(self) -> dict:
    """The arguments given to `_set_weight_extras`, serialized."""
    from .. import constraints as constraints_lib  # pylint: disable=g-import-not-at-top
    from .. import regularizers as regularizers_lib  # pylint: disable=g-import-not-at-top
    config = {}
    for arg in getattr(self, "_extras_args", ()):
      value = getattr(self, arg)
      if value is None:
        config[arg] = None
      elif arg.endswith("regularizer"):
        config[arg] = regularizers_lib.serialize(value)
      else:
        config[arg] = constraints_lib.serialize(value)
    return config
  @property
  def supports_masking(self) -> bool:
    """Whether the layer attaches `compute_mask`'s result to its outputs.

    As in Keras 3: True when a subclass overrides `compute_mask`, or after
    `self.supports_masking = True`; otherwise a mask reaching this layer
    stops here.
    """
    value = self.__dict__.get("_supports_masking")
    if value is None:
      return type(self).compute_mask is not Layer.compute_mask
    return value

  @supports_masking.setter
  def supports_masking(self, value: bool):
    object.__setattr__(self, "_supports_masking", bool(value))

  def compute_mask(self, inputs, previous_mask):
    """The mask of the outputs, given the inputs and their mask.

    The default passes the input mask on unchanged (used when
    `supports_masking` is True). Layers that create masks (`Embedding` with
    `mask_zero=True`, `Masking`) or consume them (pooling, RNNs without
    `return_sequences`) override it. Runs inside the model's trace on traced
    arrays.

    Args:
      inputs: the first argument of the call.
      previous_mask: the mask given to the call (None, an array or a
        structure of them).

    Returns:
      None, a boolean array, or one entry per output.
    """
    del inputs
    return previous_mask

  def compute_output_shape(self, input_shape):
    """Infers the output shape by tracing the layer abstractly."""
    from ._input import infer_output_spec, ShapeSpec
    spec = jax.tree_util.tree_map(
        lambda s: ShapeSpec(tuple(s), "float32"), input_shape,
        is_leaf=lambda s: isinstance(s, tuple))
    out = infer_output_spec(self, (spec,), {})
    return jax.tree_util.tree_map(lambda s: s.shape, out,
                                  is_leaf=lambda s: isinstance(s, ShapeSpec))

  def get_config(self) -> dict:
    """Returns the constructor arguments as a JSON-able dict."""
    config = {"name": self.name, "trainable": self.trainable,
              "dtype": self._dtype_policy.name}
    if self.activity_regularizer is not None and "activity_regularizer" not in (
        getattr(self, "_extras_args", ())):
      from .. import regularizers  # pylint: disable=g-import-not-at-top
      config["activity_regularizer"] = regularizers.serialize(
          self.activity_regularizer)
    return config

  @classmethod
  def from_config(cls, config: dict):
    return cls(**config)

  # -- calling ----------------------------------------------------------------
  def __call__(self, *args, **kwargs):
    from . import _input
    if _input.any_symbolic((args, kwargs)):
      return _input.symbolic_call(self, args, kwargs)
    ctx = _context.current()
    if ctx is not None:
      return ctx.call_layer(self, args, kwargs)
    return self._eager_call(args, kwargs)

  def _build_in_trace(self, input_shape):
    _init_weights.create_in_trace(self)
    self.build(input_shape)
    self.built = True

  def _call_with_autocast(self, args, kwargs):
    if not self._call_accepts_training:
      kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    if self.autocast and args:
      dtype = jnp.dtype(self.compute_dtype)
      def cast(x):
        if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating) \
            and x.dtype != dtype:
          return jnp.asarray(x, dtype)
        return x
      args = (jax.tree_util.tree_map(cast, args[0]),) + tuple(args[1:])
    return self.call(*args, **kwargs)

  def _release_trace_values(self):
    """Drops trace-local weight values stored as attributes by build()."""
    values = self.__dict__.get("_trace_values")
    if not values:
      return
    for attr, val in list(self.__dict__.items()):
      entry = values.get(id(val))
      if entry is not None and entry[2] is val:
        kind, name, _ = entry
        self._weight_attrs[attr] = (self, kind, name)
        del self.__dict__[attr]
    self._trace_values = {}

  # -- standalone use (a layer called on arrays outside any model) ------------
  def _eager_call(self, args, kwargs):
    if self._standalone is None:
      # Init once even when a model already built this layer: it records
      # which weights a standalone call reads, and _adopt keeps the values
      # the layer already holds.
      self._standalone = _standalone_transform(self)
      params, state = self._standalone.init(utils.next_rng_key(), *args,
                                            **kwargs)
      _adopt(self._standalone_records, params, state)
    transformed = self._standalone
    params, state = _collect(self._standalone_records)
    with _context.loss_scope() as scope:
      out, new_state = transformed.apply(params, state, utils.next_rng_key(),
                                         *args, **kwargs)
    # This call's add_loss/activity values (Keras: `layer.losses` holds the
    # last call's; weight penalties are added when `losses` is read).
    self._eager_losses = list(scope.losses)
    if new_state:
      # State the call changed is kept, as a Keras variable assigned in an
      # eager call (e.g. ComputeSum's running total).
      records = [r for r in self._standalone_records if r.kind == "state"]
      owners = {id(r.owner): r.owner for r in records}.values()
      owners_written(owners)
      for r in records:
        r.owner._variables["state"][r.module][r.name] = (
            new_state[r.module][r.name])
    return out

  # -- weights ----------------------------------------------------------------
  @property
  def weights(self) -> List[jax.Array]:
    """Trainable then non-trainable weights, each in creation order."""
    return [_lookup(r) for r in self._ordered_records()]

  @property
  def trainable_weights(self) -> List[jax.Array]:
    return [_lookup(r) for r in self._ordered_records() if is_trainable(r)]

  @property
  def non_trainable_weights(self) -> List[jax.Array]:
    return [_lookup(r) for r in self._ordered_records() if not is_trainable(r)]

  def _ordered_records(self):
    return owner_order(self, self._weight_records)

  def get_weights(self) -> List[np.ndarray]:
    """The weights as NumPy arrays, in Keras 3 order."""
    return [np.asarray(w) for w in self.weights]

  def set_weights(self, weights) -> None:
    """Sets weights from a list in `get_weights()` order.

    Raises:
      ValueError: on a wrong count or a wrong shape (naming the weight).
    """
    set_records(self.name, self._ordered_records(), weights)

  def count_params(self) -> int:
    """The number of weights, non-trainable ones included (as Keras)."""
    if not self.built:
      raise ValueError(
          f"Layer {self.name!r} is not built yet, so it has no weights to "
          "count. Build the model first (model.build(input_shape), or call it "
          "on data).")
    return int(sum(np.prod(r.shape, dtype=np.int64)
                   for r in self._ordered_records()))


# -- helpers shared with models -----------------------------------------------

def _keras_order(records, owner_of=lambda r: r.layer):
  """Keras 3 order: per layer, trainable weights then non-trainable ones."""
  by_layer = {}
  order = []
  for r in records:
    key = id(owner_of(r))
    if key not in by_layer:
      by_layer[key] = []
      order.append(key)
    by_layer[key].append(r)
  out = []
  for key in order:
    group = by_layer[key]
    out += [r for r in group if r.kind == "params"]
    out += [r for r in group if r.kind == "state"]
  return out


def _sublayers_depth_first(layer, out):
  for sub in layer._tracked_layers:  # pylint: disable=protected-access
    if all(sub is not seen for seen in out):
      out.append(sub)
      _sublayers_depth_first(sub, out)
  return out


def owner_order(owner, records):
  """Keras 3 order of the weights under `owner`: its own weights, then each
  tracked sublayer's (depth first, in attribute-assignment order), whatever
  order they were called in; per layer, trainable then non-trainable.
  Layers `owner` does not track come last, in creation order."""
  layers = [owner] + _sublayers_depth_first(owner, [])
  rank = {id(l): i for i, l in enumerate(layers)}
  # A layer may also track a sublayer's weight as its own, as Keras's
  # `self.kernel = self.layer.kernel` does (SpectralNormalization): the
  # weight then counts as that layer's, where Keras lists it.
  claimed = {}
  for layer in layers:
    for sub, name in layer.__dict__.get("_claimed_weights", ()):
      claimed.setdefault((id(sub), name), layer)
  owner_of = lambda r: claimed.get((id(r.layer), r.name), r.layer)
  return sorted(_keras_order(records, owner_of),
                key=lambda r: rank.get(id(owner_of(r)), len(layers)))


# -- keeping layer storage and live train states consistent -------------------
# A model being trained keeps its newest weights in its live train state (an
# `_engine` LiveState), not in the layers. That object registers itself as a
# holder of the layers that store those weights (the records' owners): it
# alone knows whether its values are newer than the layers'. Reading a
# layer's weights first asks its holders to write newer values back
# (`sync_owners`); writing a layer's weights tells its holders that their copy
# is out of date (`owners_written`). Nothing here is process-global.
# Bumped whenever a layer's `trainable` flag changes: traced code reads the
# flag (e.g. a frozen BatchNormalization runs in inference mode), so cached
# compiled functions keyed on it must be rebuilt.
_trainable_version = [0]


def add_holder(owner, holder) -> None:
  """Registers `holder` (with `sync_to_layers()` and `layers_written()`) as
  keeping a copy of `owner`'s weights."""
  holders = owner.__dict__.get("_holders")
  if holders is None:
    holders = owner.__dict__["_holders"] = weakref.WeakSet()
  holders.add(holder)


def _holders_of(owners):
  seen = {}
  for owner in owners:
    for holder in owner.__dict__.get("_holders") or ():
      seen[id(holder)] = holder
  return list(seen.values())


def sync_owners(owners) -> None:
  """Brings the storage of `owners` up to date with any live train state."""
  for holder in _holders_of(owners):
    holder.sync_to_layers()


def owners_written(owners) -> None:
  """Tells every holder of `owners` that their stored weights changed."""
  for holder in _holders_of(owners):
    holder.layers_written()


def trainable_version() -> int:
  return _trainable_version[0]


def is_trainable(record) -> bool:
  """A weight is trainable if it is a param and its layer is trainable."""
  return record.kind == "params" and record.layer.trainable and (
      record.owner.trainable)


def _lookup(record, sync=True):
  if isinstance(record, tuple) and len(record) == 3 and isinstance(
      record[0], Layer):
    layer, kind, name = record
    matches = [r for r in layer._weight_records
               if r.layer is layer and r.kind == kind and r.name == name]
    if not matches:
      raise AttributeError(f"Layer {layer.name!r} has no built weight {name!r}.")
    record = matches[0]
  if sync:
    sync_owners((record.owner,))
  variables = record.owner._variables
  if variables is None:
    raise ValueError(f"Layer {record.owner.name!r} is not built yet.")
  return variables[record.kind][record.module][record.name]


def _adopt(records, params, state):
  """Stores init results on the owning layers, keeping existing weights.

  A layer that already holds a weight of the same shape keeps it (as in
  Keras, where building a new model from trained layers keeps their
  weights).
  """
  owners = {id(r.owner): r.owner for r in records}.values()
  sync_owners(owners)
  owners_written(owners)
  source = {"params": params, "state": state}
  for r in records:
    owner = r.owner
    if owner._variables is None:
      owner._variables = {"params": {}, "state": {}}
    module_store = owner._variables[r.kind].setdefault(r.module, {})
    existing = module_store.get(r.name)
    if existing is None or tuple(existing.shape) != r.shape:
      module_store[r.name] = source[r.kind][r.module][r.name]
  for r in records:
    layers = {id(r.layer): r.layer, id(r.owner): r.owner}
    for layer in layers.values():
      if all(x is not r for x in layer._weight_records):
        layer._weight_records = [
            x for x in layer._weight_records
            if not (x.kind == r.kind and x.module == r.module and x.name == r.name)
        ] + [r]
      layer.built = True


def _collect(records):
  sync_owners({id(r.owner): r.owner for r in records}.values())
  params, state = {}, {}
  for r in records:
    target = params if r.kind == "params" else state
    target.setdefault(r.module, {})[r.name] = _lookup(r, sync=False)
  return params, state


def set_records(owner_name, records, weights):
  owners = {id(r.owner): r.owner for r in records}.values()
  sync_owners(owners)
  weights = list(weights)
  if len(weights) != len(records):
    names = [f"{r.module}/{r.name}" for r in records]
    raise ValueError(
        f"set_weights on {owner_name!r} expects a list of {len(records)} arrays "
        f"({names}), received {len(weights)}. Pass the list returned by "
        "get_weights() of a model with the same architecture.")
  for r, w in zip(records, weights):
    shape = tuple(np.shape(w))
    if shape != r.shape:
      raise ValueError(
          f"set_weights: weight '{r.module}/{r.name}' of layer "
          f"{r.layer.name!r} expects shape {r.shape}, received {shape}.")
  owners_written(owners)
  for r, w in zip(records, weights):
    r.owner._variables[r.kind][r.module][r.name] = jnp.asarray(w, r.dtype)


def _routed_build(build):
  """Wraps a layer class's `build`: called directly from a user layer's code
  inside a trace (Keras: `self.conv.build(input_shape)` in an outer layer's
  `build`), it builds the layer in its own Haiku module, once per trace, as
  its first call would; everywhere else it is the plain method."""
  import functools  # pylint: disable=g-import-not-at-top

  @functools.wraps(build)
  def routed(self, input_shape):
    ctx = _context.current()
    if ctx is not None and ctx.routes_build(self):
      ctx.build_layer(self, input_shape)
      return None
    return build(self, input_shape)
  return routed


def _standalone_transform(layer):
  def fn(*args, **kwargs):
    with _context.trace_context() as ctx:
      out = ctx.call_layer(layer, args, kwargs)
      if ctx.records:
        layer._standalone_records = list(ctx.records)
    scope = _context.current_loss_scope()
    if scope is not None and not hk.running_init():
      scope.publish(ctx.losses)
    return out
  layer._standalone_records = []
  return hk.transform_with_state(fn)
