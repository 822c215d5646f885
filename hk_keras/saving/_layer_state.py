"""Layers' own saved state: `save_own_variables` stores and `save_assets` files.

Every layer of a model (the model itself and nested layers and models
included) has a path, as in Keras 3's object walk: a model's layers are
`layers/<snake_case class name>` (numbered `_1`, `_2`, ... among layers of
the same class), a layer's sublayers the attribute that holds them
(`layers/my_block/dense1`), a list of them `<attribute>/<class name>_<n>`;
the model itself is the empty path.

Own variables: for each layer whose class overrides `save_own_variables` or
`load_own_variables`, the store it fills is saved as arrays
`own_variables/<path>/vars/<key>` (a `.keras` file's `own_variables.npz`
member, or entries of a `.weights.npz`). Its weights are also saved as
usual, so a file stays readable when the class changes. At load, after the
weights are set, each such layer's `load_own_variables` gets its store back
(numeric arrays only; a key it lacks raises `KeyError` naming the layer and
the key).

Assets: the files a layer's `save_assets(dir)` writes are archive members
`assets/<path>/<file>`, each listed with its size and sha256 in
`metadata.json`. At load they are checked (names without `..`, absolute
parts or backslashes; sizes against the byte budget; checksums), written to
a fresh temporary directory, and each overriding layer's `load_assets` gets
its directory; the directory is removed afterwards.
"""
import os
import posixpath
import re
import shutil
import tempfile
from typing import Dict, Iterator, List, Tuple

import jax
import numpy as np

from ._archive import SavingError

OWN_PREFIX = "own_variables/"
ASSETS_PREFIX = "assets/"
MAX_ASSET_FILES = 4096
_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")


def _base():
  from ..layers import _layer_saving  # pylint: disable=g-import-not-at-top
  return _layer_saving.LayerSaving


def overrides(layer, *methods) -> bool:
  base = _base()
  return any(getattr(type(layer), m, None) is not getattr(base, m)
             for m in methods)


def _snake(name: str) -> str:
  from . import _keras3_layout  # pylint: disable=g-import-not-at-top
  return _keras3_layout.snake_case(name)


def _is_model(layer) -> bool:
  from ..models import _model  # pylint: disable=g-import-not-at-top
  return isinstance(layer, _model.Model)


def _join(*parts) -> str:
  return "/".join(p for p in parts if p)


def _numbered(parent: str, layers) -> Iterator[Tuple[str, object]]:
  used = {}
  for layer in layers:
    base = _snake(type(layer).__name__)
    count = used.get(base, 0)
    used[base] = count + 1
    yield _join(parent, base if count == 0 else f"{base}_{count}"), layer


def _children(layer, path: str) -> Iterator[Tuple[str, object]]:
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  if _is_model(layer):
    yield from _numbered(_join(path, "layers"), layer.layers)
  tracked = layer.__dict__.get("_tracked_layers") or []
  attrs = sorted((k, v) for k, v in vars(layer).items()
                 if not k.startswith("_"))
  for name, value in attrs:
    if isinstance(value, _layer.Layer) and any(value is t for t in tracked):
      yield _join(path, name), value
    elif isinstance(value, (list, tuple)) and value and all(
        isinstance(v, _layer.Layer) for v in value):
      yield from _numbered(_join(path, name), value)


def walk(model) -> List[Tuple[str, object]]:
  """`(path, layer)` of the model and every layer under it, each once."""
  out, seen = [], set()

  def visit(path, layer):
    if id(layer) in seen:
      return
    seen.add(id(layer))
    out.append((path, layer))
    for child_path, child in _children(layer, path):
      visit(child_path, child)

  visit("", model)
  return out


# -- own variables --------------------------------------------------------------

