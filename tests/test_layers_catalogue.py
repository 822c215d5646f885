"""The rest of Keras 3's layer catalogue (issue 12, layers_a): core and
activation layers, convolutions, pooling, regularization, reshaping and
merging, each checked against Keras 3 (JAX backend) in one batched sweep.

The list of layer names to cover comes from `dir(keras.layers)` itself, so a
Keras name we do not provide (or do not test) fails here; the exceptions
are listed with their reasons.
"""
import inspect

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

from layer_test_utils import SweepCase as C
from layer_test_utils import keras, run_layer_sweep

pytestmark = pytest.mark.skipif(keras is None, reason="needs Keras 3")

CF = {"data_format": "channels_first"}

# -- the cases ----------------------------------------------------------------
CASES = [
    # Core and activations.
    C("Identity", {}, (2, 3)),
    C("EinsumDense", {"equation": "ab,bc->ac", "output_shape": 4,
                      "bias_axes": "c"}, (2, 3)),
    # One elided axis after the batch axis: with more, Keras 3.15's symbolic
    # output shape lists them in reverse (its real outputs do not).
    C("EinsumDense", {"equation": "...b,bc->...c", "output_shape": 4,
                      "bias_axes": "c"}, (2, 5, 3)),
    C("EinsumDense", {"equation": "abc,cde->abde", "output_shape": (None, 2, 3),
                      "bias_axes": "de"}, (2, 4, 3)),
    C("EinsumDense", {"equation": "ab...,bc->ac...", "output_shape": 4,
                      "bias_axes": "c"}, (2, 3, 5)),
    C("LeakyReLU", {}, (2, 5)),
    C("LeakyReLU", {"negative_slope": 0.1}, (2, 5)),
    C("PReLU", {"alpha_initializer": "he_normal", "shared_axes": [1]},
      (2, 4, 3)),
    C("PReLU", {"shared_axes": [1, 2]}, (2, 3, 4, 2)),
    C("ELU", {}, (2, 5)),
    C("ELU", {"alpha": 0.5}, (2, 5)),
    C("ReLU", {"max_value": 1.0, "negative_slope": 0.2, "threshold": 0.3},
      (2, 5)),
    # Convolutions.
    C("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2},
      (2, 5, 2)),
    C("Conv1DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2,
                          "padding": "same", "output_padding": 1, **CF},
      (2, 2, 5)),
    C("Conv3D", {"filters": 2, "kernel_size": 2}, (2, 3, 4, 3, 2)),
    C("Conv3D", {"filters": 4, "kernel_size": (2, 1, 2), "strides": 2,
                 "padding": "same", "groups": 2, **CF}, (2, 2, 3, 4, 5)),
    C("Conv3DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2},
      (2, 2, 3, 2, 3)),
    C("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": (1, 2, 2),
                          "padding": "same", **CF}, (2, 3, 2, 3, 2)),
    C("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2},
      (2, 7, 3)),
    C("DepthwiseConv1D", {"kernel_size": 2, "strides": 2, "padding": "same",
                          **CF}, (2, 3, 7)),
    C("DepthwiseConv2D", {"kernel_size": 3, "padding": "same"},
      (2, 5, 5, 3)),
    C("DepthwiseConv2D", {"kernel_size": (2, 3), "depth_multiplier": 3,
                          "dilation_rate": 2, "use_bias": False, **CF},
      (2, 2, 6, 7)),
    C("SeparableConv1D", {"filters": 4, "kernel_size": 3}, (2, 7, 3)),
    C("SeparableConv1D", {"filters": 4, "kernel_size": 3, "strides": 2,
                          "depth_multiplier": 2, "padding": "same", **CF},
      (2, 3, 7)),
    C("SeparableConv2D", {"filters": 5, "kernel_size": 3,
                          "activation": "relu"}, (2, 6, 6, 3)),
    C("SeparableConv2D", {"filters": 4, "kernel_size": 2,
                          "dilation_rate": 2, "depth_multiplier": 2, **CF},
      (2, 3, 6, 5)),
    # groups= and dilation_rate= where Keras has them.
    C("Conv1D", {"filters": 6, "kernel_size": 3, "groups": 3,
                 "dilation_rate": 2}, (2, 9, 3)),
    C("Conv2D", {"filters": 4, "kernel_size": 2, "groups": 2,
                 "dilation_rate": (2, 1), **CF}, (2, 4, 5, 6)),
    C("Conv2DTranspose", {"filters": 3, "kernel_size": 3,
                          "dilation_rate": 2}, (2, 4, 4, 2)),
    # Aliases (the same classes; same cases as above, so their ops are
    # already compiled).
    C("Convolution1D", {"filters": 6, "kernel_size": 3, "groups": 3,
                        "dilation_rate": 2}, (2, 9, 3)),
    C("Convolution2D", {"filters": 4, "kernel_size": 2, "groups": 2,
                        "dilation_rate": (2, 1), **CF}, (2, 4, 5, 6)),
    C("Convolution3D", {"filters": 2, "kernel_size": 2}, (2, 3, 4, 3, 2)),
    C("Convolution1DTranspose", {"filters": 3, "kernel_size": 3,
                                 "strides": 2}, (2, 5, 2)),
    C("Convolution2DTranspose", {"filters": 3, "kernel_size": 3,
                                 "dilation_rate": 2}, (2, 4, 4, 2)),
    C("Convolution3DTranspose", {"filters": 2, "kernel_size": 2,
                                 "strides": 2}, (2, 2, 3, 2, 3)),
    C("SeparableConvolution1D", {"filters": 4, "kernel_size": 3}, (2, 7, 3)),
    C("SeparableConvolution2D", {"filters": 5, "kernel_size": 3,
                                 "activation": "relu"}, (2, 6, 6, 3)),
    # Pooling.
    C("MaxPooling1D", {}, (2, 7, 3)),
    C("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same", **CF},
      (2, 3, 8)),
    C("AveragePooling1D", {"pool_size": 2}, (2, 7, 3)),
    C("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same",
                           **CF}, (2, 3, 8)),
    C("MaxPooling3D", {}, (2, 4, 4, 5, 2)),
    C("MaxPooling3D", {"pool_size": (2, 3, 2), "strides": 1,
                       "padding": "same", **CF}, (2, 2, 3, 4, 5)),
    C("AveragePooling3D", {"pool_size": 2}, (2, 4, 5, 4, 2)),
    C("AveragePooling3D", {"pool_size": 3, "strides": 2, "padding": "same",
                           **CF}, (2, 2, 5, 4, 3)),
    C("MaxPool1D", {}, (2, 7, 3)),
    C("MaxPool2D", {}, (2, 4, 4, 2)),
    C("MaxPool3D", {}, (2, 4, 4, 5, 2)),
    C("AvgPool1D", {"pool_size": 2}, (2, 7, 3)),
    C("AvgPool2D", {"pool_size": 2, "padding": "same"}, (2, 5, 3, 2)),
    C("AvgPool3D", {"pool_size": 2}, (2, 4, 5, 4, 2)),
    C("GlobalMaxPooling1D", {}, (2, 5, 3)),
    C("GlobalMaxPooling1D", {"keepdims": True, **CF}, (2, 3, 5)),
    C("GlobalMaxPooling3D", {}, (2, 2, 3, 4, 3)),
    C("GlobalMaxPooling3D", {"keepdims": True, **CF}, (2, 3, 2, 3, 4)),
    C("GlobalAveragePooling3D", {}, (2, 2, 3, 4, 3)),
    C("GlobalAveragePooling3D", {"keepdims": True, **CF}, (2, 3, 2, 3, 4)),
    C("GlobalAveragePooling1D", {"keepdims": True}, (2, 5, 3)),
    C("GlobalAveragePooling2D", {"keepdims": True, **CF}, (2, 3, 4, 5)),
    C("GlobalMaxPooling2D", {"keepdims": True}, (2, 4, 5, 3)),
    C("GlobalAvgPool1D", {}, (2, 5, 3)),
    C("GlobalAvgPool2D", {}, (2, 4, 5, 3)),
    C("GlobalAvgPool3D", {}, (2, 2, 3, 4, 3)),
    C("GlobalMaxPool1D", {}, (2, 5, 3)),
    C("GlobalMaxPool2D", {}, (2, 4, 5, 3)),
    C("GlobalMaxPool3D", {}, (2, 2, 3, 4, 3)),
    C("AdaptiveAveragePooling1D", {"output_size": 3}, (2, 7, 2)),
    C("AdaptiveAveragePooling2D", {"output_size": 3, **CF}, (2, 2, 7, 4)),
    C("AdaptiveAveragePooling3D", {"output_size": (2, 1, 3)},
      (2, 5, 3, 4, 2)),
    C("AdaptiveMaxPooling1D", {"output_size": 4, **CF}, (2, 2, 10)),
    C("AdaptiveMaxPooling2D", {"output_size": (2, 3)}, (2, 5, 7, 2)),
    C("AdaptiveMaxPooling3D", {"output_size": 2, **CF}, (2, 2, 3, 5, 4)),
    # Regularization (random in training: see the statistics tests below).
    C("SpatialDropout1D", {"rate": 0.5}, (2, 4, 3), random=True),
    C("SpatialDropout2D", {"rate": 0.5}, (2, 3, 3, 2), random=True),
    C("SpatialDropout2D", {"rate": 0.5, **CF}, (2, 2, 3, 3), random=True),
    C("SpatialDropout3D", {"rate": 0.5}, (2, 2, 2, 2, 2), random=True),
    C("SpatialDropout3D", {"rate": 0.5, **CF}, (2, 2, 2, 2, 2), random=True),
    C("GaussianNoise", {"stddev": 0.5}, (2, 5), random=True),
    C("GaussianDropout", {"rate": 0.3}, (2, 5), random=True),
    C("AlphaDropout", {"rate": 0.3}, (2, 5), random=True),
    C("AlphaDropout", {"rate": 0.3, "noise_shape": (2, 1)}, (2, 5),
      random=True),
    # Reshaping.
    C("Permute", {"dims": (2, 1)}, (2, 3, 4)),
    C("Permute", {"dims": (3, 1, 2)}, (2, 3, 4, 5)),
    C("RepeatVector", {"n": 3}, (2, 4)),
    C("Cropping1D", {}, (2, 5, 3)),
    C("Cropping1D", {"cropping": (2, 0)}, (2, 5, 3)),
    C("Cropping2D", {"cropping": 1}, (2, 5, 4, 3)),
    C("Cropping2D", {"cropping": ((1, 0), (2, 1)), **CF}, (2, 3, 5, 6)),
    C("Cropping3D", {}, (2, 4, 5, 6, 2)),
    C("Cropping3D", {"cropping": ((0, 1), 1, (2, 0)), **CF}, (2, 2, 3, 4, 5)),
    C("UpSampling1D", {}, (2, 4, 3)),
    C("UpSampling1D", {"size": 3}, (2, 4, 3)),
    C("UpSampling3D", {}, (2, 2, 3, 2, 2)),
    C("UpSampling3D", {"size": (1, 2, 3), **CF}, (2, 2, 2, 3, 2)),
    C("ZeroPadding1D", {}, (2, 4, 3)),
    C("ZeroPadding1D", {"padding": (2, 0), **CF}, (2, 3, 4)),
    C("ZeroPadding3D", {}, (2, 2, 3, 2, 2)),
    C("ZeroPadding3D", {"padding": ((1, 0), (0, 2), (1, 1)), **CF},
      (2, 2, 2, 3, 2)),
    # Merging.
    C("Subtract", {}, [(2, 3), (2, 3)]),
    C("Average", {}, [(2, 3), (2, 3), (2, 3)]),
    C("Maximum", {}, [(2, 3), (2, 3)]),
    C("Minimum", {}, [(2, 3), (2, 3), (2, 3)]),
    C("Dot", {"axes": 1}, [(2, 3), (2, 3)]),
    C("Dot", {"axes": (1, 2)}, [(2, 3, 4), (2, 5, 3)]),
    C("Dot", {"axes": [2, 1], "normalize": True}, [(2, 3, 4), (2, 4, 2)]),
]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
  return run_layer_sweep(CASES, save_dir=tmp_path_factory.mktemp("sweep"))


