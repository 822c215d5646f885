"""keras.io guide "Customizing what happens in fit() with JAX", as a spec.

Each section's patterns, in the guide's order, on small generated data:

1. A first simple example: a Keras-form `compute_loss_and_updates` on
   `stateless_call` + `stateless_compute_loss`, a Keras-form
   `train_step(state, data)` with `keras.utils.unpack_x_y_sample_weight`,
   `self.optimizer.stateless_apply` and a loop over `self.metrics` with
   `stateless_update_state`/`stateless_result`; `fit` as usual.
2. Going lower-level: metrics and a loss created in `__init__`, a
   `metrics` property listing them (reset at each epoch), `compile` with
   only an optimizer.
3. Providing your own evaluation step: a Keras-form `test_step` with the
   3-tuple state; `evaluate(return_dict=True)`.

The guide builds `CustomModel(inputs, outputs)` (a subclass called with the
Functional constructor); that idiom belongs to another part of issue 19, so
the models here are subclasses with `call` (same steps, same numbers).
"""
import jax
import numpy as np

import hk_keras as keras


def _data(n=96, seed=0):
  rng = np.random.default_rng(seed)
  return (rng.random((n, 8)).astype(np.float32),
          rng.random((n, 1)).astype(np.float32))


class _Base(keras.Model):
  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(1)

  def call(self, inputs, training=False):
    return self.dense(inputs)


def _update_all_metrics(model, metrics_variables, loss, y, y_pred,
                        sample_weight):
  new_metrics_vars, logs = [], {}
  for metric in model.metrics:
    this = metrics_variables[len(new_metrics_vars):
                             len(new_metrics_vars) + len(metric.variables)]
    if metric.name == "loss":
      this = metric.stateless_update_state(this, loss,
                                           sample_weight=sample_weight)
    else:
      this = metric.stateless_update_state(this, y, y_pred,
                                           sample_weight=sample_weight)
    logs[metric.name] = metric.stateless_result(this)
    new_metrics_vars += this
  return logs, new_metrics_vars


class FirstExample(_Base):
  def compute_loss_and_updates(self, trainable_variables,
                               non_trainable_variables, metrics_variables, x,
                               y, sample_weight, training=False):
    y_pred, non_trainable_variables = self.stateless_call(
        trainable_variables, non_trainable_variables, x, training=training)
    loss, (trainable_variables, non_trainable_variables,
           metrics_variables) = self.stateless_compute_loss(
               trainable_variables, non_trainable_variables,
               metrics_variables, x=x, y=y, y_pred=y_pred,
               sample_weight=sample_weight, training=training)
    return loss, (y_pred, non_trainable_variables, metrics_variables)

  def train_step(self, state, data):
    (trainable_variables, non_trainable_variables, optimizer_variables,
     metrics_variables) = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
    (loss, (y_pred, non_trainable_variables, metrics_variables)), grads = (
        grad_fn(trainable_variables, non_trainable_variables,
                metrics_variables, x, y, sample_weight, training=True))
    trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables)
    logs, new_metrics_vars = _update_all_metrics(
        self, metrics_variables, loss, y, y_pred, sample_weight)
    return logs, (trainable_variables, non_trainable_variables,
                  optimizer_variables, new_metrics_vars)


def test_a_first_simple_example():
  model = FirstExample()
  model.build((None, 8))
  model.compile(optimizer="adam", loss="mse", metrics=["mae"])
  assert [m.name for m in model.metrics] == ["loss", "compile_metrics"]
  x, y = _data()
  history = model.fit(x, y, epochs=3, verbose=0)
  assert sorted(history.history) == ["loss", "mae"]
  losses = history.history["loss"]
  assert len(losses) == 3 and losses[-1] < losses[0]


