"""hk_keras.utils against keras.utils on the same inputs."""
import gzip
import hashlib
import io
import os
import tarfile
import zipfile

import keras
import numpy as np
import pytest

import hk_keras
from hk_keras import utils as U

import http_test_server
import py_dataset_cases

# keras.utils names hk_keras does not offer (docs/differences_from_keras.md).
NOT_PROVIDED = {
    "Config", "FeatureSpace", "audio_dataset_from_directory",
    "bounding_boxes", "image_dataset_from_directory", "legacy",
    "text_dataset_from_directory", "standardize_dtype",
    "disable_interactive_logging", "enable_interactive_logging",
    "is_interactive_logging_enabled",
}


def test_every_keras_utils_name_exists_or_is_documented():
  names = [n for n in dir(keras.utils) if not n.startswith("_")]
  missing = [n for n in names if n not in NOT_PROVIDED and not hasattr(U, n)]
  assert not missing
  assert len(names) - len(NOT_PROVIDED) >= 29


def test_to_categorical_and_normalize_equal_keras():
  for labels, n in (([0, 2, 1], None), (np.array([[1], [3]]), 5),
                    (np.array([[0, 1], [2, 2]]), 3)):
    ours, ref = U.to_categorical(labels, n), keras.utils.to_categorical(
        labels, n)
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == np.asarray(ref).dtype
  x = np.random.default_rng(0).normal(size=(3, 4))
  x[1] = 0
  for axis, order in ((-1, 2), (-1, 1), (1, 2)):
    np.testing.assert_allclose(U.normalize(x, axis, order),
                               keras.utils.normalize(x, axis, order),
                               atol=1e-6)
  np.testing.assert_allclose(np.abs(U.normalize(x, axis=0, order=1)).sum(0),
                             1.0)
  with pytest.raises(ValueError, match="num_classes"):
    U.to_categorical([3], num_classes=2)


def test_pad_sequences_equal_keras():
  seqs = [[1, 2, 3, 4], [5], [], [6, 7]]
  for kw in ({}, {"maxlen": 3}, {"maxlen": 3, "padding": "post"},
             {"maxlen": 2, "truncating": "post", "value": -1},
             {"dtype": "float32", "value": 0.5, "maxlen": 5}):
    ours, ref = U.pad_sequences(seqs, **kw), keras.utils.pad_sequences(
        seqs, **kw)
    np.testing.assert_array_equal(ours, ref)
    assert ours.dtype == ref.dtype
  vecs = [np.ones((2, 3)), np.zeros((1, 3))]
  np.testing.assert_array_equal(U.pad_sequences(vecs, dtype="float32"),
                                keras.utils.pad_sequences(vecs,
                                                          dtype="float32"))
  strings = [["a", "b"], ["c"]]
  np.testing.assert_array_equal(
      U.pad_sequences(strings, dtype=object, value="x"),
      keras.utils.pad_sequences(strings, dtype=object, value="x"))
  with pytest.raises(ValueError, match="padding"):
    U.pad_sequences(seqs, padding="middle")


def test_pack_unpack_equal_keras():
  x, y, w = np.ones(2), np.zeros(2), np.ones(2)
  for args in ((x,), (x, y), (x, y, w), ((x, y),)):
    ours, ref = U.pack_x_y_sample_weight(*args), \
        keras.utils.pack_x_y_sample_weight(*args)
    assert type(ours) is type(ref) and len(ours) == len(ref)
  for data in (x, (x,), (x, y), (x, y, w), [x, y]):
    ours = U.unpack_x_y_sample_weight(data)
    ref = keras.utils.unpack_x_y_sample_weight(data)
    assert [o is r for o, r in zip(ours, ref)] == [True] * 3
  with pytest.raises(ValueError, match="sample_weight"):
    U.unpack_x_y_sample_weight((x, y, w, w))


