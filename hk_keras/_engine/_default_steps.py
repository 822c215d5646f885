"""The default train/test/predict steps, built from the model's public methods.

The default `train_step` is Keras 3's, as a pure function of the train state:
apply the model, `model.compute_loss(x, y, y_pred, sample_weight, training)`
(compiled loss plus `model.losses`), differentiate, `model.apply_gradients`,
then `model.update_metrics`, which calls `model.compute_metrics(x, y, y_pred,
sample_weight)` for the logs. Overriding any one of those methods changes
what `fit` and `evaluate` do and nothing else.

Metric states live in the train state. `compute_metrics` has Keras's
signature (no state argument), so `update_metrics` opens a trace-local
metric scope holding this step's metric states, and the default
`compute_metrics` updates the states in that scope.
"""
import contextlib
import inspect
import threading

import chex
import haiku as hk
import jax
import jax.numpy as jnp
import jmp
import optax
from jax.experimental import checkify

from .._core import _context
from .._core import _replica
from ._train_state import split_trainable

_NONFINITE_HINT = (
    "Training produced a non-finite value (debug=True check): {}. Common "
    "causes: a learning rate that is too high, log of zero in a custom loss, "
    "inputs containing NaN/inf, or sparse class labels outside [0, "
    "num_classes) (SparseCategoricalCrossentropy gives them a NaN loss).")

_NO_METRIC_SCOPE = (
    "compute_metrics(x, y, y_pred, sample_weight) updates the metric states "
    "of the running step, so it is called by update_metrics(state, loss, y, "
    "y_pred, sample_weight) inside train_step/test_step. In a custom "
    "train_step call self.update_metrics(...) instead.")

_local = threading.local()

# Params and batch together under this size make a "small", dispatch-bound
# train step (the 32-64-1 benchmark model is ~13 KB; the MNIST MLP
# 2.7 MB).
SMALL_STEP_BYTES = 1 << 18


def check_batch(x, y):
  """Trace-time checks that x and y agree on the batch size."""
  leaves = jax.tree_util.tree_leaves((x, y))
  if not leaves:
    return
  sizes = {int(l.shape[0]) for l in leaves if getattr(l, "ndim", 0) > 0}
  if len(sizes) > 1:
    raise ValueError(
        f"The arrays of a batch have different batch sizes {sorted(sizes)}; "
        "x, y and sample_weight must have the same number of samples.")
  chex.assert_equal_shape_prefix(leaves, 1)
  for leaf in leaves:
    if not (jnp.issubdtype(leaf.dtype, jnp.number) or leaf.dtype == jnp.bool_):
      raise TypeError(
          f"Batches must hold numeric arrays; received dtype {leaf.dtype}. "
          "Convert strings or objects to numbers before fit.")


def is_small_step(params, batch) -> bool:
  """Whether a train step on `params` and `batch` is small enough to be
  bound by dispatch rather than by its arithmetic (trace-time, static)."""
  leaves = jax.tree_util.tree_leaves((params, batch))
  return sum(l.size * l.dtype.itemsize for l in leaves) <= SMALL_STEP_BYTES


def _step_keys(state, batch):
  """(key to carry, key for this step)."""
  if is_small_step(state.params, batch):
    # Dispatch-bound: a threefry split (a rolled loop on XLA:CPU) costs ~50
    # us here, more than the rest of the step. Step t draws from
    # fold_in(seed key, t) instead, which XLA drops when the model draws no
    # randomness; the seed key stays as it is.
    return state.rng, jax.random.fold_in(state.rng, state.step)
  # The usual carried split. Measured on XLA:CPU, the keyless form of a
  # large step (the 784-512-512-10 MLP) ran ~12% slower: XLA then schedules
  # the step's kernels differently (cause not pinned down).
  return jax.random.split(state.rng)


def call_compute_loss(model, x, y, y_pred, sample_weight, training):
  """`model.compute_loss`, with `training` only when it takes one: Keras 3
  also accepts the older override `compute_loss(x, y, y_pred,
  sample_weight)`."""
  fn = model.compute_loss
  takes = _takes_training.get(getattr(fn, "__func__", fn))
  if takes is None:
    params = inspect.signature(fn).parameters.values()
    takes = any(p.name == "training" or p.kind == p.VAR_KEYWORD
                for p in params)
    _takes_training[getattr(fn, "__func__", fn)] = takes
  if takes:
    return fn(x, y, y_pred, sample_weight, training=training)
  return fn(x, y, y_pred, sample_weight)


_takes_training = {}


def _rows_in(x):
  rows = _replica.sample_mask()
  return (jax.tree_util.tree_leaves(x)[0].shape[0] if rows is None
          else jnp.sum(rows))


# -- the steps --------------------------------------------------------------------

