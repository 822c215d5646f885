"""Reading saved files that may be hostile: check sizes, then read.

Nothing is inflated before it is checked. A zip's directory is looked at
before it is parsed (entry count and size), only the members the format
names are opened, JSON is read with a byte limit and parsed with a depth
limit, and an array is allocated only after its `.npy` header has been
parsed and checked (a numeric dtype, a shape the caller accepts, a size
within the byte budget); its data is then streamed into the allocation, so
a member that inflates to more than it declared cannot grow memory.

Every problem raises `SavingError` naming the file, the member and what
was wrong.
"""
import hashlib
import json
import os
import struct
import tokenize
import zipfile
import zlib
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from ._archive import DTYPES_KEY
from ._archive import SavingError

# Limits. `max_bytes` (argument of load_model/load_weights, or the
# environment variable below) bounds the total bytes a load reads; the
# others bound what no genuine file comes near.
DEFAULT_MAX_BYTES = 4 * 2**30
MAX_BYTES_ENV = "HK_KERAS_MAX_LOAD_BYTES"
MAX_JSON_BYTES = 64 * 2**20
MAX_JSON_DEPTH = 100
# A `.keras` file's fixed members, plus the files layers save as assets
# (`_layer_state.MAX_ASSET_FILES`).
MAX_ARCHIVE_MEMBERS = 64 + 4096
# Zip and .npy bookkeeping allowed per array on top of its data bytes.
PER_ARRAY_OVERHEAD = 4096
FIXED_OVERHEAD = 2**16
# The optimizer state of every optax optimizer hk_keras offers is at most a
# few copies of the trainable weights (Adam: 2) plus scalars.
OPTIMIZER_FACTOR = 8
_CHUNK = 2**20
_EOCD = b"PK\x05\x06"


def max_load_bytes(value=None) -> int:
  """The byte limit of one load: `value`, else the environment, else 4 GiB.

  Raises:
    ValueError: if the value is not a positive integer.
  """
  source = "max_bytes"
  if value is None:
    value = os.environ.get(MAX_BYTES_ENV)
    source = MAX_BYTES_ENV
    if value is None:
      return DEFAULT_MAX_BYTES
    try:
      value = int(value)
    except ValueError:
      raise ValueError(f"{MAX_BYTES_ENV} must be a positive integer number of "
                       f"bytes. Received: {value!r}") from None
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or (
      value <= 0):
    raise ValueError(f"{source} must be a positive integer number of bytes. "
                     f"Received: {value!r}")
  return int(value)


def too_big(where, what, size, limit) -> SavingError:
  return SavingError(
      f"{where}: {what} needs {size:,} bytes, more than the load limit of "
      f"{limit:,} bytes. If you trust this file and the model is genuinely "
      f"this large, raise the limit: load_model(path, max_bytes=...) / "
      f"model.load_weights(path, max_bytes=...), or set the environment "
      f"variable {MAX_BYTES_ENV}.")


class Budget:
  """Bytes a load may still allocate for arrays and JSON."""

  def __init__(self, limit: int, where: str):
    self.limit = limit
    self.left = limit
    self.where = where

  def take(self, size: int, what: str) -> None:
    if size > self.left:
      raise too_big(self.where, what, self.limit - self.left + size,
                    self.limit)
    self.left -= size


# -- JSON ----------------------------------------------------------------------

def _depth(value) -> int:
  """The nesting depth of a parsed JSON value (iteratively)."""
  deepest, stack = 0, [(value, 1)]
  while stack:
    item, depth = stack.pop()
    if isinstance(item, (list, dict)):
      deepest = max(deepest, depth)
      if depth > MAX_JSON_DEPTH:
        return depth
      children = item.values() if isinstance(item, dict) else item
      stack.extend((c, depth + 1) for c in children
                   if isinstance(c, (list, dict)))
  return deepest