def test_every_case_matches_keras(sweep):
  # run_layer_sweep asserts; this names the sweep in the report and checks
  # the per-layer params add up to the model's.
  model, keras_model, _, _, _ = sweep
  assert model.count_params() == keras_model.count_params()


# -- which names must exist: Keras's own export list --------------------------
# Families other engineers build, by Keras module.
_OTHER_FAMILIES = {
    "preprocessing": "preprocessing layers (issue 13)",
    "rnn": "recurrent layers and wrappers (layers_b, issue 12 item 4)",
    "attention": "attention layers (layers_b, issue 12 item 5)",
    "normalization": "normalization layers (layers_b, issue 12 item 5)",
}
EXCEPTIONS = {
    "Masking": "masking (layers_b, issue 12 items 1 and 7)",
    "Wrapper": "base class of TimeDistributed/Bidirectional (layers_b)",
    "FlaxLayer": "interop layer (issue 17)",
    "JaxLayer": "interop layer (issue 17)",
    "TFSMLayer": "TensorFlow SavedModel interop: no TensorFlow here",
    "TorchModuleWrapper": "PyTorch interop: no torch in a Haiku package",
    "InputSpec": "not a layer; hk_keras checks shapes in build()",
    "ActivityRegularization": "needs the activity-loss plumbing that the "
                              "regularizers work (issue 10) adds",
    "ReversibleEmbedding": "not in issue 12's list (a keras_hub-style "
                           "Embedding subclass); Embedding is owned by "
                           "layers_b for mask_zero",
    "serialize": "a saving function, not a layer (hk_keras.saving)",
    "deserialize": "a saving function, not a layer (hk_keras.saving)",
}
# Built before issue 12 and tested in test_layers_conv.py,
# test_layers_basic.py and test_layers_norm_rnn_attention.py.
TESTED_ELSEWHERE = {
    "Activation", "Add", "AveragePooling2D", "BatchNormalization",
    "Concatenate", "Conv1D", "Conv2D", "Conv2DTranspose", "Dense", "Dropout",
    "Embedding", "Flatten", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling2D", "Input", "InputLayer", "Lambda", "Layer",
    "MaxPooling2D", "Multiply", "ReLU", "Reshape", "Softmax", "UpSampling2D",
    "ZeroPadding2D",
}
MERGE_FUNCTIONS = ("add", "subtract", "multiply", "average", "maximum",
                   "minimum", "concatenate", "dot")


