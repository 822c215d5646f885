"""keras.io guide "Making new layers and models via subclassing" (issue 19).

In the guide's order: weights created in `__init__` with `add_weight`; a
non-trainable running total assigned in `call`; weights deferred to
`build`; layers nested in layers (weights tracked recursively); `add_loss`
and `layer.losses` (reset at each call, regularizers included, used by
fit); a privileged `training` argument with a seeded dropout; `get_config`
and `from_config`; a Model subclass; the end-to-end VAE with a sampling
layer and a KL `add_loss`, trained with fit (on tiny generated images in
place of MNIST).
"""
import numpy as np
import pytest

import hk_keras as keras
from hk_keras import layers, ops


class Linear(keras.layers.Layer):
  def __init__(self, units=32, input_dim=32):
    super().__init__()
    self.w = self.add_weight(shape=(input_dim, units),
                             initializer="random_normal", trainable=True)
    self.b = self.add_weight(shape=(units,), initializer="zeros",
                             trainable=True)

  def call(self, inputs):
    return ops.matmul(inputs, self.w) + self.b


def test_weights_created_in_init():
  x = ops.ones((2, 2))
  linear_layer = Linear(4, 2)
  y = linear_layer(x)
  assert y.shape == (2, 4)
  assert linear_layer.weights == [linear_layer.w, linear_layer.b]
  np.testing.assert_allclose(
      y, np.ones((2, 2)) @ np.asarray(linear_layer.w), rtol=1e-6)


class ComputeSum(keras.layers.Layer):
  def __init__(self, input_dim):
    super().__init__()
    self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                 trainable=False)

  def call(self, inputs):
    self.total.assign_add(ops.sum(inputs, axis=0))
    return self.total


def test_non_trainable_weight_assigned_in_call():
  x = ops.ones((2, 2))
  my_sum = ComputeSum(2)
  np.testing.assert_array_equal(my_sum(x), [2.0, 2.0])
  np.testing.assert_array_equal(my_sum(x), [4.0, 4.0])
  assert len(my_sum.weights) == 1
  assert len(my_sum.non_trainable_weights) == 1
  assert my_sum.trainable_weights == []


class DeferredLinear(keras.layers.Layer):
  def __init__(self, units=32):
    super().__init__()
    self.units = units

  def build(self, input_shape):
    self.w = self.add_weight(shape=(input_shape[-1], self.units),
                             initializer="random_normal", trainable=True)
    self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                             trainable=True)

  def call(self, inputs):
    return ops.matmul(inputs, self.w) + self.b


def test_deferred_weight_creation_in_build():
  linear_layer = DeferredLinear(32)
  assert not linear_layer.built
  y = linear_layer(np.ones((2, 5), np.float32))
  assert y.shape == (2, 32) and linear_layer.built
  assert linear_layer.w.shape == (5, 32)


class MLPBlock(keras.layers.Layer):
  def __init__(self):
    super().__init__()
    self.linear_1 = DeferredLinear(8)
    self.linear_2 = DeferredLinear(8)
    self.linear_3 = DeferredLinear(1)

  def call(self, inputs):
    x = keras.activations.relu(self.linear_1(inputs))
    x = keras.activations.relu(self.linear_2(x))
    return self.linear_3(x)


def test_layers_are_recursively_composable():
  mlp = MLPBlock()
  y = mlp(ops.ones(shape=(3, 64)))
  assert y.shape == (3, 1)
  assert len(mlp.weights) == 6 and len(mlp.trainable_weights) == 6


class ActivityRegularizationLayer(keras.layers.Layer):
  def __init__(self, rate=1e-2):
    super().__init__()
    self.rate = rate

  def call(self, inputs):
    self.add_loss(self.rate * ops.mean(inputs))
    return inputs


class OuterLayer(keras.layers.Layer):
  def __init__(self):
    super().__init__()
    self.activity_reg = ActivityRegularizationLayer(1e-2)

  def call(self, inputs):
    return self.activity_reg(inputs)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
  def __init__(self):
    super().__init__()
    self.dense = keras.layers.Dense(
        4, kernel_regularizer=keras.regularizers.L2(1e-3))  # guide: l2

  def call(self, inputs):
    return self.dense(inputs)


