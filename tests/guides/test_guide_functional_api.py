"""keras.io guide "The Functional API", as a specification (issue 19).

The guide's patterns, in its order, on small generated data and the shipped
8x8 digits: symbolic inputs; a model from a graph of layer calls; summary
and plot; fit/evaluate; save and load; one graph of layers in several models
(encoder / autoencoder); models called like layers and ensembled; a
multi-input, multi-output model trained with dicts; a small residual graph;
shared layers; reusing the nodes of a graph for feature extraction; a custom
layer with get_config; mixing subclassed and functional code.
The guide's MNIST / CIFAR-10 / VGG19 downloads are replaced by shipped or
generated data and a model built here.
"""
import numpy as np
import pytest

import hk_keras as keras
from hk_keras import layers, ops


def _mlp(name="mnist_model"):
  inputs = keras.Input(shape=(64,))
  x = layers.Dense(16, activation="relu")(inputs)
  x = layers.Dense(16, activation="relu")(x)
  outputs = layers.Dense(10)(x)
  return inputs, keras.Model(inputs=inputs, outputs=outputs, name=name)


def test_inputs_layers_and_a_model(tmp_path):
  inputs = keras.Input(shape=(784,))
  assert inputs.shape == (None, 784) and inputs.dtype == "float32"
  img_inputs = keras.Input(shape=(32, 32, 3))
  assert img_inputs.shape == (None, 32, 32, 3)
  dense = layers.Dense(64, activation="relu")
  x = dense(inputs)
  assert x.shape == (None, 64)
  outputs = layers.Dense(10)(layers.Dense(64, activation="relu")(x))
  model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
  assert model.name == "mnist_model"
  lines = []
  model.summary(print_fn=lines.append)
  text = "\n".join(lines)
  assert "mnist_model" in text and "Total params: 55,050" in text
  try:
    keras.utils.plot_model(model, str(tmp_path / "m.png"), show_shapes=True)
  except ImportError:  # pydot/graphviz are optional, as in Keras
    pass