def _keras_family(obj):
  parts = getattr(obj, "__module__", "").split(".")
  return parts[3] if parts[:3] == ["keras", "src", "layers"] and len(
      parts) > 3 else None


def expected_names():
  names = []
  for name in dir(keras.layers):
    if name.startswith("_") or name in EXCEPTIONS:
      continue
    if _keras_family(getattr(keras.layers, name)) in _OTHER_FAMILIES:
      continue
    names.append(name)
  return names


def test_name_list_is_sensible():
  names = expected_names()
  for name in ("Conv3D", "MaxPool2D", "Identity", "dot", "Cropping3D",
               "AdaptiveMaxPooling3D", "SpatialDropout3D"):
    assert name in names
  for name in ("LSTM", "RandomFlip", "GroupNormalization", "Attention"):
    assert name not in names


def test_every_keras_name_exists_and_is_exported():
  missing = [n for n in expected_names() if not hasattr(layers, n)]
  assert not missing, f"Keras 3 exports {missing}, hk_keras.layers does not"
  unexported = [n for n in expected_names() if n not in layers.__all__]
  assert not unexported, unexported


def test_every_new_name_is_in_the_sweep():
  swept = {c.name for c in CASES} | set(MERGE_FUNCTIONS)
  untested = [n for n in expected_names()
              if n not in swept and n not in TESTED_ELSEWHERE]
  assert not untested, f"add sweep cases for {untested}"