class Store(dict):
  """One layer's store: string keys, numeric arrays; a missing key says
  which layer and which keys there are."""

  def __init__(self, layer_name: str, path: str, items=()):
    super().__init__(items)
    self.layer_name, self.path = layer_name, path

  def __setitem__(self, key, value):
    if not isinstance(key, str) or not _KEY.match(key):
      raise ValueError(
          f"Layer {self.layer_name!r}: save_own_variables wrote the key "
          f"{key!r}; store keys are non-empty strings of letters, digits, "
          "'_', '-' and '.'.")
    if hasattr(value, "dtype") and not isinstance(value, np.ndarray):
      value = jax.device_get(value)
    array = np.asarray(value)
    if array.dtype.kind not in "biufc" and array.dtype.name != "bfloat16" or (
        array.dtype.names is not None):
      raise TypeError(
          f"Layer {self.layer_name!r}: save_own_variables wrote "
          f"store[{key!r}] of dtype {array.dtype} ({type(value).__name__}); "
          "a store holds numeric arrays only (a saved file holds no objects). "
          "Save text or other data with save_assets instead.")
    super().__setitem__(key, array)

  def __getitem__(self, key):
    try:
      return super().__getitem__(key)
    except KeyError:
      raise KeyError(
          f"Layer {self.layer_name!r} (path {self.path or '<model>'!r}): the "
          f"saved store has no key {key!r}; it holds {sorted(self)}. The "
          "file was written by a layer that saved other entries (another "
          "version of its save_own_variables).") from None


def _stored_layers(model):
  return [(p, l) for p, l in walk(model)
          if overrides(l, "save_own_variables", "load_own_variables")]


def own_variable_arrays(model) -> Dict[str, np.ndarray]:
  """`{own_variables/<path>/vars/<key>: array}` of every layer overriding
  the hooks (empty when none does)."""
  out = {}
  for path, layer in _stored_layers(model):
    store = Store(layer.name, path)
    layer.save_own_variables(store)
    for key, array in store.items():
      out[OWN_PREFIX + _join(path, "vars", key)] = array
  return out


def _split(entry: str, where: str) -> Tuple[str, str]:
  rest = entry[len(OWN_PREFIX):]
  if rest.startswith("vars/"):
    path, key = "", rest[len("vars/"):]
  else:
    path, sep, key = rest.rpartition("/vars/")
    if not sep:
      path = None
  if path is None or not _KEY.match(key or ""):
    raise SavingError(f"{where}: the entry {entry!r} is not a layer store "
                      "entry (own_variables/<path>/vars/<key>). The file is "
                      "corrupt or crafted.")
  return path, key


def load_own_variables(model, npz, where: str) -> None:
  """Gives each overriding layer its saved store (`npz`: a `_reader.Npz`
  or None when the file has no stores)."""
  layers = _stored_layers(model)
  entries = [k for k in npz.keys() if k.startswith(OWN_PREFIX)] if (
      npz is not None) else []
  by_path: Dict[str, List[Tuple[str, str]]] = {}
  for entry in entries:
    path, key = _split(entry, where)
    by_path.setdefault(path, []).append((key, entry))
  known = {p for p, _ in layers}
  unknown = sorted(p or "<model>" for p in by_path if p not in known)
  if unknown:
    raise SavingError(
        f"{where} holds saved stores (save_own_variables) of layers "
        f"{unknown[:6]} that model {model.name!r} does not have or whose "
        "class no longer overrides save_own_variables/load_own_variables "
        f"(its layers with stores: {sorted(p or '<model>' for p in known)[:6]}"
        "). The file was written by a model of another architecture.")
  for path, layer in layers:
    if path in by_path:
      store = Store(layer.name, path,
                    ((k, npz.read(e)) for k, e in by_path[path]))
    else:  # written before the class overrode the hooks: its weights
      store = Store(layer.name, path)
      _base().save_own_variables(layer, store)
    try:
      layer.load_own_variables(store)
    except (ValueError, KeyError, TypeError) as err:
      message = err.args[0] if isinstance(err, KeyError) and err.args else err
      raise SavingError(f"{where}: loading the saved store of layer "
                        f"{layer.name!r} (path {path or '<model>'!r}) "
                        f"failed: {message}") from err


# -- assets ---------------------------------------------------------------------

def asset_members(model) -> Dict[str, bytes]:
  """`{assets/<path>/<file>: bytes}` of every layer overriding
  `save_assets` (the files each writes into its directory)."""
  layers = [(p, l) for p, l in walk(model) if overrides(l, "save_assets")]
  if not layers:
    return {}
  root = tempfile.mkdtemp(prefix="hk_keras_assets_")
  try:
    for path, layer in layers:
      directory = os.path.join(root, *path.split("/")) if path else root
      os.makedirs(directory, exist_ok=True)
      layer.save_assets(directory)
    out = {}
    for current, dirs, files in os.walk(root):
      for name in sorted(dirs):
        if os.path.islink(os.path.join(current, name)):
          raise ValueError(f"save_assets wrote a symbolic link "
                           f"{os.path.join(current, name)!r}; assets are "
                           "plain files.")
      for name in sorted(files):
        full = os.path.join(current, name)
        if os.path.islink(full) or not os.path.isfile(full):
          raise ValueError(f"save_assets wrote {full!r}, which is not a plain "
                           "file (links and devices are not saved).")
        rel = os.path.relpath(full, root).replace(os.sep, "/")
        with open(full, "rb") as f:
          out[ASSETS_PREFIX + rel] = f.read()
    if len(out) > MAX_ASSET_FILES:
      raise ValueError(f"The layers' save_assets wrote {len(out)} files; a "
                       f".keras file holds at most {MAX_ASSET_FILES}. Pack "
                       "them into fewer files.")
    return out
  finally:
    shutil.rmtree(root, ignore_errors=True)


