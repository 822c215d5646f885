"""Convolution, pooling and spatial resizing layers, with Keras 3 parity.

Expected output shapes and parameter counts are worked out by hand in each
case (`k` is the kernel size, `s` the stride, `p` the output padding).
"""
import json
import re

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

from layer_test_utils import keras, make_input, run_layer_test


def _keras(name):
  return keras and getattr(keras.layers, name)


def _check(cls, kwargs, input_shape, output_shape, params=0, **extra):
  return run_layer_test(cls, kwargs, input_shape,
                        expected_output_shape=output_shape,
                        expected_num_params=params,
                        keras_cls=_keras(cls.__name__), **extra)


# -- Conv2D -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,output_shape,params", [
    # same: ceil(7/2) = 4, ceil(8/2) = 4; 3*3*3*4 + 4.
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 7, 8, 3), (2, 4, 4, 4), 112),
    # (7 - 3) // 2 + 1 = 3 rows, 8 - 3 + 1 = 6 columns.
    ({"filters": 4, "kernel_size": 3, "strides": (2, 1),
      "kernel_initializer": "he_uniform", "bias_initializer": "ones"},
     (2, 7, 8, 3), (2, 3, 6, 4), 112),
    # groups=2: kernel (3, 2, 4 // 2, 6), no bias.
    ({"filters": 6, "kernel_size": (3, 2), "dilation_rate": 2,
      "padding": "same", "groups": 2, "use_bias": False},
     (2, 7, 8, 4), (2, 7, 8, 6), 72),
    # dilation 2 -> dilated kernel 5, 7 - 5 + 1 = 3; channels_first.
    ({"filters": 4, "kernel_size": 3, "dilation_rate": 2,
      "activation": "relu", "data_format": "channels_first"},
     (2, 3, 7, 7), (2, 4, 3, 3), 112),
    # groups=3 on 3 channels: kernel (2, 2, 1, 6); ceil(5/2), ceil(4/2).
    ({"filters": 6, "kernel_size": 2, "strides": 2, "padding": "same",
      "data_format": "channels_first", "groups": 3},
     (2, 3, 5, 4), (2, 6, 3, 2), 2 * 2 * 1 * 6 + 6),
])
def test_conv2d(kwargs, input_shape, output_shape, params):
  _check(layers.Conv2D, kwargs, input_shape, output_shape, params)


# -- Conv1D -----------------------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,output_shape,params", [
    ({"filters": 4, "kernel_size": 3}, (2, 9, 3), (2, 7, 4), 40),
    # same: ceil(9/2) = 5; groups=2 -> kernel (3, 4 // 2, 4).
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
      "groups": 2, "activation": "tanh"}, (2, 9, 4), (2, 5, 4), 28),
    # causal keeps the length: left padding of (3 - 1) * 2.
    ({"filters": 4, "kernel_size": 3, "padding": "causal",
      "dilation_rate": 2}, (2, 9, 3), (2, 9, 4), 40),
    ({"filters": 4, "kernel_size": 2, "padding": "causal",
      "data_format": "channels_first"}, (2, 3, 9), (2, 4, 9), 28),
])
def test_conv1d(kwargs, input_shape, output_shape, params):
  _check(layers.Conv1D, kwargs, input_shape, output_shape, params)


def test_causal_conv1d_does_not_see_the_future():
  model = hk_keras.Sequential([
      hk_keras.Input((6, 1)), layers.Conv1D(2, 3, padding="causal")])
  x = make_input((1, 6, 1))
  y = x.copy()
  y[:, 4:] += 10.0
  out_x, _ = model.apply(model.params, model.state, None, x)
  out_y, _ = model.apply(model.params, model.state, None, y)
  np.testing.assert_allclose(out_x[:, :4], out_y[:, :4], atol=1e-6)
  assert not np.allclose(out_x[:, 4:], out_y[:, 4:])


