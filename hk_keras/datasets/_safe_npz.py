"""Reading Keras's dataset files without running code from them.

CIFAR batches are pickles and the IMDB/Reuters `.npz` files hold object
arrays (lists of word indices), which NumPy stores with pickle. A pickle can
run any code, so these are read with an unpickler that only rebuilds NumPy
arrays and dtypes (plus the plain lists, dicts, ints and bytes the pickle
protocol itself encodes); anything else is refused.
"""
import io
import pickle
import zipfile

import numpy as np

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class RestrictedUnpickler(pickle.Unpickler):
  """Rebuilds NumPy arrays only; every other global is refused."""

  def find_class(self, module, name):
    if (module, name) in _ALLOWED:
      return super().find_class(module, name)
    raise pickle.UnpicklingError(
        f"Refusing to load `{module}.{name}` from a dataset file: only NumPy "
        "arrays are allowed. The file may be corrupt or malicious; delete it "
        "from the cache and download it again.")


def load_pickle(path, encoding="bytes"):
  with open(path, "rb") as f:
    return RestrictedUnpickler(f, encoding=encoding).load()


def _read_member(fp):
  version = np.lib.format.read_magic(fp)
  if version == (1, 0):
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
  else:
    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
  if dtype.hasobject:
    array = RestrictedUnpickler(fp, encoding="latin1").load()
    return np.asarray(array, dtype=object).reshape(shape)
  data = np.frombuffer(fp.read(), dtype=dtype)
  order = "F" if fortran else "C"
  return data.reshape(shape, order=order).copy()


def load_npz(path):
  """`{name: array}` from an `.npz` file, object arrays included, safely."""
  out = {}
  with zipfile.ZipFile(path) as archive:
    for name in archive.namelist():
      key = name[:-4] if name.endswith(".npy") else name
      out[key] = _read_member(io.BytesIO(archive.read(name)))
  return out
