"""Normalization layers: `BatchNormalization` and `LayerNormalization`."""
from typing import Optional, Sequence, Tuple, Union

import haiku as hk
import jax
import jax.numpy as jnp

from .. import initializers
from .._core import _replica
from ._layer import Layer

# Keras regularizer/constraint arguments (see Layer._set_weight_extras).
_NORM_EXTRAS = ("beta_regularizer", "gamma_regularizer", "beta_constraint",
                "gamma_constraint")

_UNBOUND_REPLICA_AXIS = (
    "BatchNormalization {name!r} has cross_replica_axis={axis!r}, but no "
    "such axis is bound here: the statistics are summed with jax.lax.psum, "
    "which only works inside jax.pmap / shard_map (or jax.vmap) run with "
    "axis_name={axis!r}. With a hk_keras.distribution strategy leave "
    "cross_replica_axis=None (the layer follows the strategy by itself), "
    "and on a single device too.")


def stats_dtype(dtype) -> jnp.dtype:
  """Statistics are computed in at least float32 (half precision overflows)."""
  return jnp.promote_types(dtype, jnp.float32)


def check_bool(layer_cls: str, name: str, value) -> bool:
  if not isinstance(value, bool):
    raise ValueError(
        f"{layer_cls} argument `{name}` must be True or False. Received: "
        f"{name}={value!r}")
  return value


def check_axis(layer_name: str, layer_cls: str, axis: int,
               input_shape) -> int:
  """Returns `axis` as a non-negative index into `input_shape`."""
  rank = len(input_shape)
  if not -rank <= axis < rank:
    raise ValueError(
        f"Layer {layer_name!r} ({layer_cls}) normalizes over axis={axis}, "
        f"which does not exist for inputs of shape {tuple(input_shape)} "
        f"(rank {rank}). Pass an axis in [-{rank}, {rank}).")
  axis %= rank
  if input_shape[axis] is None:
    raise ValueError(
        f"Layer {layer_name!r} ({layer_cls}) needs a known size on the "
        f"normalized axis {axis}; received shape {tuple(input_shape)}. Give "
        "that dimension a size in hk_keras.Input(shape=...).")
  return axis


