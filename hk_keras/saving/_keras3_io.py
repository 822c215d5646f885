"""Loading and saving Keras 3 files: `.keras` zips with HDF5 weights, and
`.weights.h5`.

A Keras 3 `.keras` file is a zip of `config.json` (the model config,
`compile_config` included), `metadata.json` (`keras_version`, date) and
`model.weights.h5` (see `_keras3_layout` for where each weight lives, and
`_keras3_optimizer` for the optimizer variables). Reading maps the config
to hk_keras classes (`_keras3_config`), rebuilds the model under the same
checks as hk_keras's own files (sizes before allocation, a byte budget),
reads every weight after checking it against the model (`_keras3_h5`),
compiles as saved and restores the optimizer state where it maps.
Writing is the reverse, for every layer the two libraries share.
"""
import datetime
import json
import os
import shutil
import warnings
import zipfile
from typing import Any, Mapping, Optional

import jax
import numpy as np

from .. import _engine
from . import _archive
from . import _compile_io
from . import _keras3_config
from . import _keras3_h5
from . import _keras3_layout
from . import _keras3_optimizer
from . import _layer_state
from . import _load_guard
from . import _reader
from . import _serialization
from . import _weights
from ._archive import SavingError

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
MEMBERS = (CONFIG, METADATA, WEIGHTS)
# The Keras version whose file layout this module writes.
KERAS_VERSION = "3.15.1"


def is_keras3_archive(filepath) -> bool:
  """Whether a `.keras` zip holds HDF5 weights (Keras 3) rather than npz."""
  try:
    with zipfile.ZipFile(filepath) as z:
      names = set(z.namelist())
  except (OSError, zipfile.BadZipFile, ValueError, EOFError):
    return False
  return WEIGHTS in names and "model.weights.npz" not in names


def _nbytes(records) -> int:
  return sum(int(np.prod(r.shape, dtype=object)) *
             np.dtype(r.dtype).itemsize for r in records)


def _h5_allowance(model) -> int:
  """The most bytes a genuine weights file of `model` may hold: the
  weights, the optimizer's slots and HDF5's bookkeeping."""
  records = list(model._records) if model.built else []  # pylint: disable=protected-access
  weights = _nbytes(records)
  groups = len(_keras3_layout.layout(model)) if model.built else 1
  return ((1 + _reader.OPTIMIZER_FACTOR) * weights +
          (4 * len(records) + groups + 16) * _reader.PER_ARRAY_OVERHEAD +
          _reader.FIXED_OVERHEAD)


# -- reading ----------------------------------------------------------------------

def _rebuild(config, custom_objects, safe_mode, budget, where):
  def check(model, params, state):
    total = sum(int(np.prod(s.shape, dtype=object)) * np.dtype(s.dtype).itemsize
                for s in jax.tree_util.tree_leaves((params, state)))
    if total > budget.limit:
      raise _reader.too_big(f"{where} (member {CONFIG!r})",
                            f"the architecture of model {model.name!r}",
                            total, budget.limit)
  try:
    entry = _keras3_config.entry_from_keras(config)
    with _load_guard.checking(check):
      model = _serialization.deserialize_keras_object(
          entry, custom_objects=custom_objects, safe_mode=safe_mode)
  except SavingError:
    raise
  except _serialization.RebuildError as err:
    raise SavingError(f"{where} (member {CONFIG!r}): {err}") from err
  except (ValueError, TypeError, KeyError, AttributeError, IndexError,
          RecursionError, NotImplementedError) as err:
    raise SavingError(
        f"{where} (member {CONFIG!r}): mapping the Keras 3 model to hk_keras "
        f"failed: {type(err).__name__}: {err}") from err
  if not hasattr(model, "_records"):
    raise SavingError(f"{where}: the saved object is a "
                      f"{type(model).__name__}, not a model.")
  return model


