"""`Trainer`: compile/fit/evaluate/predict for `Model`, over pure steps.

The model holds one live `TrainState`. Compiled steps take it (donated) and
return the next one; the layers' stored weights are brought up to date only
when someone reads them (see `_layer.flush`), so a training loop never copies
or syncs with the host per step.
"""
import math
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .. import callbacks as callbacks_lib
from .. import optimizers as optimizers_lib
from .. import utils
from ..layers import _layer
from . import _data
from . import _host_inputs
from . import _steps
from . import _strategy
from .._core import _replica
from ._objective import Objective
from ._train_state import TrainState

# When shuffled array data is copied into each epoch's order on the device
# (steps then slice instead of gather): only small batches gain, since a
# gather inside a step costs a fixed ~20 us on XLA:CPU while the copy costs a
# pass over the data (~16 ms for 40 MB there); with batches of 64 KiB the
# copy is repaid. Data over 1 GiB is never held twice.
_EPOCH_COPY_MAX_BATCH_BYTES = 1 << 16
_EPOCH_COPY_MAX_BYTES = 1 << 30

_NOT_COMPILED = (
    "You must call compile() before {}(): e.g. model.compile(optimizer='adam', "
    "loss='sparse_categorical_crossentropy', metrics=['accuracy']).")


def _copy(tree):
  return jax.tree_util.tree_map(jnp.copy, tree)


class _LazyLogs(dict):
  """Batch logs that read device values only when a callback asks."""

  def __init__(self, device_logs):
    super().__init__()
    self._device = device_logs

  def _fill(self):
    if self._device is not None:
      super().update(_ordered(self._device, ["loss"]))
      self._device = None

  def __getitem__(self, k):
    self._fill()
    return super().__getitem__(k)

  def get(self, k, default=None):
    self._fill()
    return super().get(k, default)

  def items(self):
    self._fill()
    return super().items()

  def keys(self):
    self._fill()
    return super().keys()

  def __iter__(self):
    self._fill()
    return super().__iter__()

  def __len__(self):
    self._fill()
    return super().__len__()


