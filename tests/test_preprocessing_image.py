"""Image and audio preprocessing layers against Keras 3 (JAX backend).

Deterministic layers are compared with Keras on the same inputs. Random
layers are compared in inference mode, in training mode where a degenerate
factor makes the draw deterministic (e.g. a rotation of exactly 90 degrees),
and otherwise by shape, range and statistics of their random outputs.
Images are tiny (2 x 6 x 5 x 3) to keep the file fast.
"""
import json

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from hk_keras.layers.preprocessing import _image_base

keras = pytest.importorskip("keras")

X = np.random.default_rng(0).uniform(0, 255, (2, 6, 5, 3)).astype("float32")


@pytest.fixture(autouse=True)
def _strict_rank_promotion():
  with jax.numpy_rank_promotion("raise"):
    yield


def both(name, *args, **kwargs):
  return (getattr(layers, name)(*args, **kwargs),
          getattr(keras.layers, name)(*args, **kwargs))


def run(layer, x, training):
  return np.asarray(layer(x, training=training))


def keras_jit(ref, x):
  """A deterministic Keras layer under jax.jit (Keras's eager JAX path
  compiles op by op, which is many times slower for audio layers)."""
  return np.asarray(jax.jit(lambda v: ref(v))(x))


# -- deterministic layers and degenerate random draws: exact parity --------------

DETERMINISTIC = [  # (name, args, kwargs, input, training)
    ("Resizing", (4, 7), {}, X, False),
    ("Resizing", (3, 3), {"interpolation": "bicubic", "antialias": True}, X,
     False),
    ("Resizing", (4, 4), {"crop_to_aspect_ratio": True}, X, False),
    ("Resizing", (4, 8), {"pad_to_aspect_ratio": True, "fill_value": 7.0}, X,
     False),
    ("Resizing", (4, 7), {}, X.astype("uint8"), False),
    ("Resizing", (4, 7), {"data_format": "channels_first"},
     X.transpose(0, 3, 1, 2), False),
    ("CenterCrop", (4, 3), {}, X, False),
    ("CenterCrop", (8, 8), {}, X, False),
    ("AutoContrast", (), {}, X, False),
    ("AutoContrast", (), {"value_range": (0, 1)}, X / 255.0, True),
    ("Equalization", (), {"bins": 16}, X, True),
    ("RandomRotation", ((0.25, 0.25),), {}, X, True),
    ("RandomRotation", ((0.08, 0.08),), {"fill_mode": "constant",
                                         "fill_value": 3.0}, X, True),
    ("RandomRotation", ((-0.1, -0.1),), {"fill_mode": "wrap",
                                         "interpolation": "nearest"}, X, True),
    ("RandomZoom", ((0.5, 0.5),), {}, X, True),
    ("RandomZoom", ((-0.3, -0.3), (0.2, 0.2)), {"interpolation": "nearest"},
     X, True),
    ("RandomTranslation", ((0.2, 0.2), (-0.4, -0.4)), {}, X, True),
    ("RandomTranslation", ((0.3, 0.3), (0.1, 0.1)),
     {"fill_mode": "constant", "data_format": "channels_first"},
     X.transpose(0, 3, 1, 2), True),
    ("RandomBrightness", ((0.1, 0.1),), {}, X, True),
    ("RandomContrast", (0.0,), {}, X, True),
    ("RandomInvert", ((1.0, 1.0),), {}, X, True),
    ("RandomGrayscale", (1.0,), {}, X, True),
    ("Solarization", (0.0, 0.0), {}, X, True),
    ("RandomPosterization", ((4, 4),), {}, X, True),
    ("RandomSharpness", ((0.2, 0.2),), {}, X, True),
    ("RandomSaturation", ((0.3, 0.3),), {}, X / 255.0, True),
    ("RandomHue", ((0.0, 0.0),), {}, X, True),
    ("RandomGaussianBlur", ((1.0, 1.0),), {"sigma": (1.0, 1.0)}, X, True),
    ("RandomColorJitter", (), {"brightness_factor": (0.1, 0.1)}, X, True),
    ("RandomShear", (0.0, 0.0), {}, X, True),
]


