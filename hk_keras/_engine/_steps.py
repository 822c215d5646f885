"""Pure train/test/predict steps and their multi-step (lax.scan) forms.

Each step is a pure function of the train state and a batch. The trainer
compiles them once through a device strategy; nothing here touches the host.
"""
import functools

import chex
import haiku as hk
import jax
import jax.numpy as jnp
import jmp
import optax
from jax.experimental import checkify

from .._core import _replica

_NONFINITE_HINT = (
    "Training produced a non-finite value (debug=True check): {}. Common "
    "causes: a learning rate that is too high, log of zero in a custom loss, "
    "inputs containing NaN/inf, or sparse class labels outside [0, "
    "num_classes) (SparseCategoricalCrossentropy gives them a NaN loss).")


def split_trainable(params, mask):
  """(trainable, frozen) Haiku params from a module/name -> bool mask."""
  return hk.data_structures.partition(
      lambda module, name, _: mask[module][name], params)


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


def pack(x):
  """Batch x -> positional apply arguments (list inputs stay one list)."""
  return x


def default_train_step(model, objective, tx, mask, debug, data_state, batch):
  """One optimizer step. Returns (new train state, logs).

  Under data parallelism the batch is this replica's slice: gradients are
  averaged over replicas (`_replica.psum` of the replicas' shares, a no-op
  otherwise), and the
  padded rows of a last uneven batch (`_replica.sample_mask()`) are left out
  of the loss, the metrics and BatchNormalization statistics. With a loss
  scale in the state (float16 mixed precision) the loss is scaled, the
  gradients unscaled, and a step with non-finite gradients is skipped.
  """
  state = data_state
  x, y, sample_weight = batch
  check_batch(x, y)
  rows = _replica.sample_mask()
  if is_small_step(state.params, batch):
    # Dispatch-bound: a threefry split (a rolled loop on XLA:CPU) costs ~50
    # us here, more than the rest of the step. Step t draws from
    # fold_in(seed key, t) instead, which XLA drops when the model draws no
    # randomness; the seed key stays as it is.
    rng, step_rng = state.rng, jax.random.fold_in(state.rng, state.step)
  else:
    # The usual carried split. Measured on XLA:CPU, the keyless form of a
    # large step (the 784-512-512-10 MLP) ran ~12% slower: XLA then
    # schedules the step's kernels differently (cause not pinned down).
    rng, step_rng = jax.random.split(state.rng)
  step_rng = _replica.fold_in(step_rng)
  trainable, frozen = split_trainable(state.params, mask)
  scale = getattr(state, "loss_scale", None)

  def loss_fn(trainable):
    params = hk.data_structures.merge(trainable, frozen)
    y_pred, new_state = model.apply(params, state.state, step_rng,
                                    *model._unpack_inputs(x), training=True)
    loss, _ = objective.compute_loss(y, y_pred, sample_weight, mask=rows)
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
  if debug:
    checkify.check(jnp.isfinite(loss), _NONFINITE_HINT.format("loss"))
    for path, g in jax.tree_util.tree_leaves_with_path(grads):
      name = "/".join(str(getattr(k, "key", k)) for k in path)
      checkify.check(jnp.all(jnp.isfinite(g)),
                     _NONFINITE_HINT.format(f"gradient of {name}"))
  updates, opt_state = tx.update(grads, state.opt_state, trainable)
  new_trainable = optax.apply_updates(trainable, updates)
  if scale is not None:
    finite = jmp.all_finite(grads)
    new_trainable, opt_state, new_model_state = jmp.select_tree(
        finite, (new_trainable, opt_state, new_model_state),
        (trainable, state.opt_state, state.state))
    state = state._replace(loss_scale=scale.adjust(finite))
  batch_size = (jax.tree_util.tree_leaves(x)[0].shape[0] if rows is None
                else jnp.sum(rows))
  metrics = update_metrics(objective, state.metrics, loss, y, y_pred,
                           sample_weight, batch_size, rows)
  new = state._replace(params=hk.data_structures.merge(new_trainable, frozen),
                       state=new_model_state, opt_state=opt_state, rng=rng,
                       step=state.step + 1, metrics=metrics)
  return new, results(objective, metrics)


# Params and batch together under this size make a "small", dispatch-bound
# train step (the 32-64-1 benchmark model is ~13 KB; the MNIST MLP
# 2.7 MB).
SMALL_STEP_BYTES = 1 << 18


def is_small_step(params, batch) -> bool:
  """Whether a train step on `params` and `batch` is small enough to be
  bound by dispatch rather than by its arithmetic (trace-time, static)."""
  leaves = jax.tree_util.tree_leaves((params, batch))
  return sum(l.size * l.dtype.itemsize for l in leaves) <= SMALL_STEP_BYTES


def default_test_step(model, objective, state, batch, mask=None):
  """One evaluation step on a (possibly padded) batch."""
  x, y, sample_weight = batch
  check_batch(x, y)
  y_pred, _ = model.apply(state.params, state.state, state.rng,
                          *model._unpack_inputs(x), training=False)
  loss, _ = objective.compute_loss(y, y_pred, sample_weight, mask=mask)
  batch_size = (jnp.sum(mask) if mask is not None else
                jax.tree_util.tree_leaves(x)[0].shape[0])
  metrics = update_metrics(objective, state.metrics, loss, y, y_pred,
                           sample_weight, batch_size, mask)
  new = state._replace(metrics=metrics)
  return new, results(objective, metrics)


def default_predict_step(model, state, x):
  y_pred, _ = model.apply(state.params, state.state, state.rng,
                          *model._unpack_inputs(x), training=False)
  return y_pred


