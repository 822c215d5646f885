"""Keras's dataset loaders on small files in the originals' formats, served
from 127.0.0.1 and then read from the cache; Keras's own loaders read the
same files for parity."""
import gzip
import hashlib
import io
import json
import pickle
import tarfile

import keras
import numpy as np
import pytest

import hk_keras
from hk_keras.datasets import _cifar, _remote

import http_test_server

RNG = np.random.default_rng(0)


def _tar_gz(members):
  buf = io.BytesIO()
  with tarfile.open(fileobj=buf, mode="w:gz") as tar:
    for name, data in members.items():
      info = tarfile.TarInfo(name)
      info.size = len(data)
      tar.addfile(info, io.BytesIO(data))
  return buf.getvalue()


def _cifar_batch(n, **labels):
  d = {b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8)}
  d.update({k.encode(): list(RNG.integers(0, 10, n).tolist())
            for k in labels})
  return pickle.dumps(d, protocol=4)  # ndarray via _reconstruct, as CIFAR


def _idx(header, array):
  return gzip.compress(header + array.tobytes())


def _npz(**arrays):
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  return buf.getvalue()


def _sequences(n):
  seqs = np.empty(n, dtype=object)
  seqs[:] = [RNG.integers(1, 30, RNG.integers(2, 9)).tolist()
             for _ in range(n)]
  return seqs


def _files():
  c10 = {f"cifar-10-batches-py/data_batch_{i}": _cifar_batch(3, labels=1)
         for i in range(1, 6)}
  c10["cifar-10-batches-py/test_batch"] = _cifar_batch(2, labels=1)
  c100 = {f"cifar-100-python/{part}": _cifar_batch(
      4, fine_labels=1, coarse_labels=1) for part in ("train", "test")}
  fashion = {
      "train-labels-idx1-ubyte.gz": _idx(b"\0" * 8, RNG.integers(
          0, 10, 5, dtype=np.uint8)),
      "train-images-idx3-ubyte.gz": _idx(b"\0" * 16, RNG.integers(
          0, 256, 5 * 784, dtype=np.uint8)),
      "t10k-labels-idx1-ubyte.gz": _idx(b"\0" * 8, RNG.integers(
          0, 10, 3, dtype=np.uint8)),
      "t10k-images-idx3-ubyte.gz": _idx(b"\0" * 16, RNG.integers(
          0, 256, 3 * 784, dtype=np.uint8)),
  }
  files = {
      "cifar-10-python.tar.gz": _tar_gz(c10),
      "cifar-100-python.tar.gz": _tar_gz(c100),
      "imdb.npz": _npz(x_train=_sequences(12), y_train=RNG.integers(0, 2, 12),
                       x_test=_sequences(8), y_test=RNG.integers(0, 2, 8)),
      "reuters.npz": _npz(x=_sequences(15), y=RNG.integers(0, 46, 15)),
      "boston_housing.npz": _npz(x=RNG.normal(size=(20, 13)),
                                 y=RNG.normal(size=20)),
      "california_housing.npz": _npz(x=RNG.normal(size=(700, 8)),
                                     y=RNG.normal(size=700)),
      "imdb_word_index.json": json.dumps({"good": 1, "film": 2}).encode(),
      "reuters_word_index.json": json.dumps({"oil": 1}).encode(),
  }
  files.update(fashion)
  return files


@pytest.fixture(scope="module")
def served(tmp_path_factory):
  """Downloads every dataset from a local server into a fresh cache, then
  stops the server: the tests read from the cache only."""
  files = _files()
  home = tmp_path_factory.mktemp("hk_keras_home")
  mp = pytest.MonkeyPatch()
  mp.setenv("HK_KERAS_HOME", str(home))
  sha = lambda k: hashlib.sha256(files[k]).hexdigest()
  md5 = lambda k: hashlib.md5(files[k]).hexdigest()
  # Keras's hashes belong to the full files; these small ones have theirs.
  mp.setattr(_cifar, "CIFAR10_SHA256", sha("cifar-10-python.tar.gz"))
  mp.setattr(_cifar, "CIFAR100_SHA256", sha("cifar-100-python.tar.gz"))
  mp.setattr(_remote, "IMDB_SHA256", sha("imdb.npz"))
  mp.setattr(_remote, "REUTERS_SHA256", sha("reuters.npz"))
  mp.setattr(_remote, "BOSTON_SHA256", sha("boston_housing.npz"))
  mp.setattr(_remote, "CALIFORNIA_SHA256", sha("california_housing.npz"))
  mp.setattr(_remote, "IMDB_WORD_INDEX_MD5", md5("imdb_word_index.json"))
  mp.setattr(_remote, "REUTERS_WORD_INDEX_MD5", md5("reuters_word_index.json"))
  with http_test_server.serve({"/" + k: v for k, v in files.items()}) as srv:
    mp.setenv("HK_KERAS_DATASETS_URL", srv.base)
    d = hk_keras.datasets
    first = {name: getattr(d, name).load_data() for name in (
        "cifar10", "cifar100", "fashion_mnist", "imdb", "reuters",
        "boston_housing", "california_housing")}
    d.imdb.get_word_index()
    d.reuters.get_word_index()
    hits = dict(srv.hits)
  yield home, first, hits
  mp.undo()


