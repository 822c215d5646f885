"""`save_model` / `load_model`, `.weights.npz` files, and the `Model` mixin.

A `.keras` file is a zip of:

* `config.json`: `{"format", "format_version", "model", "compile_config",
  "train_state"}`; `model` is the serialized model (class, registered name,
  `get_config()`: for Functional the layers and their call graph), and
  `train_state` holds the shuffle seed and step count;
* `metadata.json`: hk_keras/JAX/Haiku versions, the date, the format
  version, the sha256 and size of every other member, and the weight
  listing (path, layer, shape, dtype, in creation order);
* `model.weights.npz`: params and Haiku state as `params/<module>/<name>`
  and `state/<module>/<name>`;
* `optimizer.npz` (only after training started): `opt_state/<tree path>`,
  `rng` and `step` of the live train state.
* `own_variables.npz` (only when a layer overrides `save_own_variables` /
  `load_own_variables`) and `assets/<layer path>/...` (files of layers'
  `save_assets`): see `_layer_state`.

A `.weights.npz` file (`save_weights`) is one `.npz` with the same weight
entries, the same train-state entries when there is one, and
`__metadata__` (JSON as uint8).
"""
import datetime
import json
import os
import shutil
from typing import Any, Mapping, Optional

from . import _archive
from . import _checked_load
from . import _compile_io
from .. import _engine
from . import _layer_state
from . import _load_guard
from . import _serialization
from .._core import _registry
from . import _weights
from ._archive import SavingError

FORMAT = "hk_keras.keras"
FORMAT_VERSION = 1
WEIGHTS_FORMAT = "hk_keras.weights"
_CONFIG, _METADATA = "config.json", "metadata.json"
_WEIGHTS, _OPTIMIZER = "model.weights.npz", "optimizer.npz"
_OWN = "own_variables.npz"
_METADATA_KEY = "__metadata__"


def _check_suffix(path, suffix, what, other):
  path = os.fspath(path)
  if not str(path).endswith(suffix):
    raise ValueError(
        f"{what} must be written to a path ending in {suffix!r}. Received: "
        f"filepath={path!r}. {other}")
  return path


def _target(path, suffix, what, other, overwrite):
  """The path to write: checked suffix, and no silent overwrite."""
  path = _check_suffix(path, suffix, what, other)
  if not overwrite and os.path.exists(path):
    raise FileExistsError(f"{path!r} exists and overwrite=False.")
  return path


def _versions():
  import haiku as hk  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  import hk_keras  # pylint: disable=g-import-not-at-top
  return {"hk_keras_version": hk_keras.__version__,
          "jax_version": jax.__version__, "haiku_version": hk.__version__}


def _train_config(model, train_meta):
  if not getattr(model, "compiled", False):
    return None
  config = {"shuffle_seed": int(_engine.live_state(model).shuffle_seed),
            "step": train_meta.get("step"),
            "has_optimizer_state": bool(train_meta)}
  from ..privacy import _saving  # pylint: disable=g-import-not-at-top
  config.update(_saving.ledger_config(model))
  return config


# -- .keras ----------------------------------------------------------------------------

def save_model(model, filepath, overwrite: bool = True) -> None:
  """Saves `model` as one `.keras` zip (architecture, weights, train state).

  Safe to call from a callback at the end of an epoch (or batch): it reads
  the live train state without changing it, and the file is replaced
  atomically, so a crash mid-save leaves the previous file intact.

  Args:
    model: an hk_keras model.
    filepath: a path ending in `.keras`.
    overwrite: if False and the file exists, raise instead.

  Raises:
    ValueError: on a wrong suffix, or a config that is not JSON-able.
    FileExistsError: if `overwrite=False` and the file exists.
  """
  filepath = _target(
      filepath, ".keras", "model.save()",
      "Use model.save_weights('name.weights.npz') to save only the weights.",
      overwrite)
  _serialization.warn_about_lambdas(model)
  model_config = _serialization.serialize_keras_object(model)
  weights, listing = _weights.model_weights(model)
  train, train_meta = _weights.train_state_arrays(model)
  config = {
      "format": FORMAT,
      "format_version": FORMAT_VERSION,
      "model": model_config,
      "compile_config": _custom_compile_config(model),
      "train_state": _train_config(model, train_meta),
  }
  members = {_CONFIG: json.dumps(config, indent=1).encode(),
             _WEIGHTS: _archive.npz_bytes(weights)}
  if train:
    members[_OPTIMIZER] = _archive.npz_bytes(train)
  own = _layer_state.own_variable_arrays(model) if model.built else {}
  if own:
    members[_OWN] = _archive.npz_bytes(own)
  members.update(_layer_state.asset_members(model))
  metadata = {
      "format": FORMAT, "format_version": FORMAT_VERSION, **_versions(),
      "date_saved": datetime.datetime.now(datetime.timezone.utc).isoformat(),
      "files": {name: {"sha256": _archive.sha256(data), "bytes": len(data)}
                for name, data in members.items()},
      "weights": listing,
  }
  # metadata.json goes last: a file cut short anywhere lacks it.
  members[_METADATA] = json.dumps(metadata, indent=1).encode()
  _archive.atomic_write(filepath, lambda f: _archive.write_zip(f, members))


