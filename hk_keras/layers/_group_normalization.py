"""`GroupNormalization`, `RMSNormalization` and `UnitNormalization` (Keras 3)."""
import jax.numpy as jnp

from .. import initializers
from ._layer import Layer


def _axes(layer, axis, rank):
  axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
  out = []
  for a in axes:
    if isinstance(a, bool) or not isinstance(a, int) or not -rank <= a < rank:
      raise ValueError(
          f"Layer {layer.name!r} ({type(layer).__name__}): axis {a!r} is out "
          f"of bounds for inputs of rank {rank}. Received: axis={axis!r}")
    out.append(a % rank)
  return sorted(out)


def _check_epsilon(cls, epsilon):
  if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or \
      epsilon < 0:
    raise ValueError(f"{cls} argument `epsilon` must be a non-negative number."
                     f" Received: epsilon={epsilon!r}")
  return float(epsilon)


class GroupNormalization(Layer):
  """Normalizes groups of channels per sample (Wu & He, 2018), Keras 3.

  The `axis` channels are split into `groups`; each sample's mean and
  variance are taken over every non-batch axis within a group. `groups=-1`
  is instance normalization (one channel per group).

  Weights (params, Keras order): `gamma` then `beta`, each `(channels,)`.

  Args:
    groups: number of groups (default 32), dividing the channel count; -1
      for one group per channel.
    axis: the channel axis (default -1).
    epsilon: added to the variance (default 1e-3).
    center: learn `beta`.
    scale: learn `gamma`.
    beta_initializer: default "zeros".
    gamma_initializer: default "ones".
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint:
      Keras regularizers and constraints (see Layer._set_weight_extras).
    **kwargs: base `Layer` arguments.

  Raises:
    ValueError: on invalid arguments, or (when built) when `groups` does not
      divide the number of channels.

  >>> GroupNormalization(groups=2).get_config()["groups"]
  2
  """

  supports_masking = True

  def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3,
               center: bool = True, scale: bool = True,
               beta_initializer="zeros", gamma_initializer="ones",
               beta_regularizer=None, gamma_regularizer=None,
               beta_constraint=None, gamma_constraint=None, **kwargs):
    if isinstance(groups, bool) or not isinstance(groups, int) or (
        groups <= 0 and groups != -1):
      raise ValueError(
          "Received an invalid value for argument `groups`, expected a "
          "positive integer (or -1 for instance normalization). Received: "
          f"groups={groups!r}")
    super().__init__(**kwargs)
    self._set_weight_extras(beta_regularizer=beta_regularizer,
                       gamma_regularizer=gamma_regularizer,
                       beta_constraint=beta_constraint,
                       gamma_constraint=gamma_constraint)
    self.groups = groups
    self.axis = axis
    self.epsilon = _check_epsilon("GroupNormalization", epsilon)
    self.center = bool(center)
    self.scale = bool(scale)
    self.beta_initializer = initializers.get(beta_initializer)
    self.gamma_initializer = initializers.get(gamma_initializer)

  def build(self, input_shape):
    (axis,) = _axes(self, self.axis, len(input_shape))
    dim = input_shape[axis]
    groups = dim if self.groups == -1 else self.groups
    if dim is None or dim < groups or dim % groups:
      raise ValueError(
          f"Layer {self.name!r} (GroupNormalization): the number of groups "
          f"({groups}) must divide the number of channels ({dim}) on axis "
          f"{self.axis}. Received input shape {tuple(input_shape)}.")
    if self.scale:
      self.gamma = self.add_weight((dim,), self.gamma_initializer,
                                   name="gamma", autocast=False)
    if self.center:
      self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                  autocast=False)

  def call(self, inputs):
    rank = inputs.ndim
    (axis,) = _axes(self, self.axis, rank)
    dim = inputs.shape[axis]
    groups = dim if self.groups == -1 else self.groups
    dtype = inputs.dtype
    x = inputs.astype(jnp.promote_types(dtype, jnp.float32))
    grouped_shape = inputs.shape[:axis] + (groups, dim // groups) + \
        inputs.shape[axis + 1:]
    x = jnp.reshape(x, grouped_shape)
    reduce = tuple(i for i in range(1, rank + 1) if i != axis)
    mean = jnp.mean(x, reduce, keepdims=True)
    var = jnp.var(x, reduce, keepdims=True)
    inv = 1.0 / jnp.sqrt(var + self.epsilon)
    broadcast = [1] * (rank + 1)
    broadcast[axis], broadcast[axis + 1] = groups, dim // groups
    if self.scale:
      inv = inv * jnp.reshape(self.gamma.astype(x.dtype), broadcast)
    shift = -mean * inv
    if self.center:
      shift = shift + jnp.reshape(self.beta.astype(x.dtype), broadcast)
    out = x * inv + shift
    return jnp.reshape(out, inputs.shape).astype(self.compute_dtype)

  def get_config(self):
    return {
        **super().get_config(), "groups": self.groups, "axis": self.axis,
        "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
        "beta_initializer": initializers.serialize(self.beta_initializer),
        "gamma_initializer": initializers.serialize(self.gamma_initializer),
        **self._weight_extras_config(),
    }


class RMSNormalization(Layer):
  """Root-mean-square normalization (Zhang & Sennrich, 2019), Keras 3.

  `x * rsqrt(mean(x**2, axis) + epsilon) * scale`, computed in at least
  float32.

  Weights: `scale` (a param), the sizes of the normalized axes, ones.

  Args:
    axis: an int or a list of ints (default -1).
    epsilon: default 1e-6.
    **kwargs: base `Layer` arguments.

  >>> RMSNormalization().get_config()["epsilon"]
  1e-06
  """

  def __init__(self, axis=-1, epsilon: float = 1e-6, **kwargs):
    super().__init__(**kwargs)
    self.axis = axis
    self.epsilon = _check_epsilon("RMSNormalization", epsilon)

  def build(self, input_shape):
    axes = _axes(self, self.axis, len(input_shape))
    self.scale = self.add_weight(tuple(input_shape[a] for a in axes), "ones",
                                 name="scale")

  def call(self, inputs):
    axes = tuple(_axes(self, self.axis, inputs.ndim))
    dtype = inputs.dtype
    x = inputs.astype(jnp.promote_types(dtype, jnp.float32))
    rrms = 1.0 / jnp.sqrt(jnp.mean(jnp.square(x), axes, keepdims=True)
                          + self.epsilon)
    shape = [inputs.shape[i] if i in axes else 1 for i in range(inputs.ndim)]
    out = x * rrms * jnp.reshape(self.scale.astype(x.dtype), shape)
    return out.astype(dtype)

  def get_config(self):
    return {**super().get_config(), "axis": self.axis,
            "epsilon": self.epsilon}


class UnitNormalization(Layer):
  """Scales each sample to unit L2 norm along `axis` (Keras 3).

  `x * min(rsqrt(sum(x**2, axis)), 1e12)`. No weights.

  Args:
    axis: an int or a list of ints (default -1).
    **kwargs: base `Layer` arguments.

  Raises:
    TypeError: if `axis` is not an int or a list/tuple of ints.

  >>> UnitNormalization(axis=1).get_config()["axis"]
  1
  """

  supports_masking = True

  def __init__(self, axis=-1, **kwargs):
    super().__init__(**kwargs)
    if isinstance(axis, (list, tuple)):
      axis = list(axis)
    elif isinstance(axis, bool) or not isinstance(axis, int):
      raise TypeError(
          "Invalid value for `axis` argument: expected an int or a "
          f"list/tuple of ints. Received: axis={axis!r}")
    self.axis = axis

  def call(self, inputs):
    axes = tuple(_axes(self, self.axis, inputs.ndim))
    square_sum = jnp.sum(jnp.square(inputs), axes, keepdims=True)
    inv = jnp.minimum(1.0 / jnp.sqrt(square_sum), 1e12)
    return inputs * inv.astype(inputs.dtype)

  def get_config(self):
    return {**super().get_config(), "axis": self.axis}