def read_weights(model, reader) -> None:
  """Sets every weight of `model` from a checked `_keras3_h5.H5Reader`."""
  groups = _keras3_layout.layout(model)
  try:
    _keras3_layout.check_complete(model, groups)
  except ValueError as err:
    raise SavingError(f"{reader.where}: {err}") from None
  known = {g.path.rsplit("/", 1)[0] for g in groups}
  layers = reader.group("layers")
  if layers is not None:
    extra = [k for k in _group_keys(reader, layers)
             if f"layers/{k}" not in known]
    if extra:
      raise SavingError(
          f"{reader.where} holds weights of layers {extra[:6]} that model "
          f"{model.name!r} does not have (its layers, in Keras's file "
          f"naming: {sorted(k.split('/')[1] for k in known if '/' in k)[:12]})"
          ". The file was written by a model with a different architecture.")
  pairs, stores = [], []
  hooked = _hooked_groups(groups, "load_own_variables")
  for g in groups:
    if id(g) in hooked:  # the layer reads its own store, after the rest
      stores.append((g, _layer_state.Store(
          g.layer.name, g.path, reader.read_group(g.path, g.layer.name))))
      current = {"params": model.params, "state": model.state}
      pairs += [(r, current[r.kind][r.module][r.name]) for r in g.records]
      continue
    arrays = reader.read_vars(g.path, [r.shape for r in g.records],
                              g.layer.name)
    pairs += list(zip(g.records, arrays))
  _weights.set_weights(model, pairs)
  for g, store in stores:
    try:
      g.layer.load_own_variables(store)
    except (ValueError, KeyError, TypeError) as err:
      message = err.args[0] if isinstance(err, KeyError) and err.args else err
      raise SavingError(f"{reader.where}: loading the store of layer "
                        f"{g.layer.name!r} (group {g.path!r}) failed: "
                        f"{message}") from err


def _hooked_groups(groups, *methods):
  """ids of the groups given to a layer's own save/load_own_variables: the
  one `vars` group of a layer overriding them that holds exactly the
  layer's own weights (a layer laid out in several groups, such as an RNN,
  or one whose group also holds its sublayers' weights, is read and
  written weight by weight)."""
  from ..layers import _layer_saving  # pylint: disable=g-import-not-at-top
  count = {}
  for g in groups:
    count[id(g.layer)] = count.get(id(g.layer), 0) + 1
  return {id(g) for g in groups
          if count[id(g.layer)] == 1 and g.path.endswith("vars") and
          _layer_state.overrides(g.layer, *methods) and
          [id(r) for r in g.records] ==
          [id(r) for r in _layer_saving.own_records(g.layer)]}


def _group_keys(reader, group):
  try:
    keys = list(group.keys())
  except (OSError, ValueError, KeyError, RuntimeError) as err:
    raise SavingError(f"{reader.where}: the layer index cannot be read "
                      f"({err}).") from None
  if len(keys) > 100000:
    raise SavingError(f"{reader.where} lists {len(keys):,} layers; the file "
                      "is corrupt or crafted.")
  return keys


