"""MNIST from a local file in Keras's `mnist.npz` format."""

import os
from typing import Optional, Tuple, Union

import numpy as np

from . import _files

# sha256 of the project's reference copy (re-serialised with
# np.savez_compressed) and of the file Keras 3 downloads; both hold the same
# canonical arrays.
MNIST_SHA256 = (
    "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64")
KERAS_MNIST_SHA256 = (
    "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")
KERAS_MNIST_URL = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz")
FILENAME = "mnist.npz"
_KEYS = ("x_train", "y_train", "x_test", "y_test")

Split = Tuple[np.ndarray, np.ndarray]


def _default_paths():
  return [os.path.join(d, FILENAME) for d in _files.cache_dirs()]


def download(url: str = KERAS_MNIST_URL, cache_dir: Optional[str] = None,
             sha256: Optional[str] = None, force: bool = False) -> str:
  """Downloads `mnist.npz` into the cache, checking its sha256.

  The file is written to a temporary name and renamed into place only
  after its checksum matched, so an interrupted or corrupt download leaves
  nothing behind. An existing cached file with an accepted checksum is kept
  unless `force` is set.

  Args:
    url: Where to fetch the file; defaults to Keras's public copy. Any URL
      urllib supports works, including `file:///path/to/mnist.npz`.
    cache_dir: Folder to store it in. Defaults to `$HK_KERAS_HOME/datasets`
      when `HK_KERAS_HOME` is set, else `~/.keras/datasets` (Keras's cache).
    sha256: The expected hex digest. By default both known MNIST files are
      accepted: the project's copy (`06af5dfe...`) and Keras's
      (`731c5ac6...`).
    force: Download again even if a good file is already cached.

  Returns:
    The path of the cached file.

  Raises:
    ValueError: If the downloaded file's checksum is not accepted.
    OSError: If the download fails (e.g. `urllib.error.URLError`).

  >>> path = download("file:///data/mnist.npz", cache_dir="/tmp/cache")  # doctest: +SKIP
  """
  accepted = [sha256] if sha256 else [MNIST_SHA256, KERAS_MNIST_SHA256]
  if cache_dir is None:
    cache_dir = _files.cache_dirs()[0]
  path = os.path.join(os.path.expanduser(cache_dir), FILENAME)
  if (not force and os.path.isfile(path)
      and _files.sha256_of_file(path) in {a.lower() for a in accepted}):
    return path
  return _files.download(url, path, accepted)


def load_data(path: Optional[Union[str, os.PathLike]] = None
              ) -> Tuple[Split, Split]:
  """Loads MNIST from a local file in Keras's `mnist.npz` format.

  Nothing is downloaded here (see `download`). The file is read with
  `np.load(..., allow_pickle=False)`, so it cannot run code.

  Args:
    path: The `.npz` file. If None, the first existing of
      `$HK_KERAS_HOME/datasets/mnist.npz` (when `HK_KERAS_HOME` is set) and
      `~/.keras/datasets/mnist.npz` is used.

  Returns:
    `(x_train, y_train), (x_test, y_test)` as in Keras: `uint8` images of
    shape `(60000, 28, 28)` and `(10000, 28, 28)` with values 0..255 and
    `uint8` labels 0..9.

  Raises:
    FileNotFoundError: If no file is found; the message lists where it
      looked and how to get the file.
    ValueError: If the file lacks one of the four arrays or their shapes
      do not fit together.

  >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
  """
  if path is None:
    candidates = _default_paths()
    path = _files.first_existing(candidates)
    if path is None:
      raise FileNotFoundError(
          "MNIST was not found. Looked for: "
          f"{', '.join(candidates)}. To get it, call "
          "`hk_keras.datasets.mnist.download()` (needs internet access; "
          "`download(url='file:///path/to/mnist.npz')` copies a local file "
          "into the cache), copy Keras's `mnist.npz` to one of those paths, "
          "or pass `load_data(path=...)`.")
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"No MNIST file at {path!r}. Pass the path of a Keras-format "
        "`mnist.npz`, or call `hk_keras.datasets.mnist.download()`.")
  with np.load(path, allow_pickle=False) as f:
    missing = [k for k in _KEYS if k not in f.files]
    if missing:
      raise ValueError(
          f"{path!r} is not in Keras's mnist.npz format: it lacks "
          f"{missing}. Expected arrays {list(_KEYS)}; found {f.files}.")
    x_train, y_train, x_test, y_test = (f[k] for k in _KEYS)
  for x, y, part in ((x_train, y_train, "train"), (x_test, y_test, "test")):
    if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
      raise ValueError(
          f"{path!r} has inconsistent {part} arrays: x_{part} shape "
          f"{x.shape}, y_{part} shape {y.shape}; expected (N, 28, 28) and "
          "(N,).")
  return (x_train, y_train), (x_test, y_test)
