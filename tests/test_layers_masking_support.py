"""`supports_masking` of every layer against Keras 3 (issue 12, item 7).

The list of layers is Keras's own export list, so a layer hk_keras adds (or
Keras adds) is compared without anyone editing this file; a Keras layer
hk_keras lacks fails unless `NOT_PROVIDED` says why. The masks of the
pass-through layers are then checked in one Functional model: each branch
`Masking -> layer -> probe` must see the mask `Masking` made.
"""
import functools
import inspect

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

keras = pytest.importorskip("keras")

NOT_PROVIDED = {
    "TFSMLayer": "TensorFlow SavedModel interop: no TensorFlow here",
    "TorchModuleWrapper": "PyTorch interop: no torch in a Haiku package",
    "ReversibleEmbedding": "not in issue 12's list",
    "Wrapper": "abstract base class (hk_keras wrappers subclass Layer)",
    "InputSpec": "not a layer",
    # Preprocessing layers not built yet (issue 13).
    "ContrastLimitedAdaptiveHistogramEqualization": "issue 13",
    "MaxNumBoundingBoxes": "issue 13", "RandomColorDegeneration": "issue 13",
    "RandomElasticTransform": "issue 13", "RandomPerspective": "issue 13",
}
# Keras builds these lookup/hashing layers with TensorFlow only, which is not
# installed: their flag is compared with the value Keras 3 sets in __init__.
T, F = 4, 3
KERAS_NEEDS_TF = {"HashedCrossing": False, "Hashing": False,
                  "IntegerLookup": False, "StringLookup": False,
                  "TextVectorization": False}


def _linen_dense():
  flax = pytest.importorskip("flax")
  return flax.linen.Dense(2)


def _args(lib):
  """Constructor arguments for the layers that need some."""
  L = lib.layers
  return {
      "Activation": ("relu",), "Dropout": (0.5,), "AlphaDropout": (0.5,),
      "GaussianDropout": (0.5,), "GaussianNoise": (0.5,),
      "SpatialDropout1D": (0.5,), "SpatialDropout2D": (0.5,),
      "SpatialDropout3D": (0.5,), "Permute": ((1,),),
      "EinsumDense": ("ab,bc->ac", 2), "Lambda": (lambda x: x,),
      "GroupQueryAttention": (2, 2, 1), "RNN": (L.LSTMCell(2),),
      "StackedRNNCells": ([L.LSTMCell(2)],),
      "Bidirectional": (L.LSTM(2),), "TimeDistributed": (L.Dense(2),),
      "SpectralNormalization": (L.Dense(2),),
      "Pipeline": ([L.Rescaling(2.0)],),
      "JaxLayer": (lambda inputs: inputs,),
      "FlaxLayer": (_linen_dense(),),
      "RandomTranslation": (0.1, 0.1), "InputLayer": ((2,),), "Reshape": ((2,),),
      **{n: (0.1,) for n in (
          "RandomBrightness", "RandomContrast", "RandomHue", "RandomRotation",
          "RandomSaturation", "RandomSharpness", "RandomZoom")},
  }


@functools.lru_cache(maxsize=None)
def _keras_supports_masking():
  """Keras's flag for each Keras layer hk_keras has (built once)."""
  return {n: (KERAS_NEEDS_TF[n] if n in KERAS_NEEDS_TF
              else bool(_make(keras, n).supports_masking))
          for n in _keras_layer_names() if hasattr(layers, n)}


@functools.lru_cache(maxsize=None)
def _keras_layer_names():
  return sorted(
      n for n in dir(keras.layers)
      if inspect.isclass(getattr(keras.layers, n))
      and issubclass(getattr(keras.layers, n), keras.layers.Layer))


def _make(lib, name):
  cls = getattr(lib.layers, name)
  args = _args(lib).get(name)
  if args is not None:
    return cls(*args)
  for attempt in ((), (2,), (2, 2)):
    try:
      return cls(*attempt)
    except (TypeError, ValueError):
      continue
  raise AssertionError(f"{lib.__name__}.layers.{name}: add its minimal "
                       "constructor arguments to _args()")


def test_every_keras_layer_has_keras_supports_masking():
  names = _keras_layer_names()
  assert len(names) > 140 and "Identity" in names and "LSTM" in names
  wrong, missing = [], []
  for name in names:
    if not hasattr(layers, name):
      if name not in NOT_PROVIDED:
        missing.append(name)
      continue
    ours = _make(hk_keras, name)
    expected = _keras_supports_masking()[name]
    if bool(ours.supports_masking) != expected:
      wrong.append((name, expected, ours.supports_masking))
  assert not missing, f"Keras layers hk_keras lacks: {missing}"
  assert not wrong, f"(layer, Keras, hk_keras) supports_masking: {wrong}"


