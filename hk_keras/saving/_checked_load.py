"""Loading a `.keras` or `.weights.npz` file with every check first.

The order of a load, each step bounded by the one before:

1. the zip's directory (entry count and size) before it is parsed; only
   the members the format names are looked at;
2. `metadata.json`, then `config.json`: declared size at most
   `MAX_JSON_BYTES`, read with that limit, parsed with a depth limit,
   shape-checked (`_schema`), checksummed;
3. the rebuild from config, under `_load_guard`: before any layer
   allocates, the weight shapes the architecture implies are compared with
   the `.npy` headers of the file's arrays, and their total with the byte
   limit;
4. the weights member: its declared size must not exceed what the
   architecture implies, its checksum is streamed, then each array is read
   into an allocation of exactly its checked size;
5. the optimizer state: at most `OPTIMIZER_FACTOR` times the weights.
"""
import collections
import os
import zipfile
from typing import Dict, List

import numpy as np

from . import _reader
from . import _schema
from ._archive import SavingError

CONFIG, METADATA = "config.json", "metadata.json"
WEIGHTS, OPTIMIZER = "model.weights.npz", "optimizer.npz"
OWN = "own_variables.npz"  # layers' save_own_variables stores
MEMBERS = (CONFIG, METADATA, WEIGHTS, OPTIMIZER, OWN)
ASSETS = "assets/"  # files of layers' save_assets, one member each
_WEIGHT_PREFIXES = ("params/", "state/")
_TRAIN_SCALARS = ("rng", "step")
_TRAIN_PREFIXES = ("opt_state", "loss_scale/")
_OWN_PREFIX = "own_variables/"


def _nbytes(shape, dtype) -> int:
  return int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize


def _allowance(count: int) -> int:
  return count * _reader.PER_ARRAY_OVERHEAD + _reader.FIXED_OVERHEAD


class KerasFile:
  """An opened `.keras` file: metadata and config read and checked; the
  arrays are read later, against the architecture."""

  def __init__(self, filepath: str, format_name: str, format_version: int,
               max_bytes=None):
    self.filepath = filepath
    self.where = repr(filepath)
    self.budget = _reader.Budget(_reader.max_load_bytes(max_bytes),
                                 self.where)
    self.archive = _reader.Archive(filepath, MEMBERS, (ASSETS,))
    try:
      self._open(format_name, format_version)
    except BaseException:
      self.archive.close()
      raise

  def _open(self, format_name, format_version):
    archive = self.archive
    for name in (METADATA, CONFIG, WEIGHTS):
      if not archive.has(name):
        raise SavingError(
            f"{self.where} is not a complete hk_keras .keras file: it has no "
            f"{name!r} (members: {sorted(archive.infos)}). The file is "
            "truncated or corrupt, or was written by another program (Keras's "
            "own .keras files hold .h5 weights).")
    for name in (WEIGHTS, OPTIMIZER, OWN):
      if archive.has(name) and (
          archive.infos[name].compress_type != zipfile.ZIP_STORED):
        raise SavingError(
            f"{archive.where(name)} is compressed; hk_keras stores arrays "
            "uncompressed (so that they can be checked before they are read). "
            "The file was not written by hk_keras.")
      if archive.has(name) and archive.declared(name) > self.budget.limit:
        raise _reader.too_big(archive.where(name), "this member",
                              archive.declared(name), self.budget.limit)
    metadata, _ = archive.read_json(METADATA, self.budget)
    self.metadata = _schema.keras_metadata(
        metadata, _schema.Where(archive.where(METADATA)), format_name,
        MEMBERS)
    version = self.metadata["format_version"]
    if version > format_version:
      raise SavingError(
          f"{archive.where(METADATA)}: the file uses format version "
          f"{version}, newer than this "
          f"hk_keras reads ({format_version}); upgrade hk_keras.")
    files = self.metadata["files"]
    for name in (CONFIG, WEIGHTS, OPTIMIZER, OWN):
      if not archive.has(name):
        if name in files:
          raise SavingError(f"{self.where} is incomplete: {name!r} is listed "
                            f"in {METADATA} but missing from the archive.")
        continue
      if name not in files:
        raise SavingError(f"{archive.where(name)} is not listed in "
                          f"{METADATA}: the file was modified after saving.")
      if files[name]["bytes"] != archive.declared(name):
        raise SavingError(
            f"{archive.where(name)} holds {archive.declared(name):,} bytes but "
            f"{METADATA} records {files[name]['bytes']:,}: the file was "
            "modified or damaged after saving.")
    config, digest = archive.read_json(CONFIG, self.budget)
    self._check_sum(CONFIG, digest)
    self.config = _schema.keras_config(
        config, _schema.Where(archive.where(CONFIG)), format_name)
    self.weights = _reader.Npz(lambda: archive.open(WEIGHTS),
                               archive.declared(WEIGHTS),
                               archive.where(WEIGHTS), self.budget)
    self.optimizer = None
    if archive.has(OPTIMIZER):
      self.optimizer = _reader.Npz(lambda: archive.open(OPTIMIZER),
                                   archive.declared(OPTIMIZER),
                                   archive.where(OPTIMIZER), self.budget)
    self.own = None
    if archive.has(OWN):
      self.own = _reader.Npz(lambda: archive.open(OWN), archive.declared(OWN),
                             archive.where(OWN), self.budget)
    self._verified = {CONFIG}

  def _check_sum(self, name, digest):
    expected = self.metadata["files"][name]["sha256"]
    if digest != expected:
      raise SavingError(
          f"{self.where} is corrupt: the checksum of {name!r} does not match "
          f"the one recorded when it was saved (sha256 {expected}). The file "
          "was modified or damaged after saving.")

  def verify(self, name, limit: int) -> None:
    """Checks member `name`'s declared size against `limit` (what the
    architecture implies), then its checksum (streamed)."""
    if name in self._verified:
      return
    size = self.archive.declared(name)
    if size > limit:
      raise SavingError(
          f"{self.archive.where(name)} holds {size:,} bytes, more than the "
          f"{limit:,} the architecture in {CONFIG} implies. The file is "
          "corrupt or crafted.")
    self._check_sum(name, self.archive.sha256(name))
    self._verified.add(name)

  def close(self):
    for npz in (self.weights, self.optimizer, self.own):
      if npz is not None:
        npz.close()
    self.archive.close()

  def own_variables(self):
    """The `own_variables.npz` member (checked), or None."""
    if self.own is None:
      return None
    self.verify(OWN, self.budget.left)
    return self.own

  def asset_names(self):
    return list(self.archive.prefixed)

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


