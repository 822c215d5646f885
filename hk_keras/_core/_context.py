"""The per-trace context that maps Keras layer objects onto Haiku modules.

A `TraceContext` is entered once per trace of a model's Haiku function. Every
non-container layer called in that trace gets exactly one `hk.Module`, named
after the layer, so calling the same layer object twice shares its weights (a
second `hk.name_scope` of the same name would get a fresh suffix instead).
During `init` the context also records, in creation order, which layer created
which parameter or state entry: that record drives Keras weight order,
`trainable` masks, summaries and weight sharing across models.
"""
import contextlib
import threading
from typing import Any, List, NamedTuple, Optional

import haiku as hk
import jax

from . import _masking

_local = threading.local()


class WeightRecord(NamedTuple):
  """One weight created during init.

  Attributes:
    kind: "params" (trainable) or "state" (non-trainable, Haiku state).
    module: the Haiku module name (the params/state dict key).
    name: the entry name inside that module ("kernel", "moving_mean", ...).
    shape: the weight's shape.
    dtype: the weight's dtype.
    layer: the innermost layer whose code created it.
    owner: the outermost non-container layer around it; it stores the value.
  """
  kind: str
  module: str
  name: str
  shape: tuple
  dtype: Any
  layer: Any
  owner: Any


class TraceContext:
  """State of one trace of a model function."""

  def __init__(self):
    self.modules = {}
    self.built = set()
    self.layer_stack: List[Any] = []
    self.records: List[WeightRecord] = []
    self.containers_records = {}
    self.output_shapes = {}
    self.input_shapes = {}
    self.traced_layers = []
    # Losses added during this trace: `add_loss` and activity regularizers
    # (`losses`), and weight regularizer penalties (`weight_losses`).
    self.losses: List[Any] = []
    self.weight_losses: List[Any] = []
    self.foreign_depth = 0
    self.module_owners = {}
    # Weight views (layers/_weight_view.py): whether any exists in this
    # trace, and the layers whose build is running now.
    self.views_made = False
    self.building = set()

  @contextlib.contextmanager
  def foreign_code(self):
    """Runs another library's code: Haiku params it creates (a nested
    transform of its own) are not this model's weights."""
    self.foreign_depth += 1
    try:
      yield
    finally:
      self.foreign_depth -= 1

  # -- recording ------------------------------------------------------------
  def _record(self, kind, next_creator, shape, dtype, init, context):
    value = next_creator(shape, dtype, init)
    if self.foreign_depth:
      return value
    leaves = [l for l in self.layer_stack if not getattr(l, "_is_container", False)]
    layer = leaves[-1] if leaves else None
    owner = leaves[0] if leaves else None
    record = WeightRecord(kind, context.module_name, context.name,
                          tuple(shape), jax.numpy.dtype(dtype), layer, owner)
    self.records.append(record)
    for container in self.layer_stack:
      if getattr(container, "_is_container", False):
        self.containers_records.setdefault(id(container), []).append(record)
    return value

  def param_creator(self, next_creator, shape, dtype, init, context):
    return self._record("params", next_creator, shape, dtype, init, context)

  def state_creator(self, next_creator, shape, dtype, init, context):
    return self._record("state", next_creator, shape, dtype, init, context)

  # -- calling layers -------------------------------------------------------
  def call_layer(self, layer, args, kwargs):
    if id(layer) not in {id(l) for l in self.traced_layers}:
      self.traced_layers.append(layer)
    kwargs, previous_mask = _masking.fill_mask_arguments(layer, args, kwargs)
    self.layer_stack.append(layer)
    try:
      if getattr(layer, "_is_container", False):
        out = layer._call_in_trace(*args, **kwargs)
      else:
        out = self._module_of(layer)(args, kwargs)
    finally:
      self.layer_stack.pop()
    _masking.set_output_masks(layer, args, out, previous_mask)
    if id(layer) not in self.output_shapes:
      self.output_shapes[id(layer)] = jax.tree_util.tree_map(
          lambda a: tuple(a.shape), out)
    return out

  def routes_build(self, layer) -> bool:
    """Whether `layer.build(...)` called now is a user layer's code building
    a sublayer directly (Keras's `self.conv.build(input_shape)`)."""
    from ..layers._weight_view import is_user_layer  # pylint: disable=g-import-not-at-top
    if id(layer) in self.building or getattr(layer, "_is_container", False):
      return False
    caller = self.layer_stack[-1] if self.layer_stack else None
    return caller is not None and caller is not layer and is_user_layer(caller)

  def build_layer(self, layer, input_shape):
    """Builds `layer` in its own module now, as its first call would."""
    if id(layer) in self.built:
      return
    if id(layer) not in {id(l) for l in self.traced_layers}:
      self.traced_layers.append(layer)
    self.layer_stack.append(layer)
    try:
      self._module_of(layer)(None, None, build_shape=tuple(input_shape))
    finally:
      self.layer_stack.pop()

  def set_layer_state(self, layer, name, value):
    """`hk.set_state(name, value)` in `layer`'s module."""
    self._module_of(layer).set_weight_state(name, value)

  def _module_of(self, layer):
    module = self.modules.get(id(layer))
    if module is None:
      module = _LayerModule(layer, self._module_name(layer))
      self.modules[id(layer)] = module
    return module

  def _module_name(self, layer):
    """The full Haiku name of `layer`'s module: the scope, then its name."""
    scope = hk.experimental.current_name()
    full_name = layer.name if scope == "~" else f"{scope}/{layer.name}"
    other = self.module_owners.get(full_name)
    if other is not None and other is not layer:
      raise ValueError(
          f"Two different layers are named {layer.name!r} in the same model "
          f"(Haiku module {full_name!r}): their weights would be mixed up. "
          "Give every layer in a model a unique name (or leave name=None for "
          "Keras-style automatic names).")
    self.module_owners[full_name] = layer
    return full_name