def test_embedding_supports_masking_follows_mask_zero():
  assert not layers.Embedding(3, 2).supports_masking
  assert layers.Embedding(3, 2, mask_zero=True).supports_masking


# -- masks pass through unchanged ----------------------------------------------
# Each layer sees (batch, timesteps, features) inputs (rank 4 for the 2D
# spatial dropout) and keeps the time axis; its output must carry the mask
# of its input. Layers whose Keras `compute_mask` changes or drops the mask
# (pooling, RNNs without return_sequences, Masking itself) are tested in
# test_masking_recurrent.py.
PASS_THROUGH = {
    "Identity": (), "LeakyReLU": (), "PReLU": (), "ELU": (), "ReLU": (),
    "Activation": ("tanh",), "Dropout": (0.5,),
    "GaussianNoise": (0.5,), "GaussianDropout": (0.5,),
    "AlphaDropout": (0.5,), "SpatialDropout1D": (0.5,),
    "ActivityRegularization": (0.01, 0.01), "UnitNormalization": (),
    "LayerNormalization": (),
    "BatchNormalization": (), "Dense": (2,),
    "Rescaling": (2.0,),
}


class _MaskProbe(layers.Layer):
  """Outputs the mask it is given (as float32, 2 for 'no mask')."""

  def call(self, inputs, mask=None):
    if mask is None:
      return 2.0 + 0.0 * inputs[..., 0]
    return mask.astype("float32") + 0.0 * inputs[..., 0]


@pytest.fixture(scope="module")
def probe_model():
  x = hk_keras.Input((T, F))
  masked = layers.Masking()(x)
  outputs = [_MaskProbe()(getattr(layers, n)(*a)(masked))
             for n, a in PASS_THROUGH.items()]
  image = hk_keras.Input((T, F, 2))  # Masking gives a (batch, T, F) mask
  outputs.append(_MaskProbe()(layers.SpatialDropout2D(0.5)(
      layers.Masking()(image))))
  return hk_keras.Model([x, image], outputs)


def test_pass_through_layers_cover_keras_masking_layers():
  # Keras layers with supports_masking that keep the mask as it is, i.e.
  # every one but those whose compute_mask makes or changes masks.
  changes = {"Masking", "Embedding", "Bidirectional", "RNN", "LSTM", "GRU",
             "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
             "GlobalAveragePooling1D", "GlobalAvgPool1D", "Concatenate",
             "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
             "Dot", "Attention", "AdditiveAttention", "MultiHeadAttention",
             "GroupQueryAttention", "TimeDistributed", "Lambda",
             "SpectralNormalization", "RepeatVector", "Reshape", "Flatten",
             "Permute", "Cropping1D", "Normalization", "GroupNormalization",
             # applies the mask to its logits: Keras rejects a (batch,
             # timesteps) mask on (batch, timesteps, features) logits.
             "Softmax"}
  spatial = {"SpatialDropout2D", "SpatialDropout3D"}
  keras_masking = {n for n, flag in _keras_supports_masking().items()
                   if flag}
  untested = keras_masking - changes - spatial - set(PASS_THROUGH)
  assert not untested, f"add to PASS_THROUGH (or `changes`): {untested}"
  assert set(PASS_THROUGH) <= keras_masking, set(PASS_THROUGH) - keras_masking


def test_mask_passes_through_a_functional_model(probe_model):
  # Training mode: the dropout/noise layers take their random path (masks
  # do not depend on the mode elsewhere).
  training = True
  x = np.random.default_rng(0).normal(size=(2, T, F)).astype("float32")
  x[0, 2:] = 0.0  # padded steps
  x[1, 0] = 0.0
  image = np.stack([x, x[:, ::-1]], axis=-1)
  outs, _ = jax.jit(probe_model.apply, static_argnames="training")(
      probe_model.params, probe_model.state, jax.random.PRNGKey(0),
      [x, image], training=training)
  expected = [np.any(x != 0, axis=-1)] * len(PASS_THROUGH) + [
      np.any(image != 0, axis=-1)]
  names = list(PASS_THROUGH) + ["SpatialDropout2D"]
  assert len(outs) == len(names)
  for name, out, want in zip(names, outs, expected):
    np.testing.assert_array_equal(np.asarray(out), want.astype("float32"),
                                  err_msg=name)
  assert not np.all(expected[0])  # the mask is not trivially all ones