class LowerLevel(_Base):
  def __init__(self):
    super().__init__()
    self.loss_tracker = keras.metrics.Mean(name="loss")
    self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
    self.loss_fn = keras.losses.MeanSquaredError()

  def compute_loss_and_updates(self, trainable_variables,
                               non_trainable_variables, x, y, sample_weight,
                               training=False):
    y_pred, non_trainable_variables = self.stateless_call(
        trainable_variables, non_trainable_variables, x, training=training)
    loss = self.loss_fn(y, y_pred, sample_weight=sample_weight)
    return loss, (y_pred, non_trainable_variables)

  def train_step(self, state, data):
    (trainable_variables, non_trainable_variables, optimizer_variables,
     metrics_variables) = state
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
    (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
        trainable_variables, non_trainable_variables, x, y, sample_weight,
        training=True)
    trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables)
    loss_tracker_vars = metrics_variables[:len(self.loss_tracker.variables)]
    mae_metric_vars = metrics_variables[len(self.loss_tracker.variables):]
    loss_tracker_vars = self.loss_tracker.stateless_update_state(
        loss_tracker_vars, loss, sample_weight=sample_weight)
    mae_metric_vars = self.mae_metric.stateless_update_state(
        mae_metric_vars, y, y_pred, sample_weight=sample_weight)
    logs = {
        self.loss_tracker.name: self.loss_tracker.stateless_result(
            loss_tracker_vars),
        self.mae_metric.name: self.mae_metric.stateless_result(
            mae_metric_vars)}
    return logs, (trainable_variables, non_trainable_variables,
                  optimizer_variables, loss_tracker_vars + mae_metric_vars)

  @property
  def metrics(self):
    return [self.loss_tracker, self.mae_metric]


class _StartWeights(keras.callbacks.Callback):
  def __init__(self):
    super().__init__()
    self.seen = []

  def on_epoch_begin(self, epoch, logs=None):
    self.seen.append(self.model.get_weights())


def test_going_lower_level():
  model = LowerLevel()
  model.build((None, 8))
  model.compile(optimizer="adam")  # no loss, no metrics
  x, y = _data()
  starts = _StartWeights()
  # One batch per epoch: each epoch's logs are that batch's values before
  # its update, which holds only if the metrics are reset every epoch.
  history = model.fit(x, y, batch_size=len(x), epochs=5, verbose=0,
                      callbacks=[starts])
  assert sorted(history.history) == ["loss", "mae"]
  for epoch, (kernel, bias) in enumerate(starts.seen):
    err = x @ kernel + bias - y
    np.testing.assert_allclose(history.history["loss"][epoch],
                               np.mean(err ** 2), rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"][epoch],
                               np.mean(np.abs(err)), rtol=1e-5)
  assert history.history["loss"][-1] < history.history["loss"][0]


class WithTestStep(_Base):
  def test_step(self, state, data):
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    (trainable_variables, non_trainable_variables, metrics_variables) = state
    y_pred, non_trainable_variables = self.stateless_call(
        trainable_variables, non_trainable_variables, x, training=False)
    loss, (trainable_variables, non_trainable_variables,
           metrics_variables) = self.stateless_compute_loss(
               trainable_variables, non_trainable_variables,
               metrics_variables, x=x, y=y, y_pred=y_pred,
               sample_weight=sample_weight, training=False)
    logs, new_metrics_vars = _update_all_metrics(
        self, metrics_variables, loss, y, y_pred, sample_weight)
    return logs, (trainable_variables, non_trainable_variables,
                  new_metrics_vars)


def test_providing_your_own_evaluation_step():
  model = WithTestStep()
  model.build((None, 8))
  model.compile(loss="mse", metrics=["mae"])
  x, y = _data(n=100)  # batches of 32, 32, 32 and 4
  logs = model.evaluate(x, y, return_dict=True, verbose=0)
  kernel, bias = model.get_weights()
  err = x @ kernel + bias - y
  # The guide's loss tracker averages the batch losses (as Keras 3 does with
  # this step); compile_metrics' MAE is over all samples.
  batch_losses = [np.mean(err[i:i + 32] ** 2) for i in range(0, 100, 32)]
  np.testing.assert_allclose(logs["loss"], np.mean(batch_losses), rtol=1e-5)
  np.testing.assert_allclose(logs["mae"], np.mean(np.abs(err)), rtol=1e-5)
