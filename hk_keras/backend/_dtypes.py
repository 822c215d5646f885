"""Dtype helpers of `keras.backend`: names, kinds and Keras's promotion."""
import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ..config import _settings

_PYTHON = {bool: "bool", int: "int32", "int": "int32", float: "float32",
           complex: "complex64",
           str: "string"}
_ALLOWED = ("float16", "float32", "float64", "uint8", "uint16", "uint32",
            "uint64", "int8", "int16", "int32", "int64", "bfloat16", "bool",
            "string", "float8_e4m3fn", "float8_e5m2", "complex64",
            "complex128")


def standardize_dtype(dtype) -> str:
  """A dtype (string, NumPy/JAX dtype or Python type) -> its Keras name.

  `None` is `hk_keras.config.floatx()`; Python `int` is `"int32"` and
  `float` is `"float32"`, as in Keras.

  Raises:
    ValueError: for something that is not a dtype Keras knows.

  >>> standardize_dtype(np.float32)
  'float32'
  """
  if dtype is None:
    return _settings.floatx()
  dtype = _PYTHON.get(dtype, dtype)
  if hasattr(dtype, "name"):
    dtype = dtype.name
  elif hasattr(dtype, "__name__"):
    dtype = dtype.__name__
  elif "jax.numpy" in str(dtype):
    dtype = str(dtype).split(".")[-1]
  if dtype not in _ALLOWED:
    raise ValueError(
        f"Invalid dtype: {dtype!r}. Expected one of {list(_ALLOWED)}, a "
        "NumPy/JAX dtype or a Python type (bool, int, float).")
  return dtype


def is_float_dtype(dtype) -> bool:
  """True for float16/32/64, bfloat16 and float8 dtypes."""
  name = standardize_dtype(dtype)
  return name.startswith("float") or name.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
  """True for signed and unsigned integer dtypes."""
  name = standardize_dtype(dtype)
  return name.startswith("int") or name.startswith("uint")


def result_type(*dtypes) -> str:
  """The dtype of an operation on `dtypes`, by Keras's (JAX's) promotion.

  Dtype arguments promote on JAX's lattice without 64-bit truncation first
  (uint64 with int32 is a float), then the result is made available on the
  current JAX setup (float64 becomes float32 unless `jax_enable_x64`).
  Python `bool`/`int`/`float` are weak types: `result_type("int8", int)` is
  `"int8"`. `None` stands for `floatx()`; no argument gives `floatx()`.

  Raises:
    ValueError: for float8 arguments (they never promote implicitly).

  >>> result_type("int32", "float32")
  'float32'
  """
  if not dtypes:
    return _settings.floatx()
  strong, weak = [], []
  for dtype in dtypes:
    if dtype is None:
      dtype = _settings.floatx()
    if dtype in (bool, int, float, complex):
      weak.append(dtype)
      continue
    name = standardize_dtype(dtype)
    if name.startswith("float8"):
      raise ValueError(
          "There is no implicit conversion from float8 dtypes to others; "
          f"cast explicitly first. Received: dtypes={dtypes!r}")
    strong.append(jnp.dtype(name))
  ints = [d for d in strong if d.kind in "biu"]
  parts = [d for d in strong if d.kind not in "biu"]
  if ints:
    joined = functools.reduce(jnp.promote_types, ints)
    if joined.kind == "f":
      # uint64 with a signed int has no integer type: like Keras's lattice,
      # it becomes a weak float that any strong float dtype absorbs.
      weak.append(float)
    else:
      parts.append(joined)
  if parts:
    parts = [functools.reduce(jnp.promote_types, parts)]
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    out = jax.dtypes.result_type(*parts, *weak)
  return np.dtype(jax.dtypes.canonicalize_dtype(out)).name \
      if np.dtype(out).name != "bfloat16" else "bfloat16"