def read_optimizer(model, reader) -> None:
  """Restores the optimizer variables where they map (else a warning)."""
  count = reader.count("optimizer/vars")
  if not count or not getattr(model, "compiled", False):
    return
  from .. import optimizers  # pylint: disable=g-import-not-at-top
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  optimizer = model.optimizer
  where = reader.where
  try:
    if not isinstance(optimizer, optimizers.Optimizer):
      raise _keras3_optimizer.NotMapped("the optimizer is not a Keras one")
    trainable = [r for r in _layer.owner_order(model, model._records)  # pylint: disable=protected-access
                 if _layer.is_trainable(r)]
    names = _keras3_optimizer.keras_names(type(optimizer).__name__,
                                          optimizer.get_config(), trainable)
    if len(names) != count:
      raise _keras3_optimizer.NotMapped(
          f"the file holds {count} optimizer variables, {type(optimizer).__name__} "
          f"of this model has {len(names)}")
    like = _weights.tree_arrays(
        _engine.live_state(model).optimizer_state_like(), "opt_state")
    mapping = _keras3_optimizer.state_mapping(list(like), trainable)
  except _keras3_optimizer.NotMapped as err:
    warnings.warn(f"{where}: the optimizer variables were not restored "
                  f"({err}); the weights were loaded and the optimizer "
                  "starts afresh.", stacklevel=4)
    return
  values = {}
  for i, (what, record) in enumerate(names):
    shape = () if record is None else record.shape
    values[(what, None if record is None else id(record))] = reader.read(
        f"optimizer/vars/{i}", shape, f"optimizer {optimizer.name}")
  opt_state = {}
  fresh = None
  for key, (what, record) in mapping.items():
    value = values.get((what, None if record is None else id(record)))
    if value is None:  # a schedule's learning rate: recomputed each step
      if fresh is None:
        fresh = _weights.tree_arrays(_weights.host(_fresh_state(model)),
                                     "opt_state")
      value = fresh[key]
    opt_state[key] = np.asarray(value, like[key].dtype)
  step = np.asarray(values[("iteration", None)], np.int64)
  saved = _weights.SavedTrainState(opt_state, None, step, None, {}, where, {})
  _weights.install(model, saved, strict=False)


def _fresh_state(model):
  from .._engine import _live_state  # pylint: disable=g-import-not-at-top
  live = _engine.live_state(model)
  trainable, _ = _live_state.split_trainable(model.params,
                                             model.trainable_mask())
  return live.options.tx.init(trainable)


def load_model(filepath, custom_objects: Optional[Mapping[str, Any]] = None,
               compile: bool = True, safe_mode: bool = True,  # pylint: disable=redefined-builtin
               max_bytes: Optional[int] = None):
  """Loads a `.keras` file written by Keras 3 (see `hk_keras.saving.
  load_model`, which dispatches here)."""
  filepath = os.fspath(filepath)
  where = repr(filepath)
  budget = _reader.Budget(_reader.max_load_bytes(max_bytes), where)
  with _reader.Archive(filepath, MEMBERS, (_layer_state.ASSETS_PREFIX,)) as \
      archive:
    for name in (CONFIG, WEIGHTS):
      if not archive.has(name):
        raise SavingError(f"{where} is not a complete Keras 3 .keras file: it "
                          f"has no {name!r}. The file is truncated or "
                          "corrupt.")
    config, _ = archive.read_json(CONFIG, budget)
    if not isinstance(config, dict):
      raise SavingError(f"{archive.where(CONFIG)} must be a JSON object.")
    model = _rebuild(config, _layer_objects(custom_objects), safe_mode,
                     budget, where)
    if not model.built:
      raise SavingError(f"{where}: the model {model.name!r} could not be "
                        "built from its config (no input shape), so its "
                        "weights have nowhere to go.")
    data = _weights_member(archive, model, budget)
    assets = None
    for name in archive.prefixed:
      _layer_state.check_asset_name(name, where)
    if any(_layer_state.overrides(l, "load_assets")
           for _, l in _layer_state.walk(model)):
      assets = _layer_state.extract_assets(archive, archive.prefixed, budget,
                                           where)
  try:
    _read_archive_state(model, config, data, assets, compile, custom_objects,
                        where, budget)
  finally:
    if assets is not None:
      shutil.rmtree(assets, ignore_errors=True)
  return model