def test_aliases_are_the_same_classes_as_in_keras():
  names = [n for n in expected_names() if inspect.isclass(getattr(layers, n))]
  for a in names:
    for b in names:
      same_in_keras = getattr(keras.layers, a) is getattr(keras.layers, b)
      assert (getattr(layers, a) is getattr(layers, b)) == same_in_keras, (
          a, b)


def test_constructor_arguments_match_keras():
  # Same argument names, order and defaults as Keras 3 (up to **kwargs).
  documented_defaults = {("AveragePooling2D", "pool_size")}
  for case in CASES:
    ours = inspect.signature(getattr(layers, case.name).__init__).parameters
    theirs = inspect.signature(
        getattr(keras.layers, case.name).__init__).parameters
    def plain(params):
      return [(n, p.default) for n, p in params.items()
              if n not in ("self", "name", "dtype")
              and p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY)]
    mine, keras_args = plain(ours), plain(theirs)
    assert [n for n, _ in mine] == [n for n, _ in keras_args], case.name
    for (n, d), (_, kd) in zip(mine, keras_args):
      if (getattr(layers, case.name).__name__, n) in documented_defaults:
        continue
      if isinstance(kd, (tuple, list)) and isinstance(d, (int, tuple, list)):
        continue  # (1, 1) vs 1: normalized to the same tuple
      same = (d == kd or (isinstance(kd, str) and isinstance(d, str)
                          and d.lower() == kd.lower()))
      assert same or kd is inspect.Parameter.empty and d is \
          inspect.Parameter.empty, (case.name, n, d, kd)


