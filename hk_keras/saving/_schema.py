"""Shape checks of the JSON documents in saved files, before they are used.

Every JSON a file holds (`config.json`, `metadata.json`, a weights file's
`__metadata__`, `BackupAndRestore`'s `latest.json`) is checked here against
the structure hk_keras writes: wrong types, missing keys and impossible
values raise `SavingError` naming the file, the member and the place inside
it (`model.config.layers[2].inbound_nodes[0]`), instead of surfacing later
as an `AttributeError` or `KeyError` deep in the rebuild.

The call graph of a Functional config is checked per node kind: a value in
a call's arguments is a plain JSON value or a tagged node (`__tensor__`,
`__tuple__`, `__dict__`). `NODE_KINDS` maps each tag to its checker, so a
new kind of node is one more entry.
"""
from typing import Any, Callable, Dict

from ._archive import SavingError

_NAMES = {bool: "a bool", int: "an integer", float: "a number", str: "a string",
          list: "a list", dict: "an object", type(None): "null"}


def _describe(value) -> str:
  text = repr(value)
  if len(text) > 60:
    text = text[:60] + "..."
  return f"{_NAMES.get(type(value), type(value).__name__)} ({text})"


class Where:
  """A place in one JSON document of one file, for messages."""

  def __init__(self, source: str, path: str = ""):
    self.source, self.path = source, path

  def __getitem__(self, key) -> "Where":
    if isinstance(key, int):
      return Where(self.source, f"{self.path}[{key}]")
    return Where(self.source, f"{self.path}.{key}" if self.path else str(key))

  def error(self, message: str) -> SavingError:
    at = f" at {self.path}" if self.path else ""
    return SavingError(f"{self.source}{at}: {message}. The file is corrupt, "
                       "was edited by hand, or was not written by hk_keras.")


def expect(value, types, where: Where, what: str = "the value"):
  """`value` if it is one of `types` (bools are not integers), else raise."""
  if not isinstance(types, tuple):
    types = (types,)
  ok = isinstance(value, types) and not (
      isinstance(value, bool) and bool not in types)
  if not ok:
    wanted = " or ".join(_NAMES.get(t, t.__name__) for t in types)
    raise where.error(f"{what} must be {wanted}, found {_describe(value)}")
  return value


def _optional(value, types, where, what):
  return None if value is None else expect(value, types, where, what)


def _count(value, where, what):
  expect(value, int, where, what)
  if value < 0:
    raise where.error(f"{what} must not be negative, found {value}")
  return value


def _shape(value, where, allow_none=False):
  expect(value, list, where, "a shape")
  for i, d in enumerate(value):
    if d is None and allow_none:
      continue
    _count(d, where[i], "a dimension")
  return value


def _dtype_name(value, where):
  expect(value, str, where, "a dtype")
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  try:
    jnp.dtype(value)
  except TypeError:
    raise where.error(f"{value!r} is not a dtype") from None
  return value


# -- metadata -----------------------------------------------------------------

def weight_listing(value, where: Where):
  expect(value, list, where, "the weight listing")
  for i, item in enumerate(value):
    w = where[i]
    expect(item, dict, w, "a weight entry")
    expect(item.get("path"), str, w["path"], "the weight path")
    _optional(item.get("layer"), str, w["layer"], "the layer name")
    if "shape" in item:
      _shape(item["shape"], w["shape"])
    if "dtype" in item:
      _dtype_name(item["dtype"], w["dtype"])
  return value


def train_config(value, where: Where):
  if value is None:
    return None
  expect(value, dict, where, "the train state")
  _optional(value.get("shuffle_seed"), int, where["shuffle_seed"],
            "the shuffle seed")
  if value.get("step") is not None:
    _count(value["step"], where["step"], "the step")
  _optional(value.get("has_optimizer_state"), bool,
            where["has_optimizer_state"], "has_optimizer_state")
  return value


def keras_metadata(value, where: Where, fmt: str, members) -> dict:
  """`metadata.json` of a `.keras` file."""
  expect(value, dict, where, "metadata.json")
  if value.get("format") != fmt:
    raise where["format"].error(
        f"the format must be {fmt!r}, found {_describe(value.get('format'))}")
  _count(value.get("format_version"), where["format_version"],
         "the format version")
  files = expect(value.get("files"), dict, where["files"], "the member list")
  for name, info in files.items():
    w = where["files"][name]
    if name not in members and not name.startswith("assets/"):
      raise w.error(f"{name!r} is not a member of this format (members: "
                    f"{sorted(members)})")
    expect(info, dict, w, "a member entry")
    expect(info.get("sha256"), str, w["sha256"], "the checksum")
    _count(info.get("bytes"), w["bytes"], "the size")
  weight_listing(value.get("weights", []), where["weights"])
  return value


def weights_metadata(value, where: Where, fmt: str) -> dict:
  """`__metadata__` of a `.weights.npz` file."""
  expect(value, dict, where, "the metadata")
  if value.get("format") not in (None, fmt):
    raise where["format"].error(
        f"the format must be {fmt!r}, found {_describe(value.get('format'))}")
  if value.get("format_version") is not None:
    _count(value["format_version"], where["format_version"],
           "the format version")
  weight_listing(value.get("weights", []), where["weights"])
  train_config(value.get("train_state"), where["train_state"])
  return value


# -- config.json ----------------------------------------------------------------

