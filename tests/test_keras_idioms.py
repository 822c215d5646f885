"""Keras code from the guides runs unchanged (issue 19), against Keras 3.

* a `Model` subclass built with the Functional constructor;
* weights created in a layer's `__init__`;
* assigning a weight inside `call` (PixelCNN's masked convolution, a
  running sum), with Keras 3's JAX semantics.
"""
import keras
import numpy as np
import pytest

import hk_keras


def _both(fn):
  return fn(hk_keras), fn(keras)


# -- a subclass built with the Functional constructor ---------------------------

def _scaled_loss_model(lib):
  class ScaledLoss(lib.Model):
    """Only overrides compute_loss (Keras 3's signature)."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
      return 3.0 * lib.ops.mean((y - y_pred) ** 2)

  inputs = lib.Input((3,))
  outputs = lib.layers.Dense(2)(inputs)
  return ScaledLoss, ScaledLoss(inputs, outputs)


def test_functional_constructor_subclass_trains_as_keras():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(8, 3)).astype(np.float32)
  y = rng.normal(size=(8, 2)).astype(np.float32)
  (cls, ours), (_, theirs) = _both(_scaled_loss_model)
  assert isinstance(ours, cls) and type(ours).__name__ == "ScaledLoss"
  assert ours.name.startswith("scaled_loss") and ours.built
  assert len(ours.layers) == 2
  theirs.set_weights(ours.get_weights())
  for m, lib in ((ours, hk_keras), (theirs, keras)):
    m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
  for a, b in zip(ours.get_weights(), theirs.get_weights()):
    np.testing.assert_allclose(a, b, atol=1e-5)
  # The model's own compute_loss, not the compiled "mse", is the loss.
  # (batch_size divides the rows: hk_keras pads a last partial batch, and a
  # compute_loss that ignores sample_weight would count the padded rows.)
  np.testing.assert_allclose(
      ours.evaluate(x, y, batch_size=4, verbose=0),
      theirs.evaluate(x, y, batch_size=4, verbose=0), atol=1e-5)


def test_super_init_with_inputs_and_outputs():
  class Encoder(hk_keras.Model):
    def __init__(self, width, **kwargs):
      inputs = hk_keras.Input((4,))
      outputs = hk_keras.layers.Dense(width, name="proj")(inputs)
      super().__init__(inputs=inputs, outputs=outputs, **kwargs)
      self.width = width  # attributes after the constructor, as in Keras

    def describe(self):
      return f"{self.name}:{self.width}"

  model = Encoder(3, name="enc")
  assert isinstance(model, Encoder) and model.describe() == "enc:3"
  assert model.get_layer("proj").units == 3
  assert len(model.inputs) == 1 and model.count_params() == 15
  x = np.ones((2, 4), np.float32)
  kernel, bias = model.get_weights()
  np.testing.assert_allclose(model(x), x @ kernel + bias, rtol=1e-6)
  with pytest.raises(TypeError, match="keyword arguments only"):
    hk_keras.Sequential.__mro__[1].__init__(model, 1)


def test_functional_constructor_subclass_saves_and_loads(tmp_path):
  cls, model = _scaled_loss_model(hk_keras)
  path = str(tmp_path / "m.keras")
  model.save(path)
  loaded = hk_keras.saving.load_model(path, custom_objects={"ScaledLoss": cls})
  assert isinstance(loaded, cls)
  for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)


# -- weights created in __init__ ----------------------------------------------

def _linear(lib):
  class Linear(lib.layers.Layer):
    def __init__(self, units, input_dim):
      super().__init__()
      self.w = self.add_weight(shape=(input_dim, units),
                               initializer="random_normal", trainable=True)
      self.b = self.add_weight(shape=(units,), initializer="zeros",
                               trainable=True)
      self.seen = self.add_weight(shape=(), initializer="zeros",
                                  trainable=False)

    def call(self, inputs):
      self.seen.assign(self.seen + 1.0)
      return lib.ops.matmul(inputs, self.w) + self.b
  return Linear(4, 3)


def test_init_weights_match_keras():
  ours, theirs = _both(_linear)
  assert ours.w.shape == (3, 4)  # declared, created at the first call
  x = np.arange(6, dtype=np.float32).reshape(2, 3)
  ours(x)
  theirs(x)
  assert [w.shape for w in ours.weights] == [(3, 4), (4,), ()]
  assert len(ours.trainable_weights) == 2
  assert len(ours.non_trainable_weights) == 1
  assert ours.weights == [ours.w, ours.b, ours.seen]
  theirs.set_weights(ours.get_weights())
  np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)
  # Each eager call incremented the non-trainable weight, in both.
  assert float(ours.seen) == float(theirs.seen.numpy()) == 1.0 + 1.0


def test_init_weights_inside_a_trained_model():
  layer = _linear(hk_keras)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layer])
  model.compile(optimizer="sgd", loss="mse")
  w0 = np.array(layer.w)
  model.fit(np.ones((8, 3), np.float32), np.ones((8, 4), np.float32),
            batch_size=4, epochs=1, verbose=0)
  assert not np.allclose(np.array(layer.w), w0)  # trained as a param
  assert float(layer.seen) == 2.0  # two steps, state kept by fit


# -- assigning inside call -----------------------------------------------------

def _pixel_model(lib):
  class MaskedConv(lib.layers.Layer):
    def __init__(self, **kwargs):
      super().__init__()
      self.conv = lib.layers.Conv2D(**kwargs)

    def build(self, input_shape):
      self.conv.build(input_shape)
      shape = lib.ops.shape(self.conv.kernel)
      self.mask = np.zeros(shape, np.float32)
      self.mask[: shape[0] // 2, ...] = 1.0

    def call(self, inputs):
      self.conv.kernel.assign(self.conv.kernel * self.mask)
      return self.conv(inputs)

  inputs = lib.Input((5, 5, 1))
  layer = MaskedConv(filters=2, kernel_size=3, padding="same")
  return lib.Model(inputs, layer(inputs)), layer


def test_masked_conv_assign_trains_as_keras():
  (ours, ours_layer), (theirs, theirs_layer) = _both(_pixel_model)
  assert [w.shape for w in ours.weights] == [(3, 3, 1, 2), (2,)]
  # The conv's weights live in its own module, under the outer layer's.
  assert list(ours.params) == [f"{ours_layer.name}/{ours_layer.conv.name}"]
  theirs.set_weights(ours.get_weights())
  rng = np.random.default_rng(1)
  x = rng.normal(size=(4, 5, 5, 1)).astype(np.float32)
  y = rng.normal(size=(4, 5, 5, 2)).astype(np.float32)
  np.testing.assert_allclose(ours.predict(x, verbose=0),
                             theirs.predict(x, verbose=0), atol=1e-5)
  kernel0 = np.array(ours_layer.conv.kernel)
  for m, lib in ((ours, hk_keras), (theirs, keras)):
    m.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
    m.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
  ours_k = np.array(ours_layer.conv.kernel)
  np.testing.assert_allclose(ours_k, np.array(theirs_layer.conv.kernel),
                             atol=1e-5)
  # Keras 3 (JAX) semantics: the masked kernel is used (no gradient reaches
  # the masked rows) but the stored kernel is the optimizer's, not masked.
  np.testing.assert_array_equal(ours_k[1:], kernel0[1:])
  assert np.abs(ours_k[1:]).sum() > 0
  np.testing.assert_allclose(ours.predict(x, verbose=0),
                             theirs.predict(x, verbose=0), atol=1e-5)


def test_running_sum_state_assign_matches_keras():
  def make(lib):
    class ComputeSum(lib.layers.Layer):
      def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros",
                                     shape=(input_dim,), trainable=False)

      def call(self, inputs):
        self.total.assign_add(lib.ops.sum(inputs, axis=0))
        return self.total
    return ComputeSum(2)
  ours, theirs = _both(make)
  x = np.ones((2, 2), np.float32)
  for _ in range(2):
    a, b = ours(x), theirs(x)
  np.testing.assert_array_equal(np.asarray(a), [4.0, 4.0])
  np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_assign_of_a_wrong_shape_is_a_clear_error():
  class Bad(hk_keras.layers.Layer):
    def __init__(self):
      super().__init__()
      self.v = self.add_weight(shape=(2,), trainable=False)

    def call(self, inputs):
      self.v.assign(inputs)
      return inputs
  with pytest.raises(ValueError, match=r"shape \(3, 2\) to weight"):
    Bad()(np.ones((3, 2), np.float32))


# -- a Keras-style metric: variables assigned by update_state ------------------

def _weighted_hits(lib):
  class WeightedHits(lib.metrics.Metric):
    def __init__(self, **kwargs):
      super().__init__(name="weighted_hits", **kwargs)
      self.hits = self.add_variable(shape=(), initializer="zeros",
                                    name="hits")
      self.seen = self.add_weight(shape=(2,), initializer="ones",
                                  name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
      values = lib.ops.cast(lib.ops.argmax(y_pred, axis=-1) == y_true,
                            "float32")
      if sample_weight is not None:
        values = values * sample_weight
      self.hits.assign_add(lib.ops.sum(values))
      self.seen.assign(self.seen + lib.ops.stack([lib.ops.sum(values),
                                                  1.0]))

    def result(self):
      return self.hits / self.seen[1]

    def reset_state(self):
      self.hits.assign(0.0)
      self.seen.assign(lib.ops.ones((2,)))
  return WeightedHits()


def test_keras_style_metric_matches_keras():
  ours, theirs = _both(_weighted_hits)
  rng = np.random.default_rng(0)
  for _ in range(2):
    y_true = rng.integers(0, 3, size=(6,))
    y_pred = rng.random((6, 3)).astype(np.float32)
    weight = rng.random((6,)).astype(np.float32)
    ours.update_state(y_true, y_pred, sample_weight=weight)
    theirs.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()),
                               rtol=1e-6)
  # The variables' values are the pure state.
  np.testing.assert_allclose(ours.state["seen"], theirs.seen.numpy(),
                             rtol=1e-6)
  ours.reset_state()
  theirs.reset_state()
  assert float(ours.result()) == float(theirs.result()) == 0.0
  pure = ours.as_pure()
  state = pure.update(pure.init(), np.array([0]), np.eye(3)[:1])
  assert float(pure.result(state)) == 0.5
