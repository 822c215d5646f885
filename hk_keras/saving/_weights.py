"""Model weights and train state to flat `{path: array}` dicts and back.

Weights are keyed by Haiku path, `params/<module>/<name>` and
`state/<module>/<name>`; the optimizer state by its tree path
(`opt_state/<path>`, e.g. `opt_state/0/mu/dense/kernel`).

Loading matches weights by path. When every path differs only by module
names (layers created with automatic names in another process, such as the
inner layers of a custom layer), weights are matched by creation order
instead, provided kinds, names and shapes agree.
"""
import warnings
from typing import Dict, List, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _engine
from ._archive import SavingError

_OPT_MISMATCH = (
    "{where}: the saved optimizer state does not fit the model's optimizer "
    "({problem}). Compile with the same optimizer (same class, arguments and "
    "trainable layers) as when the file was saved.")


def _key(record) -> str:
  return f"{record.kind}/{record.module}/{record.name}"


def model_weights(model) -> Tuple[Dict[str, np.ndarray], List[dict]]:
  """`{path: array}` of every weight, in creation order, and a listing."""
  if not model.built:
    return {}, []
  values = {"params": model.params, "state": model.state}
  arrays, listing = {}, []
  for r in model._records:  # pylint: disable=protected-access
    key = _key(r)
    arrays[key] = np.asarray(jax.device_get(values[r.kind][r.module][r.name]))
    listing.append({"path": key, "layer": r.layer.name,
                    "shape": list(r.shape), "dtype": jnp.dtype(r.dtype).name})
  return arrays, listing


def _layer_name(record):
  return getattr(record.layer, "name", "?")


def match_weights(model, arrays: Dict[str, np.ndarray], order: List[str],
                  where: str):
  """Pairs each model weight record with a saved array.

  Args:
    model: a built model.
    arrays: saved `params/...` and `state/...` arrays.
    order: the saved paths in creation order.
    where: the file, for messages.

  Returns:
    (list of (record, array), {saved module: model module}).

  Raises:
    SavingError: on a different number of weights or a shape mismatch (the
      message names the layer, the path and both shapes).
  """
  records = list(model._records)  # pylint: disable=protected-access
  saved = [k for k in order if k in arrays] + sorted(
      k for k in arrays if k not in set(order))
  model_keys = [_key(r) for r in records]
  if set(model_keys) == set(saved):
    pairs = [(r, arrays[_key(r)]) for r in records]
    rename = {}
  elif len(records) == len(saved) and all(
      k.split("/")[0] == r.kind and k.rsplit("/", 1)[1] == r.name
      for k, r in zip(saved, records)):
    pairs = [(r, arrays[k]) for r, k in zip(records, saved)]
    rename = {}
    for r, k in zip(records, saved):
      rename[k.split("/", 1)[1].rsplit("/", 1)[0]] = r.module
  else:
    missing = [k for k in model_keys if k not in arrays]
    unexpected = [k for k in saved if k not in set(model_keys)]
    raise SavingError(
        f"{where} was written by a model with a different architecture: it "
        f"holds {len(saved)} weights, model {model.name!r} has "
        f"{len(records)}. Weights of the model missing from the file: "
        f"{missing[:8]}{' ...' if len(missing) > 8 else ''}; weights in the "
        f"file the model does not have: {unexpected[:8]}"
        f"{' ...' if len(unexpected) > 8 else ''}.")
  for r, array in pairs:
    if tuple(array.shape) != tuple(r.shape):
      raise SavingError(
          f"{where} does not fit model {model.name!r}: weight {_key(r)!r} of "
          f"layer {_layer_name(r)!r} has shape {tuple(array.shape)} in the "
          f"file, but the model expects {tuple(r.shape)}. The file was "
          "written by a model with a different architecture.")
  return pairs, rename


def set_weights(model, pairs) -> None:
  """Writes matched weights into the model (one version bump)."""
  trees = {"params": {}, "state": {}}
  for r, array in pairs:
    trees[r.kind].setdefault(r.module, {})[r.name] = jnp.asarray(array,
                                                                  r.dtype)
  model._set_tree("params", trees["params"])  # pylint: disable=protected-access
  model._set_tree("state", trees["state"])  # pylint: disable=protected-access


# -- optimizer state ---------------------------------------------------------------

def _entry(k, rename=None) -> str:
  if isinstance(k, jax.tree_util.DictKey):
    name = str(k.key)
    if rename:
      name = rename.get(name, name)
    return name
  if isinstance(k, jax.tree_util.SequenceKey):
    return str(k.idx)
  if isinstance(k, jax.tree_util.GetAttrKey):
    return k.name
  if isinstance(k, jax.tree_util.FlattenedIndexKey):
    return str(k.key)
  return str(k)


def tree_arrays(tree, prefix: str, rename=None) -> Dict[str, np.ndarray]:
  """`{prefix/path: leaf}` for every leaf of `tree` (order: tree order)."""
  out = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    key = "/".join([prefix] + [_entry(k, rename) for k in path])
    out[key] = leaf
  return out


def host(tree):
  """Device arrays to NumPy, random keys to their raw data."""
  def one(x):
    if hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
      x = jax.random.key_data(x)
    return np.asarray(jax.device_get(x))
  return jax.tree_util.tree_map(one, tree)


