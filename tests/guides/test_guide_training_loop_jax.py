"""keras.io guide "Writing a training loop from scratch in JAX", as a spec.

In the guide's order, on small generated data (no tf.data: NumPy batches):

1. A first end-to-end example: a Functional model, a Keras loss and
   optimizer, `compute_loss_and_updates` on `model.stateless_call`,
   `jax.value_and_grad(..., has_aux=True)`, a `jax.jit` train step with
   `optimizer.stateless_apply`, `optimizer.build(model.trainable_variables)`,
   the state made of `model.trainable_variables`,
   `model.non_trainable_variables` and `optimizer.variables`; the model's
   variables do not change during the loop, and `variable.assign(value)`
   writes the trained values back.
2. Low-level handling of metrics: `metric.variables` in the state,
   `stateless_update_state` inside the step, `assign` back and `result()`,
   `reset_state()`; an eval step.
3. Low-level handling of losses tracked by the model: `add_loss` in a layer
   and `stateless_call(..., return_losses=True)`.

Out of date for current Keras 3 itself (3.15 on JAX 0.10): JAX no longer
accepts objects with `__jax_array__` as `jit` arguments, so the guide's
`state = (model.trainable_variables, ...)` passed to the jitted step raises
in Keras 3; hk_keras's variables are pytrees, so the guide's form runs here.
The guide's last `compute_loss_and_updates` returns a 3-tuple, which
`value_and_grad(has_aux=True)` refuses, and sums the list of losses with
`jax.numpy.sum(losses)`, which JAX 0.10 refuses for a list (in Keras too);
the test uses the 2-tuple form of the guide's earlier sections and
`sum(losses)`.
"""
import jax
import numpy as np

import hk_keras as keras


def get_model():
  inputs = keras.Input(shape=(16,), name="digits")
  x1 = keras.layers.Dense(8, activation="relu")(inputs)
  x2 = keras.layers.Dense(8, activation="relu")(x1)
  outputs = keras.layers.Dense(3, name="predictions")(x2)
  return keras.Model(inputs=inputs, outputs=outputs)


def _data(n=64, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 16)).astype(np.float32)
  labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)
  return x, keras.utils.to_categorical(labels, 3)


def _batches(x, y, batch_size=16):
  return [(x[i:i + batch_size], y[i:i + batch_size])
          for i in range(0, len(x), batch_size)]


def test_a_first_end_to_end_example():
  model = get_model()
  loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
  optimizer = keras.optimizers.Adam(learning_rate=1e-2)

  def compute_loss_and_updates(trainable_variables, non_trainable_variables,
                               x, y):
    y_pred, non_trainable_variables = model.stateless_call(
        trainable_variables, non_trainable_variables, x)
    return loss_fn(y, y_pred), non_trainable_variables

  grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

  @jax.jit
  def train_step(state, data):
    trainable_variables, non_trainable_variables, optimizer_variables = state
    x, y = data
    (loss, non_trainable_variables), grads = grad_fn(
        trainable_variables, non_trainable_variables, x, y)
    trainable_variables, optimizer_variables = optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables)
    return loss, (trainable_variables, non_trainable_variables,
                  optimizer_variables)

  optimizer.build(model.trainable_variables)
  before = model.get_weights()
  state = (model.trainable_variables, model.non_trainable_variables,
           optimizer.variables)
  x, y = _data()
  losses = []
  for _ in range(2):
    for data in _batches(x, y):
      loss, state = train_step(state, data)
      losses.append(float(loss))
  assert losses[-1] < losses[0]
  for a, b in zip(model.get_weights(), before):  # the loop is stateless
    np.testing.assert_array_equal(a, b)
  trainable_variables, non_trainable_variables, _ = state
  for variable, value in zip(model.trainable_variables, trainable_variables):
    variable.assign(value)
  for variable, value in zip(model.non_trainable_variables,
                             non_trainable_variables):
    variable.assign(value)
  for a, b in zip(model.get_weights(), trainable_variables):
    np.testing.assert_array_equal(a, b)


