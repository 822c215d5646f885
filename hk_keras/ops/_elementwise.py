"""Element-wise math: unary and binary ops with Keras's dtype rules."""
import jax
import jax.numpy as jnp

from . import _dtypes
from ._core import cast, convert_to_tensor
from ._symbolic import op


def _tensor(x):
  return convert_to_tensor(x)


def _to_float(x):
  """Casts `x` to the dtype of a float op on it (ints and bools to floatx)."""
  x = _tensor(x)
  return cast(x, _dtypes.float_dtype(x))


def _promote(x1, x2):
  """Both inputs as tensors of Keras's result type for them."""
  dtype = _dtypes.result_type(_dtypes.dtype_of(x1), _dtypes.dtype_of(x2))
  return cast(_tensor(x1), dtype), cast(_tensor(x2), dtype)


def _promote_float(x1, x2):
  dtype = _dtypes.result_type(_dtypes.dtype_of(x1), _dtypes.dtype_of(x2),
                              float)
  return cast(_tensor(x1), dtype), cast(_tensor(x2), dtype)


def _promote_float_strong(x1, x2):
  """Python scalars converted first (strong float32), as Keras does for
  arctan2 and logaddexp."""
  x1, x2 = _tensor(x1), _tensor(x2)
  dtype = _dtypes.result_type(x1.dtype, x2.dtype, float)
  return cast(x1, dtype), cast(x2, dtype)


def _unary_float(name, fn):
  def f(x):
    return fn(_to_float(x))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = (f"Element-wise `{name}` (integer and bool inputs are cast to "
               "floatx, as Keras).")
  return op(f)


def _unary(name, fn):
  def f(x):
    return fn(_tensor(x))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"Element-wise `{name}`; the dtype of `x` is kept."
  return op(f)


def _binary(name, fn, promote=_promote):
  def f(x1, x2):
    a, b = promote(x1, x2)
    return fn(a, b)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = (f"Element-wise `{name}` with broadcasting; the result dtype "
               "follows Keras's promotion rules.")
  return op(f)


def _jax_binary(name, fn):
  """Binary ops Keras leaves to JAX's own promotion of the two tensors."""
  def f(x1, x2):
    return fn(_tensor(x1), _tensor(x2))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"Element-wise `{name}` with broadcasting."
  return op(f)


sin = _unary_float("sin", jnp.sin)
cos = _unary_float("cos", jnp.cos)
tan = _unary_float("tan", jnp.tan)
arcsin = _unary_float("arcsin", jnp.arcsin)
arccos = _unary_float("arccos", jnp.arccos)
arctan = _unary_float("arctan", jnp.arctan)
sinh = _unary_float("sinh", jnp.sinh)
cosh = _unary_float("cosh", jnp.cosh)
tanh = _unary_float("tanh", jnp.tanh)
arcsinh = _unary_float("arcsinh", jnp.arcsinh)
arccosh = _unary_float("arccosh", jnp.arccosh)
arctanh = _unary_float("arctanh", jnp.arctanh)
exp = _unary_float("exp", jnp.exp)
exp2 = _unary_float("exp2", jnp.exp2)
expm1 = _unary_float("expm1", jnp.expm1)
log = _unary_float("log", jnp.log)
log2 = _unary_float("log2", jnp.log2)
log10 = _unary_float("log10", jnp.log10)
log1p = _unary_float("log1p", jnp.log1p)
sqrt = _unary_float("sqrt", jnp.sqrt)
cbrt = _unary_float("cbrt", jnp.cbrt)
deg2rad = _unary_float("deg2rad", jnp.deg2rad)
rad2deg = _unary_float("rad2deg", jnp.rad2deg)
sinc = _unary_float("sinc", jnp.sinc)
i0 = _unary_float("i0", jnp.i0)
reciprocal = _unary_float("reciprocal", jnp.reciprocal)
rsqrt = _unary("rsqrt", jax.lax.rsqrt)
erf = _unary("erf", jax.lax.erf)
erfinv = _unary_float("erfinv", jax.scipy.special.erfinv)
erfc = _unary_float("erfc", jax.scipy.special.erfc)
ceil = _unary_float("ceil", jnp.ceil)
floor = _unary_float("floor", jnp.floor)
fabs = _unary_float("fabs", jnp.fabs)

