"""The train state as a plain pytree for Orbax, and back into a model.

The tree is `{"params", "state"}` (the model's Haiku dicts) plus, for a
compiled model that has trained, `{"opt_state", "rng", "step"}`: NumPy
arrays only, so plain `orbax.checkpoint` reads it without hk_keras.
Restoring goes through the same matching and train-state installation as
`load_weights`, so a resumed `fit` continues exactly.
"""
import numpy as np

from .. import _engine
from . import _weights


def state_tree(model, weights_only=False):
  """(the pytree to save, the optimizer step or None, the weight paths in
  creation order)."""
  tree = {"params": _weights.host(model.params),
          "state": _weights.host(model.state)}
  order = [entry["path"] for entry in _weights.model_weights(model)[1]]
  arrays, info = ({}, {}) if weights_only else _weights.train_state_arrays(
      model)
  if not arrays:
    return tree, None, order
  ts = _engine.live_state(model).train_state
  tree["opt_state"] = _weights.host(ts.opt_state)
  tree["rng"] = _weights.host(ts.rng)
  tree["step"] = _weights.host(ts.step)
  return tree, info.get("step"), order


def install_tree(model, tree, order, shuffle_seed, where: str) -> None:
  """Writes a restored tree (as plain Orbax restores it: nested dicts) into
  `model`: the weights now, the optimizer state, RNG and step when the
  model trains next. Weights are matched by path, or by creation order
  (`order`) when only the layer names differ, as `load_weights` does."""
  if not isinstance(tree, dict) or "params" not in tree:
    raise ValueError(f"{where}: the checkpoint has no 'params' entry; it was "
                     "not written by hk_keras.callbacks.OrbaxCheckpoint.")
  arrays = {}
  for kind in ("params", "state"):
    arrays.update({k: np.asarray(v) for k, v in _weights.tree_arrays(
        tree.get(kind) or {}, kind).items()})
  order = [k for k in (order or []) if isinstance(k, str)]
  pairs, rename = _weights.match_weights(model, arrays, order, where)
  _weights.set_weights(model, pairs)
  if "opt_state" not in tree:
    return
  train = {k: np.asarray(v) for k, v in _weights.tree_arrays(
      tree["opt_state"], "opt_state").items()}
  train["rng"] = np.asarray(tree["rng"])
  train["step"] = np.asarray(tree["step"])
  saved = _weights.saved_train_state(train, shuffle_seed, rename, where)
  if saved is not None:
    _weights.install(model, saved, strict=True)


# -- the architecture in the checkpoint, and load_model(<directory>) ---------------

_FORMAT = "hk_keras.orbax"  # the `format` of OrbaxCheckpoint's `meta` item
_BACKUP_SUBDIR = "orbax"  # BackupAndRestore(backend="orbax") writes here


def architecture(model) -> dict:
  """The model's config and compile arguments for the `meta` item, so that
  `load_model(directory)` can rebuild it (as a `.keras` file's config.json).
  A model that cannot be serialized gets `model: None` (restore it into a
  model you build with `OrbaxCheckpoint.restore`)."""
  import json  # pylint: disable=g-import-not-at-top
  from . import _compile_io  # pylint: disable=g-import-not-at-top
  from . import _serialization  # pylint: disable=g-import-not-at-top
  try:
    config = {"model": _serialization.serialize_keras_object(model),
              "compile_config": _compile_io.compile_config(model)}
    json.dumps(config)
  except (TypeError, ValueError, NotImplementedError):
    return {"model": None, "compile_config": None}
  return config


def _not_a_checkpoint(path, why):
  from ._archive import SavingError  # pylint: disable=g-import-not-at-top
  return SavingError(
      f"load_model: {path!r} is a directory but not an hk_keras Orbax "
      f"checkpoint directory ({why}). load_model reads a `.keras` file, or "
      "a directory written by hk_keras.callbacks.OrbaxCheckpoint or "
      "BackupAndRestore(backend='orbax'): numbered step directories, each "
      "with the items 'train_state' and 'meta'.")


def _locate(path):
  """(the checkpoint directory, the step or None for the latest)."""
  import os  # pylint: disable=g-import-not-at-top
  base = os.path.basename(os.path.normpath(path))
  if base.isdigit() and os.path.isdir(os.path.join(path, "meta")):
    return os.path.dirname(os.path.normpath(path)), int(base)
  backup = os.path.join(path, _BACKUP_SUBDIR)
  if os.path.isdir(backup) and not _steps(path):
    path = backup  # the BackupAndRestore backup_dir itself
  if not _steps(path):
    raise _not_a_checkpoint(path, "no numbered step directory with a 'meta' "
                            "item")
  return path, None


def _steps(path):
  import os  # pylint: disable=g-import-not-at-top
  return [d for d in os.listdir(path) if d.isdigit()
          and os.path.isdir(os.path.join(path, d, "meta"))]


def load_model_dir(path, custom_objects, compile, safe_mode):  # pylint: disable=redefined-builtin
  """`load_model` on an Orbax checkpoint directory: the model rebuilt from
  the config in `meta`, its weights, and (compiled) its optimizer state,
  RNG, step and shuffle seed, bit for bit as saved."""
  from .._core._optional import import_optional  # pylint: disable=g-import-not-at-top
  from . import _compile_io  # pylint: disable=g-import-not-at-top
  from . import _serialization  # pylint: disable=g-import-not-at-top
  ocp = import_optional("orbax.checkpoint", "orbax-checkpoint", "orbax",
                        "load_model on an Orbax checkpoint directory")
  directory, step = _locate(path)
  manager = ocp.CheckpointManager(directory,
                                  item_names=("train_state", "meta"))
  try:
    step = manager.latest_step() if step is None else step
    where = f"{directory}/{step}"
    try:
      meta = manager.restore(step, args=ocp.args.Composite(
          meta=ocp.args.JsonRestore()))["meta"]
    except (ValueError, KeyError, FileNotFoundError, OSError) as err:
      raise _not_a_checkpoint(where, f"its 'meta' item cannot be read: {err}"
                              ) from err
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
      raise _not_a_checkpoint(where, "its 'meta' item is not hk_keras's")
    if not meta.get("model"):
      from ._archive import SavingError  # pylint: disable=g-import-not-at-top
      raise SavingError(
          f"load_model: {where} holds no model config (it was written by an "
          "older hk_keras or for a model that cannot be serialized). Build "
          "the model and load the checkpoint into it with "
          "hk_keras.callbacks.OrbaxCheckpoint(directory).restore(model).")
    model = _serialization.deserialize_keras_object(
        meta["model"], custom_objects={
            k: v for k, v in (custom_objects or {}).items()
            if k not in _compile_io.COMPILE_ARGS}, safe_mode=safe_mode)
    if not getattr(model, "built", False):
      from ._archive import SavingError  # pylint: disable=g-import-not-at-top
      raise SavingError(
          f"load_model: the model in {where} was rebuilt unbuilt (no Input "
          "shape), so its weights have nowhere to go. Build it and use "
          "hk_keras.callbacks.OrbaxCheckpoint(directory).restore(model).")
    if compile and meta.get("compile_config") is not None:
      _compile_io.compile_from_config(model, meta["compile_config"],
                                      custom_objects, where)
    restored = manager.restore(step, args=ocp.args.Composite(
        train_state=ocp.args.StandardRestore()))
  finally:
    manager.close()
  install_tree(model, restored["train_state"], meta.get("order"),
               meta.get("shuffle_seed"), where=where)
  return model