def update_metrics(objective, metrics, loss, y, y_pred, sample_weight,
                   batch_size, mask=None):
  """Loss tracker (mean over samples, as Keras) and compiled metrics.

  Under pmap each replica adds the whole global batch: the batch loss is
  averaged and the sample count summed over replicas, and every metric's
  update of this slice is merged with the other replicas' (`psum` for the
  default additive `merge`, an all-gather and `merge` otherwise). Replicas
  therefore hold identical metric states.
  """
  (total, count), states = metrics
  n = _replica.psum(jnp.asarray(batch_size, jnp.float32))
  loss = _replica.pmean(jnp.asarray(loss, jnp.float32))
  loss_tracker = (total + loss * n, count + n)
  if objective.metrics:
    if _replica.axis_name() is None:
      states = objective.update_metrics(states, y, y_pred, sample_weight, mask)
    else:
      deltas = objective.update_metrics(objective.init_metrics(), y, y_pred,
                                        sample_weight, mask)
      states = tuple(_merge_replicas(m.metric, s, d)
                     for m, s, d in zip(objective.metrics, states, deltas))
  return loss_tracker, states


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


def scan_steps(step):
  """K steps in one call: `step` scanned over K stacked batches."""
  def multi(state, batches):
    def body(carry, batch):
      new, logs = step(carry, batch)
      return new, logs
    state, logs = jax.lax.scan(body, state, batches)
    return state, jax.tree_util.tree_map(lambda l: l[-1], logs)
  return multi


def gather(data, index):
  """Rows `index` of every array in a device-resident dataset."""
  return jax.tree_util.tree_map(lambda a: jnp.take(a, index, axis=0), data)


def _rows(vector, start, size):
  """This replica's part of `vector[start:start + size]`, placed like the
  batch (under data parallelism each replica gathers only its rows)."""
  part = jax.lax.dynamic_slice_in_dim(vector, start, size)
  return _replica.constrain(_replica.local_rows(part))


def batch_rows(data, perm, start, size):
  """This replica's rows of the global batch `start:start + size`.

  With `perm` None the data is already in the epoch's order and the batch is
  a contiguous slice; otherwise rows `perm[start:start + size]` are gathered.
  On XLA:CPU a gather inside a small train step costs ~20 us more than a
  slice, so `fit` puts each epoch's shuffled copy of the data on the device
  once and slices it (see `Trainer._epoch_order`).
  """
  if perm is None:
    return jax.tree_util.tree_map(lambda a: _rows(a, start, size), data)
  return _replica.constrain(gather(data, _rows(perm, start, size)))


def indexed(step, batch_size, real=None):
  """Wraps step(state, batch) as step(state, data, perm, start): the batch is
  taken on the device (`batch_rows`), so no host slicing happens.

  With `real` < `batch_size` (a last batch padded to split over the
  replicas; `perm` must extend past the data) only the first `real` rows
  count: the step runs under that padding mask (`_replica.masked_rows`).
  """
  def run(state, data, perm, start):
    batch = batch_rows(data, perm, start, batch_size)
    if real is None or real >= batch_size:
      return step(state, batch)
    local = batch_size // _replica.count()
    rows = _replica.constrain(_replica.row_mask(local, real))
    with _replica.masked_rows(rows):
      return step(state, batch)
  return run


def indexed_scan(step, batch_size, num_steps):
  """`num_steps` consecutive batches (`batch_rows`) in one scan."""
  def run(state, data, perm, start):
    def body(carry, j):
      return step(carry, batch_rows(data, perm, start + j * batch_size,
                                    batch_size))
    state, logs = jax.lax.scan(body, state, jnp.arange(num_steps))
    return state, jax.tree_util.tree_map(lambda l: l[-1], logs)
  return run


def indexed_eval(test_step, batch_size):
  """test_step(state, batch, mask) as run(state, data, index, mask, start):
  rows `index[start:start + batch_size]`, real where `mask` is 1."""
  def run(state, data, index, mask, start):
    rows = _rows(index, start, batch_size)
    return test_step(state, _replica.constrain(gather(data, rows)),
                     _rows(mask, start, batch_size))
  return run


def metrics_only(step):
  """An eval step that returns (metrics, logs), not the whole state.

  Returning the state from a step whose state is not donated makes XLA copy
  every param and optimizer slot into new output buffers on each batch;
  evaluation only changes the metrics.
  """
  def run(state, *args):
    new_state, logs = step(state, *args)
    return new_state.metrics, logs
  return run


def indexed_predict(predict_step, batch_size):
  """predict_step(state, x) as run(state, data, index, start)."""
  def run(state, data, index, start):
    rows = _rows(index, start, batch_size)
    return predict_step(state, _replica.constrain(gather(data, rows)))
  return run


def with_row_mask(step):
  """step(state, batch) as run(state, batch, mask) for a host batch padded
  to split over the replicas: the step runs under that padding mask."""
  def run(state, batch, mask):
    with _replica.masked_rows(mask):
      return step(state, batch)
  return run


def with_checks(step):
  """checkify the step (debug=True): errors are raised on the host."""
  checked = checkify.checkify(step, errors=checkify.user_checks)
  return checked


def bind(fn, *args):
  return functools.partial(fn, *args)


def has_primitive(closed_jaxpr, name: str) -> bool:
  """Whether a jaxpr (or any jaxpr nested in it) uses primitive `name`."""
  def walk(jaxpr):
    for eqn in jaxpr.eqns:
      if eqn.primitive.name == name:
        return True
      for param in eqn.params.values():
        for sub in (param if isinstance(param, (list, tuple)) else [param]):
          inner = getattr(sub, "jaxpr", None)
          if inner is not None and hasattr(inner, "eqns") and walk(inner):
            return True
          if hasattr(sub, "eqns") and walk(sub):
            return True
    return False
  return walk(closed_jaxpr.jaxpr)