_REBUILD_ERRORS = (ValueError, TypeError, KeyError, AttributeError,
                   IndexError, OverflowError, RecursionError, RuntimeError,
                   NotImplementedError, ArithmeticError)


def _rebuild_error(where, member, what, err) -> SavingError:
  return SavingError(
      f"{where} (member {member!r}): {what} failed: {type(err).__name__}: "
      f"{err}")


def load_model(filepath, custom_objects: Optional[Mapping[str, Any]] = None,
               compile: bool = True, safe_mode: bool = True,  # pylint: disable=redefined-builtin
               max_bytes: Optional[int] = None):
  """Rebuilds a model saved with `model.save()`, ready to resume `fit`.

  The architecture is rebuilt from config (classes by registered name or
  `custom_objects`; no code is read from the file), the weights and Haiku
  state are set, the model is compiled as it was, and the saved optimizer
  state, RNG key, step count and shuffle seed are restored, so
  `fit(..., initial_epoch=k)` continues exactly where the saved run was.

  The file is checked before anything is inflated or allocated (see
  "Loading untrusted files" in docs/saving_and_loading.md): memory stays
  in proportion to the model the config describes, and at most `max_bytes`.

  Args:
    filepath: a `.keras` file, or an Orbax checkpoint directory written by
      `hk_keras.callbacks.OrbaxCheckpoint` or `BackupAndRestore(backend=
      "orbax")` (the directory, its backup_dir, or one step directory; the
      latest step by default), which needs the `orbax` extra.
    custom_objects: `{name: object}` for custom classes and functions, the
      functions of `Lambda`/`HaikuLayer` layers (by function or layer name),
      and compile arguments that could not be saved as config, under the keys
      `"optimizer"` (e.g. a raw optax transform), `"loss"` and `"metrics"`.
    compile: compile the model as saved. With False the model is returned
      uncompiled; the saved optimizer state is still applied when you compile
      it with an optimizer of the same structure and train.
    safe_mode: refuse `Lambda`/`HaikuLayer` layers whose function was a
      lambda (as Keras refuses to load lambdas in safe mode).
    max_bytes: the most bytes the load may read into memory (weights,
      optimizer state, JSON). Default: the environment variable
      `HK_KERAS_MAX_LOAD_BYTES`, else 4 GiB. Not a Keras argument.

  Returns:
    The model.

  Raises:
    FileNotFoundError: if there is no file.
    SavingError: (a `ValueError`) for a corrupt, truncated, crafted or too
      large file, a checksum mismatch, weights that do not fit, an unknown
      class, a missing function, or a compile argument that was not saved
      and not passed. The message names the file, the member and the
      problem.
  """
  filepath = os.fspath(filepath)
  if os.path.isdir(filepath):  # an Orbax checkpoint directory
    from . import _orbax_io  # pylint: disable=g-import-not-at-top
    return _orbax_io.load_model_dir(filepath, custom_objects, compile,
                                    safe_mode)
  from . import _keras3_io  # pylint: disable=g-import-not-at-top
  if _keras3_io.is_keras3_archive(filepath):
    return _keras3_io.load_model(filepath, custom_objects, compile, safe_mode,
                                 max_bytes)
  with _checked_load.KerasFile(filepath, FORMAT, FORMAT_VERSION,
                               max_bytes) as kfile:
    return _load_model(kfile, custom_objects, compile, safe_mode)


