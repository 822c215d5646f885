"""NumPy's pickled arrays, dtypes and scalars, rebuilt without NumPy's
pickle hooks.

A NumPy pickle names a few globals (`_reconstruct`, `ndarray`, `dtype`,
`scalar`, `_frombuffer`) and passes them arguments (REDUCE) and state
(BUILD). `_safe_unpickle` keeps those globals as symbols; this module does
what they would do, from the arguments alone: arrays come from
`np.frombuffer` over the pickled bytes, or `np.empty(dtype=object)` filled
with the pickled list. Nothing named in a file is imported or called.
"""
import math
import re

import numpy as np

# The globals NumPy's pickles name, and what each stands for here. None of
# them is imported or called: REDUCE and BUILD emulate their effect.
GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.multiarray", "scalar"): "scalar",
    ("numpy._core.multiarray", "scalar"): "scalar",
    # Protocol 5: contiguous arrays are `_frombuffer(bytearray, dtype, ...)`.
    ("numpy.core.numeric", "_frombuffer"): "frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "frombuffer",
    # Protocol 2 from Python 3 writes bytes as `encode(str, "latin1")`, and
    # b"" as `bytes()`.
    ("_codecs", "encode"): "encode",
    ("__builtin__", "bytes"): "bytes",
    ("builtins", "bytes"): "bytes",
}

# The names `np.dtype.__reduce__` gives plain dtypes (bool, ints, floats,
# complex, object, bytes, str); void, datetime and others are not read.
_DTYPE_NAME = re.compile(
    r"(b1|[iu][1248]|f(2|4|8|12|16)|c(8|16|24|32)|O[48]|[SU]\d{0,9})\Z")


class Global:
  """A global the file named, kept as a symbol: never imported."""
  __slots__ = ("module", "name", "kind")

  def __init__(self, module, name, kind):
    self.module, self.name, self.kind = module, name, kind


class ArgTuple(tuple):
  """A tuple holding a `Global`: fit only as REDUCE arguments."""


class Pending:
  """An array or dtype made by REDUCE, waiting for BUILD's state."""
  __slots__ = ("kind", "name", "value", "done")

  def __init__(self, kind, name=None):
    self.kind, self.name, self.value, self.done = kind, name, None, False


def _short(value):
  text = repr(value)
  return text if len(text) <= 80 else text[:77] + "..."


def global_symbol(r, module, name):
  """The symbol for a global the file names; refuses all but `GLOBALS`."""
  kind = GLOBALS.get((module, name))
  if kind is None:
    raise r.refuse(f"it names the global `{module}.{name}` (opcode "
                   f"{r.op_name()} at byte {r.op_pos}), and only "
                   "NumPy arrays, lists, dicts, numbers and strings are "
                   "read")
  return Global(module, name, kind)


def reduce(r, func, args):
  """What calling the global `func` with `args` would return, emulated."""
  if not isinstance(func, Global):
    raise r.refuse(f"REDUCE at byte {r.op_pos} calls a "
                   f"{type(func).__name__}, not a known NumPy rebuilder")
  if not isinstance(args, tuple):
    raise r.broken("REDUCE arguments are not a tuple")
  kind = func.kind
  if kind == "reconstruct":
    if (len(args) != 3 or not isinstance(args[0], Global)
        or args[0].kind != "ndarray"):
      raise r.refuse("`_reconstruct` is asked to build something other "
                     "than a plain numpy.ndarray")
    if args[2] not in ("b", b"b"):  # The placeholder dtype NumPy writes.
      raise r.broken(f"bad `_reconstruct` arguments {_short(args[1:])}")
    _check_shape(r, args[1])
    return Pending("array")
  if kind == "dtype":
    if (not 1 <= len(args) <= 3 or not isinstance(args[0], (str, bytes))
        or not all(isinstance(flag, int) for flag in args[1:])):
      raise r.broken(f"bad numpy.dtype arguments {_short(args)}")
    name = args[0]
    name = name.decode("latin1") if isinstance(name, bytes) else name
    if not _DTYPE_NAME.match(name):
      raise r.broken(f"unsupported dtype {name!r}")
    return Pending("dtype", name)
  if kind == "scalar":
    return _scalar(r, *_arity(r, args, 2, "scalar"))
  if kind == "frombuffer":
    buf, dtype, shape, order = _arity(r, args, 4, "_frombuffer")
    if order not in ("C", "F"):
      raise r.broken(f"bad array order {order!r}")
    return _numeric_array(r, buf, dtype, shape, order == "F")
  if kind == "encode":
    text, codec = _arity(r, args, 2, "_codecs.encode")
    if not isinstance(text, str) or codec not in ("latin1", "latin-1"):
      raise r.refuse("`_codecs.encode` is used for something other "
                     "than latin1 bytes")
    try:
      return text.encode("latin1")
    except UnicodeEncodeError as e:
      raise r.broken(f"bytes are not latin1 ({e})") from None
  if kind == "bytes" and not args:
    return b""
  raise r.refuse(f"`{func.module}.{func.name}` is called with "
                 f"arguments {_short(args)}")