def default_train_step(model, state, data):
  """One optimizer step. Returns (new train state, logs).

  Under data parallelism the batch is this replica's slice: gradients are
  averaged over replicas (`_replica.psum` of the replicas' shares, a no-op
  otherwise), and the padded rows of a last uneven batch
  (`_replica.sample_mask()`) are left out of the loss, the metrics and
  BatchNormalization statistics. With a loss scale in the state (float16
  mixed precision) the loss is scaled, the gradients unscaled, and a step
  with non-finite gradients is skipped.
  """
  live = model._live  # pylint: disable=protected-access
  if live.options.privacy is not None:  # compile(privacy=DPSGD(...))
    from ..privacy import _private_step  # pylint: disable=g-import-not-at-top
    return _private_step.train_step(model, state, data)
  x, y, sample_weight = data
  check_batch(x, y)
  rng, step_rng = _step_keys(state, data)
  step_rng = _replica.fold_in(step_rng)
  trainable, frozen = split_trainable(state.params, live.mask)
  scale = getattr(state, "loss_scale", None)

  def loss_fn(trainable):
    params = hk.data_structures.merge(trainable, frozen)
    with _context.loss_scope():
      y_pred, new_state = model.apply(params, state.state, step_rng,
                                      *model._unpack_inputs(x), training=True)  # pylint: disable=protected-access
      loss = call_compute_loss(model, x, y, y_pred, sample_weight, True)
    loss = jnp.asarray(loss, jnp.float32)
    # Differentiate this replica's share of the global-batch loss and sum the
    # gradients: the same as averaging, but backward values keep the size
    # they have on one device (float16 overflows at the same loss scale).
    share = loss / _replica.count() if _replica.count() > 1 else loss
    scaled = share if scale is None else scale.scale(share)
    return scaled, (loss, y_pred, new_state)

  (_, (loss, y_pred, new_model_state)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(trainable)
  grads = _replica.psum(grads)
  if scale is not None:
    grads = scale.unscale(grads)
  if live.options.debug:
    checkify.check(jnp.isfinite(loss), _NONFINITE_HINT.format("loss"))
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
      name = "/".join(str(getattr(k, "key", k)) for k in path)
      checkify.check(jnp.all(jnp.isfinite(g)),
                     _NONFINITE_HINT.format(f"gradient of {name}"))
  return finish_train_step(model, state, grads, new_model_state, rng,
                           (loss, x, y, y_pred, sample_weight))


def finish_train_step(model, state, grads, new_model_state, rng, batch_out):
  """The end of a train step (default or DP-SGD): the optimizer update, a
  float16 step with non-finite gradients skipped (loss scale adjusted), the
  new Haiku state and RNG, then metrics and logs. `batch_out`: (loss, x, y,
  y_pred, sample_weight)."""
  scale = getattr(state, "loss_scale", None)
  with _reduced_gradients():
    new = model.apply_gradients(state, grads)
  if scale is not None:
    finite = jmp.all_finite(grads)
    params, opt_state, new_model_state = jmp.select_tree(
        finite, (new.params, new.opt_state, new_model_state),
        (state.params, state.opt_state, state.state))
    new = new._replace(params=params, opt_state=opt_state,
                       loss_scale=scale.adjust(finite))
  new = new._replace(state=new_model_state, rng=rng)
  return _metrics_and_logs(model, new, *batch_out)


def default_test_step(model, state, data, mask=None):
  """One evaluation step on a (possibly padded) batch."""
  if mask is not None:
    with _replica.masked_rows(mask):
      return default_test_step(model, state, data)
  x, y, sample_weight = data
  check_batch(x, y)
  with _context.loss_scope():
    y_pred, _ = model.apply(state.params, state.state, state.rng,
                            *model._unpack_inputs(x), training=False)  # pylint: disable=protected-access
    loss = call_compute_loss(model, x, y, y_pred, sample_weight, False)
  return _metrics_and_logs(model, state, loss, x, y, y_pred, sample_weight)


def default_predict_step(model, state, x):
  y_pred, _ = model.apply(state.params, state.state, state.rng,
                          *model._unpack_inputs(x), training=False)  # pylint: disable=protected-access
  return y_pred


def _metrics_and_logs(model, state, loss, x, y, y_pred, sample_weight):
  slot = _StepSlot(x)
  _push("slots", slot)
  try:
    state = model.update_metrics(state, loss, y, y_pred, sample_weight)
  finally:
    _pop("slots")
  logs = slot.logs if slot.logs is not None else model.metrics_logs(state)
  return state, logs


# -- the model methods' default bodies ---------------------------------------------

def compute_loss(model, y, y_pred, sample_weight):
  """The compiled loss (over the real rows of a padded batch) plus the sum
  of `model.losses` (regularizers, `add_loss`), as Keras 3."""
  objective = model._live.options.objective  # pylint: disable=protected-access
  total, _ = objective.compute_loss(y, y_pred, sample_weight,
                                    mask=_replica.sample_mask())
  extra = model.losses
  if extra:
    total = total + sum(jnp.sum(jnp.asarray(l, jnp.float32)) for l in extra)
  return total


def apply_gradients(model, state, grads):
  """The optimizer update of the trainable params (frozen ones untouched),
  then the weights' constraints; advances `state.step`."""
  live = model._live  # pylint: disable=protected-access
  if not _flag("reduced"):
    grads = _replica.pmean(grads)
  trainable, frozen = split_trainable(state.params, live.mask)
  grads, _ = split_trainable(grads, live.mask)
  updates, opt_state = live.options.tx.update(grads, state.opt_state,
                                              trainable)
  trainable = optax.apply_updates(trainable, updates)
  constraints = model._weight_constraints()  # pylint: disable=protected-access
  if constraints:
    trainable = {m: {n: (constraints[(m, n)](v) if (m, n) in constraints
                         else v) for n, v in entries.items()}
                 for m, entries in trainable.items()}
  return state._replace(params=hk.data_structures.merge(trainable, frozen),
                        opt_state=opt_state, step=state.step + 1)


def update_metrics(model, state, loss, y, y_pred, sample_weight):
  """Loss tracker (mean over samples, as Keras), then `compute_metrics`."""
  (total, count), states = state.metrics
  n = _replica.psum(jnp.asarray(_rows_in(y_pred), jnp.float32))
  loss = _replica.pmean(jnp.asarray(loss, jnp.float32))
  scope = _MetricScope((total + loss * n, count + n), states)
  slot = _top("slots")
  x = slot.x if slot is not None else None
  _push("metric_scopes", scope)
  try:
    logs = model.compute_metrics(x, y, y_pred, sample_weight)
  finally:
    _pop("metric_scopes")
  if slot is not None:
    slot.logs = logs
  return state._replace(metrics=(scope.tracker, scope.states))


def compute_metrics(model, y, y_pred, sample_weight):
  """Updates the compiled metrics of the running step; returns all results.

  Keras 3's rule: metrics given as `metrics=` ignore sample weights (and so
  class weights); `weighted_metrics=` use them. The padding mask of an
  uneven last batch applies to both.
  """
  scope = _top("metric_scopes")
  if scope is None:
    raise RuntimeError(_NO_METRIC_SCOPE)
  objective = model._live.options.objective  # pylint: disable=protected-access
  if objective.metrics:
    mask = _replica.sample_mask()
    if _replica.axis_name() is None:
      scope.states = objective.update_metrics(scope.states, y, y_pred,
                                              sample_weight, mask)
    else:
      deltas = objective.update_metrics(objective.init_metrics(), y, y_pred,
                                        sample_weight, mask)
      scope.states = tuple(
          _merge_replicas(m.metric, s, d)
          for m, s, d in zip(objective.metrics, scope.states, deltas))
  return results(objective, (scope.tracker, scope.states))


def _merge_replicas(metric, state, delta):
  """`state` plus every replica's `delta` (all replicas get the same)."""
  from ..metrics import _metric  # pylint: disable=g-import-not-at-top
  merge = getattr(metric, "merge", None)
  if merge is None or getattr(type(metric), "merge", None) is (
      _metric.Metric.merge):
    total = _replica.psum(delta)
    return total if merge is None else merge(state, total)
  gathered = jax.lax.all_gather(delta, _replica.axis_name())
  for i in range(_replica.count()):
    state = merge(state, jax.tree_util.tree_map(lambda g, i=i: g[i],
                                                gathered))
  return state


def init_metrics(objective):
  # Distinct buffers: the train state is donated, and a buffer donated twice
  # in one call is an error.
  return ((jnp.zeros((), jnp.float32), jnp.zeros((), jnp.float32)),
          objective.init_metrics())


def results(objective, metrics):
  (total, count), states = metrics
  logs = {"loss": total / jnp.maximum(count, 1.0)}
  logs.update(objective.metric_results(states))
  return logs


# -- trace-local scopes ---------------------------------------------------------------

class _StepSlot:
  """The running default step: its inputs and the logs compute_metrics
  returned."""

  def __init__(self, x):
    self.x = x
    self.logs = None


class _MetricScope:
  def __init__(self, tracker, states):
    self.tracker = tracker
    self.states = states


def _stack(name):
  stack = getattr(_local, name, None)
  if stack is None:
    stack = []
    setattr(_local, name, stack)
  return stack


def _push(name, value):
  _stack(name).append(value)


def _pop(name):
  _stack(name).pop()


def _top(name):
  stack = _stack(name)
  return stack[-1] if stack else None


def _flag(name) -> bool:
  return bool(_top(name))


@contextlib.contextmanager
def _reduced_gradients():
  """The default step already summed its gradients over the replicas."""
  _push("reduced", True)
  try:
    yield
  finally:
    _pop("reduced")
