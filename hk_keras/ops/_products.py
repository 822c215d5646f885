"""Products: matmul, dot, einsum, tensordot, outer, kron, cross, distances."""
import jax.numpy as jnp

from . import _dtypes
from ._core import cast, convert_to_tensor
from ._symbolic import op


def _pair(x1, x2):
  x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
  dtype = _dtypes.result_type(_dtypes.standardize_dtype(x1.dtype),
                              _dtypes.standardize_dtype(x2.dtype))
  return cast(x1, dtype), cast(x2, dtype), dtype


def _int_accumulating(fn):
  """int8 products accumulate in int32, as Keras on JAX."""
  def run(x1, x2, **kwargs):
    a, b, dtype = _pair(x1, x2)
    if dtype in ("int8", "int16", "uint8", "uint16"):
      return fn(a, b, preferred_element_type="int32", **kwargs)
    if dtype == "bool":
      return fn(a.astype("int32"), b.astype("int32"), **kwargs).astype("bool")
    return fn(a, b, **kwargs)
  return run


@op
def matmul(x1, x2):
  """Matrix product with broadcasting over leading axes."""
  return _int_accumulating(jnp.matmul)(x1, x2)


@op
def dot(x1, x2):
  """Dot product (matmul for 2-D, sum-product over the last/second-to-last
  axes in general)."""
  return _int_accumulating(jnp.dot)(x1, x2)


@op
def tensordot(x1, x2, axes=2):
  """Sum-product over the given axes."""
  a, b, _ = _pair(x1, x2)
  return jnp.tensordot(a, b, axes=axes)


@op
def inner(x1, x2):
  """Inner product over the last axes."""
  a, b, _ = _pair(x1, x2)
  return jnp.inner(a, b)


@op
def outer(x1, x2):
  """Outer product of the flattened inputs."""
  a, b, _ = _pair(x1, x2)
  return jnp.outer(a, b)


@op
def vdot(x1, x2):
  """Dot product of the flattened inputs (conjugating the first)."""
  a, b, _ = _pair(x1, x2)
  return jnp.vdot(a, b)


@op
def kron(x1, x2):
  """Kronecker product."""
  a, b, _ = _pair(x1, x2)
  return jnp.kron(a, b)


@op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
  """Cross product of 2- or 3-vectors."""
  a, b, _ = _pair(x1, x2)
  return jnp.cross(a, b, axisa=axisa, axisb=axisb, axisc=axisc, axis=axis)


@op
def einsum(subscripts, *operands, **kwargs):
  """Einstein summation (`"ij,jk->ik"`); operands promoted as Keras."""
  operands = [convert_to_tensor(o) for o in operands]
  dtype = _dtypes.result_type(*[_dtypes.standardize_dtype(o.dtype)
                                for o in operands])
  operands = [cast(o, dtype) for o in operands]
  if dtype in ("int8", "int16", "uint8", "uint16"):
    kwargs.setdefault("preferred_element_type", "int32")
  return jnp.einsum(subscripts, *operands, **kwargs)


@op
def correlate(x1, x2, mode="valid"):
  """Cross-correlation of two 1-D tensors."""
  x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
  dtype = _dtypes.result_type(_dtypes.standardize_dtype(x1.dtype),
                              _dtypes.standardize_dtype(x2.dtype))
  if dtype == "int64":
    dtype = "float64"
  elif dtype not in ("bfloat16", "float16", "float64"):
    dtype = "float32"
  return jnp.correlate(x1.astype(dtype), x2.astype(dtype), mode=mode)


@op
def cdist(x, y):
  """Euclidean distances between the rows of `x` and `y` (pairwise over the
  last axis)."""
  x, y, dtype = _pair(x, y)
  dtype = _dtypes.result_type(dtype, float)
  x, y = x.astype(dtype), y.astype(dtype)
  diff = x[..., :, None, :] - y[..., None, :, :]
  return jnp.sqrt(jnp.sum(jnp.square(diff), axis=-1))


@op
def corrcoef(x):
  """Pearson correlation coefficients of the rows of `x`."""
  x = convert_to_tensor(x)
  return jnp.corrcoef(x.astype(_dtypes.float_dtype(x)))
