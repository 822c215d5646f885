"""The epoch loops of fit, evaluate and predict, and the *_on_batch calls.

Each loop takes the model and its `LiveState`, asks `_batching` how rows
reach the steps, takes compiled steps from the `StepCache`, and calls the
callbacks' hooks in Keras 3's order. Between steps the train state stays on
the device: the quiet loop holds it in a local and calls nothing else.
"""
import math

import jax
import numpy as np

from .. import callbacks as callbacks_lib
from . import _batching
from . import _data
from ._logs import LazyLogs, format_logs, host_logs


def _host_logs(live, logs):
  return host_logs(live.strategy, live.options.objective, logs)


def run_train(live, fn, *args):
  """One call of a compiled train function on the live state."""
  live.refresh()
  if live.options.debug:
    err, (ts, logs) = fn(live.ts, *args)
    err.throw()
  else:
    ts, logs = fn(live.ts, *args)
  # Reads from callbacks (get_weights in a batch hook) see this step.
  live.advance(ts)
  return logs


# -- fit ---------------------------------------------------------------------------

def fit(model, live, x, y, batch_size, epochs, verbose, callbacks,
        validation_split, validation_data, shuffle, class_weight,
        sample_weight, initial_epoch, steps_per_epoch, validation_steps,
        validation_batch_size, validation_freq):
  """`Model.fit` (see its docstring)."""
  strategy = live.strategy
  if x is None:
    raise ValueError("fit() needs training data: pass x (and y).")
  if _data.is_array_data(x):
    train = _data.ArrayData(x, y, sample_weight)
    if class_weight is not None:
      train.sample_weight = _data.class_weight_to_sample_weight(
          train.y, class_weight, train.sample_weight)
    if validation_split and validation_data is None:
      train, val = train.split(validation_split)
      validation_data = (val.x, val.y, val.sample_weight)
    batch_size = batch_size or 32
    _batching.check_divisible(batch_size, strategy.num_replicas)
    source = None
  else:
    if y is not None:
      raise ValueError(
          "When x is a generator or iterable it must yield (x, y) batches; "
          "do not pass y separately.")
    if validation_split:
      raise ValueError(
          "validation_split is only supported for array inputs; pass "
          "validation_data for generators.")
    if class_weight is not None:
      raise ValueError("class_weight is only supported for array inputs.")
    train, source = None, _data.IterableData(x, steps_per_epoch)
  verbose = 1 if verbose == "auto" else verbose
  if not strategy.is_chief:
    verbose = 0  # Multi-host: only process 0 prints progress.
  history = callbacks_lib.History()
  # History and the progress bar come last, as in Keras: they then see what
  # other callbacks add to the logs (e.g. "learning_rate").
  cb_list = list(callbacks or []) + [history]
  if verbose:
    cb_list.append(callbacks_lib.ProgbarLogger(verbose=verbose))
  steps = None
  if train is not None:
    steps = math.ceil(train.num_samples / batch_size)
    if steps_per_epoch:
      steps = min(steps, steps_per_epoch)
  elif steps_per_epoch:
    steps = steps_per_epoch
  cbs = callbacks_lib.CallbackList(
      cb_list, model, {"epochs": epochs, "steps": steps, "verbose": verbose})
  model.stop_training = False
  model.history = history

  if train is not None:
    live.ensure(train.x, train.y, rows=batch_size)
    train.host = _batching.host_arrays(train.tree)
  live.requested_initial_epoch = None
  cbs.on_train_begin()
  epoch_logs = {}
  # A callback may move the start (BackupAndRestore resuming a run).
  initial_epoch = live.take_initial_epoch(initial_epoch)
  if train is not None and live.ts is None:
    live.ensure(train.x, train.y, rows=batch_size)  # a callback loaded a checkpoint
  for epoch in range(initial_epoch, epochs):
    cbs.on_epoch_begin(epoch)
    live.reset_metrics()
    if train is not None:
      logs = _fit_epoch_arrays(model, live, train, batch_size, epoch,
                               shuffle, steps_per_epoch, cbs)
    else:
      logs = _fit_epoch_iterable(model, live, source, cbs)
    if logs is None:
      break
    epoch_logs = _host_logs(live, logs)
    if validation_data is not None and (epoch + 1) % validation_freq == 0:
      val_logs = _validate(live, validation_data,
                           validation_batch_size or batch_size or 32,
                           validation_steps, cbs)
      epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
    cbs.on_epoch_end(epoch, epoch_logs)
    if model.stop_training:
      break
  cbs.on_train_end(epoch_logs)  # Keras 3: the last epoch's logs
  return history