def _arity(r, args, n, name):
  if len(args) != n:
    raise r.broken(f"`{name}` takes {n} arguments, got {len(args)}")
  return args


def build(r, obj, state):
  """`obj.__setstate__(state)` for a pending array or dtype, emulated."""
  if not isinstance(obj, Pending) or obj.done:
    raise r.refuse(f"BUILD at byte {r.op_pos} would set the state "
                   f"of a {type(obj).__name__} (calls __setstate__)")
  if not isinstance(state, tuple) or isinstance(state, ArgTuple):
    raise r.broken(f"the state of a NumPy {obj.kind} must be a tuple")
  if obj.kind == "dtype":
    obj.value = _dtype(r, obj.name, state)
  else:
    obj.value = _array(r, state)
  obj.done = True
  return obj.value


def _dtype(r, name, state):
  if (len(state) not in (8, 9) or state[0] not in (3, 4)
      or any(s is not None for s in state[2:5])):
    raise r.broken(f"unsupported dtype state {_short(state)} (only plain, "
                   "unstructured dtypes are read)")
  if len(state) == 9 and state[8] is not None:
    raise r.broken(f"unsupported dtype metadata {_short(state[8])}")
  endian, elsize = state[1], state[5]
  endian = endian.decode("latin1") if isinstance(endian, bytes) else endian
  try:
    dtype = np.dtype(name)
    if dtype.itemsize == 0 and isinstance(elsize, int) and elsize > 0:
      chars = elsize // 4 if dtype.kind == "U" else elsize
      dtype = np.dtype(f"{dtype.kind}{chars}")
    if endian in ("<", ">"):
      dtype = dtype.newbyteorder(endian)
    elif endian not in ("|", "="):
      raise TypeError(f"bad byte order {endian!r}")
  except (TypeError, ValueError) as e:
    raise r.broken(f"unsupported dtype {name!r} ({e})") from None
  if (dtype.fields is not None or dtype.subdtype is not None
      or not dtype.itemsize):
    raise r.broken(f"unsupported dtype {name!r}")
  return dtype


def _check_dtype(r, dtype):
  if not isinstance(dtype, np.dtype):
    raise r.broken(f"expected a dtype, got {type(dtype).__name__}")


def _check_shape(r, shape):
  if not isinstance(shape, tuple) or not all(
      type(n) is int and n >= 0 for n in shape):
    raise r.broken(f"bad array shape {shape!r}")
  return math.prod(shape)


def _array(r, state):
  if len(state) == 5:  # (version, shape, dtype, is_fortran, data)
    if state[0] != 1:
      raise r.broken(f"unsupported array state version {_short(state[0])}")
    state = state[1:]
  if len(state) != 4:
    raise r.broken("the state of an array must have 4 or 5 items")
  shape, dtype, fortran, data = state
  _check_dtype(r, dtype)
  if not dtype.hasobject:
    out = _numeric_array(r, data, dtype, shape, bool(fortran))
    # As ndarray.__setstate__: data in the other byte order is swapped.
    return out if dtype.isnative else r.new(
        out.astype(dtype.newbyteorder("="), order="K"))
  count = _check_shape(r, shape)
  if not isinstance(data, list) or len(data) != count:
    raise r.broken(f"an object array of shape {shape} needs a list of "
                   f"{count} items")
  flat = np.empty(count, dtype=object)
  for i, v in enumerate(data):
    flat[i] = v
  out = flat.reshape(shape)  # Items are listed in C order either way.
  out = np.asfortranarray(out) if fortran and out.ndim else out
  return r.new(out, r.depth.get(id(data), 1))


def _numeric_array(r, data, dtype, shape, fortran):
  _check_dtype(r, dtype)
  if dtype.hasobject:
    raise r.broken("an object array cannot come from raw bytes")
  count = _check_shape(r, shape)
  if isinstance(data, str):  # Python 2 `str` read with encoding="latin1".
    data = data.encode("latin1")
  if not isinstance(data, (bytes, bytearray)):
    raise r.broken(f"array data must be bytes, got "
                   f"{type(data).__name__}")
  if len(data) != count * dtype.itemsize:
    raise r.broken(f"an array of shape {shape} and dtype {dtype} needs "
                   f"{count * dtype.itemsize} bytes, got {len(data)}")
  order = "F" if fortran else "C"
  if not len(data):
    return r.new(np.zeros(shape, dtype, order=order))
  buf = data if isinstance(data, bytearray) else bytearray(data)
  return r.new(np.frombuffer(buf, dtype=dtype).reshape(shape, order=order))


def _scalar(r, dtype, data):
  _check_dtype(r, dtype)
  if dtype.hasobject:
    r.item(data, list)
    return data
  if isinstance(data, str):
    data = data.encode("latin1")
  if not isinstance(data, bytes) or len(data) != dtype.itemsize:
    raise r.broken(f"a {dtype} scalar needs {dtype.itemsize} bytes")
  return np.frombuffer(data, dtype=dtype)[0]