# -- Conv2DTranspose ----------------------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,output_shape,params", [
    # valid, no output_padding: (n - 1) * s + max(k, s); 3*3*4*3 + 4.
    ({"filters": 4, "kernel_size": 3, "strides": 2},
     (2, 5, 4, 3), (2, 11, 9, 4), 112),
    ({"filters": 4, "kernel_size": 2, "strides": 3},
     (2, 5, 4, 3), (2, 15, 12, 4), 2 * 2 * 4 * 3 + 4),
    # same, no output_padding: n * s.
    ({"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"},
     (2, 5, 4, 3), (2, 10, 8, 4), 112),
    # valid with output_padding: (n - 1) * s + k + p.
    ({"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 1},
     (2, 5, 4, 3), (2, 12, 10, 4), 112),
    # same with output_padding: (n - 1) * s + k % 2 + p.
    ({"filters": 4, "kernel_size": 4, "strides": 3, "padding": "same",
      "output_padding": 2}, (2, 5, 4, 3), (2, 14, 11, 4), 4 * 4 * 4 * 3 + 4),
    ({"filters": 4, "kernel_size": 3, "dilation_rate": 2, "padding": "same",
      "use_bias": False}, (2, 5, 4, 3), (2, 5, 4, 4), 108),
    # rows: 4 * 2 + 3 % 2 + 0 = 9; columns: 3 * 2 + 2 % 2 + 1 = 7.
    ({"filters": 4, "kernel_size": (3, 2), "strides": 2, "padding": "same",
      "output_padding": (0, 1), "activation": "sigmoid",
      "data_format": "channels_first"},
     (2, 3, 5, 4), (2, 4, 9, 7), 3 * 2 * 4 * 3 + 4),
])
def test_conv2d_transpose(kwargs, input_shape, output_shape, params):
  model, _ = _check(layers.Conv2DTranspose, kwargs, input_shape,
                    output_shape, params)
  # Keras's kernel layout: (kh, kw, filters, in_channels).
  channels = input_shape[1 if "data_format" in kwargs else -1]
  assert model.get_weights()[0].shape[2:] == (kwargs["filters"], channels)


# -- Pooling ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["MaxPooling2D", "AveragePooling2D"])
@pytest.mark.parametrize("kwargs,input_shape,output_shape", [
    ({"pool_size": 3, "strides": 2, "padding": "same"},
     (2, 7, 8, 3), (2, 4, 4, 3)),
    ({"pool_size": (2, 3), "strides": (1, 2), "padding": "same"},
     (2, 5, 6, 3), (2, 5, 3, 3)),
    ({"pool_size": (2, 3), "strides": 1, "data_format": "channels_first"},
     (2, 3, 5, 6), (2, 3, 4, 4)),
])
def test_pooling2d(name, kwargs, input_shape, output_shape):
  # Keras 3 has no default pool_size for AveragePooling2D; ours is (2, 2).
  _check(getattr(layers, name), kwargs, input_shape, output_shape,
         keras_kwargs={"pool_size": (2, 2), **kwargs})