def _read_archive_state(model, config, data, assets, compile,  # pylint: disable=redefined-builtin
                        custom_objects, where, budget):
  with _keras3_h5.H5Reader(data, f"{where} (member {WEIGHTS!r})",
                           budget) as reader:
    read_weights(model, reader)
    if assets is not None:
      _layer_state.load_assets(model, assets)
    compile_config = config.get("compile_config")
    if compile and compile_config:
      try:
        _compile_io.compile_from_config(
            model, _keras3_optimizer.compile_config_from_keras(compile_config),
            custom_objects, where)
      except SavingError:
        raise
      except (ValueError, TypeError, KeyError, AttributeError) as err:
        raise SavingError(f"{where} (member {CONFIG!r}): compiling the model "
                          f"as Keras saved it failed: {type(err).__name__}: "
                          f"{err}") from err
      read_optimizer(model, reader)


def _weights_member(archive, model, budget) -> bytes:
  """The HDF5 member's bytes, if no larger than `model` implies."""
  size = archive.declared(WEIGHTS)
  limit = _h5_allowance(model)
  if size > limit:
    raise SavingError(
        f"{archive.where(WEIGHTS)} declares {size:,} bytes, more than the "
        f"{limit:,} the architecture in {CONFIG} implies. The file is "
        "corrupt or crafted.")
  budget.take(size, f"member {WEIGHTS!r}")
  try:
    with archive.open(WEIGHTS) as f:
      return _reader.read_limited(f, limit, archive.where(WEIGHTS))
  except SavingError:
    raise
  except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
    raise SavingError(f"{archive.where(WEIGHTS)} cannot be read: the file "
                      f"is corrupt or truncated ({err}).") from None


def _layer_objects(custom_objects):
  return {k: v for k, v in (custom_objects or {}).items()
          if k not in _compile_io.COMPILE_ARGS}


def load_weights(model, filepath, max_bytes: Optional[int] = None) -> None:
  """Loads a Keras 3 `.weights.h5` (or a Keras 3 `.keras` file's weights)
  into a built model."""
  filepath = os.fspath(filepath)
  if not os.path.exists(filepath):
    raise FileNotFoundError(f"No weights file at {filepath!r}.")
  budget = _reader.Budget(_reader.max_load_bytes(max_bytes), repr(filepath))
  source, where = filepath, repr(filepath)
  if filepath.endswith(".keras"):  # the weights of a Keras 3 .keras file
    with _reader.Archive(filepath, MEMBERS) as archive:
      if not archive.has(WEIGHTS):
        raise SavingError(f"{where} has no {WEIGHTS!r}.")
      source = _weights_member(archive, model, budget)
      where = archive.where(WEIGHTS)
  with _keras3_h5.H5Reader(source, where, budget) as reader:
    read_weights(model, reader)
    read_optimizer(model, reader)


# -- writing ----------------------------------------------------------------------

def _tensor(t, ref):
  return {"class_name": "__keras_tensor__",
          "config": {"shape": list(t.shape), "dtype": t.dtype,
                     "keras_history": list(ref)}}


def _layer_entry(layer):
  if _keras3_layout._is_model(layer):  # pylint: disable=protected-access
    return model_entry(layer)
  hk = _serialization.serialize_keras_object(layer)
  cls = hk["class_name"]
  registered = hk.get("registered_name")
  return {"module": "keras.layers" if not registered else hk["module"],
          "class_name": cls,
          "config": _keras3_config.layer_config_to_keras(cls, hk["config"],
                                                         layer.name),
          "registered_name": registered, "name": layer.name}