# -- merging functions ----------------------------------------------------------

@pytest.mark.parametrize("name", MERGE_FUNCTIONS)
def test_merge_functions_match_keras(name):
  rng = np.random.default_rng(0)
  a, b = (rng.normal(size=(2, 3)).astype("float32") for _ in range(2))
  ours = getattr(layers, name)([a, b])
  theirs = getattr(keras.layers, name)([a, b])
  np.testing.assert_allclose(ours, theirs, atol=1e-6)
  # Symbolic inputs give a layer output inside a model.
  x, y = hk_keras.Input((3,)), hk_keras.Input((3,))
  out = getattr(layers, name)([x, y], name=f"merge_{name}")
  model = hk_keras.Model([x, y], out)
  assert model.layers[-1].name == f"merge_{name}"
  np.testing.assert_allclose(model([a, b]), theirs, atol=1e-6)


def test_concatenate_and_dot_function_arguments():
  rng = np.random.default_rng(1)
  a = rng.normal(size=(2, 3, 4)).astype("float32")
  b = rng.normal(size=(2, 3, 2)).astype("float32")
  np.testing.assert_allclose(layers.concatenate([a, b], axis=2),
                             keras.layers.concatenate([a, b], axis=2))
  np.testing.assert_allclose(layers.dot([a, a], axes=1),
                             keras.layers.dot([a, a], axes=1), atol=1e-5)


# -- random layers in training mode: shapes and statistics ----------------------

def _train_once(layer, x, seed=0):
  model = hk_keras.Sequential([hk_keras.Input(x.shape[1:]), layer])
  out, _ = jax.jit(model.apply, static_argnames="training")(
      model.params, model.state, jax.random.PRNGKey(seed), x, training=True)
  return np.asarray(out)


def _keras_train(name, kwargs, x):
  return np.asarray(getattr(keras.layers, name)(**kwargs, seed=3)(
      x, training=True))