def test_progbar_averages_like_keras():
  ours = U.Progbar(10, verbose=0, stateful_metrics=["acc"])
  ref = keras.utils.Progbar(10, verbose=0, stateful_metrics=["acc"])
  for step, loss, acc in ((1, 4.0, 0.1), (4, 1.0, 0.5), (7, 2.0, 0.7),
                          (10, 3.0, 0.9)):
    ours.update(step, [("loss", loss), ("acc", acc)])
    ref.update(step, [("loss", loss), ("acc", acc)])
    for name in ("loss", "acc"):
      total, count = ref._values[name]
      np.testing.assert_allclose(ours.average(name), np.mean(total / count))
  buf = io.StringIO()
  bar = U.Progbar(2, verbose=1, stream=buf)
  bar.add(1, [("loss", 1.0)])
  bar.add(1, [("loss", 3.0)])
  assert "1/2" in buf.getvalue() and "loss: 1.0000" in buf.getvalue()
  # The final update shows the value as given, as Keras's Progbar does.
  assert "2/2" in buf.getvalue() and "loss: 3.0000\n" in buf.getvalue()


def test_serialization_helpers_are_the_saving_ones_and_round_trip():
  assert U.register_keras_serializable is \
      hk_keras.saving.register_keras_serializable
  assert U.CustomObjectScope is hk_keras.saving.CustomObjectScope

  @U.register_keras_serializable(package="UtilsTest")
  class Twice(hk_keras.layers.Layer):
    def call(self, inputs):
      return 2 * inputs

  @keras.utils.register_keras_serializable(package="UtilsTest")
  class KTwice(keras.layers.Layer):
    def call(self, inputs):
      return 2 * inputs

  assert U.get_registered_name(Twice) == "UtilsTest>Twice"
  assert keras.utils.get_registered_name(KTwice) == "UtilsTest>KTwice"
  assert U.get_registered_object("UtilsTest>Twice") is Twice
  assert "UtilsTest>Twice" in U.get_custom_objects()
  config = U.serialize_keras_object(hk_keras.layers.Dense(3, name="d"))
  layer = U.deserialize_keras_object(config)
  assert isinstance(layer, hk_keras.layers.Dense) and layer.units == 3
  with U.custom_object_scope({"cube": lambda t: t ** 3}):
    assert U.get_registered_object("cube") is not None


def test_keras_tensor_helpers_and_clear_session():
  a, b = hk_keras.Input((2,)), hk_keras.Input((2,))
  out = hk_keras.layers.Add()([hk_keras.layers.Dense(2)(a), b])
  assert U.get_source_inputs(out) == [a, b] or U.get_source_inputs(out) == [
      b, a]
  assert set(map(id, U.get_source_inputs(out))) == {id(a), id(b)}
  assert U.get_source_inputs(a) == [a]
  assert U.is_keras_tensor(out) and not U.is_keras_tensor(np.ones(1))
  with pytest.raises(ValueError, match="symbolic"):
    U.get_source_inputs(np.ones(2))
  U.clear_session()
  assert hk_keras.layers.Dense(1).name == "dense"


def test_image_helpers_equal_keras(tmp_path):
  rng = np.random.default_rng(0)
  for channels in (1, 3, 4):
    x = rng.uniform(0, 300, size=(6, 10, channels)).astype("float32")
    for scale in (True, False):
      ours = U.img_to_array(U.array_to_img(x if scale else x.clip(0, 255),
                                           scale=scale))
      ref = keras.utils.img_to_array(keras.utils.array_to_img(
          x if scale else x.clip(0, 255), scale=scale))
      np.testing.assert_array_equal(ours, ref)
  x = rng.uniform(0, 255, size=(3, 6, 10)).astype("float32")
  np.testing.assert_array_equal(
      U.img_to_array(U.array_to_img(x, data_format="channels_first"),
                     data_format="channels_first"),
      keras.utils.img_to_array(
          keras.utils.array_to_img(x, data_format="channels_first"),
          data_format="channels_first"))
  path = str(tmp_path / "img.png")
  U.save_img(path, rng.uniform(0, 255, size=(12, 9, 3)))
  for kw in ({}, {"color_mode": "grayscale"}, {"color_mode": "rgba"},
             {"target_size": (5, 7), "interpolation": "bilinear"},
             {"target_size": (4, 4), "keep_aspect_ratio": True}):
    np.testing.assert_array_equal(
        U.img_to_array(U.load_img(path, **kw)),
        keras.utils.img_to_array(keras.utils.load_img(path, **kw)))
  with pytest.raises(ValueError, match="rank 3"):
    U.array_to_img(np.zeros((2, 2)))
  with pytest.raises(ValueError, match="color_mode"):
    U.load_img(path, color_mode="cmyk")


