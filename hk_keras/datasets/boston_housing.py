"""Boston housing prices (Keras's source and sha256): `load_data`."""
from . import _remote
from ._sources import GCS


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
  """Loads Boston housing as `keras.datasets.boston_housing.load_data()`.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: float features `(N, 13)` and
    prices `(N,)`, shuffled with `seed` before the split.

  Raises:
    ValueError: if `test_split` is not in [0, 1).
  """
  return _remote.load_housing(path, GCS + "boston_housing.npz",
                              _remote.BOSTON_SHA256, test_split, seed)


__all__ = ["load_data"]