def keras_config(value, where: Where, fmt: str) -> dict:
  """`config.json` of a `.keras` file."""
  expect(value, dict, where, "config.json")
  if value.get("format", fmt) != fmt:
    raise where["format"].error(
        f"the format must be {fmt!r}, found {_describe(value.get('format'))}")
  if "model" not in value:
    raise where.error("there is no 'model' entry")
  layer_entry(value["model"], where["model"])
  _optional(value.get("compile_config"), dict, where["compile_config"],
            "the compile config")
  train_config(value.get("train_state"), where["train_state"])
  return value


def layer_entry(value, where: Where, functional: bool = False) -> None:
  """A serialized layer or model, nested models included."""
  expect(value, dict, where, "a serialized layer")
  expect(value.get("class_name"), str, where["class_name"], "the class name")
  for key in ("module", "registered_name", "name"):
    _optional(value.get(key), str, where[key], f"the {key}")
  config = value.get("config")
  if config is not None:
    expect(config, dict, where["config"], "the layer config")
    _optional(config.get("name"), str, where["config"]["name"],
              "the layer name")
    container_config(config, where["config"])
  build = value.get("build_config")
  if build is not None:
    expect(build, dict, where["build_config"], "the build config")
    if "input_spec" not in build:
      raise where["build_config"].error("there is no 'input_spec'")
    input_spec(build["input_spec"], where["build_config"]["input_spec"])
  if functional:
    nodes = expect(value.get("inbound_nodes", []), list,
                   where["inbound_nodes"], "the calls")
    for i, node in enumerate(nodes):
      w = where["inbound_nodes"][i]
      expect(node, dict, w, "a call")
      graph_value(expect(node.get("args"), list, w["args"], "the arguments"),
                  w["args"])
      kwargs = expect(node.get("kwargs"), dict, w["kwargs"],
                      "the keyword arguments")
      for key, item in kwargs.items():
        graph_value(item, w["kwargs"][key])


def container_config(config: dict, where: Where) -> None:
  """The layers of a Functional or Sequential config (others: nothing)."""
  if "layers" not in config:
    return
  functional = "input_layers" in config or "output_layers" in config
  layers = expect(config["layers"], list, where["layers"], "the layers")
  names = set()
  for i, entry in enumerate(layers):
    layer_entry(entry, where["layers"][i], functional=functional)
    if functional:
      name = entry.get("name") or (entry.get("config") or {}).get("name")
      if not isinstance(name, str):
        raise where["layers"][i].error("a layer of a Functional model needs "
                                       "a name")
      if name in names:
        raise where["layers"][i].error(f"the layer name {name!r} is used "
                                       "twice")
      names.add(name)
  if functional:
    for key in ("input_layers", "output_layers"):
      if key not in config:
        raise where.error(f"there is no {key!r}")
      graph_value(config[key], where[key])
  else:
    if config.get("input_layer") is not None:
      layer_entry(config["input_layer"], where["input_layer"])
    if config.get("input_spec") is not None:
      input_spec(config["input_spec"], where["input_spec"])


def input_spec(value, where: Where) -> None:
  expect(value, dict, where, "an input spec")
  if "shape" in value:
    _shape(value["shape"], where["shape"], allow_none=True)
    _dtype_name(value.get("dtype"), where["dtype"])
  elif "list" in value:
    for i, item in enumerate(expect(value["list"], list, where["list"],
                                    "the inputs")):
      input_spec(item, where["list"][i])
    _optional(value.get("tuple"), bool, where["tuple"], "'tuple'")
  elif "dict" in value:
    for key, item in expect(value["dict"], dict, where["dict"],
                            "the inputs").items():
      input_spec(item, where["dict"][key])
  else:
    raise where.error("an input spec needs 'shape', 'list' or 'dict'")


# -- the call graph -----------------------------------------------------------

def _tensor_node(value, where: Where) -> None:
  ref = expect(value, list, where, "a tensor reference")
  if len(ref) != 3:
    raise where.error("a tensor reference must be [layer name, call index, "
                      f"output index], found {_describe(ref)}")
  expect(ref[0], str, where[0], "the layer name")
  _count(ref[1], where[1], "the call index")
  _count(ref[2], where[2], "the output index")


def _tuple_node(value, where: Where) -> None:
  for i, item in enumerate(expect(value, list, where, "a tuple")):
    graph_value(item, where[i])


def _dict_node(value, where: Where) -> None:
  for key, item in expect(value, dict, where, "a dict").items():
    graph_value(item, where[key])


# tag -> checker of the tagged value. Another kind of graph node (an op
# node, say) registers its tag and checker here.
NODE_KINDS: Dict[str, Callable[[Any, Where], None]] = {
    "__tensor__": _tensor_node,
    "__tuple__": _tuple_node,
    "__dict__": _dict_node,
}


def graph_value(value, where: Where) -> None:
  """A value in the call graph: plain JSON, or exactly one tagged node."""
  if isinstance(value, list):
    for i, item in enumerate(value):
      graph_value(item, where[i])
  elif isinstance(value, dict):
    tags = [k for k in value if k in NODE_KINDS]
    if tags:
      if len(value) != 1:
        raise where.error(f"a {tags[0]} node must have no other keys, found "
                          f"{sorted(value)}")
      NODE_KINDS[tags[0]](value[tags[0]], where[tags[0]])
    # Untagged dicts are plain config values (kept as they are).


# -- latest.json of BackupAndRestore ---------------------------------------------

def backup_pointer(value, where: Where, fmt: str) -> dict:
  expect(value, dict, where, "latest.json")
  if value.get("format") != fmt:
    raise where["format"].error(
        f"the format must be {fmt!r}, found {_describe(value.get('format'))}")
  expect(value.get("file"), str, where["file"], "the backup file name")
  _count(value.get("epoch"), where["epoch"], "the epoch")
  return value