def test_timeseries_windows_and_targets():
  data = np.arange(40).reshape(20, 2)
  targets = np.arange(100, 120)
  ds = U.timeseries_dataset_from_array(
      data, targets, sequence_length=4, sequence_stride=2, sampling_rate=2,
      batch_size=3, start_index=1, end_index=18)
  batches = list(ds)
  x = np.concatenate([b[0] for b in batches])
  y = np.concatenate([b[1] for b in batches])
  # num_seqs = 18 - 1 - 3 * 2 = 11; windows start at 1, 3, ..., 11.
  starts = np.arange(0, 11, 2)
  assert len(ds) == 2 and x.shape == (6, 4, 2)
  for i, s in enumerate(starts):
    np.testing.assert_array_equal(x[i], data[1 + s:1 + s + 8:2])
    assert y[i] == targets[1 + s]
  shuffled = U.timeseries_dataset_from_array(data, None, 3, batch_size=None,
                                             shuffle=True, seed=4)
  firsts = sorted(int(w[0, 0]) for w in shuffled)
  assert firsts == list(range(0, 36, 2))
  with pytest.raises(ValueError, match="sequence_length"):
    U.timeseries_dataset_from_array(data, None, 0)


def test_split_dataset():
  x, y = np.arange(10).reshape(10, 1), np.arange(10)
  (lx, ly), (rx, ry) = U.split_dataset((x, y), left_size=0.8)
  assert len(lx) == 8 and len(rx) == 2
  np.testing.assert_array_equal(ly, np.arange(8))
  left, right = U.split_dataset(x, left_size=3, right_size=2, shuffle=True,
                                seed=1)
  assert len(left) == 3 and len(right) == 2
  assert not set(left.ravel()) & set(right.ravel())
  with pytest.raises(ValueError, match="samples"):
    U.split_dataset(x, left_size=8, right_size=8)


