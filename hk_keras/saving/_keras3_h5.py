"""Reading (checked) and writing the HDF5 weights of a Keras 3 file.

A weights file may be hostile, so every object is checked before it is
read: each path component must be an ordinary (hard) link to a group or a
dataset (soft and external links are refused: they can point outside the
file); a dataset must hold plain numbers (no object, string, variable
length, compound or reference dtypes, so nothing is ever unpickled or
decoded), keep its data inside the file (no external storage, no virtual
dataset) and have exactly the shape the model expects, and its bytes are
taken from the load's byte budget before the array is allocated.
Only the paths the model's layout names are looked at. Every problem raises
`SavingError` naming the file, the path and, where known, the layer.

h5py is an optional dependency (the `keras3` extra).
"""
import io
from typing import Dict, List, Optional, Sequence

import numpy as np

from ._archive import SavingError

_BFLOAT16 = "bfloat16"


def h5py_module():
  try:
    import h5py  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise ImportError(
        "Reading and writing Keras 3 files (.keras with HDF5 weights, "
        ".weights.h5) needs h5py: pip install 'hk_keras[keras3]' (or pip "
        "install h5py).") from None
  return h5py


# What h5py raises for a corrupt, truncated or crafted file.
_H5_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError)


class H5Reader:
  """A Keras 3 weights file opened for checked reading.

  Args:
    source: a path, or bytes (the member of a `.keras` zip).
    where: the file (and member) for messages.
    budget: the load's `_reader.Budget`.
  """

  def __init__(self, source, where: str, budget):
    h5py = h5py_module()
    self.where, self.budget = where, budget
    fileobj = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
      self.file = h5py.File(fileobj, "r")
    except _H5_ERRORS as err:
      raise SavingError(
          f"{where} is not a readable HDF5 weights file: it is truncated, "
          f"corrupt or not HDF5 ({type(err).__name__}: {err}).") from None

  def close(self):
    try:
      self.file.close()
    except _H5_ERRORS:
      pass

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()

  # -- navigation ---------------------------------------------------------------
  def _child(self, parent, name: str, path: str):
    """`parent[name]` if it is a hard link; None if absent."""
    h5py = h5py_module()
    try:
      link = parent.get(name, getlink=True)
      if link is None:
        return None
      if not isinstance(link, h5py.HardLink):
        raise SavingError(
            f"{self.where}: {path!r} is a {type(link).__name__}; a weights "
            "file holds only ordinary groups and datasets (soft and external "
            "links can point outside the file, so they are refused).")
      return parent[name]
    except SavingError:
      raise
    except _H5_ERRORS as err:
      raise SavingError(f"{self.where}: {path!r} cannot be read; the file is "
                        f"corrupt or truncated ({type(err).__name__}: {err})."
                        ) from None

  def get(self, path: str):
    """The object at `path` (checked component by component), or None."""
    node, done = self.file, []
    for part in path.split("/"):
      done.append(part)
      node = self._child(node, part, "/".join(done))
      if node is None:
        return None
    return node

  def group(self, path: str):
    h5py = h5py_module()
    node = self.get(path)
    if node is not None and not isinstance(node, h5py.Group):
      raise SavingError(f"{self.where}: {path!r} should be a group but is a "
                        f"{type(node).__name__}. The file is corrupt or "
                        "crafted.")
    return node

  def count(self, path: str) -> int:
    group = self.group(path)
    if group is None:
      return 0
    try:
      return len(group)
    except _H5_ERRORS as err:
      raise SavingError(f"{self.where}: {path!r} cannot be read ({err}).") \
          from None

  # -- datasets -----------------------------------------------------------------
  def read(self, path: str, shape: Optional[Sequence[int]],
           layer: str) -> np.ndarray:
    """The dataset at `path`, which must have `shape` (checked first; None:
    any shape, its bytes still taken from the budget before reading)."""
    h5py = h5py_module()
    dset = self.get(path)
    if dset is None:
      raise SavingError(f"{self.where} has no weight {path!r} (layer "
                        f"{layer!r}); the file was written by a model with a "
                        "different architecture.")
    if not isinstance(dset, h5py.Dataset):
      raise SavingError(f"{self.where}: {path!r} (layer {layer!r}) should be "
                        "a dataset. The file is corrupt or crafted.")
    try:
      dtype = dset.dtype
      external = dset.external
      virtual = dset.is_virtual
      have = tuple(int(d) for d in dset.shape) if dset.shape is not None \
          else None
      bf16 = dset.attrs.get("dtype", None) if "dtype" in dset.attrs else None
    except _H5_ERRORS as err:
      raise SavingError(f"{self.where}: the header of {path!r} cannot be read "
                        f"({type(err).__name__}: {err}).") from None
    if isinstance(bf16, bytes):
      bf16 = bf16.decode("utf-8", "replace")
    raw16 = bf16 == _BFLOAT16 and dtype.itemsize == 2 and dtype.kind in "uiV" \
        and dtype.names is None
    if not raw16 and dtype.kind not in "biuf" or dtype.names is not None or (
        dtype.subdtype is not None) or h5py.check_vlen_dtype(dtype) or (
            h5py.check_string_dtype(dtype)) or h5py.check_ref_dtype(dtype):
      raise SavingError(
          f"{self.where}: {path!r} (layer {layer!r}) has dtype {dtype}; "
          "weights are plain numbers (object, string, compound and reference "
          "data is refused, so nothing is decoded or unpickled).")
    if external:
      raise SavingError(f"{self.where}: {path!r} (layer {layer!r}) keeps its "
                        "data in external files, which is refused (a weights "
                        "file must be self-contained).")
    if virtual:
      raise SavingError(f"{self.where}: {path!r} (layer {layer!r}) is a "
                        "virtual dataset, which is refused (it maps data from "
                        "other files).")
    if shape is None:
      shape = have if have is not None else ()
    if have != tuple(shape):
      raise SavingError(
          f"{self.where}: weight {path!r} of layer {layer!r} has shape {have} "
          f"in the file, but the model expects {tuple(shape)}. The file was "
          "written by a model with a different architecture (or is crafted); "
          "nothing was read.")
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    self.budget.take(nbytes, f"weight {path!r}")
    try:
      if raw16:
        out = np.asarray(dset[()])
      else:
        out = np.empty(tuple(shape), dtype.newbyteorder("="))
        if out.size:
          dset.read_direct(out)
    except _H5_ERRORS as err:
      raise SavingError(f"{self.where}: the data of {path!r} (layer "
                        f"{layer!r}) cannot be read: the file is truncated or "
                        f"corrupt ({type(err).__name__}: {err}).") from None
    if raw16:
      import ml_dtypes  # pylint: disable=g-import-not-at-top
      out = out.view(ml_dtypes.bfloat16).reshape(tuple(shape))
    return out

  def read_vars(self, path: str, shapes: List[Sequence[int]],
                layer: str) -> List[np.ndarray]:
    """The datasets `path/0 .. path/n-1`, n = len(shapes), exactly."""
    found = self.count(path)
    if found != len(shapes):
      raise SavingError(
          f"{self.where}: layer {layer!r} has {found} weights in the file "
          f"(group {path!r}), but the model's layer has {len(shapes)}. The "
          "file was written by a model with a different architecture.")
    return [self.read(f"{path}/{i}", s, layer) for i, s in enumerate(shapes)]


  def read_group(self, path: str, layer: str) -> Dict[str, np.ndarray]:
    """Every dataset of the group `path` by key (a layer's whole store, for
    its `load_own_variables`), each checked as `read` checks."""
    group = self.group(path)
    if group is None:
      return {}
    try:
      keys = list(group.keys())
    except _H5_ERRORS as err:
      raise SavingError(f"{self.where}: {path!r} cannot be read ({err}).") \
          from None
    if len(keys) > 100000:
      raise SavingError(f"{self.where}: {path!r} lists {len(keys):,} entries; "
                        "the file is corrupt or crafted.")
    return {k: self.read(f"{path}/{k}", None, layer) for k in keys}