def parse_json(data: bytes, where: str):
  """Parses UTF-8 JSON, refusing nesting deeper than `MAX_JSON_DEPTH`."""
  try:
    value = json.loads(data.decode("utf-8"))
  except RecursionError:
    raise SavingError(
        f"{where} is nested more deeply than JSON in a saved file may be "
        f"(limit {MAX_JSON_DEPTH} levels). The file is corrupt or crafted."
    ) from None
  except (UnicodeDecodeError, ValueError) as err:
    raise SavingError(f"{where} is not valid UTF-8 JSON ({err}). The file is "
                      "corrupt or was not written by hk_keras.") from None
  if _depth(value) > MAX_JSON_DEPTH:
    raise SavingError(
        f"{where} is nested more deeply than JSON in a saved file may be "
        f"(limit {MAX_JSON_DEPTH} levels). The file is corrupt or crafted.")
  return value


def read_limited(f, limit: int, where: str) -> bytes:
  """At most `limit` bytes of `f`; more is an error."""
  data = f.read(limit + 1)
  if len(data) > limit:
    raise SavingError(f"{where} is larger than the {limit:,} bytes allowed "
                      "for it. The file is corrupt or crafted.")
  return data


# -- zip directories -----------------------------------------------------------

def _check_directory(f, size: int, max_entries: int, max_dir_bytes: int,
                     where: str) -> None:
  """Refuses a zip whose directory is out of proportion, before parsing it.

  Reads only the end-of-central-directory record. Zip64 archives (a field
  saturated) are left to `zipfile`; their size was bounded by the caller.
  """
  tail = min(size, 22 + 2**16)
  f.seek(size - tail)
  data = f.read(tail)
  at = data.rfind(_EOCD)
  if at < 0 or len(data) - at < 22:
    return  # not a zip: zipfile gives the error
  _, _, _, entries, dir_size, _, _ = struct.unpack(
      "<HHHHIIH", data[at + 4:at + 22])
  if entries == 0xFFFF or dir_size == 0xFFFFFFFF:
    return
  if entries > max_entries or dir_size > max_dir_bytes:
    raise SavingError(
        f"{where} lists {entries} zip entries in a {dir_size:,}-byte "
        f"directory; a file of this format has at most {max_entries} "
        "entries. The file is corrupt or crafted.")


def _open_zip(f, size, max_entries, where, kind="zip archive"):
  try:
    _check_directory(f, size, max_entries, max_entries * 1024 + 2**16, where)
    f.seek(0)
    return zipfile.ZipFile(f, "r")
  except SavingError:
    raise
  except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
          ValueError, struct.error, NotImplementedError, zlib.error) as err:
    raise SavingError(
        f"{where} is not a valid {kind}: the zip is corrupt or truncated "
        f"({type(err).__name__}: {err}). Use a complete file written by "
        "hk_keras (writes are atomic: a killed save leaves the previous "
        "file).") from None


def _read_error(where, err) -> SavingError:
  return SavingError(
      f"{where} could not be read: it is corrupt or truncated "
      f"({type(err).__name__}: {err}).")


_READ_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError,
                NotImplementedError, struct.error, zlib.error)


def _stream_hash(f) -> Tuple[str, int]:
  digest, total = hashlib.sha256(), 0
  while True:
    chunk = f.read(_CHUNK)
    if not chunk:
      return digest.hexdigest(), total
    digest.update(chunk)
    total += len(chunk)


