"""Ops on symbolic tensors: each call becomes an `OpLayer` node of the graph.

An op called with a `KerasTensor` anywhere in its arguments does not
compute: it records an `OpLayer` that holds the op's name and its other
(static) arguments, calls it on the symbolic tensors (which infers the
output shapes abstractly, as for any layer) and returns the outputs. When the
model runs, the layer calls the op on the arrays that arrive in their place.

Saved, a node is the op's name and its arguments as JSON: loading looks the
name up among hk_keras's own ops (never a Python path) and refuses anything
else; function arguments (`cond`, `scan`, ...) are saved only by the name
they were registered under with `register_keras_serializable`.
"""
import functools
import re

import jax
import numpy as np

from ..layers import _input
from ..layers._layer import Layer
from .._core import _registry

# op name -> the eager function (arrays in, arrays out).
_OPS = {}

_UNKNOWN_OP = (
    "The saved graph calls the op {op!r}, which is not an hk_keras.ops "
    "function. Only hk_keras's own ops can be loaded by name (a saved file "
    "never names code to import). The file is corrupt, was edited by hand, or "
    "comes from a newer hk_keras.")

_CALLABLE_NOT_SAVED = (
    "Op node {name!r} ({op}) has the function argument {fn!r}, and hk_keras "
    "never saves code. Decorate the function with "
    "@hk_keras.saving.register_keras_serializable() (it is then saved by that "
    "name and found again when the defining code is imported before loading), "
    "or put the computation in a custom layer.")


def op(fn=None, *, name=None):
  """Registers `fn` as an op and makes it build graph nodes on symbolic
  tensors. Use as `@op` or `@op(name="image.resize")`."""
  if fn is None:
    return functools.partial(op, name=name)
  key = name or fn.__name__

  @functools.wraps(fn)
  def wrapper(*args, **kwargs):
    if _input.any_symbolic((args, kwargs)):
      return symbolic_op(key, args, kwargs)
    return fn(*args, **kwargs)

  wrapper.op_name = key
  _OPS[key] = fn
  return wrapper


def registered_ops():
  return dict(_OPS)


class _Slot:
  """Where the `index`-th symbolic input goes in an op's arguments."""

  def __init__(self, index):
    self.index = index

  def __repr__(self):
    return f"<input {self.index}>"


def _template(value, tensors):
  if isinstance(value, _input.KerasTensor):
    tensors.append(value)
    return _Slot(len(tensors) - 1)
  if isinstance(value, list):
    return [_template(v, tensors) for v in value]
  if isinstance(value, tuple) and not hasattr(value, "_fields"):
    return tuple(_template(v, tensors) for v in value)
  if isinstance(value, dict):
    return {k: _template(v, tensors) for k, v in value.items()}
  return value


def _fill(value, inputs):
  if isinstance(value, _Slot):
    return inputs[value.index]
  if isinstance(value, list):
    return [_fill(v, inputs) for v in value]
  if isinstance(value, tuple):
    return tuple(_fill(v, inputs) for v in value)
  if isinstance(value, dict):
    return {k: _fill(v, inputs) for k, v in value.items()}
  return value


def symbolic_op(op_name, args, kwargs):
  """Adds a node calling op `op_name` to the graph; returns its outputs."""
  tensors = []
  template = _template((tuple(args), dict(kwargs)), tensors)
  layer = OpLayer(op_name, template)
  return layer(tensors)


def _class_name(op_name):
  short = op_name.rsplit(".", 1)[-1]
  return "".join(part[:1].upper() + part[1:] for part in short.split("_"))


class OpLayer(Layer):
  """A node of a Functional graph that calls one hk_keras op.

  Created by calling an op (or a Python operator) on symbolic tensors; not
  meant to be built by hand. It has no weights. `model.layers` leaves it
  out, as Keras leaves out its operations; `summary()` shows it as a row.

  Args:
    op: the op's name, e.g. `"add"` or `"image.resize"`.
    arguments: `(args, kwargs)` of the call, with the symbolic inputs
      replaced by slots (the layer is called on the list of those inputs).
  """

  _is_op_node = True

  def __init__(self, op, arguments, name=None, **kwargs):  # pylint: disable=redefined-outer-name
    if op not in _OPS:
      raise ValueError(_UNKNOWN_OP.format(op=op))
    from .._core import _naming  # pylint: disable=g-import-not-at-top
    short = op.rsplit(".", 1)[-1]
    kwargs.pop("autocast", None)
    super().__init__(name=name or _naming.unique_name(short), autocast=False,
                     **kwargs)
    self.op = op
    self.arguments = arguments
    self.summary_class_name = _class_name(op)

  def call(self, inputs):
    args, kwargs = _fill(self.arguments, list(inputs))
    return _OPS[self.op](*args, **kwargs)

  def get_config(self):
    config = super().get_config()
    config["op"] = self.op
    config["arguments"] = encode(self.arguments, self)
    return config

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    op_name = config.pop("op", None)
    if not isinstance(op_name, str) or op_name not in _OPS:
      raise ValueError(_UNKNOWN_OP.format(op=op_name))
    arguments = decode(config.pop("arguments", [[], {}]))
    if not (isinstance(arguments, tuple) and len(arguments) == 2):
      raise ValueError(f"Op node {config.get('name')!r}: its saved arguments "
                       "must be an (args, kwargs) pair. The config is corrupt.")
    return cls(op_name, (tuple(arguments[0]), dict(arguments[1])), **config)


