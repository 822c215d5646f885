"""Reductions, statistics and cumulative ops."""
import jax.numpy as jnp

from . import _dtypes
from ._core import cast, convert_to_tensor
from ._symbolic import op


def _t(x):
  return convert_to_tensor(x)


def _axis(axis):
  return tuple(axis) if isinstance(axis, list) else axis


def _sum_dtype(dtype):
  """Sums and products of small ints and bools accumulate in 32 bits."""
  dtype = _dtypes.standardize_dtype(dtype)
  if dtype in ("bool", "int8", "int16"):
    return "int32"
  if dtype in ("uint8", "uint16"):
    return "uint32"
  return dtype


@op
def sum(x, axis=None, keepdims=False):  # pylint: disable=redefined-builtin
  """Sum over `axis` (all axes by default)."""
  x = _t(x)
  return jnp.sum(x, axis=_axis(axis), keepdims=keepdims,
                 dtype=_sum_dtype(x.dtype))


@op
def prod(x, axis=None, keepdims=False, dtype=None):
  """Product over `axis`."""
  x = _t(x)
  dtype = _sum_dtype(x.dtype) if dtype is None else (
      _dtypes.standardize_dtype(dtype))
  return jnp.prod(x, axis=_axis(axis), keepdims=keepdims, dtype=dtype)


@op
def mean(x, axis=None, keepdims=False):
  """Mean over `axis`; ints and bools give floatx, low-precision floats are
  accumulated in float32 and cast back."""
  x = _t(x)
  in_dtype = _dtypes.standardize_dtype(x.dtype)
  compute = _dtypes.result_type(in_dtype, "float32")
  out_dtype = compute if not _dtypes.is_float(in_dtype) and (
      not _dtypes.is_complex(in_dtype)) else in_dtype
  return jnp.mean(x, axis=_axis(axis), keepdims=keepdims,
                  dtype=compute).astype(out_dtype)


def _stat(name, fn):
  def f(x, axis=None, keepdims=False):
    x = _t(x)
    in_dtype = _dtypes.standardize_dtype(x.dtype)
    out = fn(x.astype(_dtypes.result_type(in_dtype, "float32")),
             axis=_axis(axis), keepdims=keepdims)
    return out.astype(_dtypes.result_type(in_dtype, float))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"`{name}` over `axis`, computed in float32 or wider."
  return op(f)


var = _stat("var", jnp.var)
std = _stat("std", jnp.std)
nanvar = _stat("nanvar", jnp.nanvar)
nanstd = _stat("nanstd", jnp.nanstd)
nanmean = _stat("nanmean", jnp.nanmean)


def _minmax(name, fn):
  def f(x, axis=None, keepdims=False, initial=None):
    return fn(_t(x), axis=_axis(axis), keepdims=keepdims, initial=initial)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"`{name}` over `axis`; the dtype of `x` is kept."
  return op(f)


max = _minmax("max", jnp.max)  # pylint: disable=redefined-builtin
min = _minmax("min", jnp.min)  # pylint: disable=redefined-builtin


def _plain(name, fn):
  def f(x, axis=None, keepdims=False):
    return fn(_t(x), axis=_axis(axis), keepdims=keepdims)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"`{name}` over `axis`."
  return op(f)


amax = _plain("amax", jnp.amax)
amin = _plain("amin", jnp.amin)
all = _plain("all", jnp.all)  # pylint: disable=redefined-builtin
any = _plain("any", jnp.any)  # pylint: disable=redefined-builtin
argmax = _plain("argmax", jnp.argmax)
argmin = _plain("argmin", jnp.argmin)
nanmax = _plain("nanmax", jnp.nanmax)
nanmin = _plain("nanmin", jnp.nanmin)
nanargmax = _plain("nanargmax", jnp.nanargmax)
nanargmin = _plain("nanargmin", jnp.nanargmin)
ptp = _plain("ptp", jnp.ptp)


@op
def nansum(x, axis=None, keepdims=False):
  """Sum ignoring NaNs."""
  x = _t(x)
  return jnp.nansum(x, axis=_axis(axis), keepdims=keepdims,
                    dtype=_sum_dtype(x.dtype))


@op
def nanprod(x, axis=None, keepdims=False):
  """Product ignoring NaNs."""
  x = _t(x)
  return jnp.nanprod(x, axis=_axis(axis), keepdims=keepdims,
                     dtype=_sum_dtype(x.dtype))