def test_add_loss_and_layer_losses():
  layer = OuterLayer()
  layer(ops.zeros((1, 1)))
  assert len(layer.losses) == 1  # the last call's losses only
  np.testing.assert_allclose(layer.losses[0], 0.0)
  layer(2 * ops.ones((1, 1)))
  assert len(layer.losses) == 1
  np.testing.assert_allclose(layer.losses[0], 0.02, rtol=1e-6)
  layer = OuterLayerWithKernelRegularizer()
  layer(ops.zeros((1, 1)))
  kernel = np.asarray(layer.dense.kernel)
  np.testing.assert_allclose(layer.losses[0], 1e-3 * np.sum(kernel ** 2),
                             rtol=1e-5)
  # The losses join the loss fit minimises.
  inputs = keras.Input(shape=(3,))
  outputs = ActivityRegularizationLayer()(inputs)
  model = keras.Model(inputs, outputs)
  model.compile(optimizer="adam", loss="mse")
  x = np.ones((2, 3), np.float32)
  loss = model.evaluate(x, x, verbose=0)
  np.testing.assert_allclose(loss, 1e-2, rtol=1e-5)  # mse 0 + rate*mean(1)


class CustomDropout(keras.layers.Layer):
  def __init__(self, rate, **kwargs):
    super().__init__(**kwargs)
    self.rate = rate
    self.seed_generator = keras.random.SeedGenerator(1337)

  def call(self, inputs, training=None):
    if training:
      return keras.random.dropout(inputs, rate=self.rate,
                                  seed=self.seed_generator)
    return inputs


def test_privileged_training_argument():
  inputs = keras.Input((100,))
  model = keras.Model(inputs, CustomDropout(0.5)(inputs))
  x = np.ones((4, 100), np.float32)
  np.testing.assert_array_equal(model(x), x)
  dropped = np.asarray(model(x, training=True))
  assert 0.2 < np.mean(dropped == 0) < 0.8
  assert set(np.unique(dropped)) <= {0.0, 2.0}


class SerializableLinear(keras.layers.Layer):
  def __init__(self, units=32, **kwargs):
    super().__init__(**kwargs)
    self.units = units

  def build(self, input_shape):
    self.w = self.add_weight(shape=(input_shape[-1], self.units))

  def call(self, inputs):
    return ops.matmul(inputs, self.w)

  def get_config(self):
    config = super().get_config()
    config.update({"units": self.units})
    return config


def test_get_config_and_from_config():
  layer = SerializableLinear(64, name="lin")
  config = layer.get_config()
  assert config["units"] == 64 and config["name"] == "lin"
  new_layer = SerializableLinear.from_config(config)
  assert new_layer.units == 64 and new_layer.name == "lin"


class Sampling(layers.Layer):
  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.seed_generator = keras.random.SeedGenerator(1337)

  def call(self, inputs):
    z_mean, z_log_var = inputs
    batch = ops.shape(z_mean)[0]
    dim = ops.shape(z_mean)[1]
    epsilon = keras.random.normal(shape=(batch, dim),
                                  seed=self.seed_generator)
    return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
  def __init__(self, latent_dim=2, intermediate_dim=8, **kwargs):
    super().__init__(**kwargs)
    self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
    self.dense_mean = layers.Dense(latent_dim)
    self.dense_log_var = layers.Dense(latent_dim)
    self.sampling = Sampling()

  def call(self, inputs):
    x = self.dense_proj(inputs)
    z_mean = self.dense_mean(x)
    z_log_var = self.dense_log_var(x)
    return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(layers.Layer):
  def __init__(self, original_dim, intermediate_dim=8, **kwargs):
    super().__init__(**kwargs)
    self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
    self.dense_output = layers.Dense(original_dim, activation="sigmoid")

  def call(self, inputs):
    return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
  def __init__(self, original_dim, intermediate_dim=8, latent_dim=2,
               name="autoencoder", **kwargs):
    super().__init__(name=name, **kwargs)
    self.original_dim = original_dim
    self.encoder = Encoder(latent_dim=latent_dim,
                           intermediate_dim=intermediate_dim)
    self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

  def call(self, inputs):
    z_mean, z_log_var, z = self.encoder(inputs)
    reconstructed = self.decoder(z)
    kl_loss = -0.5 * ops.mean(
        z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
    self.add_loss(kl_loss)
    return reconstructed


def test_end_to_end_vae_trains_with_fit():
  original_dim = 16
  x_train = np.random.default_rng(0).random((32, original_dim)).astype(
      "float32")
  vae = VariationalAutoEncoder(original_dim)
  vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2),
              loss=keras.losses.MeanSquaredError())
  history = vae.fit(x_train, x_train, epochs=3, batch_size=16, verbose=0)
  losses = history.history["loss"]
  assert losses[-1] < losses[0]
  assert vae.name == "autoencoder" and len(vae.weights) == 10
  assert vae(x_train[:2]).shape == (2, original_dim)
