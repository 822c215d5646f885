"""keras.io guide "Save, serialize, and export models", as a specification.

In the guide's order: `model.save` / `load_model` of a `.keras` file
(architecture, weights, compile state and optimizer state); custom objects
registered with `register_keras_serializable`, passed as `custom_objects`
or in a `custom_object_scope`; configs (`get_config` / `from_config` of a
layer, a Sequential and a Functional model; `to_json` / `model_from_json`;
`serialize_keras_object` / `deserialize_keras_object`; `clone_model`);
weights only: `get_weights` / `set_weights` between layers and models of
the same architecture (a functional and a subclassed one), and
`save_weights` / `load_weights`. hk_keras writes weights files as
`.weights.npz` (the guide's `.weights.h5` is Keras's HDF5 layout). A
Python lambda is never loaded back (loading runs no code): the guide's
`safe_mode=False` escape hatch does not exist here.
"""
import numpy as np
import pytest

import hk_keras as keras
from hk_keras import layers, ops


def get_model():
  inputs = keras.Input(shape=(4,))
  outputs = layers.Dense(1)(inputs)
  model = keras.Model(inputs, outputs)
  model.compile(optimizer=keras.optimizers.Adam(), loss="mean_squared_error")
  return model


def test_save_and_load_a_whole_model(tmp_path):
  model = get_model()
  x = np.random.default_rng(0).random((16, 4)).astype("float32")
  y = np.random.default_rng(1).random((16, 1)).astype("float32")
  model.fit(x, y, epochs=1, batch_size=8, verbose=0)
  path = str(tmp_path / "my_model.keras")
  model.save(path)
  reconstructed = keras.models.load_model(path)
  np.testing.assert_allclose(model.predict(x, verbose=0),
                             reconstructed.predict(x, verbose=0), rtol=1e-6)
  # The optimizer state came along: training resumes identically.
  model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
  reconstructed.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
  for a, b in zip(model.get_weights(), reconstructed.get_weights()):
    np.testing.assert_allclose(a, b, rtol=1e-5)


@keras.saving.register_keras_serializable(package="my_package",
                                          name="custom_fn")
def custom_fn(x):
  return x ** 2


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
  def __init__(self, factor, **kwargs):
    super().__init__(**kwargs)
    self.factor = factor

  def call(self, x):
    return x * self.factor

  def get_config(self):
    return dict(super().get_config(), factor=self.factor)


@keras.saving.register_keras_serializable(package="my_package",
                                          name="CustomModel")
class CustomModel(keras.Model):
  def __init__(self, hidden_units, **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = hidden_units
    self.dense_layers = [layers.Dense(u, activation=custom_fn)
                         for u in hidden_units]

  def call(self, inputs):
    x = inputs
    for layer in self.dense_layers:
      x = layer(x)
    return x

  def get_config(self):
    return dict(super().get_config(), hidden_units=self.hidden_units)


def test_custom_objects(tmp_path):
  assert keras.saving.get_registered_name(custom_fn) == "my_package>custom_fn"
  model = CustomModel([8, 4])
  model.compile(optimizer="adam", loss="mse")
  x = np.ones((2, 3), np.float32)
  model.fit(x, x[:, :1].repeat(4, 1), verbose=0)
  path = str(tmp_path / "custom.keras")
  model.save(path)
  reconstructed = keras.models.load_model(path)
  np.testing.assert_allclose(reconstructed(x), model(x), rtol=1e-6)
  # Unregistered objects come from custom_objects or a scope.
  class Unregistered(CustomLayer):
    pass
  inputs = keras.Input((2,))
  functional = keras.Model(inputs, Unregistered(2.0, name="u")(inputs))
  path = str(tmp_path / "unregistered.keras")
  functional.save(path)
  loaded = keras.models.load_model(
      path, custom_objects={"Unregistered": Unregistered})
  np.testing.assert_allclose(loaded(np.ones((1, 2))), [[2.0, 2.0]])
  with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
    loaded = keras.models.load_model(path)
  assert isinstance(loaded.get_layer("u"), Unregistered)


def test_configs_json_and_clones():
  layer = keras.layers.Dense(3, activation="relu")
  layer_config = layer.get_config()
  new_layer = keras.layers.Dense.from_config(layer_config)
  assert new_layer.units == 3 and new_layer.get_config() == layer_config
  model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
  new_model = keras.Sequential.from_config(model.get_config())
  assert new_model.count_params() == 33
  inputs = keras.Input((32,))
  functional = keras.Model(inputs, keras.layers.Dense(1)(inputs))
  new_functional = keras.Model.from_config(functional.get_config())
  assert new_functional.count_params() == 33
  json_config = functional.to_json()
  from_json = keras.models.model_from_json(json_config)
  assert [type(l).__name__ for l in from_json.layers] == ["InputLayer",
                                                          "Dense"]
  config = keras.saving.serialize_keras_object(functional)
  again = keras.saving.deserialize_keras_object(config)
  assert again.count_params() == 33
  clone = keras.models.clone_model(functional)
  assert clone.count_params() == 33
  assert not any(np.array_equal(a, b) for a, b in zip(
      clone.get_weights()[:1], functional.get_weights()[:1]))


def create_layer():
  layer = keras.layers.Dense(64, activation="relu", name="dense_2")
  layer(np.ones((1, 784), np.float32))
  return layer


def test_transferring_weights_in_memory(tmp_path):
  layer_1 = create_layer()
  layer_2 = create_layer()
  layer_2.set_weights(layer_1.get_weights())
  for a, b in zip(layer_1.get_weights(), layer_2.get_weights()):
    np.testing.assert_array_equal(a, b)

  def functional_model():
    inputs = keras.Input(shape=(8,), name="digits")
    x = layers.Dense(4, activation="relu", name="dense_1")(inputs)
    outputs = layers.Dense(3, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)

  class SubclassedModel(keras.Model):
    def __init__(self, output_dim, name=None):
      super().__init__(name=name)
      self.dense_1 = layers.Dense(4, activation="relu", name="dense_1")
      self.dense_2 = layers.Dense(output_dim, name="predictions")

    def call(self, inputs):
      return self.dense_2(self.dense_1(inputs))

  functional = functional_model()
  subclassed = SubclassedModel(3)
  x = np.random.default_rng(0).random((2, 8)).astype("float32")
  subclassed(x)
  subclassed.set_weights(functional.get_weights())
  np.testing.assert_allclose(subclassed(x), functional(x), rtol=1e-6)
  # Weights files: save_weights / load_weights.
  path = str(tmp_path / "my_model.weights.npz")
  functional.save_weights(path)
  other = functional_model()
  other.load_weights(path)
  np.testing.assert_allclose(other(x), functional(x), rtol=1e-6)


def test_python_lambdas_are_not_loaded(tmp_path):
  inputs = keras.Input((2,))
  model = keras.Model(inputs, layers.Lambda(lambda t: t * 2)(inputs))
  path = str(tmp_path / "lambda.keras")
  try:
    model.save(path)
  except (ValueError, TypeError) as err:  # refused at save time
    assert "lambda" in str(err).lower() or "code" in str(err).lower()
    return
  with pytest.raises((ValueError, TypeError)):
    keras.models.load_model(path)