@op
def median(x, axis=None, keepdims=False):
  """Median over `axis` (floatx for ints)."""
  x = _t(x)
  x = cast(x, _dtypes.result_type(_dtypes.standardize_dtype(x.dtype), float))
  return jnp.median(x, axis=_axis(axis), keepdims=keepdims)


@op
def nanmedian(x, axis=None, keepdims=False):
  """Median ignoring NaNs."""
  x = _t(x)
  x = cast(x, _dtypes.result_type(_dtypes.standardize_dtype(x.dtype), float))
  return jnp.nanmedian(x, axis=_axis(axis), keepdims=keepdims)


def _quantile(name, fn):
  def f(x, q, axis=None, method="linear", keepdims=False):
    x = _t(x)
    x = cast(x, _dtypes.result_type(_dtypes.standardize_dtype(x.dtype), float))
    q = convert_to_tensor(q)
    return fn(x, q.astype(x.dtype) if x.dtype != jnp.bfloat16 else q,
              axis=_axis(axis), method=method, keepdims=keepdims)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"`{name}` of `x` over `axis`."
  return op(f)


quantile = _quantile("quantile", jnp.quantile)
percentile = _quantile("percentile", jnp.percentile)
nanquantile = _quantile("nanquantile", jnp.nanquantile)
nanpercentile = _quantile("nanpercentile", jnp.nanpercentile)


@op
def logsumexp(x, axis=None, keepdims=False):
  """`log(sum(exp(x)))` over `axis`, computed stably."""
  import jax  # pylint: disable=g-import-not-at-top
  x = _t(x)
  x = cast(x, _dtypes.float_dtype(x))
  return jax.scipy.special.logsumexp(x, axis=_axis(axis), keepdims=keepdims)


@op
def average(x, axis=None, weights=None):
  """Weighted mean over `axis`."""
  x = _t(x)
  if weights is None:
    dtype = _dtypes.result_type(_dtypes.standardize_dtype(x.dtype), float)
    return jnp.average(x.astype(dtype), axis=axis)
  weights = _t(weights)
  dtype = _dtypes.result_type(_dtypes.standardize_dtype(x.dtype),
                              _dtypes.standardize_dtype(weights.dtype), float)
  return jnp.average(x.astype(dtype), axis=axis, weights=weights.astype(dtype))


@op
def count_nonzero(x, axis=None):
  """Number of non-zero entries over `axis` (int32)."""
  return jnp.count_nonzero(_t(x), axis=_axis(axis)).astype("int32")


def _cumulative(name, fn):
  def f(x, axis=None, dtype=None):
    x = _t(x)
    if dtype is None:
      dtype = "int32" if x.dtype == jnp.bool_ else x.dtype
    return fn(x, axis=axis, dtype=_dtypes.standardize_dtype(dtype))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"`{name}` along `axis` (flattened when `axis` is None)."
  return op(f)


cumsum = _cumulative("cumsum", jnp.cumsum)
cumprod = _cumulative("cumprod", jnp.cumprod)
nancumsum = _cumulative("nancumsum", jnp.nancumsum)
nancumprod = _cumulative("nancumprod", jnp.nancumprod)


@op
def trapezoid(y, x=None, dx=1.0, axis=-1):
  """Integral of `y` by the trapezoid rule."""
  y = _t(y)
  y = cast(y, _dtypes.float_dtype(y))
  if x is not None:
    x = _t(x)
  return jnp.trapezoid(y, x=x, dx=dx, axis=axis)


@op
def moments(x, axes, keepdims=False, synchronized=False):
  """`(mean, variance)` over `axes`, in float32 for low-precision inputs."""
  del synchronized
  x = _t(x)
  in_dtype = x.dtype
  axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
  x32 = x.astype("float32") if in_dtype in (jnp.float16, jnp.bfloat16) else x
  m = jnp.mean(x32, axis=axes, keepdims=True)
  v = jnp.mean(jnp.square(x32), axis=axes, keepdims=True) - jnp.square(m)
  v = jnp.maximum(v, 0.0)
  if not keepdims:
    m = jnp.squeeze(m, axes)
    v = jnp.squeeze(v, axes)
  return m.astype(in_dtype), v.astype(in_dtype)


@op
def diff(a, n=1, axis=-1):
  """The `n`-th discrete difference along `axis`."""
  return jnp.diff(_t(a), n=n, axis=axis)