def test_gaussian_noise_and_dropout_statistics_match_keras():
  x = np.full((200, 100), 2.0, np.float32)
  for name, kwargs, std in [("GaussianNoise", {"stddev": 0.5}, 0.5),
                            ("GaussianDropout", {"rate": 0.2},
                             2.0 * np.sqrt(0.2 / 0.8))]:
    ours = _train_once(getattr(layers, name)(**kwargs), x)
    theirs = _keras_train(name, kwargs, x)
    for out in (ours, theirs):
      assert abs(out.mean() - 2.0) < 0.02, (name, out.mean())
      assert abs(out.std() - std) < 0.02, (name, out.std())


def test_alpha_dropout_keeps_mean_and_variance_as_keras():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(400, 100)).astype(np.float32)
  ours = _train_once(layers.AlphaDropout(0.2), x)
  theirs = _keras_train("AlphaDropout", {"rate": 0.2}, x)
  for out in (ours, theirs):
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.02
  # Dropped units all take the same value, a * (-alpha * scale) + b.
  values, counts = np.unique(np.round(ours, 5), return_counts=True)
  theirs_values, theirs_counts = np.unique(np.round(theirs, 5),
                                           return_counts=True)
  assert values[counts.argmax()] == pytest.approx(
      theirs_values[theirs_counts.argmax()], abs=1e-4)
  assert abs(counts.max() / x.size - 0.2) < 0.01


@pytest.mark.parametrize("name,kwargs,shape,channel_axis", [
    ("SpatialDropout1D", {}, (50, 6, 40), 2),
    ("SpatialDropout2D", CF, (50, 40, 3, 4), 1),
    ("SpatialDropout3D", {}, (50, 2, 3, 2, 40), 4),
])
def test_spatial_dropout_drops_whole_channels(name, kwargs, shape,
                                              channel_axis):
  x = np.ones(shape, np.float32)
  ours = _train_once(getattr(layers, name)(rate=0.4, **kwargs), x)
  theirs = _keras_train(name, {"rate": 0.4, **kwargs}, x)
  for out in (ours, theirs):
    values = np.unique(out)
    assert np.all(np.isclose(values, 0.0) | np.isclose(values, 1 / 0.6))
    # Constant over the spatial axes of each (example, channel).
    moved = np.moveaxis(out, channel_axis, 1).reshape(shape[0], shape[
        channel_axis], -1)
    assert (moved.min(-1) == moved.max(-1)).all()
    assert abs((moved[..., 0] == 0).mean() - 0.4) < 0.05


def test_random_layers_are_identity_at_inference_and_seeded():
  x = make = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
  del make
  for layer in (layers.GaussianNoise(1.0, seed=1), layers.GaussianDropout(0.5),
                layers.AlphaDropout(0.5), layers.SpatialDropout1D(0.5)):
    data = x[:, :, None] if isinstance(layer, layers.SpatialDropout1D) else x
    np.testing.assert_array_equal(layer(data), data)
  a = _train_once(layers.GaussianNoise(1.0, seed=1), x, seed=5)
  b = _train_once(layers.GaussianNoise(1.0, seed=1), x, seed=5)
  c = _train_once(layers.GaussianNoise(1.0, seed=2), x, seed=5)
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, c)


# -- hand-checked sizes (independent of Keras) ------------------------------------

@pytest.mark.parametrize("layer,input_shape,output_shape,params", [
    # (5 - 1) * 2 + max(3, 2) = 11 steps; kernel (3, 3 filters, 2 in) + 3.
    (lambda: layers.Conv1DTranspose(3, 3, strides=2), (5, 2), (None, 11, 3),
     21),
    # 3 - 2 + 1 = 2 per axis; kernel 2*2*2*3*4 + 4.
    (lambda: layers.Conv3D(4, 2), (3, 3, 3, 3), (None, 2, 2, 2, 4), 100),
    # kernel (3, 3 channels, 2) + bias 6.
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (7, 3),
     (None, 5, 6), 24),
    # depthwise 3*3*3*1 + pointwise 3*5 + bias 5.
    (lambda: layers.SeparableConv2D(5, 3), (6, 6, 3), (None, 4, 4, 5), 47),
    (lambda: layers.EinsumDense("abc,cde->abde", (None, 2, 3),
                                bias_axes="de"), (4, 3), (None, 4, 2, 3),
     3 * 2 * 3 + 2 * 3),
    (lambda: layers.AdaptiveMaxPooling2D((2, 3)), (5, 7, 2), (None, 2, 3, 2),
     0),
    (lambda: layers.Cropping3D(((0, 1), 1, (2, 0))), (3, 4, 5, 1),
     (None, 2, 2, 3, 1), 0),
    (lambda: layers.PReLU(shared_axes=[1, 2]), (3, 4, 2), (None, 3, 4, 2), 2),
])
def test_hand_checked_shapes_and_params(layer, input_shape, output_shape,
                                        params):
  x = hk_keras.Input(input_shape)
  y = layer()(x)
  assert y.shape == output_shape
  model = hk_keras.Model(x, y)
  assert model.count_params() == params


