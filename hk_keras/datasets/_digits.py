"""The UCI handwritten digits, shipped inside the package."""

import functools
import gzip
import importlib.resources
import io
from typing import Tuple

import numpy as np

from ._files import sha256_of_bytes

DIGITS_SHA256 = (
    "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22")
NUM_EXAMPLES = 1797

Split = Tuple[np.ndarray, np.ndarray]


@functools.lru_cache(maxsize=1)
def _read_all() -> Split:
  """Reads, checks and parses the packaged CSV (cached; callers copy)."""
  resource = importlib.resources.files(__package__).joinpath(
      "data/digits.csv.gz")
  try:
    raw = resource.read_bytes()
  except FileNotFoundError as err:
    raise FileNotFoundError(
        "The packaged digits file hk_keras/datasets/data/digits.csv.gz is "
        "missing; the installation is incomplete (reinstall hk_keras).") \
        from err
  got = sha256_of_bytes(raw)
  if got != DIGITS_SHA256:
    raise ValueError(
        "The packaged digits file is corrupt: its sha256 is "
        f"{got}, expected {DIGITS_SHA256}. Reinstall hk_keras.")
  table = np.loadtxt(io.StringIO(gzip.decompress(raw).decode("ascii")),
                     delimiter=",", dtype=np.int64, ndmin=2)
  if table.shape != (NUM_EXAMPLES, 65):
    raise ValueError(
        f"Unexpected digits table shape {table.shape}; expected "
        f"({NUM_EXAMPLES}, 65).")
  images = table[:, :64].reshape(-1, 8, 8).astype(np.uint8)
  labels = table[:, 64].astype(np.uint8)
  images.setflags(write=False)
  labels.setflags(write=False)
  return images, labels


def load_data(test_split: float = 0.2, seed: int = 113
              ) -> Tuple[Split, Split]:
  """Loads the UCI handwritten digits, split into train and test sets.

  The 1797 grey-scale 8x8 images of the digits 0..9 (the test part of the
  UCI "Optical Recognition of Handwritten Digits" data, CC BY 4.0) ship
  inside hk_keras, so this works offline. The file's sha256 is checked on
  load. The examples are shuffled with `np.random.RandomState(seed)` (a
  stream NumPy keeps stable across versions) and the first
  `int(1797 * (1 - test_split))` become the training set, so the same
  arguments always give the same split.

  Args:
    test_split: Fraction of the examples kept for testing, in [0, 1).
    seed: Seed of the shuffle before splitting.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: images as `uint8` arrays of
    shape `(N, 8, 8)` with values 0..16 (not 0..255; divide by 16 to scale
    to [0, 1]) and labels as `uint8` arrays of shape `(N,)` with values
    0..9. With the defaults N is 1437 and 360.

  Raises:
    ValueError: If `test_split` is outside [0, 1), or the packaged file is
      corrupt.

  >>> (x_train, y_train), (x_test, y_test) = load_data()
  >>> x_train.shape, x_test.shape
  ((1437, 8, 8), (360, 8, 8))
  """
  if isinstance(test_split, bool) or not 0.0 <= test_split < 1.0:
    raise ValueError(
        "`test_split` must be a float in [0, 1). Received: "
        f"test_split={test_split!r}")
  images, labels = _read_all()
  order = np.random.RandomState(seed).permutation(len(labels))
  n_train = int(len(labels) * (1 - test_split))
  train, test = order[:n_train], order[n_train:]
  return (images[train], labels[train]), (images[test], labels[test])