def test_training_evaluation_inference_and_saving(tmp_path):
  (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
  x_train = x_train.reshape(-1, 64).astype("float32") / 16
  x_test = x_test.reshape(-1, 64).astype("float32") / 16
  _, model = _mlp()
  model.compile(
      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
      metrics=["accuracy"])
  history = model.fit(x_train, y_train, batch_size=64, epochs=2,
                      validation_split=0.2, verbose=0)
  assert sorted(history.history) == ["accuracy", "loss", "val_accuracy",
                                     "val_loss"]
  assert history.history["loss"][1] < history.history["loss"][0]
  test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
  assert test_acc > 0.7 and test_loss < 1.5
  # Save and serialize: one file holds architecture, weights and compile.
  path = str(tmp_path / "my_model.keras")
  model.save(path)
  expected = model.predict(x_test[:5], verbose=0)
  del model
  model = keras.models.load_model(path)
  np.testing.assert_allclose(model.predict(x_test[:5], verbose=0), expected,
                             rtol=1e-6)
  assert isinstance(model.optimizer, keras.optimizers.RMSprop)  # compiled


def test_one_graph_of_layers_defines_several_models():
  encoder_input = keras.Input(shape=(8, 8, 1), name="img")
  x = layers.Conv2D(4, 3, activation="relu")(encoder_input)
  x = layers.MaxPooling2D(2)(x)
  x = layers.Conv2D(4, 3, activation="relu")(x)
  encoder_output = layers.GlobalMaxPooling2D()(x)
  encoder = keras.Model(encoder_input, encoder_output, name="encoder")
  x = layers.Reshape((2, 2, 1))(encoder_output)
  x = layers.Conv2DTranspose(4, 3, activation="relu")(x)
  x = layers.UpSampling2D(2)(x)
  decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
  autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
  assert encoder.output_shape == (None, 4)
  assert autoencoder.output_shape == (None, 10, 10, 1)
  # The encoder's layers (and weights) are the autoencoder's first layers.
  assert autoencoder.layers[:len(encoder.layers)] == encoder.layers
  img = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
  assert autoencoder(img).shape == (2, 10, 10, 1)


def test_models_are_callable_like_layers_and_ensembles():
  encoder_input = keras.Input(shape=(6,), name="original")
  encoder = keras.Model(encoder_input, layers.Dense(2)(encoder_input),
                        name="encoder")
  decoder_input = keras.Input(shape=(2,), name="encoded")
  decoder = keras.Model(decoder_input, layers.Dense(6)(decoder_input),
                        name="decoder")
  autoencoder_input = keras.Input(shape=(6,))
  encoded = encoder(autoencoder_input)
  decoded = decoder(encoded)
  autoencoder = keras.Model(autoencoder_input, decoded, name="autoencoder")
  x = np.ones((3, 6), np.float32)
  np.testing.assert_allclose(autoencoder(x), decoder(encoder(x)), rtol=1e-6)
  assert autoencoder.count_params() == encoder.count_params() + (
      decoder.count_params())

  def get_model():
    inputs = keras.Input(shape=(4,))
    return keras.Model(inputs, layers.Dense(1)(inputs))
  model1, model2, model3 = get_model(), get_model(), get_model()
  inputs = keras.Input(shape=(4,))
  outputs = layers.average([model1(inputs), model2(inputs), model3(inputs)])
  ensemble = keras.Model(inputs=inputs, outputs=outputs)
  x = np.ones((2, 4), np.float32)
  np.testing.assert_allclose(
      ensemble(x), (model1(x) + model2(x) + model3(x)) / 3, rtol=1e-5)


def _ticket_model():
  num_tags, num_words, num_departments = 6, 50, 3
  title_input = keras.Input(shape=(None,), name="title")
  body_input = keras.Input(shape=(None,), name="body")
  tags_input = keras.Input(shape=(num_tags,), name="tags")
  title_features = layers.Embedding(num_words, 8)(title_input)
  body_features = layers.Embedding(num_words, 8)(body_input)
  # The guide reduces each sequence with an LSTM; a pooling layer keeps
  # this test cheap (the LSTM itself is covered by the masking guide test).
  title_features = layers.GlobalAveragePooling1D()(title_features)
  body_features = layers.GlobalMaxPooling1D()(body_features)
  x = layers.concatenate([title_features, body_features, tags_input])
  priority_pred = layers.Dense(1, name="priority")(x)
  department_pred = layers.Dense(num_departments, name="department")(x)
  return keras.Model(inputs=[title_input, body_input, tags_input],
                     outputs={"priority": priority_pred,
                              "department": department_pred})


def test_multiple_inputs_and_outputs_trained_with_dicts():
  model = _ticket_model()
  model.compile(
      optimizer=keras.optimizers.RMSprop(1e-3),
      loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(
                from_logits=True)},
      loss_weights={"priority": 1.0, "department": 0.2})
  rng = np.random.default_rng(0)
  title_data = rng.integers(0, 50, size=(16, 5))
  body_data = rng.integers(0, 50, size=(16, 7))
  tags_data = rng.integers(0, 2, size=(16, 6)).astype("float32")
  priority_targets = rng.random((16, 1)).astype("float32")
  dept_targets = rng.integers(0, 2, size=(16, 3)).astype("float32")
  history = model.fit(
      {"title": title_data, "body": body_data, "tags": tags_data},
      {"priority": priority_targets, "department": dept_targets},
      epochs=1, batch_size=8, verbose=0)
  assert len(history.history["loss"]) == 1
  out = model.predict({"title": title_data, "body": body_data,
                       "tags": tags_data}, verbose=0)
  assert out["priority"].shape == (16, 1)
  assert out["department"].shape == (16, 3)