class BatchNormalization(Layer):
  """Normalizes each feature with batch statistics (Keras 3 semantics).

  In training (`training=True` and `layer.trainable`), the layer normalizes
  with the mean and variance of the current batch (over every axis except
  `axis`) and updates its moving statistics, which are Haiku state:
  `moving = moving * momentum + batch_statistic * (1 - momentum)`. The
  variance is the biased batch variance (`jnp.var`), as in Keras 3. At
  inference, or when `layer.trainable` is False (a frozen layer, even with
  `training=True`, as Keras 3 does), it uses the moving statistics and
  leaves them unchanged.

  `output = (inputs - mean) / sqrt(variance + epsilon) * gamma + beta`.
  Statistics are computed in float32 even for lower-precision inputs (and,
  under a mixed precision policy, with float32 `gamma`/`beta`); the output
  has the inputs' dtype.

  Weights, in Keras order: `gamma`, `beta` (params, when `scale`/`center`)
  then `moving_mean`, `moving_variance` (state), all of shape
  `(input_shape[axis],)`.

  Args:
    axis: the feature axis (an int; not the batch axis).
    momentum: moving-average momentum, in [0, 1].
    epsilon: added to the variance, > 0.
    center: whether to learn the offset `beta`.
    scale: whether to learn the scale `gamma`.
    beta_initializer: default "zeros".
    gamma_initializer: default "ones".
    moving_mean_initializer: default "zeros".
    moving_variance_initializer: default "ones".
    cross_replica_axis: not in Keras. None (default), or the name of a
      pmap / shard_map axis: the batch mean and variance are then computed
      over that axis with `jax.lax.psum` (synchronized batch norm), so that
      training on N shards matches one device on the global batch. Leave it
      None with `hk_keras.distribution`: under its "pmap" backend the layer
      uses the strategy's axis by itself, and under "sharding" each step
      already sees the global batch (so the argument is ignored there).
      Rows of a padded last batch are left out of the statistics.
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint:
      `hk_keras.regularizers` / `hk_keras.constraints`
      (names, objects or callables), as in Keras.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Raises:
    ValueError: on an invalid argument, or (when built) on inputs of rank
      < 2 or an axis that the inputs do not have.

  >>> layer = BatchNormalization(momentum=0.9)
  >>> layer.get_config()["momentum"]
  0.9
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, axis: int = -1, momentum: float = 0.99,
               epsilon: float = 1e-3, center: bool = True, scale: bool = True,
               beta_initializer="zeros", gamma_initializer="ones",
               moving_mean_initializer="zeros",
               moving_variance_initializer="ones",
               cross_replica_axis: Optional[str] = None,
               beta_regularizer=None, gamma_regularizer=None,
               beta_constraint=None, gamma_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
    if isinstance(axis, bool) or not isinstance(axis, int):
      raise ValueError(
          "BatchNormalization argument `axis` must be an int (the feature "
          f"axis). Received: axis={axis!r}")
    if not 0.0 <= momentum <= 1.0:
      raise ValueError(
          "BatchNormalization argument `momentum` must be in [0, 1]. "
          f"Received: momentum={momentum!r}")
    if not epsilon > 0:
      raise ValueError(
          "BatchNormalization argument `epsilon` must be > 0. Received: "
          f"epsilon={epsilon!r}")
    if cross_replica_axis is not None and not isinstance(cross_replica_axis,
                                                         str):
      raise ValueError(
          "BatchNormalization argument `cross_replica_axis` must be None or "
          "the name (a str) of a pmap / shard_map axis. Received: "
          f"cross_replica_axis={cross_replica_axis!r}")
    self.axis = axis
    self.momentum = float(momentum)
    self.epsilon = float(epsilon)
    self.center = check_bool("BatchNormalization", "center", center)
    self.scale = check_bool("BatchNormalization", "scale", scale)
    self.beta_initializer = initializers.get(beta_initializer)
    self.gamma_initializer = initializers.get(gamma_initializer)
    self.moving_mean_initializer = initializers.get(moving_mean_initializer)
    self.moving_variance_initializer = initializers.get(
        moving_variance_initializer)
    self.cross_replica_axis = cross_replica_axis

  def build(self, input_shape):
    if len(input_shape) < 2:
      raise ValueError(
          f"Layer {self.name!r} (BatchNormalization) expects inputs of rank "
          f">= 2 (batch, ..., features), received shape {tuple(input_shape)}. "
          "Add a batch axis (x[None]) or reshape the data.")
    axis = check_axis(self.name, "BatchNormalization", self.axis, input_shape)
    if axis == 0:
      raise ValueError(
          f"Layer {self.name!r} (BatchNormalization) got axis={self.axis}, the "
          "batch axis: statistics are computed over the batch, so `axis` "
          "must be a feature axis (default -1, channels last).")
    self._feature_axis = axis
    self._reduction_axes = tuple(a for a in range(len(input_shape))
                                 if a != axis)
    shape = (input_shape[axis],)
    if self.scale:
      self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                   autocast=False)
    if self.center:
      self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                  autocast=False)
    self.moving_mean = self.add_weight(
        shape, self.moving_mean_initializer, trainable=False,
        name="moving_mean")
    self.moving_variance = self.add_weight(
        shape, self.moving_variance_initializer, trainable=False,
        name="moving_variance")

  def _moments(self, x) -> Tuple[jax.Array, jax.Array]:
    axes = self._reduction_axes
    axis = _replica.batch_stats_axis(self.cross_replica_axis)
    rows = _replica.sample_mask()
    if rows is not None and (self._feature_axis == 0 or
                             rows.shape[0] != x.shape[0]):
      rows = None  # Not this batch's rows (a layer applied to other data).
    if (axis is None and rows is None) or hk.running_init():
      # init's outputs are discarded, and it may run outside pmap.
      return jnp.mean(x, axis=axes), jnp.var(x, axis=axes)
    # Sums and counts over the real rows of every replica.
    if rows is None:
      weights = jnp.ones((), x.dtype)
      count = jnp.asarray(x.size // x.shape[self._feature_axis], x.dtype)
    else:
      weights = jnp.reshape(rows.astype(x.dtype),
                            (x.shape[0],) + (1,) * (x.ndim - 1))
      count = jnp.sum(rows).astype(x.dtype) * (
          x.size // (x.shape[0] * x.shape[self._feature_axis]))
    try:
      total = lambda v: v if axis is None else jax.lax.psum(v, axis)
      count = jnp.maximum(total(count), 1.0)
      mean = total(jnp.sum(x * weights, axis=axes)) / count
      deviation = x - jnp.reshape(mean, self._broadcast_shape(x))
      variance = total(jnp.sum(jnp.square(deviation) * weights,
                               axis=axes)) / count
    except NameError as err:
      raise ValueError(_UNBOUND_REPLICA_AXIS.format(
          name=self.name, axis=self.cross_replica_axis)) from err
    return mean, variance

  def _broadcast_shape(self, x):
    shape = [1] * x.ndim
    shape[self._feature_axis] = x.shape[self._feature_axis]
    return shape

  def call(self, inputs, training=False):
    dtype = stats_dtype(inputs.dtype)
    x = inputs.astype(dtype)
    moving_mean = self.moving_mean.astype(dtype)
    moving_variance = self.moving_variance.astype(dtype)
    if training and self.trainable:
      mean, variance = self._moments(x)
      keep = self.momentum
      self.assign(self.moving_mean,
                  (moving_mean * keep + mean * (1.0 - keep)).astype(
                      self.moving_mean.dtype))
      self.assign(self.moving_variance,
                  (moving_variance * keep + variance * (1.0 - keep)).astype(
                      self.moving_variance.dtype))
    else:
      mean, variance = moving_mean, moving_variance
    inv = jax.lax.rsqrt(variance + self.epsilon)
    if self.scale:
      inv = inv * self.gamma.astype(dtype)
    offset = -mean * inv
    if self.center:
      offset = offset + self.beta.astype(dtype)
    shape = self._broadcast_shape(x)
    outputs = x * jnp.reshape(inv, shape) + jnp.reshape(offset, shape)
    return outputs.astype(inputs.dtype)

  def get_config(self):
    return {
        **super().get_config(), "axis": self.axis, "momentum": self.momentum,
        "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
        "beta_initializer": initializers.serialize(self.beta_initializer),
        "gamma_initializer": initializers.serialize(self.gamma_initializer),
        "moving_mean_initializer": initializers.serialize(
            self.moving_mean_initializer),
        "moving_variance_initializer": initializers.serialize(
            self.moving_variance_initializer),
        "cross_replica_axis": self.cross_replica_axis,
        **self._weight_extras_config(),
    }


class LayerNormalization(Layer):
  """Normalizes each example over `axis` (Keras 3 semantics).

  `output = (inputs - mean) / sqrt(variance + epsilon) * gamma + beta`, with
  the mean and (biased) variance taken over `axis` for each example. With
  `rms_scaling=True` (Keras 3's deprecated flag, kept for parity) the output
  is `inputs / sqrt(variance + epsilon) * gamma` with no centering and no
  `beta`. Computed in float32 for lower-precision inputs; the output has the
  inputs' dtype. Works the same in training and inference.

  Weights: `gamma` (when `scale` or `rms_scaling`) then `beta` (when `center`
  and not `rms_scaling`), both params of shape `input_shape[axis]` (the
  sizes of all normalized axes, in increasing axis order).

  Args:
    axis: an int or a list/tuple of ints (not the batch axis).
    epsilon: added to the variance, > 0.
    center: whether to learn the offset `beta`.
    scale: whether to learn the scale `gamma`.
    rms_scaling: see above.
    beta_initializer: default "zeros".
    gamma_initializer: default "ones".
    beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint:
      `hk_keras.regularizers` / `hk_keras.constraints`
      (names, objects or callables), as in Keras.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Raises:
    ValueError: on an invalid argument, or (when built) on an axis that the
      inputs do not have.

  >>> layer = LayerNormalization(axis=-1)
  >>> layer.get_config()["epsilon"]
  0.001
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, axis: Union[int, Sequence[int]] = -1,
               epsilon: float = 1e-3, center: bool = True, scale: bool = True,
               rms_scaling: bool = False, beta_initializer="zeros",
               gamma_initializer="ones", beta_regularizer=None,
               gamma_regularizer=None, beta_constraint=None,
               gamma_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
        beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not axes or any(isinstance(a, bool) or not isinstance(a, int)
                       for a in axes):
      raise ValueError(
          "LayerNormalization argument `axis` must be an int or a non-empty "
          f"list/tuple of ints. Received: axis={axis!r}")
    if not epsilon > 0:
      raise ValueError(
          "LayerNormalization argument `epsilon` must be > 0. Received: "
          f"epsilon={epsilon!r}")
    self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis
    self.epsilon = float(epsilon)
    self.center = check_bool("LayerNormalization", "center", center)
    self.scale = check_bool("LayerNormalization", "scale", scale)
    self.rms_scaling = check_bool("LayerNormalization", "rms_scaling",
                                  rms_scaling)
    self.beta_initializer = initializers.get(beta_initializer)
    self.gamma_initializer = initializers.get(gamma_initializer)

  def build(self, input_shape):
    axes = self.axis if isinstance(self.axis, list) else [self.axis]
    axes = sorted({check_axis(self.name, "LayerNormalization", a, input_shape)
                   for a in axes})
    if len(input_shape) < 2 or 0 in axes:
      raise ValueError(
          f"Layer {self.name!r} (LayerNormalization) normalizes each example "
          f"over axis={self.axis}; with inputs of shape {tuple(input_shape)} "
          "that includes the batch axis 0. Pass feature axes only (default "
          "-1) and inputs with a batch axis.")
    self._norm_axes = tuple(axes)
    shape = tuple(input_shape[a] for a in axes)
    if self.scale or self.rms_scaling:
      self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                   autocast=False)
    if self.center and not self.rms_scaling:
      self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                  autocast=False)

  def call(self, inputs):
    dtype = stats_dtype(inputs.dtype)
    x = inputs.astype(dtype)
    axes = self._norm_axes
    shape = [1] * x.ndim
    for a in axes:
      shape[a] = x.shape[a]
    variance = jnp.var(x, axis=axes, keepdims=True)
    inv = jax.lax.rsqrt(variance + self.epsilon)
    if self.scale or self.rms_scaling:
      inv = inv * jnp.reshape(self.gamma.astype(dtype), shape)
    if self.rms_scaling:
      outputs = x * inv
    else:
      offset = -jnp.mean(x, axis=axes, keepdims=True) * inv
      if self.center:
        offset = offset + jnp.reshape(self.beta.astype(dtype), shape)
      outputs = x * inv + offset
    return outputs.astype(inputs.dtype)

  def get_config(self):
    return {
        **super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
        "center": self.center, "scale": self.scale,
        "rms_scaling": self.rms_scaling,
        "beta_initializer": initializers.serialize(self.beta_initializer),
        "gamma_initializer": initializers.serialize(self.gamma_initializer),
        **self._weight_extras_config(),
    }
