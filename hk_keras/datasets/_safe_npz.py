"""Reading Keras's dataset files without running code from them.

CIFAR batches are pickles and the IMDB/Reuters `.npz` files hold object
arrays (lists of word indices), which NumPy stores with pickle. Both are read
with `_safe_unpickle`, which interprets only the pickle opcodes of NumPy
arrays, lists, dicts, numbers and strings and never imports or calls what a
file names; anything else is refused with `UnsafePickleError`.
"""
import io
import zipfile

import numpy as np

from ._safe_unpickle import UnsafePickleError, loads

__all__ = ["UnsafePickleError", "load_npz", "load_pickle"]


def load_pickle(path, encoding="bytes"):
  """The object in the pickle file `path` (a CIFAR batch), safely."""
  with open(path, "rb") as f:
    return loads(f.read(), encoding=encoding, where=str(path))


def _read_member(fp, where):
  version = np.lib.format.read_magic(fp)
  if version == (1, 0):
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
  else:
    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
  if dtype.hasobject:
    array = loads(fp.read(), encoding="latin1", where=where)
    if (not isinstance(array, np.ndarray) or array.dtype != object
        or array.shape != shape):
      raise UnsafePickleError(
          f"Cannot read {where}: its header promises an object array of "
          f"shape {shape}, but the pickle holds {type(array).__name__} "
          f"{getattr(array, 'shape', '')}. The file may be corrupt or "
          "malicious; delete it from the cache and download it again.")
    return array
  data = np.frombuffer(fp.read(), dtype=dtype)
  order = "F" if fortran else "C"
  return data.reshape(shape, order=order).copy(order="K")


def load_npz(path):
  """`{name: array}` from an `.npz` file, object arrays included, safely."""
  out = {}
  with zipfile.ZipFile(path) as archive:
    for name in archive.namelist():
      key = name[:-4] if name.endswith(".npy") else name
      out[key] = _read_member(io.BytesIO(archive.read(name)),
                              f"{path} (member {name})")
  return out
