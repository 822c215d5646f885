"""Activation ops of `hk_keras.ops.nn` (element-wise, float results)."""
import jax
import jax.numpy as jnp

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op


def _float(x):
  x = convert_to_tensor(x)
  return x.astype(_dtypes.float_dtype(x))


def _activation(name, fn, doc):
  def f(x):
    return fn(convert_to_tensor(x))
  f.__name__ = f.__qualname__ = name
  f.__doc__ = doc
  return op(f)


relu = _activation("relu", jax.nn.relu, "`max(x, 0)`.")
relu6 = _activation("relu6", jax.nn.relu6, "`min(max(x, 0), 6)`.")
sigmoid = _activation("sigmoid", jax.nn.sigmoid, "`1 / (1 + exp(-x))`.")
softplus = _activation("softplus", jax.nn.softplus, "`log(1 + exp(x))`.")
softsign = _activation("softsign", jax.nn.soft_sign, "`x / (1 + |x|)`.")
silu = _activation("silu", jax.nn.silu, "`x * sigmoid(x)`.")
swish = _activation("swish", jax.nn.silu, "`x * sigmoid(x)` (= silu).")
log_sigmoid = _activation("log_sigmoid", jax.nn.log_sigmoid,
                          "`log(sigmoid(x))`.")
hard_sigmoid = _activation("hard_sigmoid", jax.nn.hard_sigmoid,
                           "`relu6(x + 3) / 6`.")
hard_silu = _activation("hard_silu", jax.nn.hard_silu, "`x * hard_sigmoid(x)`.")
hard_swish = _activation("hard_swish", jax.nn.hard_silu,
                         "`x * hard_sigmoid(x)` (= hard_silu).")
selu = _activation("selu", jax.nn.selu, "Scaled exponential linear unit.")
tanh_shrink = _activation("tanh_shrink", lambda x: x - jnp.tanh(x),
                          "`x - tanh(x)`.")
sparse_sigmoid = _activation(
    "sparse_sigmoid",
    lambda x: (lambda v: jnp.where(v <= -1, 0.0, jnp.where(
        v >= 1, 1.0, 0.5 * (v + 1))).astype(v.dtype))(_float(x)),
    "0 below -1, 1 above 1, linear in between.")
hard_tanh = _activation("hard_tanh", lambda x: jnp.clip(x, -1, 1),
                        "`clip(x, -1, 1)`.")


@op
def sparse_plus(x):
  """0 for `x <= -1`, `x` for `x >= 1`, `(x + 1)**2 / 4` in between."""
  x = _float(x)
  return jnp.where(x <= -1, jnp.zeros_like(x),
                   jnp.where(x < 1, (1 / 4) * jnp.square(x + 1), x))


@op
def squareplus(x, b=4):
  """`(x + sqrt(x**2 + b)) / 2`."""
  x = _float(x)
  b = jnp.asarray(b, x.dtype)
  return (x + jnp.sqrt(jnp.square(x) + b)) / 2


@op
def leaky_relu(x, negative_slope=0.2):
  """`x` for `x >= 0`, `negative_slope * x` otherwise."""
  return jax.nn.leaky_relu(_float(x), negative_slope=negative_slope)


@op
def elu(x, alpha=1.0):
  """Exponential linear unit."""
  return jax.nn.elu(_float(x), alpha=alpha)


@op
def celu(x, alpha=1.0):
  """Continuously differentiable exponential linear unit."""
  return jax.nn.celu(_float(x), alpha=alpha)


@op
def gelu(x, approximate=True):
  """Gaussian error linear unit (tanh approximation by default, as Keras)."""
  return jax.nn.gelu(_float(x), approximate=approximate)


@op
def glu(x, axis=-1):
  """Gated linear unit: the first half of `axis` times sigmoid(second)."""
  x = _float(x)
  if x.shape[axis] % 2:
    raise ValueError("glu expects an even size along `axis`. Received: "
                     f"x.shape={x.shape}, axis={axis}")
  return jax.nn.glu(x, axis=axis)


@op
def hard_shrink(x, threshold=0.5):
  """`x` where `|x| > threshold`, else 0."""
  x = _float(x)
  return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))


@op
def soft_shrink(x, threshold=0.5):
  """`x - threshold` above, `x + threshold` below `-threshold`, else 0."""
  x = _float(x)
  return jnp.where(x > threshold, x - threshold,
                   jnp.where(x < -threshold, x + threshold, jnp.zeros_like(x)))


@op
def threshold(x, threshold, default_value):  # pylint: disable=redefined-outer-name
  """`x` where `x > threshold`, else `default_value`."""
  x = _float(x)
  return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))


@op
def softmax(x, axis=-1):
  """Softmax over `axis` (a tuple of axes allowed)."""
  x = _float(x)
  return jax.nn.softmax(x, axis=tuple(axis) if isinstance(axis, list) else axis)


@op
def log_softmax(x, axis=-1):
  """Log-softmax over `axis`."""
  x = _float(x)
  return jax.nn.log_softmax(x, axis=tuple(axis) if isinstance(axis, list)
                            else axis)


@op
def sparsemax(x, axis=-1):
  """Sparsemax as Keras 3 computes it: `max(x - tau, 0)` with `tau` from the
  sorted cumulative sums where `z_k > (cumsum_k - 1) / k`. Keras 3.15 takes
  `tau = (sum of those cumulative sums - 1) / k`, which differs from the
  sparsemax paper; hk_keras follows Keras (see docs/ops.md)."""
  x = convert_to_tensor(x)
  z = -jnp.sort(-x, axis=axis)
  cumsum = jnp.cumsum(z, axis=axis)
  view = [1] * x.ndim
  view[axis] = -1
  k = jnp.arange(1, x.shape[axis] + 1).reshape(view)
  support = z - (cumsum - 1) / k > 0
  count = jnp.sum(support, axis=axis, keepdims=True)
  tau = (jnp.sum(jnp.where(support, cumsum, 0.0), axis=axis, keepdims=True)
         - 1) / count
  return jnp.maximum(x - tau, 0.0)