class Archive:
  """The `.keras` zip: only named members (and those under `prefixes`, such
  as `assets/`), each read with a size check."""

  def __init__(self, path: str, members, prefixes=()):
    self.path = path
    if not os.path.exists(path):
      raise FileNotFoundError(f"No saved model at {path!r}.")
    self._file = open(path, "rb")  # pylint: disable=consider-using-with
    try:
      size = os.fstat(self._file.fileno()).st_size
      self._zip = _open_zip(self._file, size, MAX_ARCHIVE_MEMBERS,
                            f"{path!r}", ".keras file")
    except BaseException:
      self._file.close()
      raise
    self.infos = {}
    self.prefixed = []
    for info in self._zip.infolist():
      name = info.filename
      if name in members:
        self.infos[name] = info  # the last of duplicates, as zipfile
      elif prefixes and name.startswith(tuple(prefixes)) and (
          not name.endswith("/")):  # (directory entries hold nothing)
        if name in self.infos:
          self.close()
          raise SavingError(f"{path!r} holds the member {name!r} twice. The "
                            "file is corrupt or crafted.")
        self.infos[name] = info
        self.prefixed.append(name)

  def where(self, name: str) -> str:
    return f"{self.path!r} (member {name!r})"

  def has(self, name: str) -> bool:
    return name in self.infos

  def declared(self, name: str) -> int:
    return self.infos[name].file_size

  def open(self, name: str):
    try:
      return self._zip.open(self.infos[name])
    except _READ_ERRORS as err:
      raise _read_error(self.where(name), err) from None

  def read_json(self, name: str, budget: Budget):
    """(parsed JSON, sha256 of its bytes)."""
    where = self.where(name)
    size = self.declared(name)
    if size > MAX_JSON_BYTES:
      raise SavingError(f"{where} declares {size:,} bytes; a JSON member may "
                        f"have at most {MAX_JSON_BYTES:,}. The file is corrupt "
                        "or crafted.")
    budget.take(size, f"member {name!r}")
    try:
      with self.open(name) as f:
        data = read_limited(f, MAX_JSON_BYTES, where)
    except SavingError:
      raise
    except _READ_ERRORS as err:
      raise _read_error(where, err) from None
    return parse_json(data, where), hashlib.sha256(data).hexdigest()

  def sha256(self, name: str) -> str:
    """Streams the member through sha256 (bounded memory)."""
    try:
      with self.open(name) as f:
        return _stream_hash(f)[0]
    except SavingError:
      raise
    except _READ_ERRORS as err:
      raise _read_error(self.where(name), err) from None

  def close(self):
    self._zip.close()
    self._file.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


# -- .npz ----------------------------------------------------------------------

class Header(NamedTuple):
  """What an `.npy` header declares (nothing is allocated for it)."""
  key: str
  shape: Tuple[int, ...]
  dtype: np.dtype
  fortran: bool
  offset: int  # bytes of magic + header

  @property
  def nbytes(self) -> int:
    return int(np.prod(self.shape, dtype=object)) * self.dtype.itemsize


def _dtype_ok(dtype: np.dtype) -> bool:
  return dtype.kind in "biufc" and dtype.names is None and (
      not dtype.hasobject) and dtype.subdtype is None