@pytest.mark.parametrize(
    "name,args,kwargs,x,training", DETERMINISTIC,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(DETERMINISTIC)])
def test_matches_keras(name, args, kwargs, x, training):
  ours, ref = both(name, *args, **kwargs)
  got, want = run(ours, x, training), run(ref, x, training)
  assert got.shape == want.shape and got.dtype == want.dtype
  np.testing.assert_allclose(got, want, atol=1e-4 * max(1.0, np.abs(
      want).max() / 255.0))


# -- every random image layer is the identity (cast) at inference ---------------------

REQUIRED_ARGS = {
    "RandomCrop": (4, 3), "RandomRotation": (0.2,), "RandomZoom": (0.2,),
    "RandomTranslation": (0.2, 0.2), "RandomContrast": (0.5,),
    "RandomBrightness": (0.3,), "RandomHue": (0.5,),
    "RandomSaturation": (0.5,), "RandomSharpness": (0.5,),
    "RandomPosterization": (4,),
}


def random_image_layer_names():
  return sorted(
      n for n in layers.preprocessing.__all__
      if isinstance(getattr(layers, n), type)
      and issubclass(getattr(layers, n), _image_base.ImageLayer)
      and getattr(layers, n)._random and n != "Equalization")


def test_random_layers_are_the_identity_in_inference():
  names = random_image_layer_names()
  assert len(names) == 22, names
  for name in names:
    ours, ref = both(name, *REQUIRED_ARGS.get(name, ()))
    got, want = run(ours, X, False), run(ref, X, False)
    np.testing.assert_array_equal(got, want, err_msg=name)


# -- random layers in training: shape, range, statistics ---------------------------

BIG = np.random.default_rng(1).uniform(0, 255, (16, 6, 5, 3)).astype("float32")


def _train(layer, x=BIG, seed=0):
  """The layer in training mode inside a jitted one-layer model."""
  model = hk_keras.Sequential([hk_keras.Input(x.shape[1:]), layer])
  apply = jax.jit(model.apply, static_argnames="training")
  return np.asarray(apply(model.params, model.state,
                          jax.random.PRNGKey(seed), x, training=True)[0])


def flipped_default():
  return _train(layers.RandomFlip())


def test_flip_crop_and_geometry_statistics():
  flipped = _train(layers.RandomFlip("horizontal"))
  same = [np.array_equal(o, i) for o, i in zip(flipped, BIG)]
  mirrored = [np.array_equal(o, i[:, ::-1]) for o, i in zip(flipped, BIG)]
  assert all(s or m for s, m in zip(same, mirrored))
  assert 2 <= sum(mirrored) <= 14  # probability 1/2 each
  crop = _train(layers.RandomCrop(4, 3))
  assert crop.shape == (16, 4, 3, 3)
  windows = {(t, l) for t in range(3) for l in range(3)
             if np.array_equal(crop, BIG[:, t:t + 4, l:l + 3])}
  assert len(windows) == 1  # one random window per batch, as Keras
  for layer in (layers.RandomRotation(0.3), layers.RandomShear(0.5, 0.5)):
    out = _train(layer)
    assert out.shape == BIG.shape
    # Bilinear sampling with reflect fill stays within the input range.
    assert out.min() >= BIG.min() - 1e-3 and out.max() <= BIG.max() + 1e-3
    changed = [not np.allclose(o, i) for o, i in zip(out, BIG)]
    assert sum(changed) >= 12, type(layer).__name__


