"""`Trainer`: compile/fit/evaluate/predict of `Model`, over one `LiveState`.

The methods here are the Keras 3 API and the step customisation points; the
work is done by the engine's modules, one concept each:

* `_compile_options`: what compile() was given, checked and resolved;
* `_live_state`: the live train state and its agreement with the layers;
* `_default_steps`: the default steps, built from the methods below;
* `_step_wrappers` / `_step_cache`: the forms loops call, compiled once;
* `_batching`: how rows of the data reach the steps;
* `_loops`: the epoch loops of fit, evaluate and predict;
* `_logs`: batch and epoch logs.
"""
from typing import Optional

from . import _default_steps
from . import _host_inputs
from . import _keras_steps
from . import _loops
from . import _validation
from ._compile_options import CompileOptions
from ._live_state import LiveState
from ._train_state import TrainState

_NOT_COMPILED = (
    "You must call compile() before {}(): e.g. model.compile(optimizer='adam', "
    "loss='sparse_categorical_crossentropy', metrics=['accuracy']).")


class Trainer:
  """Training methods of `Model` (Keras 3 semantics)."""

  compiled = False
  stop_training = False

  @property
  def _live(self) -> LiveState:
    live = self.__dict__.get("_live_state")
    if live is None:
      live = self.__dict__["_live_state"] = LiveState(
          self, CompileOptions.uncompiled(self))
    return live

  @property
  def _ts(self) -> Optional[TrainState]:
    """The live train state (read-only; tests and research code peek)."""
    return self._live.ts

  @property
  def _shuffle_seed(self) -> Optional[int]:
    return self._live.shuffle_seed

  @property
  def _strategy(self):
    return self._live.strategy

  # -- compile -----------------------------------------------------------------
  def compile(self, optimizer="rmsprop", loss=None, metrics=None,
              loss_weights=None, weighted_metrics=None, run_eagerly=False,
              steps_per_execution=1, jit_compile=True,
              gradient_accumulation_steps=None, debug=False,
              auto_scale_loss=True, distribution=None, **kwargs):
    """Configures the model for training.

    Args:
      optimizer: a Keras name ("adam", "sgd", "rmsprop", "adamw",
        "adagrad", ...), an `hk_keras.optimizers` object, or any
        `optax.GradientTransformation` (e.g. `optax.multi_transform` to
        train parts of the model with different optimizers).
      loss: a Keras loss name, `hk_keras.losses` object or callable
        `loss(y_true, y_pred)` returning per-element, per-sample or scalar
        values; a list/dict for several outputs.
      metrics: metric names/objects/callables (or per output). As in Keras
        3 they ignore sample weights and class weights.
      loss_weights: scalar weights of per-output losses.
      weighted_metrics: metrics that use sample weights and class weights.
      run_eagerly: run the steps without `jax.jit`, op by op (debug with
        `print` and `pdb` in `call`, `train_step` and losses; slow).
      steps_per_execution: run this many steps in one compiled call.
      jit_compile: False runs the steps without `jax.jit`, as run_eagerly.
      gradient_accumulation_steps: accumulate gradients over N steps
        (optax.MultiSteps) before each update.
      debug: check inside the step that loss and gradients are finite and
        name the offending leaf (costs a host sync per step).
      auto_scale_loss: with a "mixed_float16" dtype policy, scale the loss
        dynamically (`jmp.DynamicLossScale`) and skip steps whose gradients
        are not finite, as Keras's LossScaleOptimizer.
      distribution: an `hk_keras.distribution.DataParallel` or
        `ModelParallel` for this model;
        defaults to the global `hk_keras.distribution.set_distribution`.
      privacy: an `hk_keras.privacy.DPSGD(...)`: `fit` then trains with
        differentially private SGD (see docs/privacy.md).

    Raises:
      ValueError: on unknown loss/optimizer/metric names or bad arguments.
    """
    options = CompileOptions(
        self, optimizer=optimizer, loss=loss, metrics=metrics,
        loss_weights=loss_weights, weighted_metrics=weighted_metrics,
        steps_per_execution=steps_per_execution, jit_compile=jit_compile,
        run_eagerly=run_eagerly,
        gradient_accumulation_steps=gradient_accumulation_steps, debug=debug,
        auto_scale_loss=auto_scale_loss, distribution=distribution, **kwargs)
    previous = self.__dict__.get("_live_state")
    live = LiveState(self, options)
    if previous is not None:
      previous.sync_to_layers()  # recompiling keeps the trained weights
      if previous.pending is not None:
        live.install_saved(previous.pending)
    self.__dict__["_live_state"] = live
    self.optimizer = options.optimizer
    if hasattr(self.optimizer, "_attach_model"):
      self.optimizer._attach_model(self)  # live optimizer.learning_rate
    self.compiled = True

  @property
  def steps_per_execution(self) -> int:
    return self._live.options.steps_per_execution

  @property
  def run_eagerly(self) -> bool:
    """Whether the steps run without `jax.jit` (compile's run_eagerly or
    jit_compile=False)."""
    return self._live.options.eager

  def _output_names(self):
    structure = getattr(self, "_outputs_struct", None)
    if isinstance(structure, dict):
      return list(structure)
    if isinstance(structure, list):
      return [t.node.layer.name for t in structure]
    return ["output"]

  def _require_compiled(self, what):
    if not self.compiled:
      raise RuntimeError(_NOT_COMPILED.format(what))

  def reset_metrics(self):
    """Resets the metrics accumulated by train_on_batch/test_on_batch."""
    self._live.reset_metrics()

  @property
  def opt_state(self):
    """The optimizer state of the trainable params (None before training)."""
    ts = self._live.ts
    return None if ts is None else ts.opt_state

  def privacy_spent(self, delta=None):
    """(epsilon, delta) spent by this model's DP-SGD training so far
    (`compile(privacy=...)`), from its accountant. `delta` defaults to
    the DPSGD's target_delta, else min(1e-5, 1/N).

    Raises:
      ValueError: if the model never trained with DP-SGD, or delta > 1/N.
    """
    from ..privacy import _ledger  # pylint: disable=g-import-not-at-top
    return _ledger.privacy_spent(self, delta)

  # -- steps and their customisation points (see docs/customizing_fit.md) ------
  def train_step(self, state: TrainState, data):
    """One training step: pure `(state, (x, y, sample_weight)) -> (state, logs)`.

    The default is built from `compute_loss`, `apply_gradients`,
    `update_metrics` and `compute_metrics`: override any of them, or this.
    Overrides may also take Keras 3's JAX form `(state tuple, data) ->
    (logs, state tuple)` (see `_keras_steps`); called with a tuple state,
    the default answers in that form.
    """
    if not isinstance(state, TrainState):
      return _keras_steps.default_step(self, "train", state, data)
    return _default_steps.default_train_step(self, state, data)

  def test_step(self, state: TrainState, data, mask=None):
    """One evaluation step: `(state, data) -> (state, logs)`."""
    if not isinstance(state, TrainState):
      return _keras_steps.default_step(self, "test", state, data)
    return _default_steps.default_test_step(self, state, data, mask)

  def predict_step(self, state: TrainState, x):
    """Predictions for one batch of inputs."""
    if not isinstance(state, TrainState):
      return _keras_steps.default_step(self, "predict", state, x)
    return _default_steps.default_predict_step(self, state, x)

  def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                   training=True):
    """The total loss of a batch (Keras 3's signature): the compiled loss
    plus the sum of `self.losses` (regularizers and `add_loss` values of the
    apply that made `y_pred`). Called inside the step; override to change
    the loss `fit` and `evaluate` use."""
    del x, training
    return _default_steps.compute_loss(self, y, y_pred, sample_weight)

  def compute_metrics(self, x, y, y_pred, sample_weight=None):
    """Updates the compiled metrics for a batch and returns the logs dict
    (Keras 3's signature). Called by `update_metrics` inside the step."""
    del x
    return _default_steps.compute_metrics(self, y, y_pred, sample_weight)

  def apply_gradients(self, state: TrainState, grads) -> TrainState:
    """Optimizer update of the trainable params (frozen ones untouched),
    then the weights' constraints; advances `state.step`."""
    return _default_steps.apply_gradients(self, state, grads)

  def update_metrics(self, state: TrainState, loss, y, y_pred,
                     sample_weight=None) -> TrainState:
    """Adds one batch to the loss tracker, then calls `compute_metrics`."""
    return _default_steps.update_metrics(self, state, loss, y, y_pred,
                                         sample_weight)

  def metrics_logs(self, state: TrainState):
    """Current metric results as a dict of scalars (inside a step)."""
    return _default_steps.results(self._live.options.objective, state.metrics)

  # -- fit / evaluate / predict ----------------------------------------------------
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
    _validation.check_fit(x, y, batch_size, epochs, initial_epoch,
                          sample_weight, validation_data, steps_per_epoch,
                          validation_steps, validation_batch_size)
    self._require_compiled("fit")
    if self._live.options.privacy is not None:
      from ..privacy import _fit  # pylint: disable=g-import-not-at-top
      callbacks = _fit.prepare(self, x, batch_size, epochs, callbacks,
                               validation_split, validation_data,
                               class_weight, sample_weight, initial_epoch,
                               steps_per_epoch)
    if x is not None:  # leading string layers run here, on the host
      x = _host_inputs.host_inputs(self, x)
    if isinstance(validation_data, tuple) and validation_data:
      validation_data = (_host_inputs.host_inputs(self, validation_data[0]),
                         ) + tuple(validation_data[1:])
    return _loops.fit(self, self._live, x, y, batch_size, epochs, verbose,
                      callbacks, validation_split, validation_data, shuffle,
                      class_weight, sample_weight, initial_epoch,
                      steps_per_epoch, validation_steps,
                      validation_batch_size, validation_freq)

  def evaluate(self, x=None, y=None, batch_size=None, verbose="auto",
               sample_weight=None, steps=None, callbacks=None,
               return_dict=False):
    """Loss and metrics on data; a scalar, a list or (return_dict) a dict."""
    _validation.check_evaluate(x, y, batch_size, sample_weight, steps)
    self._require_compiled("evaluate")
    if x is not None:
      x = _host_inputs.host_inputs(self, x)
    return _loops.evaluate(self, self._live, x, y, batch_size, verbose,
                           sample_weight, steps, callbacks, return_dict)

  def predict(self, x, batch_size=None, verbose="auto", steps=None,
              callbacks=None):
    """Predictions as NumPy arrays, exactly one row per input row."""
    del verbose
    _validation.check_predict(x, batch_size, steps)
    x = _host_inputs.host_inputs(self, x)
    return _loops.predict(self, self._live, x, batch_size, steps, callbacks)

  def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                     return_dict=False):
    """One optimizer step on one batch; metrics accumulate until
    `reset_metrics()`."""
    self._require_compiled("train_on_batch")
    if self._live.options.privacy is not None:
      from ..privacy import _fit  # pylint: disable=g-import-not-at-top
      _fit.refuse_train_on_batch()
    return _loops.train_on_batch(self._live, x, y, sample_weight,
                                 class_weight, return_dict)

  def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
    """Loss and metrics on one batch."""
    self._require_compiled("test_on_batch")
    return _loops.test_on_batch(self._live, x, y, sample_weight, return_dict)

  def predict_on_batch(self, x):
    """Predictions for one batch, as NumPy arrays."""
    return _loops.predict_on_batch(self, self._live, x)
