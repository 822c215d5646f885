"""keras.io guide "The Sequential model", as a specification (issue 19).

In the guide's order: a Sequential stack equals composing its layers;
`layers`, `add`, `pop`, names; weights appear once the input shape is known
(an `Input`, a first call, or `build`); the add-and-summary debugging
workflow; feature extraction from the layers' outputs; freezing for
transfer learning. Keras 3 deprecates `input_shape=` on the first layer in
favour of `keras.Input`, which is tested here.
"""
import numpy as np

import hk_keras as keras
from hk_keras import layers


def test_a_stack_is_its_layers_composed():
  model = keras.Sequential([
      layers.Dense(2, activation="relu", name="layer1"),
      layers.Dense(3, activation="relu", name="layer2"),
      layers.Dense(4, name="layer3"),
  ])
  x = np.ones((3, 3), np.float32)
  y = model(x)
  layer1, layer2, layer3 = model.layers
  np.testing.assert_allclose(y, layer3(layer2(layer1(x))), rtol=1e-6)
  assert [l.name for l in model.layers] == ["layer1", "layer2", "layer3"]


def test_add_pop_and_names():
  model = keras.Sequential(name="my_sequential")
  model.add(layers.Dense(2, activation="relu"))
  model.add(layers.Dense(3, activation="relu"))
  model.add(layers.Dense(4))
  assert len(model.layers) == 3 and model.name == "my_sequential"
  model.pop()
  assert len(model.layers) == 2


def test_weights_exist_once_the_input_shape_is_known():
  layer = layers.Dense(3)
  assert layer.weights == []
  layer(np.ones((1, 4), np.float32))
  assert [w.shape for w in layer.weights] == [(4, 3), (3,)]
  model = keras.Sequential([layers.Dense(2, activation="relu"),
                            layers.Dense(4)])
  assert not model.built
  model(np.ones((1, 4), np.float32))
  assert len(model.weights) == 4
  model = keras.Sequential([keras.Input(shape=(4,)),
                            layers.Dense(2, activation="relu")])
  assert model.built and len(model.layers) == 1  # Input is not a layer
  model = keras.Sequential([layers.Dense(2)])
  model.build((None, 4))
  assert model.count_params() == 10


def test_add_and_summary_debugging_workflow():
  model = keras.Sequential()
  model.add(keras.Input(shape=(16, 16, 3)))
  model.add(layers.Conv2D(4, 3, strides=2, activation="relu"))
  model.add(layers.Conv2D(4, 3, activation="relu"))
  model.add(layers.MaxPooling2D(2))
  lines = []
  model.summary(print_fn=lines.append)
  assert "(None, 2, 2, 4)" in "\n".join(lines)
  assert model.output_shape == (None, 2, 2, 4)
  model.add(layers.GlobalMaxPooling2D())
  model.add(layers.Dense(10))
  assert model.output_shape == (None, 10)


def test_feature_extraction_from_a_sequential_model():
  initial_model = keras.Sequential([
      keras.Input(shape=(8,)),
      layers.Dense(4, activation="relu"),
      layers.Dense(3, activation="relu", name="my_intermediate_layer"),
      layers.Dense(2),
  ])
  feature_extractor = keras.Model(
      inputs=initial_model.inputs,
      outputs=[layer.output for layer in initial_model.layers])
  x = np.ones((1, 8), np.float32)
  features = feature_extractor(x)
  assert [f.shape for f in features] == [(1, 4), (1, 3), (1, 2)]
  one = keras.Model(
      inputs=initial_model.inputs,
      outputs=initial_model.get_layer(name="my_intermediate_layer").output)
  np.testing.assert_allclose(one(x), features[1], rtol=1e-6)


def test_transfer_learning_freezes_all_but_the_last_layer():
  model = keras.Sequential([keras.Input(shape=(4,)),
                            layers.Dense(3, activation="relu"),
                            layers.Dense(3, activation="relu"),
                            layers.Dense(1)])
  for layer in model.layers[:-1]:
    layer.trainable = False
  frozen = [np.array(w) for w in model.layers[0].get_weights()]
  model.compile(optimizer="sgd", loss="mse")
  model.fit(np.ones((4, 4), np.float32), np.ones((4, 1), np.float32),
            epochs=1, verbose=0)
  for a, b in zip(frozen, model.layers[0].get_weights()):
    np.testing.assert_array_equal(a, b)
  assert len(model.trainable_weights) == 2