def test_color_layers_statistics():
  delta = _train(layers.RandomBrightness(0.2)) - BIG
  unclipped = (BIG > 60) & (BIG < 195)
  per_image = [d[u] for d, u in zip(delta, unclipped)]
  assert all(np.ptp(p) < 1e-3 for p in per_image)  # one delta per image
  assert all(abs(p[0]) <= 0.2 * 255 + 1e-3 for p in per_image)
  assert len({round(float(p[0]), 2) for p in per_image}) > 8
  gray = _train(layers.RandomGrayscale(0.5))
  is_gray = [np.allclose(g[..., 0], g[..., 1]) for g in gray]
  assert 2 <= sum(is_gray) <= 14
  poster = _train(layers.RandomPosterization(3))
  assert np.all(poster % 32 == 0)  # at most 2 bits kept of 8
  saturated = _train(layers.RandomSaturation(0.8, value_range=(0, 1)),
                     BIG / 255.0)
  assert saturated.min() >= -1e-5 and saturated.max() <= 1 + 1e-5
  assert not np.allclose(saturated, BIG / 255.0)
  for layer in (layers.RandomHue(0.5), layers.RandomSharpness(0.9), layers.Solarization(0.5, 0.5),
                layers.RandomInvert(), layers.RandomColorJitter(
                    brightness_factor=0.2, contrast_factor=0.3,
                    saturation_factor=0.4, hue_factor=0.2),
                layers.RandomGaussianBlur(sigma=(0.5, 2.0))):
    out = _train(layer)
    assert out.shape == BIG.shape and np.isfinite(out).all()
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3, type(layer).__name__
    assert not np.allclose(out, BIG), type(layer).__name__


def test_mixing_layers_mix_labels():
  labels = np.eye(4, dtype="float32")[np.arange(16) % 4]
  for layer in (layers.MixUp(alpha=0.5), layers.CutMix()):
    out = layer({"images": BIG, "labels": labels}, training=True)
    np.testing.assert_allclose(np.asarray(out["labels"]).sum(-1), 1.0,
                               atol=1e-5)
    assert not np.allclose(out["images"], BIG)
    assert np.asarray(out["images"]).min() >= BIG.min() - 1e-3
  erased = _train(layers.RandomErasing(fill_value=0.0, scale=(0.2, 0.4)))
  assert (erased == 0).mean() > 0.05
  assert np.all((erased == 0) | (erased == BIG))


def test_random_layers_run_in_the_compiled_step_with_the_step_rng():
  model = hk_keras.Sequential([
      hk_keras.Input((6, 5, 3)), layers.RandomFlip(),
      layers.RandomZoom(0.2), layers.Flatten(), layers.Dense(2)])
  apply = jax.jit(model.apply, static_argnames="training")
  a, _ = apply(model.params, model.state, jax.random.PRNGKey(0), BIG,
               training=True)
  b, _ = apply(model.params, model.state, jax.random.PRNGKey(1), BIG,
               training=True)
  c, _ = apply(model.params, model.state, jax.random.PRNGKey(0), BIG,
               training=True)
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(a, c)
  i1, _ = apply(model.params, model.state, jax.random.PRNGKey(0), BIG,
                training=False)
  i2, _ = apply(model.params, model.state, jax.random.PRNGKey(1), BIG,
                training=False)
  np.testing.assert_array_equal(i1, i2)
  seeded = layers.RandomFlip(seed=7)
  assert not np.array_equal(_train(seeded), flipped_default())


# -- Pipeline ---------------------------------------------------------------------

def test_pipeline_matches_keras_and_round_trips():
  ours = layers.Pipeline([layers.Resizing(4, 4), layers.CenterCrop(3, 3),
                          layers.RandomFlip()])
  ref = keras.layers.Pipeline([keras.layers.Resizing(4, 4),
                               keras.layers.CenterCrop(3, 3),
                               keras.layers.RandomFlip()])
  np.testing.assert_allclose(run(ours, X, False), run(ref, X, False),
                             atol=1e-4)
  assert _train(ours).shape == (16, 3, 3, 3)
  again = _roundtrip(ours)
  assert [type(l).__name__ for l in again.layers] == [
      "Resizing", "CenterCrop", "RandomFlip"]
  with pytest.raises(TypeError, match="list of hk_keras layers"):
    layers.Pipeline([lambda x: x])


# -- audio ------------------------------------------------------------------------

