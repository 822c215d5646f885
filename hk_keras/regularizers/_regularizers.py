"""Weight and activity penalties (Keras 3's `keras.regularizers`)."""
import jax.numpy as jnp

from .._core._object_lookup import ConfigObject


def _check_factor(value, name):
  if isinstance(value, bool) or not isinstance(value, (int, float)):
    raise ValueError(f"Regularizer argument `{name}` must be a float. "
                     f"Received: {name}={value!r}")
  if value < 0:
    raise ValueError(f"Regularizer argument `{name}` must be >= 0. "
                     f"Received: {name}={value!r}")
  return float(value)


class Regularizer(ConfigObject):
  """Base class of regularizers: `penalty = regularizer(weight)`.

  A regularizer maps a weight (or a layer's output, as
  `activity_regularizer`) to a scalar that `fit` adds to the loss. Subclass
  it and implement `__call__(x)` and `get_config()`; any callable
  `fn(x) -> scalar` also works where a regularizer is accepted.
  """

  def __call__(self, x):
    del x
    return 0.0



class L1L2(Regularizer):
  """`l1 * sum(|x|) + l2 * sum(x ** 2)` (defaults 0: no penalty)."""

  def __init__(self, l1=0.0, l2=0.0):
    self.l1 = _check_factor(0.0 if l1 is None else l1, "l1")
    self.l2 = _check_factor(0.0 if l2 is None else l2, "l2")

  def __call__(self, x):
    x = jnp.asarray(x)
    penalty = jnp.zeros((), x.dtype)
    if self.l1:
      penalty = penalty + jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))
    if self.l2:
      penalty = penalty + jnp.asarray(self.l2, x.dtype) * jnp.sum(
          jnp.square(x))
    return penalty

  def get_config(self):
    return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
  """`l1 * sum(|x|)`."""

  def __init__(self, l1=0.01):
    self.l1 = _check_factor(0.01 if l1 is None else l1, "l1")

  def __call__(self, x):
    x = jnp.asarray(x)
    return jnp.asarray(self.l1, x.dtype) * jnp.sum(jnp.abs(x))

  def get_config(self):
    return {"l1": self.l1}


class L2(Regularizer):
  """`l2 * sum(x ** 2)`."""

  def __init__(self, l2=0.01):
    self.l2 = _check_factor(0.01 if l2 is None else l2, "l2")

  def __call__(self, x):
    x = jnp.asarray(x)
    return jnp.asarray(self.l2, x.dtype) * jnp.sum(jnp.square(x))

  def get_config(self):
    return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
  """Pushes the rows (or columns) of a rank-2 weight towards orthogonality.

  The penalty is `factor` times the mean absolute dot product between
  distinct L2-normalised rows (`mode="rows"`) or columns
  (`mode="columns"`).
  """

  def __init__(self, factor=0.01, mode="rows"):
    self.factor = _check_factor(factor, "factor")
    if mode not in ("rows", "columns"):
      raise ValueError('OrthogonalRegularizer `mode` must be "rows" or '
                       f'"columns". Received: mode={mode!r}')
    self.mode = mode

  def __call__(self, x):
    x = jnp.asarray(x)
    if x.ndim != 2:
      raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. "
                       f"Received: inputs.shape={x.shape}")
    axis = 1 if self.mode == "rows" else 0
    norm = jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis,
                                        keepdims=True), 1e-12))
    unit = x / norm
    product = unit @ unit.T if self.mode == "rows" else unit.T @ unit
    size = product.shape[0]
    off_diagonal = product * (1.0 - jnp.eye(size, dtype=x.dtype))
    pairs = size * (size - 1.0) / 2.0
    return self.factor * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / pairs

  def get_config(self):
    return {"factor": self.factor, "mode": self.mode}