class SavedTrainState(NamedTuple):
  """The optimizer state and counters read from a file.

  It is applied to the model's train state when the next one is created
  (first fit/evaluate/train_on_batch after loading), because the optimizer
  state only exists once the model is compiled.
  """
  opt_state: Dict[str, np.ndarray]
  rng: Optional[np.ndarray]
  step: Optional[np.ndarray]
  shuffle_seed: Optional[int]
  rename: Dict[str, str]
  where: str
  loss_scale: Dict[str, np.ndarray]

  def check(self, opt_state_like) -> Optional[str]:
    """None if the saved state fits `opt_state_like`, else the problem."""
    inverse = {v: k for k, v in self.rename.items()}
    fresh = tree_arrays(opt_state_like, "opt_state", inverse)
    missing = [k for k in fresh if k not in self.opt_state]
    unexpected = [k for k in self.opt_state if k not in fresh]
    if missing or unexpected:
      return (f"entries the optimizer has but the file lacks: {missing[:6]}; "
              f"entries in the file the optimizer lacks: {unexpected[:6]}")
    for key, leaf in fresh.items():
      if tuple(np.shape(leaf)) != tuple(self.opt_state[key].shape):
        return (f"{key!r} has shape {tuple(self.opt_state[key].shape)} in the "
                f"file, the optimizer expects {tuple(np.shape(leaf))}")
    return None

  def restored(self, opt_state_like):
    inverse = {v: k for k, v in self.rename.items()}
    leaves, treedef = jax.tree_util.tree_flatten(opt_state_like)
    keys = list(tree_arrays(opt_state_like, "opt_state", inverse))
    new = [jnp.asarray(self.opt_state[k], leaf.dtype)
           for k, leaf in zip(keys, leaves)]
    return jax.tree_util.tree_unflatten(treedef, new)

  def apply(self, model, ts):
    """`ts` with the saved optimizer state, rng and step (warns and keeps
    `ts` when the optimizer no longer fits)."""
    problem = self.check(ts.opt_state)
    if problem is not None:
      warnings.warn(
          _OPT_MISMATCH.format(where=self.where, problem=problem) +
          " The optimizer starts from scratch; the weights were loaded.",
          stacklevel=4)
      return ts
    live = _engine.live_state(model)
    if self.shuffle_seed is not None:
      live.shuffle_seed = int(self.shuffle_seed)
    new = ts._replace(opt_state=self.restored(ts.opt_state))
    if self.rng is not None:
      rng = jnp.asarray(self.rng)
      if jnp.issubdtype(ts.rng.dtype, jax.dtypes.prng_key):
        rng = jax.random.wrap_key_data(rng)
      else:
        rng = rng.astype(ts.rng.dtype)
      new = new._replace(rng=rng)
    if self.step is not None:
      new = new._replace(step=jnp.asarray(self.step, ts.step.dtype))
    current = getattr(ts, "loss_scale", None)
    if self.loss_scale and current is not None:
      leaves, treedef = jax.tree_util.tree_flatten(current)
      keys = list(tree_arrays(current, "loss_scale"))
      if set(keys) == set(self.loss_scale):
        new = new._replace(loss_scale=jax.tree_util.tree_unflatten(
            treedef, [jnp.asarray(self.loss_scale[k], jnp.asarray(l).dtype)
                      for k, l in zip(keys, leaves)]))
    return live.place(new)


def train_state_arrays(model) -> Tuple[Dict[str, np.ndarray], dict]:
  """The live train state's arrays (empty if there is none to save)."""
  live = _engine.live_state(model)
  if live is None or live.train_state is None or not getattr(
      model, "compiled", False):
    return {}, {}
  ts = live.train_state
  if not live.is_current():
    # Layers were frozen/unfrozen since: this optimizer state is stale (the
    # next fit starts a new one), so it is not saved.
    return {}, {}
  arrays = tree_arrays(host(ts.opt_state), "opt_state")
  if getattr(ts, "loss_scale", None) is not None:  # float16 mixed precision
    arrays.update(tree_arrays(host(ts.loss_scale), "loss_scale"))
  arrays["rng"] = host(ts.rng)
  arrays["step"] = host(ts.step)
  return arrays, {"step": int(arrays["step"])}


def saved_train_state(arrays: Dict[str, np.ndarray], shuffle_seed, rename,
                      where) -> Optional[SavedTrainState]:
  opt = {k: v for k, v in arrays.items() if k.startswith("opt_state")}
  if not opt and "step" not in arrays:
    return None
  scale = {k: v for k, v in arrays.items() if k.startswith("loss_scale/")}
  return SavedTrainState(opt, arrays.get("rng"), arrays.get("step"),
                         shuffle_seed, rename, where, scale)


def install(model, saved: SavedTrainState, strict: bool) -> None:
  """Makes `saved` the state the next train state starts from.

  With `strict`, a compiled model whose optimizer state does not fit raises
  now; otherwise that is a warning when the state is applied.
  """
  if strict and getattr(model, "compiled", False) and model.built:
    like = _engine.live_state(model).optimizer_state_like()
    problem = saved.check(like)
    if problem is not None:
      raise SavingError(_OPT_MISMATCH.format(where=saved.where,
                                             problem=problem))
  seed = saved.shuffle_seed if getattr(model, "compiled", False) else None
  _engine.live_state(model).install_saved(saved, shuffle_seed=seed)