class Npz:
  """An `.npz` read lazily: headers first, data only when asked for.

  Args:
    opener: a function returning a fresh seekable binary file of the npz.
    size: its size in bytes (already bounded by the caller).
    where: the file (and member) for messages.
    budget: the load's byte budget; every array read takes from it.
  """

  def __init__(self, opener, size: int, where: str, budget: Budget):
    self._opener, self._size = opener, size
    self.where, self.budget = where, budget
    self._file = self._zip = None
    self._infos: Optional[Dict[str, zipfile.ZipInfo]] = None
    self._headers: Dict[str, Header] = {}
    self._real_dtypes = None

  def _member_where(self, key):
    return f"{self.where}, array {key!r}"

  def _open(self):
    if self._infos is not None:
      return
    self._file = self._opener()
    # A genuine npz has one entry per array (a few per weight at most).
    limit = max(16, self._size // 64)
    self._zip = _open_zip(self._file, self._size, limit, self.where,
                          ".npz array file")
    infos = {}
    for info in self._zip.infolist():
      name = info.filename
      if not name.endswith(".npy") or "/" == name[:1] or "\\" in name:
        raise SavingError(f"{self.where} holds an entry {name!r} that is not "
                          "an array (.npy); the file is corrupt or crafted.")
      infos[name[:-4]] = info
    self._infos = infos

  def keys(self):
    self._open()
    return [k for k in self._infos if k != DTYPES_KEY]

  def __contains__(self, key):
    self._open()
    return key in self._infos

  def header(self, key: str) -> Header:
    """The checked header of array `key` (numeric dtype, sane size)."""
    if key in self._headers:
      return self._headers[key]
    self._open()
    where = self._member_where(key)
    info = self._infos[key]
    try:
      with self._zip.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
          shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
        elif version in ((2, 0), (3, 0)):
          shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
        else:
          raise ValueError(f"unknown .npy version {version}")
        offset = f.tell()
    # (MemoryError: Python's parser gives it for a header nested too deeply;
    # the header is at most 10,000 bytes, so nothing large was allocated.)
    except (_READ_ERRORS + (SyntaxError, TypeError, KeyError, MemoryError,
                            tokenize.TokenError, RecursionError)) as err:
      raise SavingError(f"{where} has a corrupt .npy header ({err}).") \
          from None
    dtype = np.dtype(dtype)
    if not _dtype_ok(dtype):
      raise SavingError(f"{where} has dtype {dtype}; saved weights are plain "
                        "numbers (object, structured and void arrays are "
                        "refused, so nothing is ever unpickled).")
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
      raise SavingError(f"{where} declares the impossible shape {shape}.")
    header = Header(key, shape, dtype, bool(fortran), offset)
    if info.file_size != offset + header.nbytes:
      raise SavingError(
          f"{where} declares shape {shape} of {dtype} ({header.nbytes:,} "
          f"bytes), but its entry holds {info.file_size - offset:,} data "
          "bytes. The file is truncated, corrupt or crafted.")
    self._headers[key] = header
    return header

  def headers(self, keys=None) -> Dict[str, Header]:
    return {k: self.header(k) for k in (self.keys() if keys is None else keys)}

  def read(self, key: str) -> np.ndarray:
    """Array `key`: header checked, budget taken, then data streamed in."""
    header = self.header(key)
    where = self._member_where(key)
    self.budget.take(header.nbytes, f"array {key!r}")
    out = np.empty(header.shape, header.dtype,
                   order="F" if header.fortran else "C")
    view = memoryview(out.reshape(-1, order="A").view(np.uint8)) if (
        out.size) else memoryview(b"")
    try:
      with self._zip.open(self._infos[key]) as f:
        f.seek(header.offset)
        filled = 0
        while filled < header.nbytes:
          n = f.readinto(view[filled:filled + _CHUNK])
          if not n:
            raise EOFError(f"data ends after {filled:,} of "
                           f"{header.nbytes:,} bytes")
          filled += n
        f.read(1)  # reach the end, so zipfile checks the CRC
    except _READ_ERRORS as err:
      raise _read_error(where, err) from None
    real = self.real_dtypes().get(key)
    if real is not None:
      out = out.view(real)
    return out

  def json(self, key: str):
    """A JSON document stored as a 1-D uint8 array."""
    header = self.header(key)
    if header.dtype != np.uint8 or len(header.shape) != 1 or (
        header.nbytes > MAX_JSON_BYTES):
      raise SavingError(f"{self._member_where(key)} must be a JSON document "
                        "(a 1-D uint8 array of at most "
                        f"{MAX_JSON_BYTES:,} bytes); found shape "
                        f"{header.shape} of {header.dtype}.")
    return parse_json(self.read(key).tobytes(), self._member_where(key))

  def real_dtypes(self) -> Dict[str, np.dtype]:
    """`__dtypes__`: the real dtype of arrays stored as unsigned ints."""
    if self._real_dtypes is not None:
      return self._real_dtypes
    self._real_dtypes = {}
    self._open()
    if DTYPES_KEY not in self._infos:
      return self._real_dtypes
    table = self.json(DTYPES_KEY)
    where = self._member_where(DTYPES_KEY)
    if not isinstance(table, dict):
      raise SavingError(f"{where} must map array names to dtype names; found "
                        f"{type(table).__name__}.")
    import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
    out = {}
    for key, name in table.items():
      if key not in self._infos or key == DTYPES_KEY:
        raise SavingError(f"{where} names {key!r}, which is not an array of "
                          "the file.")
      try:
        real = jnp.dtype(name)
      except TypeError:
        raise SavingError(f"{where} gives {key!r} the unknown dtype "
                          f"{name!r}.") from None
      stored = self.header(key).dtype
      if real.itemsize != stored.itemsize or real.hasobject:
        raise SavingError(f"{where} gives {key!r} dtype {name!r}, which does "
                          f"not have the width of its stored {stored}.")
      out[key] = real
    self._real_dtypes = out
    return out

  def dtype(self, key: str) -> np.dtype:
    return self.real_dtypes().get(key, self.header(key).dtype)

  def close(self):
    if self._zip is not None:
      self._zip.close()
    if self._file is not None:
      self._file.close()
    self._zip = self._file = None
    self._infos = None
