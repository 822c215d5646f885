"""California housing prices (Keras's source and sha256): `load_data`."""
from . import _remote
from ._sources import GCS


def load_data(version="large", path="california_housing.npz",
              test_split=0.2, seed=113):
  """Loads California housing as Keras's `load_data(...)`.

  Args:
    version: "large" (20,640 samples) or "small" (the first 600).

  Returns:
    `(x_train, y_train), (x_test, y_test)`: features `(N, 8)`, prices `(N,)`.

  Raises:
    ValueError: on another `version` or a `test_split` outside [0, 1).
  """
  if version not in ("small", "large"):
    raise ValueError("Argument `version` must be one of 'small', 'large'. "
                     f"Received: version={version!r}")
  return _remote.load_housing(path, GCS + "california_housing.npz",
                              _remote.CALIFORNIA_SHA256, test_split, seed,
                              limit=600 if version == "small" else None)


__all__ = ["load_data"]