def test_a_toy_resnet_graph():
  inputs = keras.Input(shape=(8, 8, 3), name="img")
  x = layers.Conv2D(4, 3, activation="relu")(inputs)
  block_1_output = layers.MaxPooling2D(2)(x)
  x = layers.Conv2D(4, 3, activation="relu", padding="same")(block_1_output)
  block_2_output = layers.add([x, block_1_output])
  x = layers.GlobalAveragePooling2D()(block_2_output)
  x = layers.Dropout(0.5)(x)
  outputs = layers.Dense(10)(x)
  model = keras.Model(inputs, outputs, name="toy_resnet")
  model.compile(optimizer="rmsprop",
                loss=keras.losses.CategoricalCrossentropy(from_logits=True),
                metrics=["acc"])
  rng = np.random.default_rng(0)
  x_train = rng.random((8, 8, 8, 3)).astype("float32")
  y_train = keras.utils.to_categorical(rng.integers(0, 10, 8), 10)
  history = model.fit(x_train, y_train, batch_size=4, epochs=1, verbose=0)
  assert set(history.history) == {"loss", "acc"}


def test_shared_layers_share_weights():
  shared_embedding = layers.Embedding(20, 4)
  text_input_a = keras.Input(shape=(None,), dtype="int32")
  text_input_b = keras.Input(shape=(None,), dtype="int32")
  encoded_input_a = shared_embedding(text_input_a)
  encoded_input_b = shared_embedding(text_input_b)
  model = keras.Model([text_input_a, text_input_b],
                      [encoded_input_a, encoded_input_b])
  assert len(model.weights) == 1
  ids = np.array([[1, 2, 3]])
  a, b = model([ids, ids])
  np.testing.assert_array_equal(a, b)


def test_reusing_the_nodes_of_a_graph():
  _, base = _mlp("base")
  features_list = [layer.output for layer in base.layers]
  feat_extraction_model = keras.Model(inputs=base.input,
                                      outputs=features_list)
  img = np.random.default_rng(0).random((2, 64)).astype("float32")
  extracted = feat_extraction_model(img)
  assert [tuple(e.shape) for e in extracted] == [(2, 64), (2, 16), (2, 16),
                                                 (2, 10)]
  np.testing.assert_allclose(extracted[-1], base(img), rtol=1e-6)


@keras.saving.register_keras_serializable(package="guide_functional")
class CustomDense(layers.Layer):
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


def test_custom_layer_with_get_config():
  inputs = keras.Input((4,))
  outputs = CustomDense(10)(inputs)
  model = keras.Model(inputs, outputs)
  config = model.get_config()
  new_model = keras.Model.from_config(
      config, custom_objects={"CustomDense": CustomDense})
  assert new_model.layers[-1].units == 10
  assert [w.shape for w in new_model.weights] == [(4, 10), (10,)]


def test_mixing_subclassed_and_functional_code():
  units, timesteps, input_dim = 4, 3, 5
  inputs = keras.Input((None, units))
  x = layers.GlobalAveragePooling1D()(inputs)
  outputs = layers.Dense(1)(x)
  functional = keras.Model(inputs, outputs)

  class CustomRNN(layers.Layer):
    def __init__(self):
      super().__init__()
      self.units = units
      self.projection_1 = layers.Dense(units=units, activation="tanh")
      self.projection_2 = layers.Dense(units=units, activation="tanh")
      self.classifier = functional  # a functional model used in a layer

    def call(self, inputs):
      outputs = []
      state = ops.zeros(shape=(inputs.shape[0], self.units))
      for t in range(inputs.shape[1]):
        x = inputs[:, t, :]
        h = self.projection_1(x)
        y = h + self.projection_2(state)
        state = y
        outputs.append(y)
      return self.classifier(ops.stack(outputs, axis=1))

  rnn_model = CustomRNN()
  out = rnn_model(ops.zeros((1, timesteps, input_dim)))
  assert out.shape == (1, 1)
  # ... and a functional model built around the subclassed layer.
  inputs = keras.Input(batch_shape=(1, timesteps, input_dim))
  model = keras.Model(inputs, CustomRNN()(inputs))
  assert model(np.zeros((1, timesteps, input_dim), np.float32)).shape == (1, 1)