# The step pieces that honour the padding mask of a partial batch
# (`_replica.sample_mask`) as long as the model does not override them.
_MASKED_PIECES = ("compute_loss", "compute_metrics", "update_metrics")


def _keeps_default(model, names):
  from ._trainer import Trainer  # pylint: disable=g-import-not-at-top
  cls = type(model)
  return all(getattr(cls, name) is getattr(Trainer, name) for name in names)


def _default_steps_in_use(model):
  """Whether the model trains with the default step pieces, which honour
  the padding mask of a partial batch."""
  return _keeps_default(model, ("train_step",) + _MASKED_PIECES)


def _test_steps_honour_mask(model):
  """Whether the model evaluates with step pieces that honour the padding
  mask: the default ones, or an hk_keras-form `test_step(state, data,
  mask=None)` (it receives the mask as an argument and passes it on). A
  Keras-form `test_step(state, data)` cannot see it."""
  from ._keras_steps import is_keras_form  # pylint: disable=g-import-not-at-top
  return (not is_keras_form(model, "test") and
          _keeps_default(model, _MASKED_PIECES))


class _Epoch:
  """The batches of one epoch over array data, in device chunks.

  Batches `0 .. full - 1` are full; with `rem`, batch `full` holds `rem`
  real rows. Each chunk holds `per_chunk` batches (the last chunk padded).
  With `exact_last`, the partial batch is not in the chunks: it runs as a
  host batch of exactly `rem` rows (a custom step might not honour the
  padding mask), one more compiled shape per remainder, as in Keras.
  """

  def __init__(self, model, live, train, batch_size, epoch, shuffle,
               steps_per_epoch):
    n = train.num_samples
    self.order = _batching.epoch_permutation(live.shuffle_seed, epoch, n,
                                             shuffle)
    full, rem = divmod(n, batch_size)
    total = full + (1 if rem else 0)
    if steps_per_epoch:
      total = min(total, steps_per_epoch)
      full = min(full, total)
      rem = rem if total > full else 0
    self.full, self.rem, self.batch_size = full, rem, batch_size
    self.k = live.options.steps_per_execution
    self.per_chunk = _batching.chunk_batches(train.host, batch_size, self.k)
    privacy = live.options.privacy
    if privacy is not None and privacy.sampling == "poisson":
      # Each Poisson step samples from all the examples: one chunk holds
      # the whole epoch (this sampling keeps the dataset on the device).
      self.per_chunk = -(-(-(-n // batch_size)) // self.k) * self.k
    self.exact_last = bool(rem) and not _default_steps_in_use(model)
    self.train, self.strategy = train, live.strategy
    rows = full * batch_size + (0 if self.exact_last else rem)
    if privacy is not None and privacy.sampling == "poisson":
      rows = n
    self.chunks = _batching.array_chunks(
        live.strategy, train.host, self.order, rows,
        self.per_chunk * batch_size)

  def in_chunk(self, c):
    """(full batches, whether the masked partial batch follows) of chunk c."""
    first = c * self.per_chunk
    nfull = max(0, min(self.per_chunk, self.full - first))
    partial = (bool(self.rem) and not self.exact_last and
               first + nfull == self.full)
    return nfull, partial

  def last_host_batch(self):
    """The placed partial batch (exact_last): (batch, mask or None)."""
    start = self.full * self.batch_size
    index = (np.arange(start, start + self.rem) if self.order is None
             else self.order[start:start + self.rem])
    return _batching.host_batch(self.strategy, self.train.host, index)


def _fit_epoch_arrays(model, live, train, batch_size, epoch, shuffle,
                      steps_per_epoch, cbs):
  ep = _Epoch(model, live, train, batch_size, epoch, shuffle, steps_per_epoch)
  hooks = cbs.wants_batch_hooks("train")
  if hooks or live.options.debug:
    logs = _train_with_hooks(model, live, ep, cbs if hooks else None)
    if model.stop_training:
      return logs
  else:
    logs = _train_quietly(live, ep)
  if ep.exact_last:
    if hooks:
      cbs.on_train_batch_begin(ep.full)
    batch, mask = ep.last_host_batch()
    fn = live.cache.train_fn(None, 1, indexed=False, real=mask is not None)
    logs = run_train(live, fn, batch, *([] if mask is None else [mask]))
    if hooks:
      cbs.on_train_batch_end(ep.full, LazyLogs(logs))
  return logs


def _train_quietly(live, ep):
  """The epoch's chunks when no callback watches single batches: the
  dispatch loop holds the train state in a local, so a step costs one call
  of the compiled function and nothing else on the host."""
  live.refresh()
  cache, b = live.cache, ep.batch_size
  # Steps per dispatch, largest first: fused groups, then the user's
  # steps_per_execution, then single steps for what is left of a chunk.
  sizes = sorted({_fused_steps(live, ep), ep.k}, reverse=True)
  single = cache.train_fn(b, 1)
  multi, masked = {}, None
  ts, logs = live.ts, None
  try:
    for c, chunk in enumerate(ep.chunks):
      nfull, partial = ep.in_chunk(c)
      j = 0
      for k in sizes:
        if k == 1 or nfull - j < k:
          continue
        if k not in multi:
          multi[k] = (cache.train_fn(b, k) if cache.scan_pays_off(b, chunk)
                      else None)
        if multi[k] is not None:
          while nfull - j >= k:
            ts, logs = multi[k](ts, chunk, j * b)
            j += k
      for j in range(j, nfull):
        ts, logs = single(ts, chunk, j * b)
      if partial:
        masked = masked or cache.train_fn(b, 1, real=True)
        ts, logs = masked(ts, chunk, nfull * b, ep.rem)
  finally:
    # Also after an interrupt: the donated old state is gone.
    live.advance(ts)
  live.quiet_steps += ep.full
  return logs


# Fusing steps no callback watches (see `_fused_steps`): after this many
# such steps of a model, in groups of this many.
FUSE_AFTER_STEPS = 1000
FUSED_STEPS = 32


def _fused_steps(live, ep):
  """Steps per dispatch of an epoch that no callback watches batch by batch.

  A dispatch-bound step (no convolution, small matmuls:
  `StepCache.scan_pays_off`) costs more in dispatch than in compute, and
  nothing outside the loop can tell K steps run in one `lax.scan` from K
  dispatched ones (same step, same batches, same order; the epoch's logs
  are the last step's). So from the first epoch that starts after the model
  has run `FUSE_AFTER_STEPS` such steps, they run `FUSED_STEPS` per dispatch
  (rounded up to a multiple of `steps_per_execution`, when that is
  smaller; otherwise `steps_per_execution`). The first epochs stay unfused: the
  scanned program is one more compile, which a short fit would not pay back
  (time to the first step). Deterministic: it depends on step counts only.
  """
  k = ep.k
  fused = -(-FUSED_STEPS // k) * k  # a multiple of steps_per_execution
  if (k < FUSED_STEPS and ep.per_chunk >= fused and
      live.options.privacy is None and
      live.quiet_steps >= FUSE_AFTER_STEPS):
    return fused
  return k


def _train_with_hooks(model, live, ep, cbs):
  """The epoch's chunks, calling the batch hooks of `cbs` (if any) around
  each execution (of `k` steps); also the debug=True loop."""
  cache, b, k = live.cache, ep.batch_size, ep.k
  logs, i = None, 0
  for c, chunk in enumerate(ep.chunks):
    nfull, partial = ep.in_chunk(c)
    j = 0
    while j < nfull + partial:
      if cbs is not None:
        cbs.on_train_batch_begin(i)
      if j == nfull:  # the masked partial batch
        logs = run_train(live, cache.train_fn(b, 1, real=True), chunk,
                         j * b, ep.rem)
        step = 1
      elif k > 1 and nfull - j >= k:
        if cache.scan_pays_off(b, chunk):
          logs = run_train(live, cache.train_fn(b, k), chunk, j * b)
        else:
          single = cache.train_fn(b, 1)
          for s in range(k):
            logs = run_train(live, single, chunk, (j + s) * b)
        step = k
      else:
        logs = run_train(live, cache.train_fn(b, 1), chunk, j * b)
        step = 1
      j, i = j + step, i + step
      if cbs is not None:
        cbs.on_train_batch_end(i - 1, LazyLogs(logs))
      if model.stop_training:
        return logs
  return logs


def _fit_epoch_iterable(model, live, source, cbs):
  hooks = cbs.wants_batch_hooks("train")
  logs, index = None, 0

  def prepare(batch):
    if live.ts is None or live.options.objective.losses is None:
      live.ensure(batch[0], batch[1])
      live.reset_metrics()
  for batch, mask in _batching.placed(live.strategy, source, prepare):
    if hooks:
      cbs.on_train_batch_begin(index)
    fn = live.cache.train_fn(None, 1, indexed=False, real=mask is not None)
    logs = run_train(live, fn, batch, *([] if mask is None else [mask]))
    if hooks:
      cbs.on_train_batch_end(index, LazyLogs(logs))
    index += 1
    if model.stop_training:
      break
  return logs


def _validate(live, data, batch_size, steps, cbs):
  """A validation pass inside fit, calling the callbacks' on_test_* hooks
  as Keras 3 does (before on_epoch_end)."""
  cbs.on_test_begin()
  logs = evaluate_logs(live, data, batch_size, steps, cbs)
  cbs.on_test_end(logs)
  return logs


# -- evaluate ------------------------------------------------------------------------

def evaluate_logs(live, data, batch_size, steps=None, cbs=None):
  """Host logs of evaluating `data`: a tuple (x, y[, sample_weight]) of
  arrays, or an iterable of batches."""
  if isinstance(data, tuple) and _data.is_array_data(data[0]):
    arrays = _data.ArrayData(*data)
    live.ensure(arrays.x, arrays.y, rows=batch_size)
    return _evaluate_arrays(live, arrays, batch_size, steps, cbs)
  if isinstance(data, (list, dict)) or not _data.is_array_data(data):
    return _evaluate_iterable(live, _data.IterableData(data, steps), cbs)
  raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                   "(x_val, y_val, sample_weight), or a generator.")


def _eval_layout(strategy, n, batch_size, steps):
  """(row index or None, mask, padded batch size, batches) of evaluating
  n rows: each batch padded to split over the replicas."""
  size = strategy.pad_size(batch_size)
  num_batches = math.ceil(n / batch_size)
  if steps:
    num_batches = min(num_batches, steps)
  if size == batch_size:  # contiguous rows, the last batch cut short
    rows = min(n, num_batches * batch_size)
    mask = np.zeros(num_batches * size, np.float32)
    mask[:rows] = 1.0
    return None, mask, size, num_batches
  index, mask, size, num_batches = _batching.eval_rows(n, batch_size, steps,
                                                       size)
  return index, mask, size, num_batches


def _evaluate_arrays(live, arrays, batch_size, steps=None, cbs=None):
  strategy = live.strategy
  host = _batching.host_arrays(arrays.tree)
  # Data smaller than one batch runs as one batch of its size, as in Keras
  # (losses added in `call` then see no padded rows).
  n = arrays.num_samples
  batch_size = max(1, min(batch_size, n))
  index, mask, size, num_batches = _eval_layout(strategy, n, batch_size,
                                                steps)
  # A step piece the model overrides (compute_loss, a test_step without
  # `mask`, ...) may not honour the padding mask: the last partial batch
  # then runs as a host batch of its real rows, one more compiled shape per
  # remainder, as in Keras.
  full = n // batch_size
  exact_last = num_batches > full and not _test_steps_honour_mask(live.model)
  chunked = full if exact_last else num_batches
  per_chunk = _batching.chunk_batches(host, size)
  chunks = (_batching.array_chunks(strategy, host, index, chunked * size,
                                   per_chunk * size, extra=mask)
            if chunked else ())
  state = live.fresh_metrics()
  fn = live.cache.eval_fn(size)
  hooks = cbs is not None and cbs.wants_batch_hooks("test")
  logs, b = None, 0
  for c, (chunk, chunk_mask) in enumerate(chunks):
    for j in range(min(per_chunk, chunked - c * per_chunk)):
      if hooks:
        cbs.on_test_batch_begin(b)
      metrics, logs = fn(state, chunk, chunk_mask, j * size)
      state = state._replace(metrics=metrics)
      if hooks:
        cbs.on_test_batch_end(b, LazyLogs(logs))
      b += 1
  if exact_last:
    if hooks:
      cbs.on_test_batch_begin(b)
    batch, pad = _batching.host_batch(strategy, host,
                                      np.arange(full * batch_size, n))
    last = live.cache.host_batch_fn("test", pad is not None)
    state, logs = last(state, batch, *([] if pad is None else [pad]))
    if hooks:
      cbs.on_test_batch_end(b, LazyLogs(logs))
  return _host_logs(live, logs)


def _evaluate_iterable(live, source, cbs=None):
  state, logs, b = None, None, 0
  hooks = cbs is not None and cbs.wants_batch_hooks("test")
  prepare = lambda batch: live.ensure(batch[0], batch[1])
  for batch, mask in _batching.placed(live.strategy, source, prepare):
    if state is None:
      state = live.fresh_metrics()
    if hooks:
      cbs.on_test_batch_begin(b)
    fn = live.cache.host_batch_fn("test", mask is not None)
    state, logs = fn(state, batch, *([] if mask is None else [mask]))
    if hooks:
      cbs.on_test_batch_end(b, LazyLogs(logs))
    b += 1
  if logs is None:
    raise ValueError("The evaluation data yielded no batches.")
  return _host_logs(live, logs)


def evaluate(model, live, x, y, batch_size, verbose, sample_weight, steps,
             callbacks, return_dict):
  """`Model.evaluate` (see its docstring)."""
  cbs = callbacks_lib.CallbackList(list(callbacks or []), model,
                                   {"steps": steps, "verbose": verbose})
  cbs.on_test_begin()
  if _data.is_array_data(x):
    arrays = _data.ArrayData(x, y, sample_weight)
    live.ensure(arrays.x, arrays.y, rows=batch_size or 32)
    logs = _evaluate_arrays(live, arrays, batch_size or 32, steps, cbs)
  else:
    logs = _evaluate_iterable(live, _data.IterableData(x, steps), cbs)
  cbs.on_test_end(logs)
  if verbose:
    print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
  return format_logs(logs, return_dict)


# -- predict -------------------------------------------------------------------------

def _build_for(model, x):
  if not model.built:
    model._build_from_arrays(model._unpack_inputs(  # pylint: disable=protected-access
        jax.tree_util.tree_map(lambda a: a[:1], x)))


def predict(model, live, x, batch_size, steps, callbacks=None):
  """`Model.predict` (see its docstring)."""
  cbs = callbacks_lib.CallbackList(list(callbacks or []), model,
                                   {"steps": steps, "verbose": 0})
  cbs.on_predict_begin()
  out = _predict(model, live, x, batch_size, steps, _PredictHooks(cbs))
  cbs.on_predict_end()
  return out


class _PredictHooks:
  """Calls the on_predict_batch_* hooks around each batch, when a callback
  listens: the end hook gets `{"outputs": the batch's outputs}` (its real
  rows), as in Keras 3."""

  def __init__(self, cbs):
    self.cbs = cbs
    self.active = cbs.wants_batch_hooks("predict")

  def run(self, b, fn, rows=None):
    if not self.active:
      return fn()
    self.cbs.on_predict_batch_begin(b)
    out = fn()
    batch = out if rows is None else jax.tree_util.tree_map(
        lambda a: a[:rows], out)
    self.cbs.on_predict_batch_end(b, {"outputs": batch})
    return out


def _predict(model, live, x, batch_size, steps, hooks):
  strategy = live.strategy
  if _data.is_array_data(x):
    arrays = _data.ArrayData(x)
    _build_for(model, arrays.x)
    batch_size = batch_size or 32
    if strategy.streams_host_slices:
      return _predict_streamed(live, arrays, batch_size, steps, hooks)
    host = _batching.host_arrays(arrays.x)
    index, mask, size, num_batches = _eval_layout(
        strategy, arrays.num_samples, batch_size, steps)
    per_chunk = _batching.chunk_batches(host, size)
    chunks = _batching.array_chunks(strategy, host, index, num_batches * size,
                                    per_chunk * size)
    state = live.inference_state()
    fn = live.cache.predict_fn(size)
    outs = [hooks.run(c * per_chunk + j,
                      lambda chunk=chunk, j=j: fn(state, chunk, j * size))
            for c, chunk in enumerate(chunks)
            for j in range(min(per_chunk, num_batches - c * per_chunk))]
    real = mask.astype(bool)
    return jax.tree_util.tree_map(
        lambda *b: np.concatenate(b, axis=0)[real], *strategy.unshard(outs))
  outs = []
  source = _data.IterableData(x, steps)
  state = None
  for (batch, mask) in _batching.placed(strategy, source,
                                        lambda b: _build_for(model, b[0])):
    if state is None:
      state = live.inference_state()
    fn = live.cache.host_batch_fn("predict", mask is not None)
    out = hooks.run(len(outs), lambda: strategy.unshard(
        fn(state, batch[0]) if mask is None else fn(state, batch[0], mask)))
    if mask is not None:
      real = strategy.unshard(mask).astype(bool)
      out = jax.tree_util.tree_map(lambda a: a[real], out)
    outs.append(out)
  return jax.tree_util.tree_map(lambda *b: np.concatenate(b, axis=0), *outs)


def _predict_streamed(live, arrays, batch_size, steps, hooks):
  """predict on one device: contiguous host slices, each sent with its
  step, so transfers overlap compute (uploading the whole input first
  cost a fixed ~20% on mid-sized inputs). The last batch is padded to the
  batch size, so there is one compiled shape; outputs are joined on the
  host and cut to exactly the input's rows."""
  n = arrays.num_samples
  num_batches = math.ceil(n / batch_size)
  if steps:
    num_batches = min(num_batches, steps)
  rows = min(n, num_batches * batch_size)
  state = live.inference_state()
  fn = live.cache.predict_streamed_fn()
  outs = [hooks.run(b, lambda b=b: fn(
      state, _batching.host_slice(arrays.x, b * batch_size, batch_size)),
                    rows=min(batch_size, n - b * batch_size))
          for b in range(num_batches)]
  # Joined on the host: joining on the device would compile one program per
  # number of batches (per dataset size).
  outs = jax.device_get(outs)
  return jax.tree_util.tree_map(
      lambda *o: np.concatenate(o, axis=0)[:rows], *outs)


# -- on_batch ------------------------------------------------------------------------

def train_on_batch(live, x, y, sample_weight, class_weight, return_dict):
  batch = _data.ArrayData(x, y, sample_weight)
  if class_weight is not None:
    batch.sample_weight = _data.class_weight_to_sample_weight(
        batch.y, class_weight, batch.sample_weight)
  live.ensure(batch.x, batch.y)
  placed, mask = _batching.shard_batch(live.strategy, batch.tree)
  fn = live.cache.train_fn(None, 1, indexed=False, real=mask is not None)
  logs = run_train(live, fn, placed, *([] if mask is None else [mask]))
  return format_logs(_host_logs(live, logs), return_dict)


def test_on_batch(live, x, y, sample_weight, return_dict):
  batch = _data.ArrayData(x, y, sample_weight)
  live.ensure(batch.x, batch.y)
  state = live.fresh_metrics()
  placed, mask = _batching.shard_batch(live.strategy, batch.tree)
  fn = live.cache.host_batch_fn("test", mask is not None)
  _, logs = fn(state, placed, *([] if mask is None else [mask]))
  return format_logs(_host_logs(live, logs), return_dict)


def predict_on_batch(model, live, x):
  arrays = _data.ArrayData(x)
  if not model.built:
    model._build_from_arrays(model._unpack_inputs(arrays.x))  # pylint: disable=protected-access
  out = live.cache.predict_streamed_fn()(live.inference_state(), arrays.x)
  return jax.tree_util.tree_map(np.asarray, out)
