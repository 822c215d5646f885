"""keras.io guide "Understanding masking & padding", as a specification.

In the guide's order: padding sequences; masks made by Embedding
(mask_zero=True) and Masking; masks propagated through Functional and
Sequential models to an LSTM; a mask passed to a layer directly; custom
layers that change the mask (compute_mask), pass it on (supports_masking)
or read it (a `mask` argument of call). The guide prints `_keras_mask` on
eager tensors, which does not exist for JAX arrays in Keras 3 either; the
masks are read with `compute_mask` instead (symbolic tensors carry
`_keras_mask`, as in Keras 3).
"""
import numpy as np

import hk_keras as keras
from hk_keras import layers, ops

RAW_INPUTS = [[711, 632, 71], [73, 8, 3215, 55, 927],
              [83, 91, 1, 645, 1253, 927]]


def test_padding_sequence_data():
  padded = keras.utils.pad_sequences(RAW_INPUTS, padding="post")
  np.testing.assert_array_equal(padded[0], [711, 632, 71, 0, 0, 0])
  assert padded.shape == (3, 6)
  pre = keras.utils.pad_sequences(RAW_INPUTS)
  np.testing.assert_array_equal(pre[0], [0, 0, 0, 711, 632, 71])


def test_embedding_and_masking_make_masks():
  padded = keras.utils.pad_sequences(RAW_INPUTS, padding="post")
  embedding = layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)
  embedding(padded)
  expected = padded != 0
  np.testing.assert_array_equal(embedding.compute_mask(padded), expected)
  masking_layer = layers.Masking()
  unmasked = np.repeat(padded[..., None].astype("float32"), 4, axis=-1)
  np.testing.assert_array_equal(
      masking_layer.compute_mask(unmasked), expected)


def test_masks_propagate_to_the_lstm():
  padded = keras.utils.pad_sequences(RAW_INPUTS, padding="post")
  model = keras.Sequential([
      keras.Input((None,), dtype="int32"),
      layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True),
      layers.LSTM(3)])
  inputs = keras.Input(shape=(None,), dtype="int32")
  x = layers.Embedding(input_dim=5000, output_dim=4, mask_zero=True)(inputs)
  functional = keras.Model(inputs, layers.LSTM(3)(x))
  functional.set_weights(model.get_weights())
  out = np.asarray(model(padded))
  np.testing.assert_allclose(functional(padded), out, rtol=1e-6)
  # Masked steps are skipped: the first row equals its unpadded run.
  np.testing.assert_allclose(model(padded[:1, :3])[0], out[0], rtol=1e-5)


def test_passing_a_mask_to_a_layer_directly():
  class MyLayer(layers.Layer):
    def __init__(self, **kwargs):
      super().__init__(**kwargs)
      self.embedding = layers.Embedding(input_dim=5000, output_dim=4,
                                        mask_zero=True)
      self.lstm = layers.LSTM(3)

    def call(self, inputs):
      x = self.embedding(inputs)
      mask = self.embedding.compute_mask(inputs)
      return self.lstm(x, mask=mask)

  padded = keras.utils.pad_sequences(RAW_INPUTS, padding="post")
  layer = MyLayer()
  out = np.asarray(layer(padded))
  assert out.shape == (3, 3)
  np.testing.assert_allclose(layer(padded[:1, :3])[0], out[0], rtol=1e-5)


class TemporalSplit(layers.Layer):
  def call(self, inputs):
    return ops.split(inputs, 2, axis=1)

  def compute_mask(self, inputs, mask=None):
    if mask is None:
      return None
    return ops.split(mask, 2, axis=1)


class CustomEmbedding(layers.Layer):
  def __init__(self, input_dim, output_dim, mask_zero=False, **kwargs):
    super().__init__(**kwargs)
    self.input_dim = input_dim
    self.output_dim = output_dim
    self.mask_zero = mask_zero

  def build(self, input_shape):
    self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                      initializer="random_normal")

  def call(self, inputs):
    return ops.take(self.embeddings, inputs, axis=0)

  def compute_mask(self, inputs, mask=None):
    if not self.mask_zero:
      return None
    return ops.not_equal(inputs, 0)


class MyActivation(layers.Layer):
  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.supports_masking = True

  def call(self, inputs):
    return ops.relu(inputs)


class TemporalSoftmax(layers.Layer):
  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.supports_masking = True

  def call(self, inputs, mask=None):
    # As in the guide: the mask arrives during shape inference too.
    assert mask is not None
    broadcast_float_mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
    inputs_exp = ops.exp(inputs) * broadcast_float_mask
    inputs_sum = ops.sum(inputs_exp * broadcast_float_mask, axis=-1,
                         keepdims=True)
    return inputs_exp / inputs_sum