def test_adaptive_pooling_windows():
  # Length 5 to 3 cells: [0, 2), [1, 4), [3, 5) (floor / ceil bounds).
  x = np.arange(5, dtype=np.float32)[None, :, None]
  avg = layers.AdaptiveAveragePooling1D(3)(x)
  np.testing.assert_allclose(np.asarray(avg)[0, :, 0], [0.5, 2.0, 3.5])
  mx = layers.AdaptiveMaxPooling1D(3)(x)
  np.testing.assert_allclose(np.asarray(mx)[0, :, 0], [1.0, 3.0, 4.0])


# -- errors -------------------------------------------------------------------

@pytest.mark.parametrize("make,match", [
    (lambda: layers.LeakyReLU(-1), r"negative_slope.*>= 0"),
    (lambda: layers.ELU("a"), r"`alpha` must be a number"),
    (lambda: layers.PReLU(shared_axes="x"), r"shared_axes"),
    (lambda: layers.PReLU(alpha_regularizer="nope"), r"Unknown regularizer"),
    (lambda: layers.EinsumDense("ab->b", 3), r"`equation` must read"),
    (lambda: layers.EinsumDense("ab,bc->ac", "x"), r"`output_shape`"),
    (lambda: layers.EinsumDense("ab,bc->ac", 3, lora_rank=4), r"lora_rank"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0),
     r"`depth_multiplier` must be a strictly positive"),
    (lambda: layers.SeparableConv1D(4, 3, padding="causal"),
     r"`padding` must be one of 'valid', 'same'"),
    (lambda: layers.SeparableConv2D(4, 3, pointwise_constraint="x"),
     r"Unknown constraint: 'x'"),
    (lambda: layers.Conv3D(4, (2, 2)), r"tuple of 3 ints"),
    (lambda: layers.Conv3DTranspose(2, 3, strides=2, output_padding=2),
     r"strictly smaller than the matching stride"),
    (lambda: layers.MaxPooling3D(padding="full"), r"MaxPooling3D: `padding`"),
    (lambda: layers.AdaptiveAveragePooling2D((2, 0)), r"`output_size`"),
    (lambda: layers.GaussianNoise(-1.0), r"`stddev` must be a number >= 0"),
    (lambda: layers.GaussianDropout(1.0), r"`rate` must be a number in"),
    (lambda: layers.SpatialDropout2D(0.5, data_format="x"), r"data_format"),
    (lambda: layers.Permute((1, 3)), r"permutation of 1..n"),
    (lambda: layers.RepeatVector(0), r"`n` must be a positive integer"),
    (lambda: layers.Cropping2D(((1, 2, 3), 1)), r"Cropping2D: `cropping`"),
    (lambda: layers.Cropping1D(-1), r"Cropping1D: `cropping`"),
    (lambda: layers.ZeroPadding3D((1, 2)), r"ZeroPadding3D: `padding`"),
    (lambda: layers.UpSampling3D(0), r"UpSampling3D: `size`"),
    (lambda: layers.Dot(axes="x"), r"`axes` must be an int or a pair"),
])
def test_invalid_arguments(make, match):
  with pytest.raises(ValueError, match=match):
    make()


