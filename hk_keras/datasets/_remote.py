"""Fashion-MNIST, IMDB, Reuters, Boston and California housing, from the
files Keras 3 downloads (same URLs and hashes), read without pickle code."""
import gzip
import json
import os

import numpy as np

from . import _safe_npz
from . import _sources

FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
IMDB_SHA256 = (
    "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")
IMDB_WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"
REUTERS_SHA256 = (
    "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916")
REUTERS_WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
BOSTON_SHA256 = (
    "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5")
CALIFORNIA_SHA256 = (
    "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f")


def _check_split(test_split):
  if not 0 <= test_split < 1:
    raise ValueError(
        f"Invalid `test_split` argument: {test_split}. It must be in [0, 1).")


def load_fashion_mnist():
  paths = [_sources.fetch(f, _sources.GCS + f,
                          cache_subdir=os.path.join("datasets",
                                                    "fashion-mnist"))
           for f in FASHION_FILES]
  def read(path, offset):
    with gzip.open(path, "rb") as f:
      return np.frombuffer(f.read(), np.uint8, offset=offset)
  y_train, y_test = read(paths[0], 8), read(paths[2], 8)
  x_train = read(paths[1], 16).reshape(len(y_train), 28, 28)
  x_test = read(paths[3], 16).reshape(len(y_test), 28, 28)
  return (x_train, y_train), (x_test, y_test)


def _shuffle(rng, *arrays):
  order = np.arange(len(arrays[0]))
  rng.shuffle(order)
  return [a[order] for a in arrays]


def _index_words(xs, start_char, index_from):
  if start_char is not None:
    return [[start_char] + [w + index_from for w in x] for x in xs]
  if index_from:
    return [[w + index_from for w in x] for x in xs]
  return [list(x) for x in xs]


def _drop_long(maxlen, xs, labels):
  keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
  return [xs[i] for i in keep], np.asarray(labels)[keep]


def _cut_vocabulary(xs, num_words, skip_top, oov_char):
  if not num_words:
    num_words = max(max(x) for x in xs)
  if oov_char is not None:
    return [[w if skip_top <= w < num_words else oov_char for w in x]
            for x in xs]
  return [[w for w in x if skip_top <= w < num_words] for x in xs]


def load_imdb(path="imdb.npz", num_words=None, skip_top=0, maxlen=None,
              seed=113, start_char=1, oov_char=2, index_from=3, **kwargs):
  if kwargs:
    raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
  f = _safe_npz.load_npz(_sources.fetch(path, _sources.GCS + "imdb.npz",
                                        IMDB_SHA256))
  rng = np.random.RandomState(seed)
  x_train, y_train = _shuffle(rng, f["x_train"], f["y_train"])
  x_test, y_test = _shuffle(rng, f["x_test"], f["y_test"])
  x_train = _index_words(x_train, start_char, index_from)
  x_test = _index_words(x_test, start_char, index_from)
  if maxlen:
    x_train, y_train = _drop_long(maxlen, x_train, y_train)
    x_test, y_test = _drop_long(maxlen, x_test, y_test)
    if not x_train or not x_test:
      raise ValueError(f"After filtering for sequences shorter than "
                       f"maxlen={maxlen}, no sequence was kept. Increase "
                       "maxlen.")
  xs = _cut_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
  labels = np.concatenate([y_train, y_test])
  n = len(x_train)
  return ((_objects(xs[:n]), labels[:n]), (_objects(xs[n:]), labels[n:]))


def _objects(lists):
  # As Keras: equal-length lists become a 2D object array.
  return np.array(lists, dtype="object")


def load_reuters(path="reuters.npz", num_words=None, skip_top=0, maxlen=None,
                 test_split=0.2, seed=113, start_char=1, oov_char=2,
                 index_from=3):
  f = _safe_npz.load_npz(_sources.fetch(path, _sources.GCS + "reuters.npz",
                                        REUTERS_SHA256))
  xs, labels = _shuffle(np.random.RandomState(seed), f["x"], f["y"])
  xs = _index_words(xs, start_char, index_from)
  if maxlen:
    xs, labels = _drop_long(maxlen, xs, labels)
  xs = _cut_vocabulary(xs, num_words, skip_top, oov_char)
  idx = int(len(xs) * (1 - test_split))
  return ((_objects(xs[:idx]), np.array(labels[:idx])),
          (_objects(xs[idx:]), np.array(labels[idx:])))


def word_index(path, url, md5):
  with open(_sources.fetch(path, url, md5), encoding="utf-8") as f:
    return json.load(f)


def load_housing(path, url, sha256, test_split, seed, limit=None):
  _check_split(test_split)
  with np.load(_sources.fetch(path, url, sha256), allow_pickle=False) as f:
    x, y = f["x"], f["y"]
  if limit:
    x, y = x[:limit], y[:limit]
  x, y = _shuffle(np.random.RandomState(seed), x, y)
  cut = int(len(x) * (1 - test_split))
  return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]),
                                                  np.array(y[cut:]))