class Trainer:
  """Training methods of `Model` (Keras 3 semantics)."""

  _ts: Optional[TrainState] = None
  _strategy_obj = None
  compiled = False
  stop_training = False
  _initial_epoch = None

  @property
  def _strategy(self):
    if self._strategy_obj is None:
      self._strategy_obj = _strategy.get_strategy()
    return self._strategy_obj

  @_strategy.setter
  def _strategy(self, value):
    self._strategy_obj = value

  # -- compile -----------------------------------------------------------------
  def compile(self, optimizer="rmsprop", loss=None, metrics=None,
              loss_weights=None, steps_per_execution=1, jit_compile=True,
              gradient_accumulation_steps=None, debug=False,
              auto_scale_loss=True, distribution=None, **kwargs):
    """Configures the model for training.

    Args:
      optimizer: a Keras name ("adam", "sgd", "rmsprop", "adamw",
        "adagrad", ...), an `hk_keras.optimizers` object, or any
        `optax.GradientTransformation`.
      loss: a Keras loss name, `hk_keras.losses` object or callable
        `loss(y_true, y_pred)`; a list/dict for several outputs.
      metrics: list of metric names/objects/callables (or per output).
      loss_weights: scalar weights of per-output losses.
      steps_per_execution: run this many steps in one compiled call.
      jit_compile: must be True (steps are always compiled with jax.jit).
      gradient_accumulation_steps: accumulate gradients over N steps
        (optax.MultiSteps) before each update.
      debug: check inside the step that loss and gradients are finite and
        name the offending leaf (costs a host sync per step).
      auto_scale_loss: with a "mixed_float16" dtype policy, scale the loss
        dynamically (`jmp.DynamicLossScale`) and skip steps whose gradients
        are not finite, as Keras's LossScaleOptimizer.
      distribution: an `hk_keras.distribution.DataParallel` for this model;
        defaults to the global `hk_keras.distribution.set_distribution`.

    Raises:
      ValueError: on unknown loss/optimizer/metric names or bad arguments.
    """
    if "weighted_metrics" in kwargs and kwargs["weighted_metrics"]:
      raise ValueError(
          "weighted_metrics is not supported yet: metrics already use "
          "sample_weight. Pass the metrics through metrics=.")
    kwargs.pop("weighted_metrics", None)
    kwargs.pop("run_eagerly", None)
    if kwargs:
      raise TypeError(f"compile() got unexpected arguments {sorted(kwargs)}.")
    if not jit_compile:
      raise ValueError(
          "jit_compile=False is not supported: hk_keras always compiles steps "
          "with jax.jit. For step-by-step debugging use compile(debug=True) "
          "or jax.disable_jit().")
    if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
      raise ValueError(
          "steps_per_execution must be a positive int. Received: "
          f"{steps_per_execution!r}")
    self.optimizer = optimizers_lib.get(optimizer)
    tx = self.optimizer.build() if hasattr(self.optimizer, "build") else (
        self.optimizer)
    if gradient_accumulation_steps:
      if int(gradient_accumulation_steps) < 1:
        raise ValueError("gradient_accumulation_steps must be >= 1.")
      import optax  # pylint: disable=g-import-not-at-top
      tx = optax.MultiSteps(
          tx, every_k_schedule=int(gradient_accumulation_steps)
      ).gradient_transformation()
    self._tx = tx
    self._objective = Objective(loss, loss_weights, metrics,
                                self._output_names())
    self.steps_per_execution = steps_per_execution
    self._debug = bool(debug)
    self._compile_config = {
        "optimizer": optimizer if isinstance(optimizer, str) else None,
        "loss": loss if isinstance(loss, (str, list, dict)) else None,
        "metrics": metrics, "loss_weights": loss_weights,
        "steps_per_execution": steps_per_execution,
        "gradient_accumulation_steps": gradient_accumulation_steps,
        "debug": bool(debug)}
    self._step_cache = {}
    self._ts = None
    self._train_mask = None
    self._shuffle_seed = int(jax.random.randint(
        utils.next_rng_key(), (), 0, 2**31 - 1))
    self._strategy = _strategy.get_strategy(distribution)
    self._shuffle_seed = int(self._strategy.broadcast(
        np.int32(self._shuffle_seed)))
    from .. import mixed_precision  # pylint: disable=g-import-not-at-top
    self._loss_scale = mixed_precision.initial_loss_scale(
        getattr(self, "dtype_policy", None), auto_scale_loss)
    self.compiled = True

  def _output_names(self):
    structure = getattr(self, "_outputs_struct", None)
    if isinstance(structure, dict):
      return list(structure)
    if isinstance(structure, list):
      return [t.node.layer.name for t in structure]
    return ["output"]

  def _host_logs(self, logs):
    names = ["loss"] + [m.log_name for m in self._objective.metrics or []]
    return _ordered(self._strategy.fetch(logs), names)

  def _require_compiled(self, what):
    if not self.compiled:
      raise RuntimeError(_NOT_COMPILED.format(what))

  # -- the live train state ------------------------------------------------------
  def _prepare(self, x, y):
    """Builds the model and objective from one batch; makes the train state."""
    if not self.built:
      self._build_from_arrays(self._unpack_inputs(
          jax.tree_util.tree_map(lambda a: a[:1], x)))
    if self._objective.losses is None:
      rng = jax.random.PRNGKey(0)
      spec = jax.eval_shape(
          lambda p, s, *a: self.apply(p, s, rng, *a, training=False)[0],
          self.params, self.state, *self._unpack_inputs(x))
      y_pred = jax.tree_util.tree_map(
          lambda s: jnp.zeros(s.shape, s.dtype), spec)
      if y is None and self._objective.loss_config is not None:
        raise ValueError(
            "The model was compiled with a loss, so fit/evaluate need targets: "
            "pass y (or yield (x, y) batches).")
      self._objective.build(y, y_pred)
    mask = self.trainable_mask()
    if self._ts is not None and mask != self._train_mask:
      _layer.flush()
      self._ts = None  # trainable flags changed: new optimizer state
    if self._ts is None:
      params, state = self.params, self.state
      trainable, _ = _steps.split_trainable(params, mask)
      # Copy every leaf: the state is donated to each step, so it must not
      # share buffers with the layers nor with itself (optax may reuse one
      # zeros buffer for several slots).
      self._ts = self._place(self._strategy.broadcast(TrainState(
          params, state, self._tx.init(trainable), utils.next_rng_key(),
          jnp.zeros((), jnp.int32), _steps.init_metrics(self._objective),
          getattr(self, "_loss_scale", None))))
      self._train_mask = mask
      self._ts_version = _layer.weights_version()
      self._step_cache = {}

  def _place(self, tree):
    """Fresh copies of `tree` placed (committed) where the steps run.

    Copies keep donation from freeing arrays the layers hold; placing every
    train state the same way keeps jit's cache key (which includes where
    arguments are committed) stable, so re-fitting never recompiles.
    """
    return self._strategy.put(_copy(tree))

  def _reset_metrics_state(self):
    self._ts = self._ts._replace(
        metrics=self._strategy.put(_steps.init_metrics(self._objective)))

  def _mark_trained(self):
    _layer.mark_dirty(self)

  def _sync_to_layers(self):
    """Writes the live train state's weights back into the layers."""
    if self._ts is None:
      return
    self._set_tree("params", self._ts.params, notify=False)
    self._set_tree("state", self._ts.state, notify=False)
    _layer.bump_version()
    # The layers now share the train state's buffers: the next step must not
    # donate them, so the next _prepare copies (version check above).
    self._ts_version = -1

  def reset_metrics(self):
    """Resets the metrics accumulated by train_on_batch/test_on_batch."""
    if self._ts is not None:
      self._reset_metrics_state()

  @property
  def opt_state(self):
    """The optimizer state of the trainable params (None before training)."""
    return None if self._ts is None else self._ts.opt_state

  # -- compiled steps ------------------------------------------------------------
  def train_step(self, state: TrainState, data):
    """One training step: pure `(state, (x, y, sample_weight)) -> (state, logs)`.

    Override in a subclass to customise fit (see docs/customizing_fit.md);
    use `self.apply`, `self.compute_loss`, `self.apply_gradients` and
    `self.update_metrics` to keep the built-in behaviour you want.
    """
    return _steps.default_train_step(self, self._objective, self._tx,
                                     self._train_mask, self._debug, state, data)

  def test_step(self, state: TrainState, data, mask=None):
    """One evaluation step: `(state, data) -> (state, logs)`."""
    return _steps.default_test_step(self, self._objective, state, data, mask)

  def predict_step(self, state: TrainState, x):
    """Predictions for one batch of inputs."""
    return _steps.default_predict_step(self, state, x)

  def compute_loss(self, y, y_pred, sample_weight=None):
    """The compiled loss (weighted sum over outputs) for custom train_step."""
    return self._objective.compute_loss(
        y, y_pred, sample_weight, mask=_replica.sample_mask())[0]

  def apply_gradients(self, state: TrainState, grads) -> TrainState:
    """Optimizer update of the trainable params (frozen ones untouched)."""
    import haiku as hk  # pylint: disable=g-import-not-at-top
    import optax  # pylint: disable=g-import-not-at-top
    trainable, frozen = _steps.split_trainable(state.params, self._train_mask)
    grads, _ = _steps.split_trainable(_replica.pmean(grads), self._train_mask)
    updates, opt_state = self._tx.update(grads, state.opt_state, trainable)
    trainable = optax.apply_updates(trainable, updates)
    return state._replace(params=hk.data_structures.merge(trainable, frozen),
                          opt_state=opt_state, step=state.step + 1)

  def update_metrics(self, state: TrainState, loss, y, y_pred,
                     sample_weight=None) -> TrainState:
    """Adds one batch to the loss tracker and compiled metrics."""
    rows = _replica.sample_mask()
    x_size = (jax.tree_util.tree_leaves(y_pred)[0].shape[0] if rows is None
              else jnp.sum(rows))
    return state._replace(metrics=_steps.update_metrics(
        self._objective, state.metrics, loss, y, y_pred, sample_weight, x_size,
        rows))

  def metrics_logs(self, state: TrainState):
    """Current metric results as a dict of scalars (inside a step)."""
    return _steps.results(self._objective, state.metrics)

  def _compiled(self, key, make):
    if "_step_cache" not in self.__dict__:
      self._step_cache = {}
    fn = self._step_cache.get(key)
    if fn is None:
      fn = self._step_cache[key] = make()
    return fn

  def _train_fn(self, batch_size, num_steps, indexed=True, real=None):
    """The compiled train step. `real`: the real rows of a last batch padded
    to `batch_size` (indexed), or True for host batches given with a padding
    mask (not indexed)."""
    def make():
      step = self.train_step
      batch_argnums = ()
      if num_steps > 1:
        fn = (_steps.indexed_scan(step, batch_size, num_steps) if indexed
              else _steps.scan_steps(step))
      elif indexed:
        fn = _steps.indexed(step, batch_size, real)
      elif real:
        fn, batch_argnums = _steps.with_row_mask(step), (1, 2)
      else:
        fn, batch_argnums = step, (1,)
      if self._debug:
        fn = _steps.with_checks(fn)
      # Under debug=True the state is not donated, so a step that fails its
      # checks leaves the model with the weights from before that step.
      return self._strategy.compile(fn, donate_state=not self._debug,
                                    batch_argnums=batch_argnums)
    return self._compiled(("train", batch_size, num_steps, indexed, real),
                          make)

  def _scan_pays_off(self, batch_size, data_dev, perm):
    """Whether K steps in one `lax.scan` beat K dispatched steps.

    On XLA:CPU a scan over convolution training steps runs several times
    slower than the same steps dispatched one by one (measured ~5x), so
    there steps_per_execution batches the dispatch loop instead; everywhere
    else the scan wins. Decided once per batch size from the step's jaxpr.
    """
    key = ("scan_pays_off", batch_size)
    if key not in self._step_cache:
      use_scan = True
      if jax.default_backend() == "cpu":
        jaxpr = jax.make_jaxpr(_steps.indexed(self.train_step, batch_size))(
            self._ts, data_dev, perm, 0)
        use_scan = not _steps.has_primitive(jaxpr, "conv_general_dilated")
      self._step_cache[key] = use_scan
    return self._step_cache[key]

  def _refresh_train_state(self):
    if self._ts_version != _layer.weights_version():
      # The layers were written (set_weights, load) or share our buffers
      # after a read: train on fresh copies, never donate shared arrays.
      self._ts = self._ts._replace(params=self._place(self.params),
                                   state=self._place(self.state))
      self._ts_version = _layer.weights_version()

  def _run_train(self, fn, *args):
    self._refresh_train_state()
    if self._debug:
      err, (ts, logs) = fn(self._ts, *args)
      err.throw()
      self._ts = ts
    else:
      self._ts, logs = fn(self._ts, *args)
    # Reads from callbacks (get_weights in a batch hook) see this step.
    _layer.mark_dirty(self)
    return logs

  def _eval_fn(self, batch_size):
    return self._compiled(("eval", batch_size), lambda: self._strategy.compile(
        _steps.metrics_only(_steps.indexed_eval(self.test_step, batch_size)),
        donate_state=False))

  def _predict_fn(self, batch_size):
    return self._compiled(
        ("predict", batch_size), lambda: self._strategy.compile(
            _steps.indexed_predict(self.predict_step, batch_size),
            donate_state=False, batch_outputs=True))

  def _host_batch_fn(self, kind, padded):
    """Compiled step for batches placed from the host (generators, *_on_batch):
    `fn(state, batch)`, or `fn(state, batch, mask)` for a padded batch."""
    def make():
      if kind == "test":
        fn = ((lambda s, b, m: self.test_step(s, b, m)) if padded
              else (lambda s, b: self.test_step(s, b)))
      else:
        fn = ((lambda s, b, m: self.predict_step(s, b)) if padded
              else self.predict_step)
      return self._strategy.compile(
          fn, donate_state=False, batch_argnums=(1, 2) if padded else (1,),
          batch_outputs=kind == "predict")
    return self._compiled((kind + "_host", padded), make)

  def _shard_batch(self, batch):
    """Places a host batch split over the replicas: (batch, mask or None).

    A batch that does not split evenly is padded by repeating its first row;
    the mask (1 for real rows) then keeps the padding out of every result.
    """
    n = jax.tree_util.tree_leaves(batch)[0].shape[0]
    size = self._strategy.pad_size(n, local=True)
    if size == n:
      return self._strategy.shard(batch), None
    pad = lambda a: np.concatenate(
        [np.asarray(a), np.repeat(np.asarray(a)[:1], size - n, axis=0)])
    mask = (np.arange(size) < n).astype(np.float32)
    return self._strategy.shard((jax.tree_util.tree_map(pad, batch), mask))

  # -- fit -----------------------------------------------------------------------
  def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto",
          callbacks=None, validation_split=0.0, validation_data=None,
          shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
          steps_per_epoch=None, validation_steps=None,
          validation_batch_size=None, validation_freq=1):
    """Trains the model (Keras 3 semantics); returns a `History`.

    Raises:
      RuntimeError: if the model is not compiled.
      ValueError: on inconsistent data (sizes, shapes) or arguments.
    """
    self._require_compiled("fit")
    if x is None:
      raise ValueError("fit() needs training data: pass x (and y).")
    x = _host_inputs.host_inputs(self, x)
    if isinstance(validation_data, tuple) and validation_data:
      validation_data = (_host_inputs.host_inputs(self, validation_data[0]),
                         ) + tuple(validation_data[1:])
    if _data.is_array_data(x):
      train = _data.ArrayData(x, y, sample_weight)
      if class_weight is not None:
        train.sample_weight = _data.class_weight_to_sample_weight(
            train.y, class_weight, train.sample_weight)
      if validation_split and validation_data is None:
        train, val = train.split(validation_split)
        validation_data = (val.x, val.y, val.sample_weight)
      batch_size = batch_size or 32
      _check_divisible(batch_size, self._strategy.num_replicas)
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
    if not self._strategy.is_chief:
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
        cb_list, self, {"epochs": epochs, "steps": steps, "verbose": verbose})
    self.stop_training = False
    self.history = history

    data_dev = None
    if train is not None:
      self._prepare(train.x, train.y)
      data_dev = self._strategy.put(train.tree)
    self._initial_epoch = None
    cbs.on_train_begin()
    # A callback may move the start (BackupAndRestore resuming a run).
    initial_epoch = self._initial_epoch or initial_epoch
    self._initial_epoch = None
    if train is not None and self._ts is None:
      self._prepare(train.x, train.y)  # a callback loaded a checkpoint
    for epoch in range(initial_epoch, epochs):
      cbs.on_epoch_begin(epoch)
      if self._ts is not None:
        self._reset_metrics_state()
      if train is not None:
        logs = self._fit_epoch_arrays(train, data_dev, batch_size, epoch,
                                      shuffle, steps_per_epoch, cbs)
      else:
        logs = self._fit_epoch_iterable(source, cbs)
      if logs is None:
        break
      epoch_logs = self._host_logs(logs)
      if validation_data is not None and (epoch + 1) % validation_freq == 0:
        val_logs = self._evaluate_logs(
            validation_data, validation_batch_size or batch_size or 32,
            validation_steps)
        epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
      self._mark_trained()
      cbs.on_epoch_end(epoch, epoch_logs)
      if self.stop_training:
        break
    self._mark_trained()
    cbs.on_train_end()
    return history

  def _fit_epoch_arrays(self, train, data_dev, batch_size, epoch, shuffle,
                        steps_per_epoch, cbs):
    n = train.num_samples
    if shuffle:
      perm = np.random.default_rng([self._shuffle_seed, epoch]).permutation(n)
    else:
      perm = np.arange(n)
    full, rem = divmod(n, batch_size)
    # A last batch that does not split over the replicas is padded (and
    # masked inside the step); the permutation then extends past the data.
    padded = self._strategy.pad_size(rem)
    if padded > rem:
      perm = np.concatenate([perm, np.zeros(padded - rem, perm.dtype)])
    perm = self._strategy.put(perm.astype(np.int32))
    total = full + (1 if rem else 0)
    if steps_per_epoch:
      total = min(total, steps_per_epoch)
      full = min(full, total)
      rem = rem if total > full else 0
    epoch_data, order = self._epoch_order(data_dev, perm, n, batch_size,
                                          shuffle, full)
    k = self.steps_per_execution
    hooks = cbs.wants_batch_hooks("train")
    if hooks:
      logs = self._train_with_hooks(epoch_data, order, batch_size, full, k,
                                    cbs)
      if self.stop_training:
        return logs
    else:
      logs = self._train_quietly(epoch_data, order, batch_size, full, k)
    if rem:
      if hooks:
        cbs.on_train_batch_begin(full)
      logs = self._run_train(self._train_fn(padded, 1, real=rem), data_dev,
                             perm, full * batch_size)
      if hooks:
        cbs.on_train_batch_end(full, _LazyLogs(logs))
    return logs

  def _epoch_order(self, data_dev, perm, n, batch_size, shuffle, full):
    """(data, perm) that the epoch's full batches are taken from.

    Unshuffled data is sliced as it is. Shuffled data with small batches is
    copied once into the epoch's order (one gather on the device), so each
    step slices contiguous rows: a gather inside a small step costs ~20 us
    more on XLA:CPU, as much as the rest of the step. With larger batches
    the gather costs little next to the step, so the data is gathered batch
    by batch and never held twice.
    """
    if not shuffle or full == 0:
      return data_dev, None
    nbytes = sum(a.nbytes for a in jax.tree_util.tree_leaves(data_dev))
    if (nbytes > _EPOCH_COPY_MAX_BYTES or
        nbytes / n * batch_size > _EPOCH_COPY_MAX_BATCH_BYTES):
      return data_dev, perm
    permute = self._compiled(("permute", n), lambda: jax.jit(
        lambda data, perm: _steps.gather(data, perm[:n])))
    return permute(data_dev, perm), None

  def _train_quietly(self, data, order, batch_size, full, k):
    """The epoch's full batches when no callback watches single batches:
    the dispatch loop holds the train state in a local, so a step costs one
    call of the compiled function and nothing else on the host."""
    self._refresh_train_state()
    single = self._train_fn(batch_size, 1)
    multi = None
    if k > 1 and self._scan_pays_off(batch_size, data, order):
      multi = self._train_fn(batch_size, k)
    ts, logs, i = self._ts, None, 0
    try:
      if self._debug:
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
      self._ts = ts
      _layer.mark_dirty(self)
    return logs

  def _train_with_hooks(self, data, order, batch_size, full, k, cbs):
    """The epoch's full batches, calling the batch hooks of `cbs` around
    each execution (of `k` steps)."""
    logs, i = None, 0
    while i < full:
      cbs.on_train_batch_begin(i)
      if k > 1 and full - i >= k:
        if self._scan_pays_off(batch_size, data, order):
          logs = self._run_train(self._train_fn(batch_size, k), data, order,
                                 i * batch_size)
        else:
          single = self._train_fn(batch_size, 1)
          for j in range(k):
            logs = self._run_train(single, data, order, (i + j) * batch_size)
        i += k
      else:
        logs = self._run_train(self._train_fn(batch_size, 1), data, order,
                               i * batch_size)
        i += 1
      cbs.on_train_batch_end(i - 1, _LazyLogs(logs))
      if self.stop_training:
        return logs
    return logs

  def _fit_epoch_iterable(self, source, cbs):
    hooks = cbs.wants_batch_hooks("train")
    logs, index = None, 0
    def prepare(batch):
      if self._ts is None or self._objective.losses is None:
        self._prepare(batch[0], batch[1])
        self._reset_metrics_state()
    for batch, mask in self._placed(source, prepare):
      if hooks:
        cbs.on_train_batch_begin(index)
      fn = self._train_fn(None, 1, indexed=False, real=mask is not None)
      logs = self._run_train(fn, batch, *([] if mask is None else [mask]))
      if hooks:
        cbs.on_train_batch_end(index, _LazyLogs(logs))
      index += 1
      if self.stop_training:
        break
    return logs

  def _placed(self, source, prepare=None):
    """The batches of an iterable source placed over the replicas, a few
    in flight ahead: yields (batch, padding mask or None). `prepare(batch)`
    sees each host batch first (to build the model)."""
    def host_batches():
      for batch in source.epoch():
        if prepare is not None:
          prepare(batch)
        yield batch
    return _data.prefetch(host_batches(), self._shard_batch)

  # -- evaluate --------------------------------------------------------------------
  def _evaluate_logs(self, data, batch_size, steps=None, callbacks=None):
    if isinstance(data, tuple) and _data.is_array_data(data[0]):
      arrays = _data.ArrayData(*data)
      self._prepare(arrays.x, arrays.y)
      return self._evaluate_arrays(arrays, batch_size, steps, callbacks)
    if isinstance(data, (list, dict)) or not _data.is_array_data(data):
      return self._evaluate_iterable(_data.IterableData(data, steps))
    raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                     "(x_val, y_val, sample_weight), or a generator.")

  def _evaluate_arrays(self, arrays, batch_size, steps=None, cbs=None):
    n = arrays.num_samples
    index, mask, size, num_batches = _batch_rows(
        n, batch_size, steps, self._strategy.pad_size(batch_size))
    put = self._strategy.put
    data_dev, index, mask = put(arrays.tree), put(index), put(mask)
    state = self._ts._replace(
        metrics=put(_steps.init_metrics(self._objective)))
    fn = self._eval_fn(size)
    hooks = cbs is not None and cbs.wants_batch_hooks("test")
    logs = None
    for b in range(num_batches):
      metrics, logs = fn(state, data_dev, index, mask, b * size)
      state = state._replace(metrics=metrics)
      if hooks:
        cbs.on_test_batch_end(b, _LazyLogs(logs))
    return self._host_logs(logs)

  def _evaluate_iterable(self, source):
    state, logs = None, None
    prepare = lambda batch: self._prepare(batch[0], batch[1])
    for batch, mask in self._placed(source, prepare):
      if state is None:
        state = self._ts._replace(
            metrics=self._strategy.put(_steps.init_metrics(self._objective)))
      fn = self._host_batch_fn("test", mask is not None)
      state, logs = fn(state, batch, *([] if mask is None else [mask]))
    if logs is None:
      raise ValueError("The evaluation data yielded no batches.")
    return self._host_logs(logs)

  def evaluate(self, x=None, y=None, batch_size=None, verbose="auto",
               sample_weight=None, steps=None, callbacks=None,
               return_dict=False):
    """Loss and metrics on data; a scalar, a list or (return_dict) a dict."""
    self._require_compiled("evaluate")
    x = _host_inputs.host_inputs(self, x)
    cbs = callbacks_lib.CallbackList(list(callbacks or []), self,
                                     {"steps": steps, "verbose": verbose})
    cbs.on_test_begin()
    if _data.is_array_data(x):
      arrays = _data.ArrayData(x, y, sample_weight)
      self._prepare(arrays.x, arrays.y)
      logs = self._evaluate_arrays(arrays, batch_size or 32, steps, cbs)
    else:
      logs = self._evaluate_iterable(_data.IterableData(x, steps))
    cbs.on_test_end(logs)
    if verbose and verbose != "auto" or verbose == "auto":
      if verbose:
        print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
    return _format_logs(logs, return_dict)

  # -- predict -----------------------------------------------------------------------
  def predict(self, x, batch_size=None, verbose="auto", steps=None,
              callbacks=None):
    """Predictions as NumPy arrays, exactly one row per input row."""
    x = _host_inputs.host_inputs(self, x)
    if _data.is_array_data(x):
      arrays = _data.ArrayData(x)
      if not self.built:
        self._build_from_arrays(self._unpack_inputs(
            jax.tree_util.tree_map(lambda a: a[:1], arrays.x)))
      batch_size = batch_size or 32
      if isinstance(self._strategy, _strategy.SingleDevice):
        return self._predict_streamed(arrays, batch_size, steps)
      index, mask, size, num_batches = _batch_rows(
          arrays.num_samples, batch_size, steps,
          self._strategy.pad_size(batch_size))
      put = self._strategy.put
      data_dev, index = put(arrays.x), put(index)
      state = self._inference_state()
      fn = self._predict_fn(size)
      outs = [fn(state, data_dev, index, b * size)
              for b in range(num_batches)]
      real = mask.astype(bool)
      return jax.tree_util.tree_map(
          lambda *b: np.concatenate(b, axis=0)[real],
          *self._strategy.unshard(outs))
    outs = []
    source = _data.IterableData(x, steps)

    def build(batch):
      if not self.built:
        self._build_from_arrays(self._unpack_inputs(
            jax.tree_util.tree_map(lambda a: a[:1], batch[0])))
    state = None
    for (batch, mask) in self._placed(source, build):
      if state is None:
        state = self._inference_state()
      fn = self._host_batch_fn("predict", mask is not None)
      out = self._strategy.unshard(
          fn(state, batch[0]) if mask is None else fn(state, batch[0], mask))
      if mask is not None:
        real = self._strategy.unshard(mask).astype(bool)
        out = jax.tree_util.tree_map(lambda a: a[real], out)
      outs.append(out)
    return jax.tree_util.tree_map(
        lambda *b: np.concatenate(b, axis=0), *outs)

  def _predict_streamed(self, arrays, batch_size, steps):
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
    state = self._inference_state()
    fn = self._compiled(("predict_streamed",), lambda: jax.jit(
        lambda s, x: self.predict_step(s, x)))

    def batch(b):
      start = b * batch_size
      def cut(a):
        part = a[start:start + batch_size]
        short = batch_size - part.shape[0]
        if short:
          pad = [(0, short)] + [(0, 0)] * (np.ndim(part) - 1)
          part = np.pad(np.asarray(part), pad)
        return part
      return jax.tree_util.tree_map(cut, arrays.x)

    outs = [fn(state, batch(b)) for b in range(num_batches)]
    out = jax.tree_util.tree_map(
        lambda *o: jnp.concatenate(o, axis=0)[:rows], *outs)
    return jax.tree_util.tree_map(np.asarray, jax.device_get(out))

  def _inference_state(self):
    if self._ts is not None and self._ts_version == _layer.weights_version():
      return self._ts
    return self._strategy.put(TrainState(
        self.params, self.state, None, jax.random.PRNGKey(0),
        jnp.zeros((), jnp.int32), None))

  # -- on_batch ------------------------------------------------------------------------
  def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                     return_dict=False):
    """One optimizer step on one batch; metrics accumulate until
    `reset_metrics()`."""
    self._require_compiled("train_on_batch")
    batch = _data.ArrayData(x, y, sample_weight)
    if class_weight is not None:
      batch.sample_weight = _data.class_weight_to_sample_weight(
          batch.y, class_weight, batch.sample_weight)
    self._prepare(batch.x, batch.y)
    placed, mask = self._shard_batch(batch.tree)
    fn = self._train_fn(None, 1, indexed=False, real=mask is not None)
    logs = self._run_train(fn, placed, *([] if mask is None else [mask]))
    self._mark_trained()
    return _format_logs(self._host_logs(logs), return_dict)

  def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
    """Loss and metrics on one batch."""
    self._require_compiled("test_on_batch")
    batch = _data.ArrayData(x, y, sample_weight)
    self._prepare(batch.x, batch.y)
    state = self._ts._replace(
        metrics=self._strategy.put(_steps.init_metrics(self._objective)))
    placed, mask = self._shard_batch(batch.tree)
    fn = self._host_batch_fn("test", mask is not None)
    _, logs = fn(state, placed, *([] if mask is None else [mask]))
    return _format_logs(self._host_logs(logs), return_dict)

  def predict_on_batch(self, x):
    """Predictions for one batch, as NumPy arrays."""
    arrays = _data.ArrayData(x)
    if not self.built:
      self._build_from_arrays(self._unpack_inputs(arrays.x))
    out = jax.jit(self.predict_step)(self._inference_state(), arrays.x)
    return jax.tree_util.tree_map(np.asarray, out)