class WeightsFile:
  """An opened `.weights.npz` (one `.npz`, metadata as `__metadata__`)."""

  def __init__(self, filepath: str, format_name: str, metadata_key: str,
               max_bytes=None):
    self.filepath = filepath
    self.where = repr(filepath)
    if not os.path.exists(filepath):
      raise FileNotFoundError(f"No weights file at {filepath!r}.")
    self.budget = _reader.Budget(_reader.max_load_bytes(max_bytes),
                                 self.where)
    size = os.path.getsize(filepath)
    self.weights = _reader.Npz(lambda: open(filepath, "rb"), size,  # pylint: disable=consider-using-with
                               self.where, self.budget)
    try:
      metadata = {}
      if metadata_key in self.weights:
        metadata = self.weights.json(metadata_key)
      self.metadata = _schema.weights_metadata(
          metadata, _schema.Where(f"{self.where} (entry {metadata_key!r})"),
          format_name)
    except BaseException:
      self.weights.close()
      raise
    self.metadata_key = metadata_key
    self.optimizer = self.weights  # the train state shares the file

  def own_variables(self):
    return self.weights  # stores are `own_variables/...` entries

  def verify(self, name, limit):
    del name, limit  # one npz: every entry is checked against its header

  def close(self):
    self.weights.close()

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


# -- weights against an architecture -------------------------------------------

def _abstract_weights(params, state) -> Dict[str, object]:
  out = {}
  for kind, tree in (("params", params), ("state", state)):
    for module, leaves in tree.items():
      for name, leaf in leaves.items():
        out[f"{kind}/{module}/{name}"] = leaf
  return out


def _signature(key, shape):
  kind, rest = key.split("/", 1)
  return kind, rest.rsplit("/", 1)[-1], tuple(shape)


def weight_keys(npz) -> List[str]:
  return [k for k in npz.keys() if k.startswith(_WEIGHT_PREFIXES)]


