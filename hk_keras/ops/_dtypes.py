"""Keras 3's dtype rules (its own promotion lattice, not NumPy's or JAX's).

Keras promotes dtypes on a lattice close to JAX's, with Python `int` and
`float` as weak types that defer to the tensor they meet, and it maps the
64-bit types to their 32-bit forms on the JAX backend (x64 off).
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

FLOATX = "float32"
_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
         "uint64")
_FLOATS = ("bfloat16", "float16", "float32", "float64")

# Each dtype -> the dtypes directly above it. "int" and "float" are the weak
# Python scalar types.
_ABOVE = {
    "bool": ("int",),
    "int": ("uint8", "int8", "complex64"),
    "uint8": ("int16", "uint16"), "uint16": ("int32", "uint32"),
    "uint32": ("int64", "uint64"), "uint64": ("float",),
    "int8": ("int16",), "int16": ("int32",), "int32": ("int64",),
    "int64": ("float",),
    "float": ("bfloat16", "float16"),
    "bfloat16": ("float32",), "float16": ("float32",),
    "float32": ("float64", "complex64"), "float64": ("complex128",),
    "complex64": ("complex128",), "complex128": (),
}
_TO_32_BIT = {"int64": "int32", "uint64": "uint32", "float64": "float32",
              "complex128": "complex64"}


@functools.lru_cache(None)
def _upper_bounds(node):
  out = {node}
  for parent in _ABOVE[node]:
    out |= _upper_bounds(parent)
  return frozenset(out)


@functools.lru_cache(None)
def _least_upper_bound(nodes):
  common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
  lub = [c for c in common if common <= _upper_bounds(c)]
  if len(lub) != 1:
    raise ValueError(f"Input dtypes {tuple(sorted(nodes))} have no implicit "
                     "promotion path. Cast the inputs to a common dtype first.")
  return lub[0]


def standardize_dtype(dtype):
  """A dtype name as Keras writes it ("float32", "int32", "bool", ...)."""
  if dtype is None:
    return FLOATX
  if dtype is int:
    return "int32"
  if dtype is float:
    return "float32"
  if dtype is bool:
    return "bool"
  if dtype is complex:
    return "complex64"
  if hasattr(dtype, "name") and not isinstance(dtype, str):
    dtype = dtype.name
  if isinstance(dtype, str) and dtype in ("int", "float"):
    return "int32" if dtype == "int" else "float32"
  try:
    return jnp.dtype(dtype).name
  except TypeError:
    raise ValueError(f"Invalid dtype: {dtype!r}. Expected a dtype name such as "
                     "'float32' or 'int32', or a NumPy/JAX dtype.") from None


def _node(value):
  if value is int or value is float:
    return ("int" if value is int else "float"), True
  return standardize_dtype(value), False


def result_type(*dtypes):
  """The dtype Keras 3 gives an op on inputs of `dtypes` (`int`/`float` for
  Python scalars). With no dtypes, `floatx()`."""
  if not dtypes:
    return FLOATX
  nodes = [_node(d) for d in dtypes]
  names = [n for n, _ in nodes]
  weak = [w for _, w in nodes]
  if len(names) == 1:
    out, out_weak = names[0], weak[0]
  elif len(set(names)) == 1 and not all(weak):
    out, out_weak = names[0], False
  elif all(weak):
    out = _least_upper_bound(frozenset(standardize_dtype(n) for n in names))
    out_weak = True
  else:
    out = _least_upper_bound(frozenset(names))
    out_weak = out in ("int", "float")
  if out_weak and out != "bool":
    out = {"int": "int32", "float": "float32"}.get(out, out)
    if out.startswith("int"):
      out = "int32"
    elif out.startswith("uint"):
      out = "uint32"
    elif out != "bool" and not out.startswith("complex"):
      out = "float32"
  return _TO_32_BIT.get(out, out)


def dtype_of(x):
  """Keras's view of an input's dtype: Python scalars stay weak types."""
  if isinstance(x, bool):
    return "bool"
  if isinstance(x, int):
    return int
  if isinstance(x, float):
    return float
  if hasattr(x, "dtype"):
    return standardize_dtype(x.dtype)
  return standardize_dtype(np.asarray(x).dtype)


def is_float(dtype):
  return standardize_dtype(dtype) in _FLOATS


def is_int(dtype):
  return standardize_dtype(dtype) in _INTS


def is_complex(dtype):
  return standardize_dtype(dtype).startswith("complex")


def float_dtype(x):
  """The dtype of a float op on `x`: floats stay, everything else floatx."""
  return result_type(dtype_of(x), float)


def is_jax_array(x):
  return isinstance(x, jax.Array)
