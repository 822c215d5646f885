"""Keras 3's stateless JAX API of `Model`, over the Haiku params and state.

Keras 3 (JAX backend) lets research code and custom steps run a model as a
pure function of explicit lists of variable values:
`model.trainable_variables`, `model.non_trainable_variables`,
`model.metrics_variables`, `stateless_call`, `stateless_compute_loss` and
`compute_loss_and_updates`. Here the lists are a view of the Haiku dicts:

* `trainable_variables`: the params of trainable layers, Keras order;
* `non_trainable_variables`: the params of frozen layers and the Haiku state
  (moving statistics, ...), Keras order, then, if the model draws random
  numbers, one seed state (a PRNG key) standing for Keras's `SeedGenerator`
  states: `stateless_call` splits it and returns the next one;
* `metrics_variables`: the leaves of each of `model.metrics`' states.

Mapping a list onto the dicts only rearranges references at trace time: a
compiled step contains no copy. `_keras_state`/`_train_state_from_keras`
map the engine's `TrainState` onto Keras's step state and back, for the
engine's Keras-form steps (`_engine/_keras_steps.py`).
"""
# pylint: disable=protected-access
import contextlib
from typing import Any, List, NamedTuple

import jax
import jax.numpy as jnp
import optax

from .. import utils
from .._core import _context
from .._core import _replica
from .._core import _stateless_binding
from .._core import _variable
from ..layers import _input
from ..layers import _layer

try:  # Haiku raises it when apply draws a key without an rng
  from haiku._src.base import MissingRNGError as _MissingRNG
except ImportError:  # pragma: no cover
  _MissingRNG = ValueError

_WRONG_COUNT = (
    "Argument `{arg}` must be a list of tensors corresponding 1:1 to "
    "{cls}().{arg}. Received list with length {got}, but expected "
    "{expected} variables.")


class _Spec(NamedTuple):
  train: List[Any]   # records of trainable params, Keras order
  frozen: List[Any]  # records of frozen params and Haiku state, Keras order
  uses_rng: bool     # whether a seed state ends non_trainable_variables


def _tree_of(records, values, params, state):
  for r, v in zip(records, values):
    target = params if r.kind == "params" else state
    target.setdefault(r.module, {})[r.name] = v


def _read(records, params, state):
  return [(params if r.kind == "params" else state)[r.module][r.name]
          for r in records]


def _same_structure(like, tree):
  """`tree`'s leaves in the pytree type of `like` (same keys)."""
  return jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(like),
                                      jax.tree_util.tree_leaves(tree))


