"""Files on disk: atomic writes, the `.keras` zip and `.npz` array files.

Arrays are stored with NumPy's `.npy` format and read back with
`allow_pickle=False`, so loading never unpickles anything. Dtypes NumPy has
no `.npy` code for (bfloat16, float8...) are stored as unsigned integers of
the same width, their real dtype listed in a `__dtypes__` entry.
"""
import hashlib
import io
import json
import os
import tempfile
import time
import zipfile
from typing import Callable, Dict, Mapping

import numpy as np

DTYPES_KEY = "__dtypes__"


class SavingError(ValueError):
  """A saved file is missing, corrupt or does not fit the model."""


def atomic_write(path: str, write: Callable) -> None:
  """Writes `path` through a temporary file in the same directory.

  `write(fileobj)` fills the temporary file; it is flushed, fsync'ed and
  then renamed over `path` with `os.replace`, which is atomic: a crash or
  kill at any point leaves either the old file or the new one, never a
  partial file. The temporary file is removed on failure.
  """
  path = os.fspath(path)
  from ..distribution import is_chief  # pylint: disable=g-import-not-at-top
  if not is_chief():
    return  # multi-host: only process 0 writes checkpoints
  directory = os.path.dirname(os.path.abspath(path))
  if not os.path.isdir(directory):
    raise FileNotFoundError(
        f"Cannot save to {path!r}: the directory {directory!r} does not "
        "exist. Create it first (os.makedirs).")
  remove_stale_temporaries(path)
  fd, tmp = tempfile.mkstemp(
      dir=directory, prefix=f".{os.path.basename(path)}.{os.getpid()}.",
      suffix=".tmp")
  try:
    with os.fdopen(fd, "wb") as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    try:
      os.unlink(tmp)
    except OSError:
      pass
    raise
  try:  # Make the rename itself durable (POSIX; best effort elsewhere).
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
      os.fsync(dir_fd)
    finally:
      os.close(dir_fd)
  except OSError:
    pass


_LEGACY_TEMP_AGE_S = 3600


def _alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except (PermissionError, OSError):
    return True  # exists (another user's) or unknown: leave it
  return True


def remove_stale_temporaries(path: str) -> None:
  """Removes temporary files that interrupted writes of `path` left.

  A temporary file is `.<name>.<pid>.<random>.tmp`; it is stale when its
  process no longer runs (a write in flight in another live process is left
  alone). Files without a pid (older hk_keras) go after an hour.
  """
  directory = os.path.dirname(os.path.abspath(path))
  prefix = "." + os.path.basename(path) + "."
  try:
    entries = os.listdir(directory)
  except OSError:
    return
  now = time.time()
  for entry in entries:
    if not (entry.startswith(prefix) and entry.endswith(".tmp")):
      continue
    middle = entry[len(prefix):-len(".tmp")]
    pid, _, rest = middle.partition(".")
    full = os.path.join(directory, entry)
    try:
      if pid.isdigit() and rest:
        stale = int(pid) != os.getpid() and not _alive(int(pid))
      else:
        stale = now - os.path.getmtime(full) > _LEGACY_TEMP_AGE_S
      if stale:
        os.unlink(full)
    except OSError:
      pass


def sha256(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


# -- arrays ---------------------------------------------------------------------------

def _storable(array: np.ndarray):
  """(array NumPy can write, real dtype name if it had to be reinterpreted)."""
  if array.dtype.kind == "V" or array.dtype.names is not None or (
      array.dtype.kind == "O"):
    if array.dtype.kind == "O" or array.dtype.names is not None:
      raise TypeError(f"Cannot save an array of dtype {array.dtype}.")
    width = array.dtype.itemsize * 8
    return array.view(np.dtype(f"uint{width}")), str(array.dtype)
  return array, None


def write_npz(f, arrays: Mapping[str, np.ndarray],
              extra: Mapping[str, bytes] = None) -> None:
  """Writes `arrays` (and JSON `extra` entries as uint8 arrays) as `.npz`."""
  out, dtypes = {}, {}
  for key, value in arrays.items():
    array = np.asarray(value)
    out[key], real = _storable(array)
    if real is not None:
      dtypes[key] = real
  for key, data in (extra or {}).items():
    out[key] = np.frombuffer(data, np.uint8)
  if dtypes:
    out[DTYPES_KEY] = np.frombuffer(json.dumps(dtypes).encode(), np.uint8)
  np.savez(f, **out)


def npz_bytes(arrays, extra=None) -> bytes:
  buffer = io.BytesIO()
  write_npz(buffer, arrays, extra)
  return buffer.getvalue()


def read_npz(source, where: str) -> Dict[str, np.ndarray]:
  """Reads every array of an `.npz` (a path or bytes), pickle disabled.

  Raises:
    SavingError: naming `where` when the file is truncated or corrupt.
  """
  if isinstance(source, bytes):
    source = io.BytesIO(source)
  try:
    with np.load(source, allow_pickle=False) as npz:
      arrays = {key: npz[key] for key in npz.files}
  except FileNotFoundError:
    raise
  except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as err:
    raise SavingError(
        f"{where} is not a readable .npz array file (truncated or corrupt: "
        f"{err}). If a process was killed while writing it, the previous "
        "file of that name is still valid only if hk_keras wrote it (writes "
        "are atomic); otherwise save again.") from err
  dtypes = arrays.pop(DTYPES_KEY, None)
  if dtypes is not None:
    import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
    for key, name in json.loads(dtypes.tobytes().decode()).items():
      arrays[key] = arrays[key].view(jnp.dtype(name))
  return arrays


def json_entry(arrays: Dict[str, np.ndarray], key: str):
  """Pops and parses a JSON document stored as a uint8 array entry."""
  data = arrays.pop(key, None)
  return None if data is None else json.loads(data.tobytes().decode())


# -- the .keras zip -------------------------------------------------------------------

def write_zip(f, members: Mapping[str, bytes]) -> None:
  with zipfile.ZipFile(f, "w") as zf:
    for name, data in members.items():
      compression = (zipfile.ZIP_DEFLATED if name.endswith(".json")
                     else zipfile.ZIP_STORED)
      zf.writestr(name, data, compress_type=compression)


def read_zip(path: str) -> Dict[str, bytes]:
  """All members of the `.keras` zip at `path`.

  Raises:
    FileNotFoundError: if there is no file.
    SavingError: if it is not a zip, or truncated, or a member fails its
      CRC check.
  """
  path = os.fspath(path)
  if not os.path.exists(path):
    raise FileNotFoundError(f"No saved model at {path!r}.")
  try:
    with zipfile.ZipFile(path, "r") as zf:
      return {name: zf.read(name) for name in zf.namelist()}
  except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
          ValueError) as err:
    raise SavingError(
        f"{path!r} is not a valid .keras file: the zip archive is corrupt or "
        f"truncated ({err}). Use a complete file written by model.save().") \
        from err
