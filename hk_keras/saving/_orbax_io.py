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
