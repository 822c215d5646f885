"""Tests for hk_keras.datasets: packaged digits and local MNIST files."""

import hashlib
import os
import pathlib

import numpy as np
import pytest

from hk_keras.datasets import digits, mnist

_REPO = pathlib.Path(__file__).resolve().parents[1]
_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _real_mnist():
  """Path of the project's reference mnist.npz, or skip."""
  path = os.environ.get("HK_KERAS_MNIST") or str(
      _REPO.parent / "shared" / "data" / "mnist.npz")
  if not os.path.isfile(path):
    pytest.skip("mnist.npz not available (set HK_KERAS_MNIST)")
  return path


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
  """Points HK_KERAS_HOME and ~ at empty temporary folders."""
  monkeypatch.setenv("HK_KERAS_HOME", str(tmp_path / "hk_home"))
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  return tmp_path


def _fake_npz(path, n_train=6, n_test=4):
  rng = np.random.default_rng(0)
  np.savez_compressed(
      path,
      x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
      y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
      x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
      y_test=rng.integers(0, 10, n_test, dtype=np.uint8))
  return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


# digits ------------------------------------------------------------------


def test_digits_shapes_dtypes_ranges():
  (x_train, y_train), (x_test, y_test) = digits.load_data()
  assert x_train.shape == (1437, 8, 8) and x_test.shape == (360, 8, 8)
  assert y_train.shape == (1437,) and y_test.shape == (360,)
  for x in (x_train, x_test):
    assert x.dtype == np.uint8 and x.min() == 0 and x.max() == 16
  for y in (y_train, y_test):
    assert y.dtype == np.uint8 and set(np.unique(y)) <= set(range(10))
  all_labels = np.concatenate([y_train, y_test])
  np.testing.assert_array_equal(
      np.bincount(all_labels),
      [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_digits_split_is_deterministic_and_seeded():
  a = digits.load_data()
  b = digits.load_data()
  c = digits.load_data(seed=1)
  np.testing.assert_array_equal(a[0][0], b[0][0])
  np.testing.assert_array_equal(a[1][1], b[1][1])
  assert not np.array_equal(a[0][1], c[0][1])
  # The split is a partition of the same 1797 examples.
  key = lambda split: sorted(map(bytes, np.concatenate(
      [split[0][0], split[1][0]]).reshape(-1, 64)))
  assert key(a) == key(c)


def test_digits_test_split_sizes():
  (x_train, _), (x_test, _) = digits.load_data(test_split=0.5)
  assert len(x_train) == 898 and len(x_test) == 899
  (x_train, _), (x_test, _) = digits.load_data(test_split=0.0)
  assert len(x_train) == 1797 and len(x_test) == 0
  with pytest.raises(ValueError, match="test_split=1.0"):
    digits.load_data(test_split=1.0)
  with pytest.raises(ValueError, match="test_split=-0.1"):
    digits.load_data(test_split=-0.1)


def test_digits_returns_writable_copies():
  (x_train, _), _ = digits.load_data()
  x_train[0, 0, 0] = 99
  (x_again, _), _ = digits.load_data()
  assert x_again[0, 0, 0] != 99


def test_digits_packaged_file_and_licence():
  data = _REPO / "hk_keras" / "datasets" / "data"
  raw = (data / "digits.csv.gz").read_bytes()
  assert hashlib.sha256(raw).hexdigest() == digits.DIGITS_SHA256
  licence = (data / "LICENSE_digits.txt").read_text()
  assert "CC BY 4.0" in licence and "Alpaydin" in licence


def test_digits_checksum_is_verified(monkeypatch):
  from hk_keras.datasets import _digits
  _digits._read_all.cache_clear()
  monkeypatch.setattr(_digits, "DIGITS_SHA256", "0" * 64)
  try:
    with pytest.raises(ValueError, match="corrupt"):
      digits.load_data()
  finally:
    _digits._read_all.cache_clear()


# mnist -------------------------------------------------------------------


def test_mnist_real_file_label_counts():
  (x_train, y_train), (x_test, y_test) = mnist.load_data(_real_mnist())
  assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
  assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
  np.testing.assert_array_equal(np.bincount(y_train), _TRAIN_COUNTS)
  np.testing.assert_array_equal(np.bincount(y_test), _TEST_COUNTS)
  assert y_train[0] == 5 and y_test[0] == 7
  np.testing.assert_allclose(x_train.mean() / 255, 0.1306604762738429,
                             rtol=1e-9)


def test_mnist_download_from_file_url_then_load_from_cache(isolated_home):
  source = _real_mnist()
  path = mnist.download(url=pathlib.Path(source).as_uri())
  expected = isolated_home / "hk_home" / "datasets" / "mnist.npz"
  assert pathlib.Path(path) == expected
  assert os.listdir(expected.parent) == ["mnist.npz"]
  (_, y_train), (_, y_test) = mnist.load_data()
  np.testing.assert_array_equal(np.bincount(y_train), _TRAIN_COUNTS)
  np.testing.assert_array_equal(np.bincount(y_test), _TEST_COUNTS)
  # A second call finds the good cached file and does not download.
  assert mnist.download(url="file:///nonexistent/mnist.npz") == path


def test_mnist_download_with_explicit_checksum(isolated_home, tmp_path):
  source = tmp_path / "small.npz"
  digest = _fake_npz(source)
  cache = tmp_path / "cache"
  path = mnist.download(url=source.as_uri(), cache_dir=str(cache),
                        sha256=digest)
  (x_train, y_train), (x_test, _) = mnist.load_data(path)
  assert x_train.shape == (6, 28, 28) and x_test.shape == (4, 28, 28)
  assert len(y_train) == 6


def test_mnist_download_rejects_corrupt_file(isolated_home, tmp_path):
  corrupt = tmp_path / "corrupt.npz"
  corrupt.write_bytes(b"not mnist at all" * 1000)
  cache = tmp_path / "cache"
  with pytest.raises(ValueError, match="sha256") as err:
    mnist.download(url=corrupt.as_uri(), cache_dir=str(cache))
  assert "nothing was written" in str(err.value)
  assert not cache.exists()
  # With an existing cache folder, nothing is left in it either.
  cache.mkdir()
  with pytest.raises(ValueError):
    mnist.download(url=corrupt.as_uri(), cache_dir=str(cache))
  assert list(cache.iterdir()) == []


def test_mnist_download_bad_url_leaves_nothing(tmp_path):
  cache = tmp_path / "cache"
  with pytest.raises(OSError):
    mnist.download(url=(tmp_path / "missing.npz").as_uri(),
                   cache_dir=str(cache))
  assert not cache.exists()


def test_mnist_missing_file_error(isolated_home):
  with pytest.raises(FileNotFoundError) as err:
    mnist.load_data()
  msg = str(err.value)
  assert str(isolated_home / "hk_home" / "datasets" / "mnist.npz") in msg
  assert str(isolated_home / "home" / ".keras" / "datasets" /
             "mnist.npz") in msg
  assert "download()" in msg
  with pytest.raises(FileNotFoundError, match="No MNIST file at"):
    mnist.load_data(isolated_home / "nope.npz")


def test_mnist_found_in_keras_cache(isolated_home):
  keras_cache = isolated_home / "home" / ".keras" / "datasets"
  keras_cache.mkdir(parents=True)
  _fake_npz(keras_cache / "mnist.npz", n_train=3, n_test=2)
  (x_train, _), (x_test, _) = mnist.load_data()
  assert len(x_train) == 3 and len(x_test) == 2


def test_mnist_wrong_format(tmp_path):
  path = tmp_path / "other.npz"
  np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8))
  with pytest.raises(ValueError, match="lacks.*y_train"):
    mnist.load_data(path)
  np.savez(path, x_train=np.zeros((2, 28, 28), np.uint8),
           y_train=np.zeros(3, np.uint8), x_test=np.zeros((1, 28, 28)),
           y_test=np.zeros(1))
  with pytest.raises(ValueError, match="inconsistent train"):
    mnist.load_data(path)


def test_mnist_refuses_pickled_arrays(tmp_path):
  path = tmp_path / "pickled.npz"
  obj = np.array([{"a": 1}], dtype=object)
  np.savez(path, x_train=obj, y_train=obj, x_test=obj, y_test=obj)
  with pytest.raises(ValueError, match="allow_pickle"):
    mnist.load_data(path)