def _model():
  hk_keras.utils.set_random_seed(0)
  model = hk_keras.Sequential([hk_keras.Input((3,)), hk_keras.layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse")
  return model


def test_fit_evaluate_predict_accept_pydataset_with_threads_and_processes():
  threads = py_dataset_cases.Squares(workers=2, max_queue_size=2)
  arrays = py_dataset_cases.Squares()
  x = arrays.x
  y = (x ** 2).sum(-1, keepdims=True)
  a = _model()
  a.fit(threads, epochs=2, verbose=0)
  assert threads.epochs_ended == 2
  b = _model()
  b.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
  for wa, wb in zip(a.get_weights(), b.get_weights()):
    np.testing.assert_allclose(wa, wb, atol=1e-6)
  np.testing.assert_allclose(a.evaluate(threads, verbose=0),
                             b.evaluate(x, y, verbose=0), atol=1e-6)
  np.testing.assert_allclose(a.predict(threads, verbose=0),
                             a.predict(x, verbose=0), atol=1e-6)
  # One worker process (spawned, so it imports hk_keras: a few seconds).
  processes = py_dataset_cases.Squares(workers=1, with_pid=True,
                                       use_multiprocessing=True)
  batches = list(processes)
  assert os.getpid() not in {int(b[2][0]) for b in batches}
  np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
  assert U.Sequence is U.PyDataset
  with pytest.raises(ValueError, match="workers"):
    py_dataset_cases.Squares(workers=0)


def test_model_to_dot_and_plot_model(tmp_path):
  a, b = hk_keras.Input((2,), name="a"), hk_keras.Input((2,), name="b")
  h = hk_keras.layers.Dense(2, name="h")(a)
  out = hk_keras.layers.Add(name="sum")([h, b])
  model = hk_keras.Model([a, b], out)
  dot = U.model_to_dot(model, show_shapes=True, show_trainable=True)
  nodes = [n for n in dot.get_nodes() if n.get_name() not in ("node",)]
  assert len(nodes) == 4
  assert len(dot.get_edges()) == 3
  text = dot.to_string()
  assert "sum (Add)" in text and "(None, 2)" in text
  U.plot_model(model, to_file=str(tmp_path / "m.dot"))
  assert "digraph" in (tmp_path / "m.dot").read_text()
  import shutil
  if shutil.which("dot") is None:
    with pytest.raises(ImportError, match="Graphviz"):
      U.plot_model(model, to_file=str(tmp_path / "m.png"))
  else:
    U.plot_model(model, to_file=str(tmp_path / "m.png"))
    assert (tmp_path / "m.png").stat().st_size > 0


# -- get_file ------------------------------------------------------------------

def _tar_gz(members):
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for name, data in members.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def _zip(members):
  buf = io.BytesIO()
  with zipfile.ZipFile(buf, "w") as z:
    for name, data in members.items():
      z.writestr(name, data)
  return buf.getvalue()


def test_get_file_downloads_checks_extracts_and_hits_the_cache(tmp_path):
  body = os.urandom(200_000)
  sha = hashlib.sha256(body).hexdigest()
  md5 = hashlib.md5(body).hexdigest()
  files = {"/data.bin": body, "/big.bin": body,
           "/a.tar.gz": _tar_gz({"a/x.txt": b"hello", "a/y.txt": b"bye"}),
           "/b.zip": _zip({"z.txt": b"zipped"}),
           "/evil.tar.gz": _tar_gz({"../escape.txt": b"no"})}
  cache = str(tmp_path / "cache")
  with http_test_server.serve(files, truncated={"/big.bin"}) as server:
    path = U.get_file(origin=server.base + "/data.bin", file_hash=sha,
                      cache_dir=cache, verbose=False)
    assert path == os.path.join(cache, "datasets", "data.bin")
    assert open(path, "rb").read() == body
    assert U.get_file("data.bin", server.base + "/data.bin", md5_hash=md5,
                      cache_dir=cache, verbose=False) == path
    assert server.hits["/data.bin"] == 1
    # Hash mismatch: error, nothing cached.
    with pytest.raises(ValueError, match="hash"):
      U.get_file("other.bin", server.base + "/data.bin", file_hash="0" * 64,
                 cache_dir=cache, verbose=False)
    assert not os.path.exists(os.path.join(cache, "datasets", "other.bin"))
    # Interrupted download: error, no partial file left.
    with pytest.raises(OSError):
      U.get_file("big.bin", server.base + "/big.bin", cache_dir=cache,
                 verbose=False)
    leftovers = [f for f in os.listdir(os.path.join(cache, "datasets"))
                 if "big" in f]
    assert not leftovers
    # Archives.
    folder = U.get_file("a.tar.gz", server.base + "/a.tar.gz", extract=True,
                        cache_dir=cache, verbose=False)
    assert folder == os.path.join(cache, "datasets", "a_extracted")
    assert open(os.path.join(folder, "a", "x.txt")).read() == "hello"
    zipped = U.get_file(origin=server.base + "/b.zip", extract=True,
                        cache_dir=cache, verbose=False)
    assert open(os.path.join(zipped, "z.txt")).read() == "zipped"
    with pytest.raises(ValueError, match="outside"):
      U.get_file("evil.tar.gz", server.base + "/evil.tar.gz", extract=True,
                 cache_dir=cache, verbose=False)
    assert not os.path.exists(os.path.join(cache, "escape.txt"))
    base = server.base
  # The server is gone: cached files need no network.
  assert U.get_file("data.bin", base + "/data.bin", file_hash=sha,
                    cache_dir=cache, verbose=False) == path
  assert U.get_file("a.tar.gz", base + "/a.tar.gz", extract=True,
                    cache_dir=cache, verbose=False) == folder
  with pytest.raises(OSError, match="URL fetch failure"):
    U.get_file("new.bin", base + "/data.bin", cache_dir=cache, verbose=False)
  with pytest.raises(ValueError, match="fname"):
    U.get_file("a/b.bin", base + "/data.bin", cache_dir=cache)