class _LayerModule(hk.Module):
  """The one Haiku module of a layer within a trace.

  The module takes exactly the layer's name (given when the layer was
  created, as in Keras 3), whatever order layers are called in. Haiku's own
  naming would number a module after the siblings created before it: with
  layers `embedding` and `embedding_1` called in the reverse order, the
  second module would become `embedding_2`.
  """

  def __init__(self, layer, full_name):
    super().__init__(name=hk.force_name(full_name))
    self._layer = layer

  def __call__(self, args, kwargs, build_shape=None):
    # Building runs inside __call__ (not a method of its own), so that the
    # modules a build creates are named `layer/sublayer` as before, without
    # Haiku's `~method` scope.
    from ..layers import _weight_exposure  # pylint: disable=g-import-not-at-top
    from ..layers import _weight_view  # pylint: disable=g-import-not-at-top
    ctx = current()
    layer = self._layer
    if build_shape is not None:  # Context.build_layer
      _build_once(ctx, layer, build_shape)
      return None
    if ctx.views_made:
      args, kwargs = _weight_view.unwrap_tree((args, kwargs))
    if id(layer) not in ctx.built:
      first = args[0] if args else next(iter(kwargs.values()))
      _build_once(ctx, layer,
                  jax.tree_util.tree_map(lambda a: tuple(a.shape), first))
    changes = _weight_exposure.enter(ctx, layer)
    try:
      out = layer._call_with_autocast(args, kwargs)
    finally:
      _weight_exposure.leave(changes)
    if ctx.views_made:
      out = _weight_view.unwrap_tree(out)
    if layer.__dict__.get("activity_regularizer") is not None:
      _activity_losses(ctx, layer, out)
    return out

  def set_weight_state(self, name, value):
    """`hk.set_state` in this module's scope (a view's assign)."""
    hk.set_state(name, value)


def _build_once(ctx, layer, input_shape):
  """Builds `layer` in the current module scope (once per trace)."""
  from ..layers import _weight_exposure  # pylint: disable=g-import-not-at-top
  ctx.built.add(id(layer))
  ctx.input_shapes.setdefault(id(layer), input_shape)
  ctx.building.add(id(layer))
  changes = _weight_exposure.enter(ctx, layer)
  try:
    layer._build_in_trace(input_shape)  # pylint: disable=protected-access
  finally:
    _weight_exposure.leave(changes)
    ctx.building.discard(id(layer))


def _activity_losses(ctx, layer, out):
  """Keras 3: the activity penalty of each output, divided by its batch
  size. On a padded batch only the real rows count (padded rows are zeroed,
  which is exact for L1/L2 penalties)."""
  from . import _replica  # pylint: disable=g-import-not-at-top
  rows = _replica.sample_mask()
  for leaf in jax.tree_util.tree_leaves(out):
    if not hasattr(leaf, "ndim"):
      continue
    if leaf.ndim > 0:
      size = leaf.shape[0]
      if rows is not None and rows.shape[0] == size:
        leaf = leaf * rows.reshape((size,) + (1,) * (leaf.ndim - 1)).astype(
            leaf.dtype)
        size = jax.numpy.maximum(jax.numpy.sum(rows), 1.0)
      value = layer.activity_regularizer(leaf) / jax.numpy.asarray(
          size, jax.numpy.float32)
    else:
      value = layer.activity_regularizer(leaf)
    ctx.losses.append((layer, jax.numpy.asarray(value, jax.numpy.float32)))


def current() -> Optional[TraceContext]:
  stack = getattr(_local, "stack", None)
  return stack[-1] if stack else None


@contextlib.contextmanager
def trace_context():
  """Enters a fresh context and records weight creation during init."""
  ctx = TraceContext()
  stack = getattr(_local, "stack", None)
  if stack is None:
    stack = _local.stack = []
  stack.append(ctx)
  try:
    with hk.custom_creator(ctx.param_creator, params=True, state=False), \
        hk.custom_creator(ctx.state_creator, params=False, state=True):
      yield ctx
  finally:
    stack.pop()
    for layer in ctx.traced_layers:
      layer._release_trace_values()


class LossScope:
  """Collects the losses of the model applies traced inside it.

  A step (the engine's default ones and custom ones alike) runs inside a
  scope; every `model.apply` in it publishes the losses its trace added, so
  `model.losses` (read by `compute_loss`) returns the penalties of the very
  apply that made the predictions: no second forward pass.
  """

  def __init__(self):
    self.losses: List[Any] = []

  def publish(self, losses):
    self.losses = list(losses)


@contextlib.contextmanager
def loss_scope():
  """Enters a fresh `LossScope` (see its docstring)."""
  scope = LossScope()
  stack = getattr(_local, "loss_scopes", None)
  if stack is None:
    stack = _local.loss_scopes = []
  stack.append(scope)
  try:
    yield scope
  finally:
    stack.pop()


def current_loss_scope() -> Optional[LossScope]:
  stack = getattr(_local, "loss_scopes", None)
  return stack[-1] if stack else None