def _batch_rows(n, batch_size, steps, size):
  """Rows of `num_batches` batches of `batch_size` (the last one short),
  each padded to `size` rows: (index, mask, size, num_batches), where the
  padded positions have index 0 and mask 0."""
  num_batches = math.ceil(n / batch_size)
  if steps:
    num_batches = min(num_batches, steps)
  pos = (np.arange(num_batches)[:, None] * batch_size +
         np.arange(size)[None, :])
  real = (np.arange(size)[None, :] < batch_size) & (pos < n)
  index = np.where(real, pos, 0).astype(np.int32).reshape(-1)
  return index, real.astype(np.float32).reshape(-1), size, num_batches


def _check_divisible(batch_size, num_replicas):
  if batch_size % num_replicas:
    raise ValueError(
        f"batch_size={batch_size} does not split evenly over the "
        f"{num_replicas} devices of the distribution. Use a multiple of "
        f"{num_replicas} (the batch size is global: each device gets "
        "batch_size / devices rows).")


def _ordered(logs, names):
  """Host floats in Keras's order ("loss", then metrics as compiled); jit
  returns dicts with sorted keys."""
  logs = {k: float(v) for k, v in logs.items()}
  order = [n for n in names if n in logs] + sorted(set(logs) - set(names))
  return {k: logs[k] for k in order}


def _format_logs(logs, return_dict):
  if return_dict:
    return dict(logs)
  values = list(logs.values())
  return values[0] if len(values) == 1 else values