def build_check(kfile: KerasFile):
  """The `_load_guard` check of a rebuild from `kfile`'s config."""

  def check(model, params, state):
    expected = _abstract_weights(params, state)
    total = sum(_nbytes(s.shape, s.dtype) for s in expected.values())
    if total > kfile.budget.limit:
      raise _reader.too_big(
          f"{kfile.where} (member {CONFIG!r})",
          f"the architecture of model {model.name!r}", total,
          kfile.budget.limit)
    npz = kfile.weights
    others = [k for k in npz.keys() if not k.startswith(_WEIGHT_PREFIXES)]
    if others:
      raise SavingError(f"{npz.where} holds entries that are not weights: "
                        f"{others[:6]}. The file is corrupt or crafted.")
    headers = npz.headers(weight_keys(npz))
    if set(expected) <= set(headers):
      for key, s in expected.items():
        if tuple(headers[key].shape) != tuple(s.shape):
          raise SavingError(
              f"{kfile.where}: the architecture in {CONFIG} gives weight "
              f"{key!r} of model {model.name!r} shape {tuple(s.shape)}, but "
              f"{WEIGHTS} holds shape {tuple(headers[key].shape)}. The config "
              "and the weights do not belong together (corrupt or edited "
              "file); nothing was allocated.")
      return
    # Module names may differ (weights are then matched by creation order
    # after the build): compare what does not depend on them.
    have = collections.Counter(_signature(k, h.shape)
                               for k, h in headers.items())
    need = collections.Counter(_signature(k, s.shape)
                               for k, s in expected.items())
    lacking = need - have
    if lacking:
      kind, name, shape = next(iter(lacking))
      raise SavingError(
          f"{kfile.where}: the architecture in {CONFIG} needs a {kind} weight "
          f"{name!r} of shape {shape} (model {model.name!r}), which "
          f"{WEIGHTS} does not hold. The config and the weights do not belong "
          "together (corrupt or edited file); nothing was allocated.")

  return check


def read_weights(model, source, listing, match) -> Dict[str, str]:
  """Reads the weights `model` needs from `source` and sets them.

  `match(model, headers, order, where)` pairs model records with headers
  (`_weights.match_weights`). Returns the module renaming.
  """
  from . import _weights  # pylint: disable=g-import-not-at-top
  records = list(model._records)  # pylint: disable=protected-access
  total = sum(_nbytes(r.shape, r.dtype) for r in records)
  source.verify(WEIGHTS, total + _allowance(len(records)))
  npz = source.weights
  headers = npz.headers(weight_keys(npz))
  order = [w["path"] for w in listing]
  pairs, rename = match(model, headers, order, source.where)
  _weights.set_weights(model, [(r, npz.read(h.key)) for r, h in pairs])
  return rename


def read_train(model, source) -> Dict[str, np.ndarray]:
  """The saved train-state arrays, bounded by the model's weights."""
  npz = source.optimizer
  if npz is None:
    return {}
  keys = [k for k in npz.keys() if not k.startswith(_WEIGHT_PREFIXES) and
          not k.startswith(_OWN_PREFIX) and
          k != getattr(source, "metadata_key", None)]
  if not keys:
    return {}
  records = list(model._records) if model.built else []  # pylint: disable=protected-access
  weights = sum(_nbytes(r.shape, r.dtype) for r in records)
  largest = max([_nbytes(r.shape, r.dtype) for r in records] + [64])
  limit = _reader.OPTIMIZER_FACTOR * weights + 2**20
  source.verify(OPTIMIZER, limit + _allowance(len(keys)))
  total = 0
  for key in keys:
    if not (key in _TRAIN_SCALARS or key.startswith(_TRAIN_PREFIXES)):
      raise SavingError(f"{npz.where} holds an entry {key!r} that is neither "
                        "a weight nor part of the train state. The file is "
                        "corrupt or crafted.")
    header = npz.header(key)
    if key in _TRAIN_SCALARS:
      if header.nbytes > 64 or (key == "step" and header.shape != ()):
        raise SavingError(f"{npz.where}: {key!r} must be a scalar (step) or a "
                          f"short key (rng); found shape {header.shape}.")
    elif header.nbytes > largest:
      raise SavingError(
          f"{npz.where}: the optimizer state entry {key!r} has shape "
          f"{header.shape}, larger than any weight of model "
          f"{model.name!r}. The file is corrupt or crafted.")
    total += header.nbytes
  if total > limit:
    raise SavingError(
        f"{npz.where}: the optimizer state holds {total:,} bytes, more than "
        f"{_reader.OPTIMIZER_FACTOR} times the model's weights. The file is "
        "corrupt or crafted.")
  return {key: npz.read(key) for key in keys}
