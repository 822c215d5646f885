"""keras.io guide "Training & evaluation with the built-in methods".

In the guide's order, on the shipped 8x8 digits instead of MNIST: compile /
fit with validation data / the History / evaluate / predict; string
shortcuts in compile; a custom loss function and a `Loss` subclass; a
custom `Metric` subclass with Keras-style variables;
losses added by a layer (`add_loss`) with a model compiled without a loss;
validation_split; a `PyDataset` (the guide's tf.data sections use
PyDataset on the JAX backend); class_weight and sample_weight;
multi-input / multi-output compile with per-output losses, loss_weights and
metrics; EarlyStopping and ModelCheckpoint callbacks; a learning-rate
schedule in the optimizer.
"""
import os

import numpy as np
import pytest

import hk_keras as keras
from hk_keras import layers, ops


@pytest.fixture(scope="module")
def digits():
  (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
  x_train = x_train.reshape(-1, 64).astype("float32")[:512] / 16
  x_test = x_test.reshape(-1, 64).astype("float32")[:128] / 16
  return (x_train, y_train[:512].astype("int32"),
          x_test, y_test[:128].astype("int32"))


def get_uncompiled_model():
  inputs = keras.Input(shape=(64,), name="digits")
  x = layers.Dense(16, activation="relu", name="dense_1")(inputs)
  outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
  return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
  model = get_uncompiled_model()
  model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                metrics=["sparse_categorical_accuracy"])
  return model


def test_api_overview(digits):
  x_train, y_train, x_test, y_test = digits
  model = get_uncompiled_model()
  model.compile(
      optimizer=keras.optimizers.RMSprop(),
      loss=keras.losses.SparseCategoricalCrossentropy(),
      metrics=[keras.metrics.SparseCategoricalAccuracy()])
  x_val, y_val = x_train[-128:], y_train[-128:]
  history = model.fit(x_train[:-128], y_train[:-128], batch_size=64,
                      epochs=2, validation_data=(x_val, y_val), verbose=0)
  assert sorted(history.history) == [
      "loss", "sparse_categorical_accuracy", "val_loss",
      "val_sparse_categorical_accuracy"]
  results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
  assert len(results) == 2 and results[1] > 0.1
  assert history.history["loss"][1] < history.history["loss"][0]
  predictions = model.predict(x_test[:3], verbose=0)
  assert predictions.shape == (3, 10)
  np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_custom_losses(digits):
  x_train, y_train, _, _ = digits
  y_train_one_hot = ops.one_hot(y_train, num_classes=10)

  def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)

  model = get_uncompiled_model()
  model.compile(optimizer=keras.optimizers.Adam(),
                loss=custom_mean_squared_error)
  model.fit(x_train, y_train_one_hot, batch_size=128, epochs=1, verbose=0)

  class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
      super().__init__(name=name)
      self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
      mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
      reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
      return mse + reg * self.regularization_factor

  model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
  pred = model.predict(x_train[:128], verbose=0)
  expected = np.mean(np.mean((np.asarray(y_train_one_hot[:128]) - pred) ** 2,
                             -1) + 0.1 * np.mean((0.5 - pred) ** 2, -1))
  np.testing.assert_allclose(
      model.evaluate(x_train[:128], y_train_one_hot[:128], batch_size=128,
                     verbose=0), expected, rtol=1e-5)


class CategoricalTruePositives(keras.metrics.Metric):
  def __init__(self, name="categorical_true_positives", **kwargs):
    super().__init__(name=name, **kwargs)
    self.true_positives = self.add_variable(shape=(), name="ctp",
                                            initializer="zeros")

  def update_state(self, y_true, y_pred, sample_weight=None):
    y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
    values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
    values = ops.cast(values, "float32")
    if sample_weight is not None:
      sample_weight = ops.cast(sample_weight, "float32")
      values = ops.multiply(values, sample_weight)
    self.true_positives.assign_add(ops.sum(values))

  def result(self):
    return self.true_positives

  def reset_state(self):
    self.true_positives.assign(0.0)


def test_custom_metric_with_variables(digits):
  metric = CategoricalTruePositives()
  metric.update_state(np.array([[1], [2]]), np.eye(3)[[1, 0]])
  assert float(metric.result()) == 1.0
  metric.update_state(np.array([[1], [2]]), np.eye(3)[[1, 2]])
  assert float(metric.result()) == 3.0
  metric.reset_state()
  assert float(metric.result()) == 0.0
  x_train, y_train, _, _ = digits
  model = get_uncompiled_model()
  model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(),
                metrics=[CategoricalTruePositives()])
  history = model.fit(x_train, y_train[:, None], batch_size=64, epochs=2,
                      verbose=0)
  assert 0 <= history.history["categorical_true_positives"][-1] <= 512
  # On one batch the metric counts exactly the correct predictions.
  logs = model.test_on_batch(x_train[:64], y_train[:64, None],
                             return_dict=True)
  pred = model.predict(x_train[:64], verbose=0).argmax(axis=1)
  assert logs["categorical_true_positives"] == np.sum(pred == y_train[:64])


class LogisticEndpoint(keras.layers.Layer):
  def __init__(self, name=None):
    super().__init__(name=name)
    self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

  def call(self, targets, logits, sample_weights=None):
    loss = self.loss_fn(targets, logits, sample_weights)
    self.add_loss(loss)
    return ops.softmax(logits)