def test_low_level_handling_of_metrics():
  model = get_model()
  optimizer = keras.optimizers.Adam(learning_rate=1e-2)
  loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)
  train_acc_metric = keras.metrics.CategoricalAccuracy()
  val_acc_metric = keras.metrics.CategoricalAccuracy()

  def compute_loss_and_updates(trainable_variables, non_trainable_variables,
                               metric_variables, x, y):
    y_pred, non_trainable_variables = model.stateless_call(
        trainable_variables, non_trainable_variables, x)
    loss = loss_fn(y, y_pred)
    metric_variables = train_acc_metric.stateless_update_state(
        metric_variables, y, y_pred)
    return loss, (non_trainable_variables, metric_variables)

  grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

  @jax.jit
  def train_step(state, data):
    (trainable_variables, non_trainable_variables, optimizer_variables,
     metric_variables) = state
    x, y = data
    (loss, (non_trainable_variables, metric_variables)), grads = grad_fn(
        trainable_variables, non_trainable_variables, metric_variables, x, y)
    trainable_variables, optimizer_variables = optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables)
    return loss, (trainable_variables, non_trainable_variables,
                  optimizer_variables, metric_variables)

  @jax.jit
  def eval_step(state, data):
    trainable_variables, non_trainable_variables, metric_variables = state
    x, y = data
    y_pred, non_trainable_variables = model.stateless_call(
        trainable_variables, non_trainable_variables, x)
    loss = loss_fn(y, y_pred)
    metric_variables = val_acc_metric.stateless_update_state(
        metric_variables, y, y_pred)
    return loss, (trainable_variables, non_trainable_variables,
                  metric_variables)

  optimizer.build(model.trainable_variables)
  state = (model.trainable_variables, model.non_trainable_variables,
           optimizer.variables, train_acc_metric.variables)
  x, y = _data()
  x_val, y_val = _data(32, seed=1)
  for data in _batches(x, y):
    _, state = train_step(state, data)
  _, _, _, metric_variables = state
  for variable, value in zip(train_acc_metric.variables, metric_variables):
    variable.assign(value)
  assert 0.0 <= float(train_acc_metric.result()) <= 1.0
  counts = [v for v in train_acc_metric.variables if v.name == "count"]
  assert [float(v) for v in counts] == [64.0]

  trainable_variables, non_trainable_variables, _, _ = state
  state = (trainable_variables, non_trainable_variables,
           val_acc_metric.variables)
  for data in _batches(x_val, y_val):
    _, state = eval_step(state, data)
  _, _, metric_variables = state
  for variable, value in zip(val_acc_metric.variables, metric_variables):
    variable.assign(value)
  for variable, value in zip(model.trainable_variables, trainable_variables):
    variable.assign(value)
  expected = np.mean(np.argmax(model(x_val), -1) == np.argmax(y_val, -1))
  np.testing.assert_allclose(val_acc_metric.result(), expected, rtol=1e-6)
  train_acc_metric.reset_state()
  assert float(train_acc_metric.result()) == 0.0


class ActivityRegularizationLayer(keras.layers.Layer):
  def call(self, inputs):
    self.add_loss(1e-2 * jax.numpy.sum(inputs))
    return inputs


def test_low_level_handling_of_losses_tracked_by_the_model():
  inputs = keras.Input(shape=(16,), name="digits")
  x = keras.layers.Dense(8, activation="relu")(inputs)
  x = ActivityRegularizationLayer()(x)
  x = keras.layers.Dense(8, activation="relu")(x)
  outputs = keras.layers.Dense(3, name="predictions")(x)
  model = keras.Model(inputs=inputs, outputs=outputs)
  loss_fn = keras.losses.CategoricalCrossentropy(from_logits=True)

  def compute_loss_and_updates(trainable_variables, non_trainable_variables,
                               x, y):
    y_pred, non_trainable_variables, losses = model.stateless_call(
        trainable_variables, non_trainable_variables, x, return_losses=True)
    loss = loss_fn(y, y_pred)
    if losses:
      loss += sum(losses)  # the guide's jnp.sum(list) raises in JAX 0.10
    return loss, (non_trainable_variables, losses, loss_fn(y, y_pred))

  xs, ys = _data(16)
  (loss, (_, losses, plain)), grads = jax.jit(
      jax.value_and_grad(compute_loss_and_updates, has_aux=True))(
          model.trainable_variables, model.non_trainable_variables, xs, ys)
  kernel, bias = model.layers[1].get_weights()
  activity = 1e-2 * np.sum(np.maximum(xs @ kernel + bias, 0.0))
  assert len(losses) == 1
  np.testing.assert_allclose(losses[0], activity, rtol=1e-5)
  np.testing.assert_allclose(loss, plain + activity, rtol=1e-5)
  assert len(grads) == len(model.trainable_variables)