def check_asset_name(name: str, where: str) -> List[str]:
  """The path components of archive member `name` (`assets/...`), refusing
  anything that could leave the extraction directory."""
  rest = name[len(ASSETS_PREFIX):]
  parts = rest.split("/")
  bad = (not rest or "\\" in name or "\x00" in name or name.startswith("/")
         or posixpath.isabs(rest) or any(p in ("", ".", "..") for p in parts)
         or ":" in parts[0] or len(name) > 1024)
  if bad:
    raise SavingError(
        f"{where} holds the asset member {name!r}, whose name could write "
        "outside the assets directory (an empty, '.', '..' or absolute part, "
        "a backslash or a drive). The file is corrupt or crafted; nothing "
        "was extracted.")
  return parts


def extract_assets(archive, names, budget, where: str, checksums=None) -> str:
  """Writes the asset members `names` of `archive` (a `_reader.Archive`)
  into a new temporary directory and returns it (the caller removes it).

  Every name is checked first, each size is taken from `budget`, each
  member is read no further than its declared size and, with `checksums`
  (`{name: {"sha256", "bytes"}}` of metadata.json), must match its entry.
  """
  import hashlib  # pylint: disable=g-import-not-at-top
  from . import _reader  # pylint: disable=g-import-not-at-top
  if len(names) > MAX_ASSET_FILES:
    raise SavingError(f"{where} holds {len(names)} asset files; at most "
                      f"{MAX_ASSET_FILES} are read.")
  plan = [(name, check_asset_name(name, where)) for name in names]
  for name, _ in plan:
    if checksums is not None and name not in checksums:
      raise SavingError(f"{archive.where(name)} is not listed in "
                        "metadata.json: the file was modified after saving.")
    budget.take(archive.declared(name), f"asset {name!r}")
  if checksums is not None:
    missing = [n for n in checksums if n.startswith(ASSETS_PREFIX) and
               n not in set(names)]
    if missing:
      raise SavingError(f"{where} is incomplete: the assets {missing[:4]} are "
                        "listed in metadata.json but missing.")
  root = tempfile.mkdtemp(prefix="hk_keras_assets_")
  try:
    real_root = os.path.realpath(root)
    for name, parts in plan:
      target = os.path.join(root, *parts)
      if not os.path.realpath(target).startswith(real_root + os.sep):
        raise SavingError(f"{where}: the asset {name!r} resolves outside the "
                          "assets directory; nothing more was extracted.")
      os.makedirs(os.path.dirname(target), exist_ok=True)
      size = archive.declared(name)
      with archive.open(name) as src:
        data = _reader.read_limited(src, size, archive.where(name))
      if len(data) != size:
        raise SavingError(f"{archive.where(name)} holds {len(data):,} bytes "
                          f"but declares {size:,}; the file is corrupt.")
      if checksums is not None:
        entry = checksums[name]
        if entry.get("bytes") != size or (
            hashlib.sha256(data).hexdigest() != entry.get("sha256")):
          raise SavingError(
              f"{archive.where(name)} does not match the size and checksum "
              "recorded in metadata.json: the file was modified or damaged "
              "after saving.")
      with open(target, "xb") as dst:
        dst.write(data)
    return root
  except BaseException:
    shutil.rmtree(root, ignore_errors=True)
    raise


def load_assets(model, root: str) -> None:
  """Calls each overriding layer's `load_assets` with its directory."""
  for path, layer in walk(model):
    if not overrides(layer, "load_assets"):
      continue
    directory = os.path.join(root, *path.split("/")) if path else root
    os.makedirs(directory, exist_ok=True)
    layer.load_assets(directory)