def _load_model(kfile, custom_objects, compile, safe_mode):  # pylint: disable=redefined-builtin
  config, where = kfile.config, kfile.where
  try:
    with _load_guard.checking(_checked_load.build_check(kfile)):
      model = _serialization.deserialize_keras_object(
          config["model"], custom_objects=_layer_objects(custom_objects),
          safe_mode=safe_mode)
  except SavingError:
    raise
  except _REBUILD_ERRORS as err:
    raise _rebuild_error(where, _CONFIG, "rebuilding the model", err) from err
  if not hasattr(model, "_records"):
    raise SavingError(f"{where} (member {_CONFIG!r}): the saved object is a "
                      f"{type(model).__name__}, not a model.")
  rename = _load_weight_arrays(model, kfile, kfile.metadata.get("weights", []))
  _load_layer_state(model, kfile, with_assets=True)
  compile_config = config.get("compile_config")
  if compile and compile_config is not None:
    try:
      if _overrides(model, "compile_from_config"):
        # Keras 3: a model's own compile_from_config receives what its
        # get_compile_config returned, serialized.
        with _registry.custom_object_scope(custom_objects or {}):
          model.compile_from_config(compile_config)
      else:
        _compile_io.compile_from_config(model, compile_config,
                                        custom_objects, where)
    except SavingError:
      raise
    except _REBUILD_ERRORS as err:
      raise _rebuild_error(where, _CONFIG, "compiling the model as saved",
                           err) from err
  train_config = config.get("train_state") or {}
  from ..privacy import _saving  # pylint: disable=g-import-not-at-top
  _saving.restore_ledger(model, train_config, where)
  train = _checked_load.read_train(model, kfile)
  saved = _weights.saved_train_state(train, train_config.get("shuffle_seed"),
                                     rename, where)
  if saved is not None:
    _weights.install(model, saved, strict=True)
  elif train_config.get("shuffle_seed") is not None and model.compiled:
    _engine.live_state(model).shuffle_seed = int(train_config["shuffle_seed"])
  return model


def _load_layer_state(model, source, with_assets):
  """Layers' saved stores (`load_own_variables`) and, for a `.keras` file
  loaded as a model, their assets (`load_assets`), as Keras 3."""
  if model.built:
    _layer_state.load_own_variables(model, source.own_variables(),
                                    source.where)
  if not with_assets:
    return
  names = source.asset_names()
  for name in names:  # refused even when no layer reads assets
    _layer_state.check_asset_name(name, source.where)
  if not any(_layer_state.overrides(l, "load_assets")
             for _, l in _layer_state.walk(model)):
    return
  root = _layer_state.extract_assets(source.archive, names, source.budget,
                                     source.where, source.metadata["files"])
  try:
    _layer_state.load_assets(model, root)
  finally:
    shutil.rmtree(root, ignore_errors=True)


def _layer_objects(custom_objects):
  return {k: v for k, v in (custom_objects or {}).items()
          if k not in _compile_io.COMPILE_ARGS}


def _load_weight_arrays(model, source, listing):
  built = model.built
  if not built and _checked_load.weight_keys(source.weights):
    raise SavingError(
        f"{source.where} holds weights but the rebuilt model {model.name!r} is "
        "not built, so they have nowhere to go. Build it (model.build(shape)) "
        "and use model.load_weights(path).")
  if not built:
    return {}
  return _checked_load.read_weights(model, source, listing,
                                    _weights.match_weights)


# -- .weights.npz ------------------------------------------------------------------------

def save_weights(model, filepath, overwrite: bool = True) -> None:
  """Writes the weights (and the train state, if any) to a `.weights.npz`.

  Raises:
    ValueError: if the path does not end in `.weights.npz` or the model is
      not built.
    FileExistsError: if `overwrite=False` and the file exists.
  """
  if str(os.fspath(filepath)).endswith(".weights.h5"):
    from . import _keras3_io  # pylint: disable=g-import-not-at-top
    _keras3_io.save_weights(model, filepath, overwrite=overwrite)
    return
  filepath = _target(
      filepath, ".weights.npz", "model.save_weights()",
      "Use '.weights.npz' (hk_keras's format) or '.weights.h5' (Keras 3's).",
      overwrite)
  if not model.built:
    raise ValueError(
        f"Model {model.name!r} is not built, so it has no weights to save. "
        "Build it first (model.build(input_shape) or call it on data).")
  weights, listing = _weights.model_weights(model)
  train, train_meta = _weights.train_state_arrays(model)
  metadata = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
              **_versions(), "weights": listing,
              "train_state": _train_config(model, train_meta)}
  arrays = {**weights, **train, **_layer_state.own_variable_arrays(model)}
  extra = {_METADATA_KEY: json.dumps(metadata).encode()}
  _archive.atomic_write(filepath,
                        lambda f: _archive.write_npz(f, arrays, extra))


