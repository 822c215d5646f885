"""keras.io guide "Customizing Saving and Serialization", as a specification.

Covered: `save_own_variables` / `load_own_variables` (a layer adding its
own entries to its weights store, and calling `super()` for its weights),
`save_assets` / `load_assets` (files saved with a layer in the `.keras`
archive), `get_build_config` / `build_from_config` (a model without an
Input is rebuilt from its build config on load) and a model's own
`get_compile_config` / `compile_from_config`, both with serialized entries
and with the objects themselves (serialized by `save` through
`serialize_keras_object`, as Keras 3). The guide's `keras.Variable`
attribute is replaced by a numpy array, since hk_keras weights are Haiku
params.
"""
import os

import numpy as np

import hk_keras as keras
from hk_keras import ops


@keras.saving.register_keras_serializable(package="guide_custom_saving")
class LayerWithCustomBuild(keras.layers.Layer):
  def __init__(self, units=32, **kwargs):
    super().__init__(**kwargs)
    self.units = units

  def build(self, input_shape):
    self.w = self.add_weight(shape=(input_shape[-1], self.units),
                             initializer="random_normal", trainable=True)
    self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                             trainable=True)

  def call(self, inputs):
    return ops.matmul(inputs, self.w) + self.b

  def get_config(self):
    return dict(super().get_config(), units=self.units)


def test_build_config_rebuilds_on_load(tmp_path):
  model = keras.Sequential([LayerWithCustomBuild(units=4)])
  x = np.ones((2, 3), np.float32)
  expected = np.asarray(model(x))
  assert model.get_build_config() == {"input_shape": (None, 3)} or (
      list(model.get_build_config()["input_shape"]) == [None, 3])
  path = str(tmp_path / "model.keras")
  model.save(path)
  restored = keras.models.load_model(path)
  assert restored.built
  np.testing.assert_allclose(restored(x), expected, rtol=1e-6)


def _custom_compile_model(lib_objects):
  class ModelWithCustomCompile(keras.Model):
    def __init__(self, **kwargs):
      super().__init__(**kwargs)
      self.dense1 = keras.layers.Dense(8, activation="relu")
      self.dense2 = keras.layers.Dense(4, activation="softmax")

    def call(self, x):
      return self.dense2(self.dense1(x))

    def compile(self, optimizer, loss_fn):
      super().compile(optimizer=optimizer, loss=loss_fn)
      self.model_optimizer = optimizer
      self.loss_fn = loss_fn

    def get_compile_config(self):
      if lib_objects:  # the guide's form: the objects themselves
        return {"model_optimizer": self.model_optimizer,
                "loss_fn": self.loss_fn}
      return {"model_optimizer": keras.optimizers.serialize(
                  self.model_optimizer),
              "loss_fn": keras.losses.serialize(self.loss_fn)}

    def compile_from_config(self, config):
      if lib_objects:
        optimizer = keras.saving.deserialize_keras_object(
            config["model_optimizer"])
        loss_fn = keras.saving.deserialize_keras_object(config["loss_fn"])
      else:
        optimizer = keras.optimizers.deserialize(config["model_optimizer"])
        loss_fn = keras.losses.deserialize(config["loss_fn"])
      self.compile(optimizer=optimizer, loss_fn=loss_fn)
  return ModelWithCustomCompile


def _compile_round_trip(tmp_path, lib_objects):
  cls = _custom_compile_model(lib_objects)
  model = cls()
  model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.25),
                loss_fn=keras.losses.MeanSquaredError())
  x = np.ones((4, 3), np.float32)
  y = np.full((4, 4), 0.25, np.float32)
  model.fit(x, y, epochs=1, verbose=0)
  path = str(tmp_path / "custom_compile.keras")
  model.save(path)
  restored = keras.models.load_model(
      path, custom_objects={"ModelWithCustomCompile": cls})
  assert isinstance(restored.model_optimizer, keras.optimizers.SGD)
  assert restored.model_optimizer.get_config()["learning_rate"] == 0.25
  assert isinstance(restored.loss_fn, keras.losses.MeanSquaredError)
  np.testing.assert_allclose(restored.evaluate(x, y, verbose=0),
                             model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_compile_config_round_trips_through_the_overrides(tmp_path):
  # Serialized by the model itself (hk_keras's serialize functions).
  _compile_round_trip(tmp_path, lib_objects=False)


def test_compile_config_holding_objects(tmp_path):
  _compile_round_trip(tmp_path, lib_objects=True)


def test_save_own_variables(tmp_path):
  class LayerWithCustomVariable(keras.layers.Dense):
    def __init__(self, units, **kwargs):
      super().__init__(units, **kwargs)
      self.my_variable = np.arange(units, dtype="float32")

    def save_own_variables(self, store):
      super().save_own_variables(store)
      store["variables"] = self.my_variable

    def load_own_variables(self, store):
      self.my_variable = np.asarray(store["variables"])
      super().load_own_variables(store)

  model = keras.Sequential([keras.Input((3,)), LayerWithCustomVariable(2)])
  model.layers[0].my_variable = np.array([5.0, 7.0], np.float32)
  path = str(tmp_path / "v.keras")
  model.save(path)
  restored = keras.models.load_model(
      path, custom_objects={"LayerWithCustomVariable": LayerWithCustomVariable})
  np.testing.assert_array_equal(restored.layers[0].my_variable, [5.0, 7.0])


def test_save_and_load_assets(tmp_path):
  class LayerWithCustomAssets(keras.layers.Dense):
    def __init__(self, vocab=None, **kwargs):
      super().__init__(**kwargs)
      self.vocab = vocab

    def save_assets(self, inner_path):
      with open(os.path.join(inner_path, "vocabulary.txt"), "w") as f:
        f.write(self.vocab)

    def load_assets(self, inner_path):
      with open(os.path.join(inner_path, "vocabulary.txt")) as f:
        self.vocab = f.read()

  model = keras.Sequential([keras.Input((3,)),
                            LayerWithCustomAssets(vocab="a b c", units=2)])
  path = str(tmp_path / "a.keras")
  model.save(path)
  restored = keras.models.load_model(
      path, custom_objects={"LayerWithCustomAssets": LayerWithCustomAssets})
  assert restored.layers[0].vocab == "a b c"