def test_custom_layers_that_change_pass_or_read_the_mask():
  x = np.random.default_rng(0).random((3, 10, 4)).astype("float32")
  mask = np.arange(10)[None, :] < np.array([[3], [10], [6]])
  first, second = TemporalSplit().compute_mask(x, mask)
  np.testing.assert_array_equal(first, mask[:, :5])
  np.testing.assert_array_equal(second, mask[:, 5:])
  layer = CustomEmbedding(10, 32, mask_zero=True)
  ids = np.random.default_rng(0).integers(0, 10, size=(3, 10))
  assert layer(ids).shape == (3, 10, 32)
  np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
  # A mask passes through MyActivation and is read by TemporalSoftmax.
  inputs = keras.Input(shape=(None,), dtype="int32")
  x = layers.Embedding(input_dim=10, output_dim=32, mask_zero=True)(inputs)
  x = layers.Dense(1)(x)
  x = MyActivation()(x)
  # As the guide prints: the symbolic tensor carries the propagated mask.
  assert x._keras_mask.shape == (None, None)
  assert x._keras_mask.dtype == "bool"
  outputs = TemporalSoftmax()(x)
  model = keras.Model(inputs, outputs)
  out = np.asarray(model(ids))
  # Over a last axis of size 1 the softmax is 1 where the mask is on and
  # 0/0 where it is off: the mask reached the layer.
  np.testing.assert_array_equal(np.isnan(out[..., 0]), ids == 0)
  np.testing.assert_allclose(out[..., 0][ids != 0], 1.0, rtol=1e-6)


def _mask_consuming_model(lib):
  """The guide's mask-reading layers (and a temporal mean dividing by the
  mask's sum) in one Functional model of library `lib`."""
  L, lib_ops = lib.layers, lib.ops

  class Softmax(L.Layer):
    def __init__(self, **kwargs):
      super().__init__(**kwargs)
      self.supports_masking = True

    def call(self, inputs, mask=None):
      assert mask is not None
      m = lib_ops.expand_dims(lib_ops.cast(mask, "float32"), -1)
      e = lib_ops.exp(inputs) * m
      return e / lib_ops.sum(e * m, axis=1, keepdims=True)

  class Split(L.Layer):
    def call(self, inputs):
      return lib_ops.split(inputs, 2, axis=1)

    def compute_mask(self, inputs, mask=None):
      if mask is None:
        return None
      return lib_ops.split(mask, 2, axis=1)

  class TemporalMean(L.Layer):
    def call(self, inputs, mask=None):
      m = lib_ops.cast(mask, "float32")[..., None]
      return lib_ops.sum(inputs * m, axis=1) / lib_ops.sum(m, axis=1)

  inputs = lib.Input((6,), dtype="int32")
  x = L.Embedding(10, 4, mask_zero=True)(inputs)
  x = Softmax()(L.Dense(3)(x))
  first, second = Split()(x)
  masks = (first._keras_mask, second._keras_mask)
  out = L.Concatenate()([TemporalMean()(first), TemporalMean()(second)])
  return lib.Model(inputs, out), masks


def test_mask_consuming_layers_match_keras():
  import pytest  # pylint: disable=g-import-not-at-top
  real_keras = pytest.importorskip("keras")
  theirs, their_masks = _mask_consuming_model(real_keras)
  ours, our_masks = _mask_consuming_model(keras)
  for a, b in zip(our_masks, their_masks):  # compute_mask ran symbolically
    assert a.shape == tuple(b.shape) == (None, 3) and a.dtype == "bool"
  ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
  ids = np.array([[1, 2, 0, 3, 4, 0], [5, 0, 0, 1, 1, 0],
                  [2, 3, 4, 5, 6, 7]], "int32")
  expected = np.asarray(theirs(ids))
  np.testing.assert_allclose(ours(ids), expected, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(ours.predict(ids, verbose=0), expected,
                             rtol=1e-5, atol=1e-7)


def test_a_symbolic_mask_is_not_a_graph_input():
  import pytest  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((None,), dtype="int32")
  x = layers.Embedding(input_dim=10, output_dim=4, mask_zero=True)(inputs)
  # Pooling consumes the mask (compute_mask returns None).
  assert layers.GlobalAveragePooling1D()(x)._keras_mask is None
  y = layers.LSTM(2)(x, mask=x._keras_mask)
  with pytest.raises(ValueError, match="not nodes of the graph"):
    keras.Model(inputs, y)