_registry.register_keras_serializable(package="hk_keras", name="OpLayer")(
    OpLayer)


# -- arguments to JSON and back -----------------------------------------------

def encode(value, layer):
  """JSON for an op's static arguments (see the module docstring)."""
  if isinstance(value, _Slot):
    return {"__input__": value.index}
  if value is None or isinstance(value, (bool, int, float, str)):
    return value
  if value is Ellipsis:
    return {"__ellipsis__": True}
  if isinstance(value, slice):
    return {"__slice__": [encode(v, layer) for v in
                          (value.start, value.stop, value.step)]}
  if isinstance(value, list):
    return [encode(v, layer) for v in value]
  if isinstance(value, tuple):
    return {"__tuple__": [encode(v, layer) for v in value]}
  if isinstance(value, dict):
    for k in value:
      if not isinstance(k, str):
        raise TypeError(f"Op node {layer.name!r}: a dict argument has the "
                        f"non-string key {k!r}, which JSON cannot hold.")
    return {"__dict__": {k: encode(v, layer) for k, v in value.items()}}
  if isinstance(value, np.generic):
    return value.item()
  if isinstance(value, (np.ndarray, jax.Array)):
    array = np.asarray(value)
    return {"__array__": {"value": array.tolist(), "dtype": array.dtype.name}}
  dtype_attr = getattr(value, "dtype", None)
  if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(
      value, np.generic)) or (callable(value) and isinstance(dtype_attr,
                                                            np.dtype)):
    return {"__dtype__": np.dtype(value).name}
  if callable(value):
    registered = _registry.registered_name_or_none(value)
    if registered is None:
      raise TypeError(_CALLABLE_NOT_SAVED.format(
          name=layer.name, op=layer.op, fn=getattr(value, "__name__", value)))
    return {"__function__": registered}
  raise TypeError(
      f"Op node {layer.name!r} ({layer.op}) has the argument {value!r} of type "
      f"{type(value).__name__}, which cannot be saved as JSON. Pass numbers, "
      "strings, lists, tuples, slices or arrays.")


_TAGS = ("__input__", "__ellipsis__", "__slice__", "__tuple__", "__dict__",
         "__array__", "__dtype__", "__function__")


def decode(value):
  """Inverse of `encode`; refuses unknown tags and unregistered functions."""
  if isinstance(value, list):
    return [decode(v) for v in value]
  if not isinstance(value, dict):
    return value
  if len(value) != 1 or next(iter(value)) not in _TAGS:
    raise ValueError(
        f"Unexpected entry {value!r} in an op node's saved arguments: expected "
        f"one of the tags {_TAGS}. The config is corrupt or was edited by "
        "hand.")
  (tag, item), = value.items()
  if tag == "__input__":
    if not isinstance(item, int) or isinstance(item, bool) or item < 0:
      raise ValueError(f"Bad input slot {item!r} in an op node's arguments.")
    return _Slot(item)
  if tag == "__ellipsis__":
    return Ellipsis
  if tag == "__slice__":
    return slice(*[decode(v) for v in item])
  if tag == "__tuple__":
    return tuple(decode(v) for v in item)
  if tag == "__dict__":
    return {k: decode(v) for k, v in item.items()}
  if tag == "__array__":
    return np.asarray(item["value"], dtype=np.dtype(str(item["dtype"])))
  if tag == "__dtype__":
    return np.dtype(str(item)).name
  # "__function__": only a function registered in this process.
  if not isinstance(item, str) or not re.match(r"^[\w.>]+$", item):
    raise ValueError(f"Bad function reference {item!r} in an op node.")
  found = _registry.get_registered_object(item)
  if found is None or not callable(found):
    raise ValueError(
        f"An op node calls the function {item!r}, which is not registered in "
        "this process. Import the code that defines it (decorated with "
        "@hk_keras.saving.register_keras_serializable()) before loading.")
  return found