def _functional_config(model):
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  node_ids, nodes_of = {}, {}
  for node in model._nodes:  # pylint: disable=protected-access
    calls = nodes_of.setdefault(id(node.layer), [])
    node_ids[id(node)] = (node.layer.name, len(calls))
    calls.append(node)

  def ref(t):
    node = t.node
    if isinstance(node.layer, _input.InputLayer):
      return [node.layer.name, 0, 0]
    name, index = node_ids[id(node)]
    flat = jax.tree_util.tree_leaves(
        node.outputs[0], is_leaf=lambda x: isinstance(x, _input.KerasTensor))
    return [name, index, [i for i, o in enumerate(flat) if o is t][0]]

  def encode(value, where):
    if isinstance(value, _input.KerasTensor):
      return _tensor(value, ref(value))
    if isinstance(value, list):
      return [encode(v, where) for v in value]
    if isinstance(value, tuple):
      return {"class_name": "__tuple__",
              "config": {"value": [encode(v, where) for v in value]}}
    if isinstance(value, dict):
      return {k: encode(v, where) for k, v in value.items()}
    return _serialization.jsonable(value, where)

  def io_ref(struct):
    if isinstance(struct, _input.KerasTensor):
      return ref(struct)
    if isinstance(struct, (list, tuple)):
      return [io_ref(s) for s in struct]
    if isinstance(struct, dict):
      return {k: io_ref(v) for k, v in struct.items()}
    raise ValueError(f"Cannot write the input/output structure {struct!r}.")

  operations = getattr(model, "_operations", model.layers)
  layers = []
  for layer in operations:
    if layer not in model.layers:
      raise ValueError(
          f"Cannot write model {model.name!r} as a Keras 3 file: it applies "
          f"the operation {type(layer).__name__} ({layer.name!r}) to symbolic "
          "tensors, which hk_keras does not write in Keras's op format. Use "
          "layers (e.g. layers.Add()) instead of ops on KerasTensors.")
    entry = _layer_entry(layer)
    entry["inbound_nodes"] = [
        {"args": encode(list(n.args), layer.name),
         "kwargs": encode(dict(n.kwargs), layer.name)}
        for n in nodes_of.get(id(layer), [])]
    layers.append(entry)
  return {"name": model.name, "trainable": model.trainable, "layers": layers,
          "input_layers": io_ref(model._inputs_struct),  # pylint: disable=protected-access
          "output_layers": io_ref(model._outputs_struct)}  # pylint: disable=protected-access


def _sequential_config(model):
  layers = []
  input_layer = getattr(model, "_input_layer", None)
  spec = getattr(model, "_input_spec", None)
  if input_layer is not None:
    layers.append(_layer_entry(input_layer))
  layers += [_layer_entry(layer) for layer in model.layers]
  config = {"name": model.name, "trainable": model.trainable,
            "dtype": _keras3_config._policy(model.dtype),  # pylint: disable=protected-access
            "layers": layers}
  if spec is not None and hasattr(spec, "shape"):
    config["build_input_shape"] = list(spec.shape)
  return config


def model_entry(model):
  """The Keras 3 serialized form of an hk_keras Functional/Sequential."""
  from ..models import _functional  # pylint: disable=g-import-not-at-top
  from ..models import _sequential  # pylint: disable=g-import-not-at-top
  if isinstance(model, _sequential.Sequential):
    return {"module": "keras", "class_name": "Sequential",
            "config": _sequential_config(model), "registered_name": None,
            "name": model.name}
  if isinstance(model, _functional.Functional) and type(model) in (
      _functional.Functional,):
    return {"module": "keras.src.models.functional",
            "class_name": "Functional", "config": _functional_config(model),
            "registered_name": "Functional", "name": model.name}
  raise ValueError(
      f"Cannot write model {model.name!r} ({type(model).__name__}) as a Keras "
      "3 file: only Sequential and Functional models have a config Keras can "
      "rebuild without your code. Save it in hk_keras's format "
      "(model.save(path)).")