def write_h5(groups, arrays_of, optimizer_vars=None) -> bytes:
  """The bytes of a Keras 3 weights file.

  Args:
    groups: `_keras3_layout.Group`s, in order.
    arrays_of: a function from a group to its arrays (Keras order), or to
      a `{key: array}` store (a layer's `save_own_variables`).
    optimizer_vars: `(name, [arrays])` of the optimizer, or None.
  """
  h5py = h5py_module()
  buffer = io.BytesIO()
  with h5py.File(buffer, "w") as f:
    for g in groups:
      group = f.require_group(g.path)
      group.attrs["name"] = g.name
      arrays = arrays_of(g)  # a list, or a layer's store (a dict)
      items = arrays.items() if isinstance(arrays, dict) else (
          (str(i), a) for i, a in enumerate(arrays))
      for key, array in items:
        _write(group, key, array)
    if optimizer_vars is not None:
      name, values = optimizer_vars
      group = f.require_group("optimizer/vars")
      group.attrs["name"] = name
      for i, array in enumerate(values):
        _write(group, str(i), array)
  return buffer.getvalue()


def _write(group, key, array):
  array = np.asarray(array)
  if array.dtype.name == _BFLOAT16:
    dset = group.create_dataset(key, data=array)  # as Keras writes it
    dset.attrs["dtype"] = _BFLOAT16
  else:
    group.create_dataset(key, data=array)