abs = _unary("abs", jnp.abs)  # pylint: disable=redefined-builtin
absolute = _unary("absolute", jnp.absolute)
negative = _unary("negative", jnp.negative)
sign = _unary("sign", jnp.sign)
trunc = _unary("trunc", jnp.trunc)
conj = _unary("conj", jnp.conjugate)
conjugate = _unary("conjugate", jnp.conjugate)
real = _unary("real", jnp.real)
imag = _unary("imag", jnp.imag)
angle = _unary_float("angle", jnp.angle)
isfinite = _unary("isfinite", jnp.isfinite)
isinf = _unary("isinf", jnp.isinf)
isnan = _unary("isnan", jnp.isnan)
isneginf = _unary("isneginf", jnp.isneginf)
isposinf = _unary("isposinf", jnp.isposinf)
isreal = _unary("isreal", jnp.isreal)
signbit = _unary("signbit", jnp.signbit)
logical_not = _unary("logical_not", jnp.logical_not)
bitwise_invert = _unary("bitwise_invert", jnp.invert)
bitwise_not = _unary("bitwise_not", jnp.invert)


@op
def square(x):
  """`x * x`; bool inputs give int32, as Keras."""
  x = _tensor(x)
  if x.dtype == jnp.bool_:
    x = x.astype("int32")
  return jnp.square(x)


@op
def round(x, decimals=0):  # pylint: disable=redefined-builtin
  """Rounds half to even to `decimals` digits."""
  return jnp.round(_tensor(x), decimals=decimals)


@op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
  """Replaces NaN and infinities with finite numbers."""
  return jnp.nan_to_num(_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


@op
def clip(x, x_min, x_max):
  """Clips values to `[x_min, x_max]`; bool inputs give int32."""
  x = _tensor(x)
  if x.dtype == jnp.bool_:
    x = x.astype("int32")
  return jnp.clip(x, x_min, x_max)


add = _jax_binary("add", jnp.add)
subtract = _jax_binary("subtract", jnp.subtract)
multiply = _jax_binary("multiply", jnp.multiply)
maximum = _binary("maximum", jnp.maximum)
minimum = _binary("minimum", jnp.minimum)
fmax = _binary("fmax", jnp.fmax)
fmin = _binary("fmin", jnp.fmin)
mod = _binary("mod", jnp.mod)
fmod = _binary("fmod", jnp.fmod)
power = _binary("power", jnp.power)
floor_divide = _binary("floor_divide", jnp.floor_divide)
divide = _binary("divide", jnp.true_divide, promote=_promote_float)
true_divide = _binary("true_divide", jnp.true_divide, promote=_promote_float)
arctan2 = _binary("arctan2", jnp.arctan2, promote=_promote_float_strong)
hypot = _binary("hypot", jnp.hypot, promote=_promote_float)
logaddexp = _binary("logaddexp", jnp.logaddexp, promote=_promote_float_strong)
logaddexp2 = _binary("logaddexp2", jnp.logaddexp2, promote=_promote_float_strong)
nextafter = _binary("nextafter", jnp.nextafter, promote=_promote_float)
heaviside = _binary("heaviside", jnp.heaviside)
gcd = _binary("gcd", jnp.gcd)
lcm = _binary("lcm", jnp.lcm)
equal = _jax_binary("equal", jnp.equal)
not_equal = _jax_binary("not_equal", jnp.not_equal)
greater = _jax_binary("greater", jnp.greater)
greater_equal = _jax_binary("greater_equal", jnp.greater_equal)
less = _jax_binary("less", jnp.less)
less_equal = _jax_binary("less_equal", jnp.less_equal)
logical_and = _jax_binary("logical_and", jnp.logical_and)
logical_or = _jax_binary("logical_or", jnp.logical_or)
logical_xor = _jax_binary("logical_xor", jnp.logical_xor)


def _bitwise(name, fn):
  def f(x, y):
    a, b = _promote(x, y)
    return fn(a, b)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = f"Element-wise bit op `{name}` of `x` and `y`."
  return op(f)


bitwise_and = _bitwise("bitwise_and", jnp.bitwise_and)
bitwise_or = _bitwise("bitwise_or", jnp.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", jnp.bitwise_xor)
bitwise_left_shift = _bitwise("bitwise_left_shift", jnp.left_shift)
left_shift = _bitwise("left_shift", jnp.left_shift)
bitwise_right_shift = _bitwise("bitwise_right_shift", jnp.right_shift)
right_shift = _bitwise("right_shift", jnp.right_shift)


@op
def divide_no_nan(x1, x2):
  """`x1 / x2`, with 0 where `x2` is 0."""
  a, b = _promote_float(x1, x2)
  safe = jnp.where(b == 0, jnp.ones_like(b), b)
  return jnp.where(b == 0, jnp.zeros_like(a / safe), a / safe)


@op
def ldexp(x1, x2):
  """`x1 * 2**x2` (x2 integer)."""
  x1 = _to_float(x1)
  return jnp.ldexp(x1, _tensor(x2))


@op
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
  """Element-wise `|x1 - x2| <= atol + rtol * |x2|`."""
  a, b = _promote(x1, x2)
  return jnp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@op
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
  """Whether all entries are close (a bool scalar)."""
  a, b = _promote(x1, x2)
  return jnp.allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)