class StatelessModel:
  """Mixed into `Model` (see the module docstring)."""

  # -- the layout of the lists ------------------------------------------------
  def _stateless_spec(self) -> _Spec:
    self._require_built()
    key = (tuple(id(r) for r in self._records), _layer.trainable_version())
    cached = self.__dict__.get("_stateless_spec_cache")
    if cached is not None and cached[0] == key:
      return cached[1]
    ordered = self._ordered_records()
    spec = _Spec([r for r in ordered if _layer.is_trainable(r)],
                 [r for r in ordered if not _layer.is_trainable(r)],
                 self._draws_random_numbers())
    self.__dict__["_stateless_spec_cache"] = (key, spec)
    return spec

  def _draws_random_numbers(self) -> bool:
    """Whether training `apply` needs an rng (abstract trace, no compute)."""
    if self._input_spec is None:
      return False
    size = _input._DUMMY_SIZES[-1]
    args = jax.tree_util.tree_map(
        lambda s: jax.ShapeDtypeStruct(
            tuple(1 if (d is None and i == 0) else size if d is None else d
                  for i, d in enumerate(s.shape)), s.dtype),
        self._input_spec, is_leaf=lambda s: isinstance(s, _input.ShapeSpec))
    try:
      jax.eval_shape(
          lambda p, s, a: self.apply(p, s, None, *self._unpack_inputs(a),
                                     training=True),
          self.params, self.state, args)
    except _MissingRNG:
      return True
    except Exception:  # pylint: disable=broad-except
      return False  # the model fails abstractly anyway: no seed entry
    return False

  def _trees_from_lists(self, spec, trainable, non_trainable):
    params, state = {}, {}
    _tree_of(spec.train, trainable, params, state)
    _tree_of(spec.frozen, non_trainable, params, state)
    rng = non_trainable[len(spec.frozen)] if spec.uses_rng else None
    return params, state, rng

  def _check_lists(self, spec, trainable, non_trainable):
    expected = {"trainable_variables": len(spec.train),
                "non_trainable_variables": len(spec.frozen) + spec.uses_rng}
    for arg, got in (("trainable_variables", len(trainable)),
                     ("non_trainable_variables", len(non_trainable))):
      if got != expected[arg]:
        raise ValueError(_WRONG_COUNT.format(
            arg=arg, cls=type(self).__name__, got=got,
            expected=expected[arg]))

  # -- variables --------------------------------------------------------------
  def _record_variable(self, r):
    return _variable.Variable(
        lambda: _layer._lookup(r),
        lambda value: _layer.set_records(self.name, [r], [value]),
        name=r.name, path=f"{r.module}/{r.name}",
        trainable=_layer.is_trainable(r))

  def _seed_variable(self):
    def read():
      seed = self.__dict__.get("_stateless_seed")
      if seed is None:
        seed = self.__dict__["_stateless_seed"] = utils.next_rng_key()
      return seed

    def write(value):
      self.__dict__["_stateless_seed"] = jnp.asarray(value, jnp.uint32)
    return _variable.Variable(read, write, name="seed_generator_state",
                              path=f"{self.name}/seed_generator_state")

  @property
  def trainable_variables(self) -> List[_variable.Variable]:
    """The trainable weights as Keras variables (Keras order).

    `v.value`, `v.shape`, `v.dtype`, `v.name`, `v.path`, `v.assign(x)` and
    `jnp` ops work as in Keras 3; passed to `jax.jit` each becomes its array.
    """
    return [self._record_variable(r) for r in self._stateless_spec().train]

  @property
  def non_trainable_variables(self) -> List[_variable.Variable]:
    """Frozen weights and Haiku state (Keras order), then the seed state if
    the model draws random numbers."""
    spec = self._stateless_spec()
    out = [self._record_variable(r) for r in spec.frozen]
    return out + [self._seed_variable()] if spec.uses_rng else out

  @property
  def variables(self) -> List[_variable.Variable]:
    """`trainable_variables + non_trainable_variables`."""
    return self.trainable_variables + self.non_trainable_variables

  @property
  def metrics_variables(self) -> List[_variable.Variable]:
    """The variables of every metric in `model.metrics`, in that order."""
    return [v for m in self.metrics for v in m.variables]

  # -- the stateless functions ------------------------------------------------
  def stateless_call(self, trainable_variables, non_trainable_variables,
                     *args, return_losses=False, **kwargs):
    """`model(x)` as a pure function of explicit variable values (Keras 3).

    Args:
      trainable_variables: values (or Variables) in
        `model.trainable_variables` order.
      non_trainable_variables: values in `model.non_trainable_variables`
        order.
      *args: the inputs (one structure, as `model(x)`).
      return_losses: also return the `add_loss`, activity and weight
        penalties of this call.
      **kwargs: `training=False`.

    Returns:
      `(outputs, non_trainable_variables)` with the updated non-trainable
      values (and the seed state advanced), plus `losses` if asked.

    Raises:
      ValueError: if the model is not built or a list has the wrong length.
    """
    if not self.built:
      raise ValueError(
          f"To call stateless_call, {type(self).__name__} must be built (its "
          "variables must exist). Build it by calling it on some data or "
          "with model.build(input_shape).")
    training = bool(kwargs.pop("training", False))
    if len(args) != 1 or kwargs:
      raise TypeError(
          "stateless_call(trainable_variables, non_trainable_variables, x, "
          f"training=False) takes one input structure; received {len(args)} "
          f"inputs and keyword arguments {sorted(kwargs)}.")
    spec = self._stateless_spec()
    self._check_lists(spec, trainable_variables, non_trainable_variables)
    params, state, rng = self._trees_from_lists(
        spec, _variable.values_of(trainable_variables),
        _variable.values_of(non_trainable_variables))
    key = None
    if spec.uses_rng:
      rng, key = jax.random.split(jnp.asarray(rng))
    outer = _context.current_loss_scope()
    with (contextlib.nullcontext(outer) if outer is not None
          else _context.loss_scope()) as scope:
      outputs, new_state = self.apply(params, state, key,
                                      *self._unpack_inputs(args[0]),
                                      training=training)
      losses = [v for _, v in scope.losses or []]
    new_non_trainable = _read(spec.frozen, params, new_state)
    if spec.uses_rng:
      new_non_trainable.append(rng)
    if return_losses:
      return outputs, new_non_trainable, losses
    return outputs, new_non_trainable

  def stateless_compute_loss(self, trainable_variables,
                             non_trainable_variables, metrics_variables,
                             x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
    """`compute_loss` with explicit variables (Keras 3): returns `(loss,
    (trainable_variables, non_trainable_variables, metrics_variables))`.

    The penalties of `self.losses` are those of the `stateless_call` that
    made `y_pred` (inside a step, as `compute_loss`)."""
    from .._engine import _default_steps  # pylint: disable=g-import-not-at-top
    loss = _default_steps.call_compute_loss(self, x, y, y_pred, sample_weight,
                                            training)
    return loss, (list(trainable_variables), list(non_trainable_variables),
                  list(metrics_variables))

  def compute_loss_and_updates(self, trainable_variables,
                               non_trainable_variables, metrics_variables, x,
                               y, sample_weight, training=False,
                               optimizer_variables=None):
    """Keras 3's JAX trainer helper, for `jax.value_and_grad(...,
    has_aux=True)`: returns `(loss, (unscaled_loss, y_pred,
    non_trainable_variables, metrics_variables))`."""
    del optimizer_variables  # loss scaling lives in the train state here
    y_pred, non_trainable_variables = self.stateless_call(
        trainable_variables, non_trainable_variables, x, training=training)
    loss, (_, non_trainable_variables, metrics_variables) = (
        self.stateless_compute_loss(
            trainable_variables, non_trainable_variables, metrics_variables,
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
            training=training))
    return loss, (loss, y_pred, non_trainable_variables, metrics_variables)

  # -- the engine's train state as Keras's step state -------------------------
  def _keras_state(self, ts, kind):
    """TrainState -> Keras's (trainable, non_trainable[, optimizer],
    [metrics]) lists for a `kind` ("train"/"test"/"predict") step."""
    spec = self._stateless_spec()
    trainable = _read(spec.train, ts.params, ts.state)
    non_trainable = _read(spec.frozen, ts.params, ts.state)
    if spec.uses_rng:
      non_trainable.append(ts.rng)
    if kind == "predict":
      return trainable, non_trainable
    metrics = jax.tree_util.tree_leaves(ts.metrics)
    if kind == "test":
      return trainable, non_trainable, metrics
    return (trainable, non_trainable,
            jax.tree_util.tree_leaves(ts.opt_state), metrics)

  def _train_state_from_keras(self, ts, keras_state, kind):
    """The inverse of `_keras_state`: a TrainState like `ts`."""
    sizes = {"train": 4, "test": 3, "predict": 2}[kind]
    if not isinstance(keras_state, (tuple, list)) or len(keras_state) != sizes:
      raise ValueError(
          f"A Keras-form {kind}_step must return (logs, state) with state "
          f"the {sizes}-tuple it received (trainable_variables, "
          "non_trainable_variables" + (", optimizer_variables" if sizes == 4
                                       else "") +
          (", metrics_variables" if sizes > 2 else "") + "). Received state "
          f"of type {type(keras_state).__name__}.")
    spec = self._stateless_spec()
    trainable, non_trainable = (_variable.values_of(keras_state[0]),
                                _variable.values_of(keras_state[1]))
    self._check_lists(spec, trainable, non_trainable)
    params, state, rng = self._trees_from_lists(spec, trainable,
                                                non_trainable)
    new = ts._replace(params=_same_structure(ts.params, params),
                      state=_same_structure(ts.state, state),
                      rng=ts.rng if rng is None else rng)
    if sizes > 2:
      new = new._replace(metrics=_unflatten_like(
          ts.metrics, keras_state[-1], "metrics_variables"))
    if sizes == 4:
      new = new._replace(opt_state=_unflatten_like(
          ts.opt_state, keras_state[2], "optimizer_variables"))
    return new

  def _engine_binding(self, live, ts):
    return _EngineBinding(self, live, ts)

  def _stateless_metrics_init(self):
    """The initial metric states of a model whose steps are Keras-form:
    one per `model.metrics` entry (None: the engine's default)."""
    from .._engine import _keras_steps  # pylint: disable=g-import-not-at-top
    if not (_keras_steps.is_keras_form(self, "train")
            or _keras_steps.is_keras_form(self, "test")):
      return None
    return tuple(m.init() for m in self.metrics)


def _unflatten_like(like, values, what):
  treedef = jax.tree_util.tree_structure(like)
  values = _variable.values_of(list(values))
  if len(values) != treedef.num_leaves:
    raise ValueError(
        f"The step returned {len(values)} {what}; the state it received has "
        f"{treedef.num_leaves}. Return one value per received variable, in "
        "the same order.")
  return jax.tree_util.tree_unflatten(treedef, values)


class _EngineBinding:
  """`model.optimizer.stateless_apply` inside an engine step: Keras lists
  onto the trainable Haiku params and the engine's optax state."""

  def __init__(self, model, live, ts):
    self._model = model
    self._live = live
    self._ts = ts

  def stateless_apply(self, optimizer_variables, grads, trainable_variables):
    model = self._model
    spec = model._stateless_spec()
    grads = _variable.values_of(list(grads))
    trainable = _variable.values_of(list(trainable_variables))
    if len(grads) != len(spec.train) or len(trainable) != len(spec.train):
      raise ValueError(
          f"stateless_apply expects {len(spec.train)} gradients and "
          f"trainable variables (model.trainable_variables order); received "
          f"{len(grads)} and {len(trainable)}.")
    grad_tree, param_tree = {}, {}
    _tree_of(spec.train, grads, grad_tree, {})
    _tree_of(spec.train, trainable, param_tree, {})
    grad_tree = _replica.pmean(grad_tree)
    opt_state = _unflatten_like(self._ts.opt_state, optimizer_variables,
                                "optimizer_variables")
    updates, opt_state = self._live.options.tx.update(grad_tree, opt_state,
                                                      param_tree)
    param_tree = optax.apply_updates(param_tree, updates)
    constraints = model._weight_constraints()
    new = []
    for r in spec.train:
      value = param_tree[r.module][r.name]
      c = constraints.get((r.module, r.name))
      new.append(value if c is None else c(value))
    return new, jax.tree_util.tree_leaves(opt_state)


def bound(model, live, ts):
  """Binds `model.optimizer` to the engine while a Keras-form step traces."""
  return _stateless_binding.bind(model.optimizer,
                                 model._engine_binding(live, ts))