def _optimizer_vars(model):
  """`(name, arrays)` of the live optimizer in Keras's order, or None."""
  from .. import optimizers  # pylint: disable=g-import-not-at-top
  from ..layers import _layer  # pylint: disable=g-import-not-at-top
  live = _engine.live_state(model)
  if not getattr(model, "compiled", False) or live is None or (
      live.train_state is None) or not live.is_current():
    return None
  optimizer = model.optimizer
  if not isinstance(optimizer, optimizers.Optimizer):
    return None
  trainable = [r for r in _layer.owner_order(model, model._records)  # pylint: disable=protected-access
               if _layer.is_trainable(r)]
  try:
    names = _keras3_optimizer.keras_names(type(optimizer).__name__,
                                          optimizer.get_config(), trainable)
    state = _weights.tree_arrays(_weights.host(live.train_state.opt_state),
                                 "opt_state")
    mapping = _keras3_optimizer.state_mapping(list(state), trainable)
  except _keras3_optimizer.NotMapped as err:
    warnings.warn(f"The optimizer state of model {model.name!r} is not "
                  f"written to the Keras 3 file ({err}).", stacklevel=4)
    return None
  by_what = {}
  for key, (what, record) in mapping.items():
    by_what.setdefault((what, None if record is None else id(record)),
                       state[key])
  out = []
  for what, record in names:
    value = by_what[(what, None if record is None else id(record))]
    if what == "iteration":
      value = np.asarray(value, np.int64)
    elif what == "learning_rate":
      value = np.asarray(value, np.float32)
    out.append(value)
  return optimizer.name, out


def _h5_bytes(model, with_optimizer=True) -> bytes:
  groups = _keras3_layout.layout(model)
  _keras3_layout.check_complete(model, groups)
  params, state = model.params, model.state
  values = {"params": params, "state": state}

  hooked = _hooked_groups(groups, "save_own_variables", "load_own_variables")

  def arrays_of(group):
    if id(group) in hooked:
      store = _layer_state.Store(group.layer.name, group.path)
      group.layer.save_own_variables(store)
      return dict(store)
    return [np.asarray(jax.device_get(values[r.kind][r.module][r.name]))
            for r in group.records]

  optimizer = _optimizer_vars(model) if with_optimizer else None
  return _keras3_h5.write_h5(groups, arrays_of, optimizer)


def save_model(model, filepath, overwrite: bool = True) -> None:
  """Writes `model` as a Keras 3 `.keras` file (config, HDF5 weights,
  compile config and optimizer variables)."""
  filepath = os.fspath(filepath)
  if not str(filepath).endswith(".keras"):
    raise ValueError(f"model.save(format='keras3') writes a path ending in "
                     f"'.keras'. Received: filepath={filepath!r}")
  if not overwrite and os.path.exists(filepath):
    raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
  if not model.built:
    raise ValueError(f"Model {model.name!r} is not built, so it has no "
                     "weights to save. Build it first.")
  entry = model_entry(model)
  entry["build_config"] = {"input_shape": None}
  try:
    entry["compile_config"] = _keras3_optimizer.compile_config_to_keras(
        _compile_io.compile_config(model))
  except _keras3_optimizer.NotMapped as err:
    warnings.warn(f"The compile config of model {model.name!r} is not "
                  f"written to the Keras 3 file ({err}).", stacklevel=3)
    entry["compile_config"] = None
  import hk_keras  # pylint: disable=g-import-not-at-top
  metadata = {"keras_version": KERAS_VERSION,
              "hk_keras_version": hk_keras.__version__,
              "date_saved": datetime.datetime.now().strftime(
                  "%Y-%m-%d@%H:%M:%S")}
  members = {METADATA: json.dumps(metadata).encode(),
             CONFIG: json.dumps(entry).encode(),
             WEIGHTS: _h5_bytes(model)}
  members.update(_layer_state.asset_members(model))
  _archive.atomic_write(filepath, lambda f: _archive.write_zip(f, members))


def save_weights(model, filepath, overwrite: bool = True) -> None:
  """Writes a Keras 3 `.weights.h5` file."""
  filepath = os.fspath(filepath)
  if not overwrite and os.path.exists(filepath):
    raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
  if not model.built:
    raise ValueError(f"Model {model.name!r} is not built, so it has no "
                     "weights to save. Build it first.")
  data = _h5_bytes(model)
  _archive.atomic_write(filepath, lambda f: f.write(data))