def test_losses_added_by_a_layer_without_a_compiled_loss():
  inputs = keras.Input(shape=(3,), name="inputs")
  targets = keras.Input(shape=(10,), name="targets")
  logits = keras.layers.Dense(10)(inputs)
  predictions = LogisticEndpoint(name="predictions")(targets, logits)
  model = keras.Model(inputs=[inputs, targets], outputs=predictions)
  model.compile(optimizer="adam")  # no loss argument
  data = {"inputs": np.random.random((8, 3)).astype("float32"),
          "targets": np.random.random((8, 10)).astype("float32")}
  history = model.fit(data, epochs=2, batch_size=4, verbose=0)
  assert history.history["loss"][1] < history.history["loss"][0]


def test_validation_split_and_py_dataset(digits):
  x_train, y_train, _, _ = digits
  model = get_compiled_model()
  history = model.fit(x_train, y_train, batch_size=128, validation_split=0.25,
                      epochs=1, verbose=0)
  assert "val_loss" in history.history

  class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
      super().__init__(**kwargs)
      self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
      return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
      lo = idx * self.batch_size
      return self.x[lo:lo + self.batch_size], self.y[lo:lo + self.batch_size]

  train_py_dataset = ExamplePyDataset(x_train, y_train, batch_size=128)
  val_py_dataset = ExamplePyDataset(x_train[:128], y_train[:128],
                                    batch_size=64)
  history = model.fit(train_py_dataset, validation_data=val_py_dataset,
                      epochs=1, verbose=0)
  assert len(history.history["val_loss"]) == 1
  assert len(model.evaluate(val_py_dataset, verbose=0)) == 2


def test_class_weight_and_sample_weight(digits):
  x_train, y_train, _, _ = digits
  class_weight = {i: 1.0 for i in range(10)}
  class_weight[5] = 2.0
  model = get_compiled_model()
  sample_weight = np.where(y_train == 5, 2.0, 1.0)
  # The same weights given per sample train to the same model.
  twin = get_compiled_model()
  twin.set_weights(model.get_weights())
  model.fit(x_train, y_train, class_weight=class_weight, batch_size=128,
            epochs=1, shuffle=False, verbose=0)
  twin.fit(x_train, y_train, sample_weight=sample_weight, batch_size=128,
           epochs=1, shuffle=False, verbose=0)
  for a, b in zip(model.get_weights(), twin.get_weights()):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_multi_input_multi_output_compile():
  image_input = keras.Input(shape=(8, 8, 3), name="img_input")
  timeseries_input = keras.Input(shape=(None, 4), name="ts_input")
  x1 = layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image_input))
  x2 = layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(timeseries_input))
  x = layers.concatenate([x1, x2])
  score_output = layers.Dense(1, name="score_output")(x)
  class_output = layers.Dense(5, name="class_output")(x)
  model = keras.Model(inputs=[image_input, timeseries_input],
                      outputs=[score_output, class_output])
  model.compile(
      optimizer=keras.optimizers.RMSprop(1e-3),
      loss={"score_output": keras.losses.MeanSquaredError(),
            "class_output": keras.losses.CategoricalCrossentropy()},
      metrics={"score_output": [keras.metrics.MeanAbsoluteError()],
               "class_output": [keras.metrics.CategoricalAccuracy()]},
      loss_weights={"score_output": 2.0, "class_output": 1.0})
  rng = np.random.default_rng(0)
  img_data = rng.random((8, 8, 8, 3)).astype("float32")
  ts_data = rng.random((8, 6, 4)).astype("float32")
  score_targets = rng.random((8, 1)).astype("float32")
  class_targets = rng.random((8, 5)).astype("float32")
  history = model.fit({"img_input": img_data, "ts_input": ts_data},
                      {"score_output": score_targets,
                       "class_output": class_targets},
                      batch_size=4, epochs=1, verbose=0)
  logs = history.history
  assert "score_output_mean_absolute_error" in logs
  assert "class_output_categorical_accuracy" in logs


def test_callbacks_and_learning_rate_schedule(digits, tmp_path):
  x_train, y_train, _, _ = digits
  model = get_compiled_model()
  callbacks = [
      keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=10.0,
                                    patience=1, verbose=0),
      keras.callbacks.ModelCheckpoint(
          filepath=str(tmp_path / "mymodel_{epoch}.keras"),
          save_best_only=True, monitor="val_loss", verbose=0),
  ]
  history = model.fit(x_train, y_train, epochs=5, batch_size=128,
                      validation_split=0.25, callbacks=callbacks, verbose=0)
  # min_delta is never met: training stops after patience + 1 epochs.
  assert len(history.history["loss"]) == 2
  assert os.path.exists(tmp_path / "mymodel_1.keras")
  restored = keras.models.load_model(str(tmp_path / "mymodel_1.keras"))
  assert restored.count_params() == model.count_params()
  lr_schedule = keras.optimizers.schedules.ExponentialDecay(
      initial_learning_rate=0.1, decay_steps=100000, decay_rate=0.96,
      staircase=True)
  optimizer = keras.optimizers.RMSprop(learning_rate=lr_schedule)
  model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
  model.fit(x_train, y_train, epochs=1, batch_size=128, verbose=0)
  np.testing.assert_allclose(float(lr_schedule(0)), 0.1, rtol=1e-6)
