"""Array creation: ranges, constants, identity matrices and windows."""
import jax.numpy as jnp

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op


def _std(dtype, default=None):
  if dtype is None:
    return default
  return _dtypes.standardize_dtype(dtype)


def _shape(shape):
  return tuple(shape) if isinstance(shape, (list, tuple)) else shape


@op
def arange(start, stop=None, step=None, dtype=None):
  """Evenly spaced values in `[start, stop)`; the dtype follows Keras
  (ints give int32, any float floatx)."""
  if dtype is None:
    parts = [start] + [v for v in (stop, step) if v is not None]
    dtype = _dtypes.result_type(*[_dtypes.dtype_of(p) for p in parts])
  else:
    dtype = _std(dtype)
  if step is None:
    step = 1
  return jnp.arange(start, stop, step=step, dtype=dtype)


@op
def array(x, dtype=None):
  """`x` as a tensor (as convert_to_tensor)."""
  return convert_to_tensor(x, dtype=dtype)


@op
def zeros(shape, dtype=None):
  """Zeros of `shape` (floatx by default)."""
  return jnp.zeros(_shape(shape), _std(dtype, _dtypes.FLOATX))


@op
def ones(shape, dtype=None):
  """Ones of `shape` (floatx by default)."""
  return jnp.ones(_shape(shape), _std(dtype, _dtypes.FLOATX))


@op
def empty(shape, dtype=None):
  """An array of `shape` (zeros: JAX has no uninitialised memory)."""
  return jnp.zeros(_shape(shape), _std(dtype, _dtypes.FLOATX))


@op
def full(shape, fill_value, dtype=None):
  """`shape` filled with `fill_value`."""
  return jnp.full(_shape(shape), fill_value,
                  dtype=_std(dtype, _dtypes.FLOATX))


@op
def zeros_like(x, dtype=None):
  """Zeros with the shape (and by default dtype) of `x`."""
  return jnp.zeros_like(convert_to_tensor(x), dtype=_std(dtype))


@op
def ones_like(x, dtype=None):
  """Ones with the shape (and by default dtype) of `x`."""
  return jnp.ones_like(convert_to_tensor(x), dtype=_std(dtype))


@op
def empty_like(x, dtype=None):
  """An array like `x` (zeros)."""
  return jnp.zeros_like(convert_to_tensor(x), dtype=_std(dtype))


@op
def full_like(x, fill_value, dtype=None):
  """`fill_value` with the shape (and by default dtype) of `x`."""
  return jnp.full_like(convert_to_tensor(x), fill_value, dtype=_std(dtype))


@op
def eye(N, M=None, k=0, dtype=None):  # pylint: disable=invalid-name
  """An `N x M` matrix with ones on the `k`-th diagonal."""
  return jnp.eye(N, M=M, k=k, dtype=_std(dtype, _dtypes.FLOATX))


@op
def identity(n, dtype=None):
  """The `n x n` identity matrix."""
  return jnp.identity(n, dtype=_std(dtype, _dtypes.FLOATX))


@op
def tri(N, M=None, k=0, dtype=None):  # pylint: disable=invalid-name
  """Ones at and below the `k`-th diagonal."""
  return jnp.tri(N, M=M, k=k, dtype=_std(dtype, _dtypes.FLOATX))


def _space_dtype(start, stop, dtype):
  if dtype is not None:
    return _std(dtype)
  return _dtypes.result_type(_dtypes.dtype_of(start), _dtypes.dtype_of(stop),
                             float)


@op
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None,
             axis=0):
  """`num` evenly spaced values from `start` to `stop`."""
  return jnp.linspace(start, stop, num, endpoint=endpoint, retstep=retstep,
                      dtype=_space_dtype(start, stop, dtype), axis=axis)


@op
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
  """`base ** linspace(start, stop, num)`."""
  return jnp.logspace(start, stop, num, endpoint=endpoint, base=base,
                      dtype=_space_dtype(start, stop, dtype), axis=axis)


@op
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
  """`num` values spaced evenly on a log scale."""
  return jnp.geomspace(start, stop, num, endpoint=endpoint,
                       dtype=_space_dtype(start, stop, dtype), axis=axis)


def _window(name, fn):
  def f(x):
    return fn(x).astype(_dtypes.FLOATX)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"The {name} window of `x` points (floatx)."
  return op(f)


bartlett = _window("bartlett", jnp.bartlett)
blackman = _window("blackman", jnp.blackman)
hamming = _window("hamming", jnp.hamming)
hanning = _window("hanning", jnp.hanning)


@op
def kaiser(x, beta):
  """The Kaiser window of `x` points with shape parameter `beta`."""
  return jnp.kaiser(x, beta).astype(_dtypes.FLOATX)