AUDIO = np.random.default_rng(2).normal(size=(2, 2000)).astype("float32")
SIGNAL = np.random.default_rng(3).normal(size=(2, 200, 2)).astype("float32")


def test_mel_spectrogram_matches_keras():
  for kwargs in ({"fft_length": 256, "sequence_stride": 64,
                  "num_mel_bins": 16, "sampling_rate": 8000},
                 {"fft_length": 256, "sequence_length": 200,
                  "window": "hamming", "power_to_db": False,
                  "num_mel_bins": 16, "sampling_rate": 8000},
                 {"fft_length": 128, "sequence_stride": 32, "num_mel_bins": 8,
                  "mag_exp": 1.0, "top_db": 20.0, "min_freq": 100.0,
                  "max_freq": 3000.0, "sampling_rate": 8000}):
    ours, ref = both("MelSpectrogram", **kwargs)
    got, want = np.asarray(ours(AUDIO)), keras_jit(ref, AUDIO)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
  np.testing.assert_allclose(np.asarray(ours(AUDIO[0])),
                             keras_jit(ref, AUDIO[0]), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag",
                                  "angle", "stft"])
def test_stft_spectrogram_matches_keras(mode):
  ours, ref = both("STFTSpectrogram", mode=mode, frame_length=32,
                   frame_step=8)
  got, want = np.asarray(ours(SIGNAL)), np.asarray(ref(SIGNAL))
  atol = 5e-5
  if mode == "angle":
    atol = 1e-3
    # Compare angles on the circle (arctan2 wraps at pi), where the
    # coefficient is not ~0 (its angle is then rounding noise).
    power = np.asarray(layers.STFTSpectrogram(
        mode="magnitude", frame_length=32, frame_step=8)(SIGNAL))
    keep = power > 1e-2
    got, want = np.exp(1j * got[keep]), np.exp(1j * want[keep])
  np.testing.assert_allclose(got, want, atol=atol, rtol=1e-5)
  assert [w.shape for w in ours.get_weights()] == [
      tuple(w.shape) for w in ref.get_weights()]


def test_stft_spectrogram_options_match_keras():
  kwargs = {"frame_length": 30, "fft_length": 64, "padding": "same",
            "expand_dims": True, "data_format": "channels_first",
            "periodic": True, "scaling": "spectrum", "window": "hamming"}
  ours, ref = both("STFTSpectrogram", **kwargs)
  x = SIGNAL.transpose(0, 2, 1)
  np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(ref(x)),
                             atol=5e-5)


# -- configs ----------------------------------------------------------------------

def _roundtrip(layer):
  config = layer.get_config()
  json.dumps(config)
  again = type(layer).from_config(config)
  assert again.get_config() == config
  return again


def test_image_and_audio_configs_round_trip_and_cover_keras():
  names = random_image_layer_names() + [
      "Resizing", "CenterCrop", "AutoContrast", "Equalization",
      "MelSpectrogram", "STFTSpectrogram"]
  args = {**REQUIRED_ARGS, "Resizing": (4, 4), "CenterCrop": (3, 3)}
  for name in names:
    ours, ref = both(name, *args.get(name, ()))
    _roundtrip(ours)
    missing = set(ref.get_config()) - set(ours.get_config())
    assert not missing, f"{name} config lacks Keras keys {sorted(missing)}"


def test_bad_arguments_raise_clear_errors():
  with pytest.raises(ValueError, match="mode"):
    layers.RandomFlip("sideways")
  with pytest.raises(ValueError, match="factor"):
    layers.RandomRotation(2.0)
  with pytest.raises(ValueError, match="fill_mode"):
    layers.RandomZoom(0.1, fill_mode="mirror")
  with pytest.raises(ValueError, match="rank 3"):
    layers.RandomFlip()(np.zeros((2, 3)), training=True)
  with pytest.raises(ValueError, match="Only one of"):
    layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
  with pytest.raises(ValueError, match="bounding boxes"):
    layers.RandomFlip()({"images": X, "bounding_boxes": X}, training=True)
