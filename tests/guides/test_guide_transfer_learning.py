"""keras.io guide "Transfer learning & fine-tuning", as a specification.

In the guide's order, with a small base model built and pre-trained here in
place of the guide's ImageNet Xception: the trainable / non-trainable
weights of Dense and BatchNormalization; `trainable = False` freezes a
layer (and recursively a model) so fit leaves its weights alone; the
freeze-add-head-train workflow with the base called with training=False;
fine-tuning the unfrozen base at a low learning rate, where
BatchNormalization keeps running in inference mode (its statistics do not
move).
"""
import numpy as np

import hk_keras as keras
from hk_keras import layers


def test_trainable_and_non_trainable_weights():
  layer = layers.Dense(3)
  layer(np.ones((1, 4), np.float32))
  assert len(layer.weights) == 2 and len(layer.trainable_weights) == 2
  assert len(layer.non_trainable_weights) == 0
  bn = layers.BatchNormalization()
  bn(np.ones((1, 4), np.float32))
  assert len(bn.weights) == 4
  assert len(bn.trainable_weights) == 2
  assert len(bn.non_trainable_weights) == 2
  layer.trainable = False
  assert len(layer.weights) == 2 and len(layer.trainable_weights) == 0
  assert len(layer.non_trainable_weights) == 2


def test_frozen_layers_are_not_updated_and_trainable_is_recursive():
  layer1 = layers.Dense(3, activation="relu")
  layer2 = layers.Dense(3, activation="sigmoid")
  model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
  layer1.trainable = False
  initial_layer1_weights_values = layer1.get_weights()
  model.compile(optimizer="adam", loss="mse")
  model.fit(np.random.random((4, 3)), np.random.random((4, 3)), verbose=0)
  for a, b in zip(initial_layer1_weights_values, layer1.get_weights()):
    np.testing.assert_array_equal(a, b)
  inner_model = keras.Sequential([keras.Input(shape=(3,)),
                                  layers.Dense(3, activation="relu"),
                                  layers.Dense(3, activation="relu")])
  model = keras.Sequential([keras.Input(shape=(3,)), inner_model,
                            layers.Dense(3, activation="sigmoid")])
  model.trainable = False
  assert inner_model.trainable is False
  assert inner_model.layers[0].trainable is False


def _base_model():
  inputs = keras.Input((6, 6, 3))
  x = layers.Conv2D(4, 3)(inputs)
  x = layers.BatchNormalization()(x)
  x = layers.Activation("relu")(x)
  x = layers.GlobalAveragePooling2D()(x)
  return keras.Model(inputs, x, name="base")


def test_transfer_learning_then_fine_tuning():
  rng = np.random.default_rng(0)
  x = rng.random((16, 6, 6, 3)).astype("float32")
  y = rng.integers(0, 2, size=(16, 1)).astype("float32")
  base_model = _base_model()
  # "Pre-train" the base on another task so its BN statistics move.
  pre = keras.Sequential([base_model, layers.Dense(2)])
  pre.compile(optimizer="adam", loss="mse")
  pre.fit(x, rng.random((16, 2)), batch_size=8, epochs=1, verbose=0)

  base_model.trainable = False
  inputs = keras.Input(shape=(6, 6, 3))
  z = base_model(inputs, training=False)
  z = layers.Dropout(0.2)(z)
  outputs = layers.Dense(1)(z)
  model = keras.Model(inputs, outputs)
  assert len(model.trainable_weights) == 2
  model.compile(optimizer=keras.optimizers.Adam(),
                loss=keras.losses.BinaryCrossentropy(from_logits=True),
                metrics=[keras.metrics.BinaryAccuracy()])
  frozen = base_model.get_weights()
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  for a, b in zip(frozen, base_model.get_weights()):
    np.testing.assert_array_equal(a, b)

  # Fine-tuning: unfreeze, recompile with a low learning rate, train.
  base_model.trainable = True
  model.compile(optimizer=keras.optimizers.Adam(1e-5),
                loss=keras.losses.BinaryCrossentropy(from_logits=True),
                metrics=[keras.metrics.BinaryAccuracy()])
  bn = base_model.layers[2]
  moving = [np.array(w) for w in bn.non_trainable_weights]
  kernel = np.array(base_model.layers[1].get_weights()[0])
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  assert not np.array_equal(kernel, base_model.layers[1].get_weights()[0])
  # training=False at the call: BN stays in inference mode.
  for a, b in zip(moving, bn.non_trainable_weights):
    np.testing.assert_array_equal(a, np.asarray(b))