@pytest.mark.parametrize("make,input_shape,match", [
    (lambda: layers.Conv3D(2, 2), (4, 4, 4), r"Conv3D\) expects inputs of rank 5"),
    (lambda: layers.DepthwiseConv1D(2), (4,), r"rank 3.*\(batch, steps, channels\)"),
    (lambda: layers.MaxPooling1D(), (4, 4, 4), r"rank 3"),
    (lambda: layers.RepeatVector(2), (3, 4), r"RepeatVector\) expects inputs of rank 2"),
    (lambda: layers.Permute((2, 1)), (3, 4, 5), r"dims=\(2, 1\)"),
    (lambda: layers.Cropping1D(3), (5, 2), r"removes every cell"),
    (lambda: layers.PReLU(shared_axes=[3]), (3, 4), r"`shared_axes` entries"),
    (lambda: layers.EinsumDense("abc,cd->abd", (None, 4)), (3,),
     r"names 3 input axes"),
])
def test_bad_inputs_explain(make, input_shape, match):
  with pytest.raises(ValueError, match=match):
    make()(hk_keras.Input(input_shape))


def test_merge_input_errors():
  a, b, c = (hk_keras.Input((3,)) for _ in range(3))
  with pytest.raises(ValueError, match=r"Subtract\) must be called on a list "
                     r"of exactly 2"):
    layers.Subtract()([a, b, c])
  with pytest.raises(ValueError, match=r"same size"):
    layers.Dot(axes=1)([a, hk_keras.Input((4,))])
  with pytest.raises(ValueError, match=r"batch axis"):
    layers.Dot(axes=0)([a, b])


# -- item 8: names given at creation ------------------------------------------------

def test_layers_keep_their_creation_names_whatever_the_call_order():
  class Two(layers.Layer):

    def __init__(self, **kwargs):
      super().__init__(**kwargs)
      self.first = layers.Embedding(10, 3)
      self.second = layers.Embedding(10, 3)

    def call(self, x):
      return self.second(x) + 2.0 * self.first(x)

  two = Two()
  model = hk_keras.Sequential([hk_keras.Input((2,), dtype="int32"), two])
  names = {k.split("/")[-1] for k in model.params}
  assert names == {two.first.name, two.second.name}
  x = np.array([[1, 2]])
  first = np.asarray(two.first.get_weights()[0])
  second = np.asarray(two.second.get_weights()[0])
  np.testing.assert_allclose(model(x), second[x] + 2.0 * first[x], atol=1e-6)


def test_functional_model_calling_layers_out_of_creation_order():
  a = layers.Dense(2, name="dense_a")
  b = layers.Dense(2)
  c = layers.Dense(2)
  x = hk_keras.Input((3,))
  model = hk_keras.Model(x, a(b(c(x))))
  assert set(model.params) == {a.name, b.name, c.name}
  with pytest.raises(ValueError, match="Two different layers are named"):
    y = hk_keras.Input((3,))
    hk_keras.Model(y, layers.Dense(2, name="twin")(
        layers.Dense(2, name="twin")(y)))


def test_nested_weights_follow_keras_tracking_order_not_call_order():
  def make(lib):
    class Nested(lib.layers.Layer):

      def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = lib.layers.Embedding(10, 3)
        self.second = lib.layers.Dense(2)

      def build(self, input_shape):
        self.own = self.add_weight(shape=(1,), name="own")

      def call(self, x):
        return self.second(x) * self.own + self.first(
            lib.ops.cast(x[:, :1], "int32") if hasattr(lib, "ops") else
            x[:, :1].astype("int32"))[:, 0, :2]

    return Nested()

  ours = make(hk_keras)
  model = hk_keras.Sequential([hk_keras.Input((4,)), ours])
  theirs = make(keras)
  keras.Sequential([keras.Input((4,)), theirs])
  assert [w.shape for w in ours.get_weights()] == [
      tuple(w.shape) for w in theirs.weights]
  assert [w.shape for w in model.get_weights()] == [(1,), (10, 3), (4, 2),
                                                    (2,)]