def _keras_load(monkeypatch, module, path, *args, **kwargs):
  """Keras's own loader, with its download replaced by our cached file."""
  mod = __import__(f"keras.src.datasets.{module}", fromlist=["x"])
  monkeypatch.setattr(mod, "get_file", lambda *a, **k: str(path))
  return getattr(mod, "load_data")(*args, **kwargs)


def _assert_same(ours, ref):
  for a, b in zip(np.asarray(ours, dtype=object).ravel(),
                  np.asarray(ref, dtype=object).ravel()):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_downloaded_once_each_then_read_from_cache(served):
  home, first, hits = served
  assert all(v == 1 for v in hits.values()) and len(hits) == 12
  again = hk_keras.datasets.boston_housing.load_data()  # server is gone
  _assert_same(again[0][0], first["boston_housing"][0][0])
  assert (home / "datasets" / "imdb.npz").exists()


def test_cifar_match_keras(served, monkeypatch):
  home, first, _ = served
  (x, y), (xt, yt) = first["cifar10"]
  assert x.shape == (15, 32, 32, 3) and x.dtype == np.uint8
  assert y.shape == (15, 1) and xt.shape == (2, 32, 32, 3)
  # Keras's cifar10 loader assumes 10,000 images per batch, too big for a
  # test: compare with its batch reader, assembled as its loader does.
  from keras.src.datasets.cifar import load_batch
  folder = home / "datasets" / "cifar-10-batches-py-target" / (
      "cifar-10-batches-py")
  parts = [load_batch(str(folder / f"data_batch_{i}")) for i in range(1, 6)]
  ref_x = np.concatenate([p[0] for p in parts]).transpose(0, 2, 3, 1)
  ref_y = np.concatenate([p[1] for p in parts]).reshape(-1, 1)
  ref_xt, ref_yt = load_batch(str(folder / "test_batch"))
  np.testing.assert_array_equal(x, ref_x)
  np.testing.assert_array_equal(y, ref_y)
  np.testing.assert_array_equal(xt, ref_xt.transpose(0, 2, 3, 1))
  np.testing.assert_array_equal(yt, np.reshape(ref_yt, (-1, 1)))
  extracted = home / "datasets" / "cifar-100-python-target"
  for mode in ("fine", "coarse"):
    ours = hk_keras.datasets.cifar100.load_data(mode)
    theirs = _keras_load(monkeypatch, "cifar100", extracted, mode)
    for a, b in zip(sum(ours, ()), sum(theirs, ())):
      np.testing.assert_array_equal(a, b)
  with pytest.raises(ValueError, match="label_mode"):
    hk_keras.datasets.cifar100.load_data("medium")


def test_fashion_mnist_matches_keras(served, monkeypatch):
  home, first, _ = served
  import keras.src.datasets.fashion_mnist as kf
  folder = home / "datasets" / "fashion-mnist"
  monkeypatch.setattr(kf, "get_file",
                      lambda fname, **k: str(folder / fname))
  ref = kf.load_data()
  for a, b in zip(sum(first["fashion_mnist"], ()), sum(ref, ())):
    np.testing.assert_array_equal(a, b)
  assert first["fashion_mnist"][0][0].shape == (5, 28, 28)


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 12, "skip_top": 2},
                                    {"maxlen": 6, "oov_char": None},
                                    {"start_char": None, "index_from": 0}])
def test_imdb_and_reuters_match_keras(served, monkeypatch, kwargs):
  home, _, _ = served
  for name in ("imdb", "reuters"):
    ours = getattr(hk_keras.datasets, name).load_data(**kwargs)
    ref = _keras_load(monkeypatch, name, home / "datasets" / f"{name}.npz",
                      **kwargs)
    for a, b in zip(sum(ours, ()), sum(ref, ())):
      assert len(a) == len(b)
      _assert_same(a, b)


def test_word_indexes_and_housing_match_keras(served, monkeypatch):
  home, first, _ = served
  assert hk_keras.datasets.imdb.get_word_index() == {"good": 1, "film": 2}
  assert hk_keras.datasets.reuters.get_word_index() == {"oil": 1}
  assert len(hk_keras.datasets.reuters.get_label_names()) == 46
  assert hk_keras.datasets.reuters.get_label_names() == \
      keras.datasets.reuters.get_label_names()
  for name, kwargs in (("boston_housing", {"test_split": 0.25, "seed": 3}),
                       ("california_housing", {"version": "small"})):
    ours = getattr(hk_keras.datasets, name).load_data(**kwargs)
    ref = _keras_load(monkeypatch, name, home / "datasets" / f"{name}.npz",
                      **kwargs)
    for a, b in zip(sum(ours, ()), sum(ref, ())):
      np.testing.assert_array_equal(a, b)
  assert first["california_housing"][0][0].shape == (560, 8)
  with pytest.raises(ValueError, match="version"):
    hk_keras.datasets.california_housing.load_data(version="tiny")
  with pytest.raises(ValueError, match="test_split"):
    hk_keras.datasets.boston_housing.load_data(test_split=1.5)


def test_crafted_pickle_is_refused(tmp_path):
  from hk_keras.datasets import _safe_npz
  marker = tmp_path / "pwned"

  class Evil:
    def __reduce__(self):
      return (open, (str(marker), "w"))

  path = tmp_path / "batch"
  path.write_bytes(pickle.dumps({b"data": Evil()}))
  with pytest.raises(_safe_npz.UnsafePickleError,
                     match="Refusing.*`io.open`.*run code"):
    _safe_npz.load_pickle(str(path))
  assert not marker.exists()
