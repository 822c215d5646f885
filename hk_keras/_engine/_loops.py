"""The epoch loops of fit, evaluate and predict, and the *_on_batch calls.

Each loop takes the model and its `LiveState`, asks `_batching` how rows
reach the steps, takes compiled steps from the `StepCache`, and calls the
callbacks' hooks in Keras 3's order. Between steps the train state stays on
the device: the quiet loop holds it in a local and calls nothing else.
"""
import math

import jax
import jax.numpy as jnp
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

  data_dev = None
  if train is not None:
    live.ensure(train.x, train.y, rows=batch_size)
    data_dev = strategy.put(train.tree)
  live.requested_initial_epoch = None
  cbs.on_train_begin()
  # A callback may move the start (BackupAndRestore resuming a run).
  initial_epoch = live.take_initial_epoch(initial_epoch)
  if train is not None and live.ts is None:
    live.ensure(train.x, train.y, rows=batch_size)  # a callback loaded a checkpoint
  for epoch in range(initial_epoch, epochs):
    cbs.on_epoch_begin(epoch)
    live.reset_metrics()
    if train is not None:
      logs = _fit_epoch_arrays(model, live, train, data_dev, batch_size,
                               epoch, shuffle, steps_per_epoch, cbs)
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
  cbs.on_train_end()
  return history


def _fit_epoch_arrays(model, live, train, data_dev, batch_size, epoch,
                      shuffle, steps_per_epoch, cbs):
  n = train.num_samples
  perm, full, rem, padded = _batching.epoch_permutation(
      live.strategy, live.shuffle_seed, epoch, n, batch_size, shuffle)
  total = full + (1 if rem else 0)
  if steps_per_epoch:
    total = min(total, steps_per_epoch)
    full = min(full, total)
    rem = rem if total > full else 0
  epoch_data, order = _batching.epoch_order(
      live.cache.permute_fn(n), data_dev, perm, n, batch_size, shuffle, full)
  k = live.options.steps_per_execution
  hooks = cbs.wants_batch_hooks("train")
  if hooks:
    logs = _train_with_hooks(model, live, epoch_data, order, batch_size, full,
                             k, cbs)
    if model.stop_training:
      return logs
  else:
    logs = _train_quietly(live, epoch_data, order, batch_size, full, k)
  if rem:
    if hooks:
      cbs.on_train_batch_begin(full)
    logs = run_train(live, live.cache.train_fn(padded, 1, real=rem), data_dev,
                     perm, full * batch_size)
    if hooks:
      cbs.on_train_batch_end(full, LazyLogs(logs))
  return logs


def _train_quietly(live, data, order, batch_size, full, k):
  """The epoch's full batches when no callback watches single batches:
  the dispatch loop holds the train state in a local, so a step costs one
  call of the compiled function and nothing else on the host."""
  live.refresh()
  cache = live.cache
  single = cache.train_fn(batch_size, 1)
  multi = None
  if k > 1 and cache.scan_pays_off(batch_size, data, order):
    multi = cache.train_fn(batch_size, k)
  ts, logs, i = live.ts, None, 0
  try:
    if live.options.debug:
      while i < full:
        fn, step = ((multi, k) if multi is not None and full - i >= k
                    else (single, 1))
        err, (new, logs) = fn(ts, data, order, i * batch_size)
        err.throw()
        ts, i = new, i + step
    else:
      if multi is not None:
        for i in range(0, full - full % k, k):
          ts, logs = multi(ts, data, order, i * batch_size)
        i = full - full % k
      for i in range(i, full):
        ts, logs = single(ts, data, order, i * batch_size)
  finally:
    # Also after an interrupt: the donated old state is gone.
    live.advance(ts)
  return logs


def _train_with_hooks(model, live, data, order, batch_size, full, k, cbs):
  """The epoch's full batches, calling the batch hooks of `cbs` around
  each execution (of `k` steps)."""
  cache = live.cache
  logs, i = None, 0
  while i < full:
    cbs.on_train_batch_begin(i)
    if k > 1 and full - i >= k:
      if cache.scan_pays_off(batch_size, data, order):
        logs = run_train(live, cache.train_fn(batch_size, k), data, order,
                         i * batch_size)
      else:
        single = cache.train_fn(batch_size, 1)
        for j in range(k):
          logs = run_train(live, single, data, order, (i + j) * batch_size)
      i += k
    else:
      logs = run_train(live, cache.train_fn(batch_size, 1), data, order,
                       i * batch_size)
      i += 1
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


def _evaluate_arrays(live, arrays, batch_size, steps=None, cbs=None):
  strategy = live.strategy
  index, mask, size, num_batches = _batching.eval_rows(
      arrays.num_samples, batch_size, steps, strategy.pad_size(batch_size))
  put = strategy.put
  data_dev, index, mask = put(arrays.tree), put(index), put(mask)
  state = live.fresh_metrics()
  fn = live.cache.eval_fn(size)
  hooks = cbs is not None and cbs.wants_batch_hooks("test")
  logs = None
  for b in range(num_batches):
    if hooks:
      cbs.on_test_batch_begin(b)
    metrics, logs = fn(state, data_dev, index, mask, b * size)
    state = state._replace(metrics=metrics)
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


def predict(model, live, x, batch_size, steps):
  """`Model.predict` (see its docstring)."""
  strategy = live.strategy
  if _data.is_array_data(x):
    arrays = _data.ArrayData(x)
    _build_for(model, arrays.x)
    batch_size = batch_size or 32
    if strategy.streams_host_slices:
      return _predict_streamed(live, arrays, batch_size, steps)
    index, mask, size, num_batches = _batching.eval_rows(
        arrays.num_samples, batch_size, steps, strategy.pad_size(batch_size))
    data_dev, index = strategy.put(arrays.x), strategy.put(index)
    state = live.inference_state()
    fn = live.cache.predict_fn(size)
    outs = [fn(state, data_dev, index, b * size) for b in range(num_batches)]
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
    out = strategy.unshard(
        fn(state, batch[0]) if mask is None else fn(state, batch[0], mask))
    if mask is not None:
      real = strategy.unshard(mask).astype(bool)
      out = jax.tree_util.tree_map(lambda a: a[real], out)
    outs.append(out)
  return jax.tree_util.tree_map(lambda *b: np.concatenate(b, axis=0), *outs)


def _predict_streamed(live, arrays, batch_size, steps):
  """predict on one device: contiguous host slices, each sent with its
  step, so transfers overlap compute (uploading the whole input first
  cost a fixed ~20% on mid-sized inputs). The last batch is padded to the
  batch size, so there is one compiled shape; outputs are concatenated on
  the device and cut to exactly the input's rows."""
  n = arrays.num_samples
  num_batches = math.ceil(n / batch_size)
  if steps:
    num_batches = min(num_batches, steps)
  rows = min(n, num_batches * batch_size)
  state = live.inference_state()
  fn = live.cache.predict_streamed_fn()
  outs = [fn(state, _batching.host_slice(arrays.x, b * batch_size, batch_size))
          for b in range(num_batches)]
  out = jax.tree_util.tree_map(
      lambda *o: jnp.concatenate(o, axis=0)[:rows], *outs)
  return jax.tree_util.tree_map(np.asarray, jax.device_get(out))


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