def load_weights(model, filepath, max_bytes: Optional[int] = None) -> None:
  """Loads weights from a `.weights.npz` or `.keras` file into `model`.

  Weights are matched by Haiku path (or by creation order when only module
  names differ). A file with a train state also restores the optimizer
  state, RNG key, step and shuffle seed when the model trains next with an
  optimizer of the same structure (otherwise a warning says the optimizer
  starts afresh). Every array is checked against the model before it is
  read (see "Loading untrusted files" in docs/saving_and_loading.md).

  Args:
    model: a built model.
    filepath: a `.weights.npz` or `.keras` file.
    max_bytes: the most bytes the load may read (default: the environment
      variable `HK_KERAS_MAX_LOAD_BYTES`, else 4 GiB).

  Raises:
    FileNotFoundError: if there is no file.
    ValueError: for an unbuilt model; `SavingError` (a `ValueError`) for a
      corrupt, crafted or too large file, or weights written by a different
      architecture (count, names or shapes; the message names the layer and
      both shapes).
  """
  filepath = os.fspath(filepath)
  if not model.built:
    if not os.path.exists(filepath):
      raise FileNotFoundError(f"No weights file at {filepath!r}.")
    raise ValueError(
        f"Model {model.name!r} is not built yet, so weights cannot be loaded "
        "into it. Build it first with model.build(input_shape) or by calling "
        "it on a batch, as in Keras.")
  from . import _keras3_io  # pylint: disable=g-import-not-at-top
  if filepath.endswith(".h5") or (filepath.endswith(".keras") and
                                  _keras3_io.is_keras3_archive(filepath)):
    _keras3_io.load_weights(model, filepath, max_bytes=max_bytes)
    return
  if filepath.endswith(".keras"):
    source = _checked_load.KerasFile(filepath, FORMAT, FORMAT_VERSION,
                                     max_bytes)
    train_config = source.config.get("train_state") or {}
  else:
    source = _checked_load.WeightsFile(filepath, WEIGHTS_FORMAT,
                                       _METADATA_KEY, max_bytes)
    train_config = source.metadata.get("train_state") or {}
  with source:
    listing = source.metadata.get("weights", [])
    rename = _load_weight_arrays(model, source, listing)
    _load_layer_state(model, source, with_assets=False)
    train = _checked_load.read_train(model, source)
  saved = _weights.saved_train_state(train, train_config.get("shuffle_seed"),
                                     rename, source.where)
  if saved is not None:
    _weights.install(model, saved, strict=False)


def _overrides(model, method):
  from ..models._attributes import ModelAttributes  # pylint: disable=g-import-not-at-top
  return getattr(type(model), method) is not getattr(ModelAttributes, method)


def _custom_compile_config(model):
  """The compile config to save: a model's own `get_compile_config()`
  (serialized, as Keras 3) when it overrides it, else hk_keras's."""
  if _overrides(model, "get_compile_config"):
    # As Keras 3, objects in it (optimizers, losses...) are serialized.
    from . import _objects  # pylint: disable=g-import-not-at-top
    config = model.get_compile_config()
    try:
      config = _objects.serialize_keras_object(config)
      json.dumps(config)
    except (TypeError, ValueError) as err:
      raise TypeError(
          f"{type(model).__name__}.get_compile_config() must return a "
          "JSON-able dict of Keras objects: hk_keras.saving."
          "serialize_keras_object could not serialize an entry (give it a "
          "get_config, or serialize it yourself and deserialize it in "
          "compile_from_config). Received: "
          f"{config!r}") from err
    return config
  return _compile_io.compile_config(model)