def test_same_pooling_ignores_padded_cells():
  x = -np.ones((1, 3, 3, 1), np.float32)
  for cls in (layers.MaxPooling2D, layers.AveragePooling2D):
    out = cls(2, padding="same")(x)
    np.testing.assert_allclose(out, -np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_is_differentiable(padding):
  x = make_input((1, 5, 5, 2))
  for cls in (layers.MaxPooling2D, layers.AveragePooling2D):
    model = hk_keras.Sequential([hk_keras.Input((5, 5, 2)),
                                 cls(2, padding=padding)])
    grad = jax.grad(lambda v: model.apply(
        model.params, model.state, None, v)[0].sum())(x)
    assert grad.shape == x.shape and np.isfinite(grad).all()
    assert np.asarray(grad).any()


@pytest.mark.parametrize("name", ["GlobalAveragePooling2D",
                                  "GlobalMaxPooling2D"])
@pytest.mark.parametrize("kwargs,input_shape,output_shape", [
    ({}, (2, 4, 5, 3), (2, 3)),
    ({"data_format": "channels_first", "keepdims": True}, (2, 3, 4, 5),
     (2, 3, 1, 1)),
])
def test_global_pooling2d(name, kwargs, input_shape, output_shape):
  _check(getattr(layers, name), kwargs, input_shape, output_shape)


@pytest.mark.parametrize("kwargs,input_shape,output_shape", [
    ({}, (2, 5, 3), (2, 3)),
    ({"data_format": "channels_first"}, (2, 3, 5), (2, 3)),
])
def test_global_average_pooling1d(kwargs, input_shape, output_shape):
  _check(layers.GlobalAveragePooling1D, kwargs, input_shape, output_shape)


def test_default_and_keepdims_pooling_shapes():
  x = hk_keras.Input((5, 7, 3))
  assert layers.MaxPooling2D()(x).shape == (None, 2, 3, 3)
  assert layers.AveragePooling2D()(x).shape == (None, 2, 3, 3)
  assert layers.GlobalMaxPooling2D(keepdims=True)(x).shape == (None, 1, 1, 3)
  assert layers.GlobalAveragePooling2D(
      data_format="channels_first")(x).shape == (None, 5)
  seq = hk_keras.Input((6, 4))
  assert layers.GlobalAveragePooling1D(keepdims=True)(seq).shape == (
      None, 1, 4)


def test_global_average_pooling1d_mask():
  x = make_input((2, 5, 3))
  mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
  out = layers.GlobalAveragePooling1D()(x, mask=mask)
  np.testing.assert_allclose(out[0], x[0, :2].mean(0), atol=1e-6)
  np.testing.assert_allclose(out[1], x[1, :4].mean(0), atol=1e-6)
  if keras is not None:
    theirs = keras.layers.GlobalAveragePooling1D()(x, mask=mask)
    np.testing.assert_allclose(out, theirs, atol=1e-6)


# -- ZeroPadding2D and UpSampling2D -------------------------------------------

@pytest.mark.parametrize("kwargs,input_shape,output_shape", [
    ({"padding": 2}, (2, 3, 4, 2), (2, 7, 8, 2)),
    ({"padding": (1, 2)}, (2, 3, 4, 2), (2, 5, 8, 2)),
    ({"padding": ((1, 0), (2, 3)), "data_format": "channels_first"},
     (2, 2, 3, 4), (2, 2, 4, 9)),
])
def test_zero_padding2d(kwargs, input_shape, output_shape):
  _check(layers.ZeroPadding2D, kwargs, input_shape, output_shape)


@pytest.mark.parametrize("kwargs,input_shape,output_shape", [
    ({"size": (3, 1), "data_format": "channels_first"}, (2, 2, 3, 4),
     (2, 2, 9, 4)),
    ({"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2),
     (2, 6, 12, 2)),
    ({"interpolation": "bicubic", "data_format": "channels_first"},
     (2, 2, 3, 4), (2, 2, 6, 8)),
])
def test_upsampling2d(kwargs, input_shape, output_shape):
  _check(layers.UpSampling2D, kwargs, input_shape, output_shape)


def test_default_padding_and_upsampling_shapes():
  x = hk_keras.Input((3, 4, 2))
  assert layers.ZeroPadding2D()(x).shape == (None, 5, 6, 2)
  assert layers.UpSampling2D()(x).shape == (None, 6, 8, 2)


# -- configs ----------------------------------------------------------------

_CONFIG_CASES = [
    (layers.Conv1D, {"filters": 3, "kernel_size": 2, "padding": "causal"}),
    (layers.Conv2D, {"filters": 3, "kernel_size": (2, 3), "strides": 2,
                     "activation": "relu", "groups": 1,
                     "kernel_initializer": "he_uniform"}),
    (layers.Conv2DTranspose, {"filters": 3, "kernel_size": 3, "strides": 2,
                              "output_padding": 1, "padding": "same"}),
    (layers.MaxPooling2D, {"pool_size": 3, "strides": 1}),
    (layers.AveragePooling2D, {"pool_size": 2, "padding": "same"}),
    (layers.GlobalAveragePooling1D, {"keepdims": True}),
    (layers.GlobalAveragePooling2D, {"data_format": "channels_first"}),
    (layers.GlobalMaxPooling2D, {}),
    (layers.ZeroPadding2D, {"padding": ((1, 2), (3, 4))}),
    (layers.UpSampling2D, {"size": 3, "interpolation": "bilinear"}),
]


@pytest.mark.parametrize("cls,kwargs", _CONFIG_CASES)
def test_config_is_json_and_round_trips(cls, kwargs):
  config = cls(**kwargs).get_config()
  loaded = json.loads(json.dumps(config))
  assert loaded == config
  clone = cls.from_config({**loaded, "name": config["name"] + "_copy"})
  assert {**clone.get_config(), "name": config["name"]} == config
  if keras is not None:
    # Every key we write is a Keras 3 config key for the same layer.
    theirs = getattr(keras.layers, cls.__name__)(**kwargs).get_config()
    assert set(config) <= set(theirs), set(config) - set(theirs)


_ALL = ["Conv1D", "Conv2D", "Conv2DTranspose", "MaxPooling2D",
        "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
        "GlobalMaxPooling2D", "ZeroPadding2D", "UpSampling2D"]


@pytest.mark.skipif(keras is None, reason="needs Keras 3")
def test_automatic_names_match_keras():
  ctor = {"Conv1D": (2, 3), "Conv2D": (2, 3), "Conv2DTranspose": (2, 3),
          "AveragePooling2D": (2,)}
  def base(name):
    return re.sub(r"_\d+$", "", name)
  for name in _ALL:
    a = ctor.get(name, ())
    assert base(getattr(layers, name)(*a).name) == base(
        getattr(keras.layers, name)(*a).name)


# -- errors -------------------------------------------------------------------

def test_conv2d_on_images_without_channel_axis_explains_the_fix():
  with pytest.raises(ValueError, match=r"Conv2D.*rank 4.*"
                     r"\(batch, height, width, channels\).*"
                     r"\(None, 28, 28\).*x\[\.\.\., None\]"):
    layers.Conv2D(4, 3)(hk_keras.Input((28, 28)))


_IMAGES = r"\(batch, height, width, channels\)"
_SEQUENCES = r"\(batch, steps, channels\)"


@pytest.mark.parametrize("make,input_shape,layout", [
    (lambda: layers.Conv1D(2, 3), (4,), _SEQUENCES),
    (lambda: layers.MaxPooling2D(), (4, 4), _IMAGES),
    (lambda: layers.AveragePooling2D(), (4, 4, 4, 4), _IMAGES),
    (lambda: layers.GlobalAveragePooling2D(), (4, 4, 4, 4), _IMAGES),
    (lambda: layers.GlobalMaxPooling2D(), (4,), _IMAGES),
    (lambda: layers.GlobalAveragePooling1D(), (4, 4, 4), _SEQUENCES),
    (lambda: layers.ZeroPadding2D(), (4,), _IMAGES),
    (lambda: layers.UpSampling2D(), (4, 4), _IMAGES),
])
def test_wrong_rank_names_layer_and_layout(make, input_shape, layout):
  layer = make()
  with pytest.raises(ValueError, match=type(layer).__name__ + r"\) expects "
                     r"inputs of rank \d with layout " + layout):
    layer(hk_keras.Input(input_shape))


def test_channels_first_rank_error_mentions_that_layout():
  with pytest.raises(ValueError,
                     match=r"\(batch, channels, height, width\).*x\[:, None\]"):
    layers.Conv2DTranspose(2, 3, data_format="channels_first")(
        hk_keras.Input((5, 5)))


@pytest.mark.parametrize("make,match", [
    (lambda: layers.Conv2D(4, 3, padding="foo"),
     r"`padding` must be one of 'valid', 'same'.*padding='foo'"),
    (lambda: layers.Conv1D(4, 3, padding="full"),
     r"'valid', 'same', 'causal'"),
    (lambda: layers.Conv2D(4, 3, padding="causal"),
     r"`padding` must be one of 'valid', 'same'\."),
    (lambda: layers.Conv2D(0, 3), r"`filters` must be a strictly positive"),
    (lambda: layers.Conv2DTranspose(-1, 3), r"`filters`.*filters=-1"),
    (lambda: layers.Conv1D(2.5, 3), r"`filters`"),
    (lambda: layers.Conv2D(5, 3, groups=2), r"divisible by `groups`"),
    (lambda: layers.Conv2D(4, 0), r"`kernel_size`.*> 0"),
    (lambda: layers.Conv2D(4, (3, 3, 3)), r"tuple of 2 ints"),
    (lambda: layers.Conv2D(4, 3, strides=2, dilation_rate=2),
     r"`strides` > 1 cannot be combined with `dilation_rate` > 1"),
    (lambda: layers.Conv2D(4, 3, data_format="NHWC"),
     r"`data_format` must be 'channels_last' or 'channels_first'"),
    (lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=2),
     r"`output_padding`.*strictly smaller than the matching stride"),
    (lambda: layers.MaxPooling2D(padding="full"), r"MaxPooling2D: `padding`"),
    (lambda: layers.AveragePooling2D(pool_size=-1), r"`pool_size`"),
    (lambda: layers.ZeroPadding2D(padding=(1, 2, 3)),
     r"ZeroPadding2D: `padding` must be an int"),
    (lambda: layers.ZeroPadding2D(padding=-1), r"all >= 0"),
    (lambda: layers.UpSampling2D(interpolation="area"),
     r"`interpolation` must be one of 'nearest', 'bilinear'"),
    (lambda: layers.UpSampling2D(size=0), r"UpSampling2D: `size`"),
    (lambda: layers.GlobalMaxPooling2D(data_format="last"), r"data_format"),
])
def test_invalid_arguments(make, match):
  with pytest.raises(ValueError, match=match):
    make()


def test_regularizers_are_accepted_not_dropped():
  layer = layers.Conv2D(4, 3, kernel_regularizer="l2")
  assert layer.get_config()["kernel_regularizer"]["class_name"] == "L2"


def test_channels_not_divisible_by_groups():
  with pytest.raises(ValueError, match=r"input channels \(3\).*groups=2"):
    layers.Conv2D(4, 3, groups=2)(hk_keras.Input((5, 5, 3)))


def test_variable_spatial_size():
  # Fully convolutional models accept images of any size, as in Keras.
  x = hk_keras.Input((None, None, 3))
  y = layers.Conv2D(4, 3, activation="relu")(x)
  assert y.shape == (None, None, None, 4)
  y = layers.Conv2DTranspose(2, 3, strides=2, padding="same")(y)
  assert y.shape == (None, None, None, 2)
  model = hk_keras.Model(x, layers.GlobalAveragePooling2D()(y))
  for size in (6, 9):
    out = model(make_input((1, size, size + 1, 3)))
    assert out.shape == (1, 2)


# -- a Keras example end to end -------------------------------------------------

def _mnist_convnet(lib):
  return lib.Sequential([
      lib.Input((28, 28, 1)),
      lib.layers.Conv2D(32, 3, activation="relu"),
      lib.layers.MaxPooling2D(2),
      lib.layers.Conv2D(64, 3, activation="relu"),
      lib.layers.MaxPooling2D(2),
      lib.layers.Flatten(),
      lib.layers.Dropout(0.5),
      lib.layers.Dense(10, activation="softmax"),
  ])


def test_keras_mnist_convnet_shapes_params_and_parity():
  model = _mnist_convnet(hk_keras)
  assert model.count_params() == 34_826
  x = make_input((3, 28, 28, 1))
  out, _ = model.apply(model.params, model.state, jax.random.PRNGKey(0), x)
  assert out.shape == (3, 10)
  np.testing.assert_allclose(np.asarray(out).sum(-1), 1.0, atol=1e-5)
  if keras is not None:
    theirs = _mnist_convnet(keras)
    assert theirs.count_params() == 34_826
    assert [w.shape for w in theirs.get_weights()] == [
        w.shape for w in model.get_weights()]
    model.set_weights(theirs.get_weights())
    out, _ = model.apply(model.params, model.state, None, x)
    np.testing.assert_allclose(out, theirs(x, training=False), atol=1e-5)
