"""`Normalization`: `(x - mean) / sqrt(variance)`, statistics from `adapt`."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from . import _base

_EPSILON = 1e-7  # Keras's backend.epsilon()


class Normalization(Layer):
  """Feature-wise normalization with a mean and variance (Keras 3).

  Either pass `mean` and `variance`, or call `adapt(data)`: the adapted
  statistics are the layer's non-trainable weights `mean`, `variance` and
  `count` (Haiku state, saved with the model), in Keras's order. Runs inside
  the compiled step.

  >>> layer = Normalization(axis=-1)
  >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
  >>> np.asarray(layer(np.array([[1.0, 20.0]]))).tolist()
  [[0.0, 0.0]]

  Args:
    axis: the axes kept (one statistic per position along them); None: one
      scalar mean and variance.
    mean, variance: fixed statistics (broadcast to the kept axes).
    invert: apply the inverse, `mean + x * sqrt(variance)`.
  """

  supports_masking = True  # masks pass through, as in Keras 3

  def __init__(self, axis=-1, mean=None, variance=None, invert=False,
               **kwargs):
    super().__init__(**kwargs)
    if axis is None:
      axis = ()
    elif isinstance(axis, int):
      axis = (axis,)
    else:
      axis = tuple(axis)
    self.axis = axis
    self.input_mean = mean
    self.input_variance = variance
    self.invert = bool(invert)
    if (mean is not None) != (variance is not None):
      raise ValueError(
          "When setting values directly, both `mean` and `variance` must be "
          f"set. Received: mean={mean} and variance={variance}")
    if mean is not None:
      if np.shape(mean) != np.shape(variance):
        raise ValueError(
            "When setting values directly, `mean` and `variance` must have "
            f"the same shape. Received: mean shape {np.shape(mean)} and "
            f"variance shape {np.shape(variance)}")
      if len(np.shape(mean)) > len(self.axis):
        raise ValueError(
            "The rank of `mean` must be less than or equal to the number of "
            f"axes ({len(self.axis)}). Received: mean shape {np.shape(mean)} "
            f"for axis {self.axis}")
    self._adapted = None  # (mean, variance, count) from adapt, as NumPy
    self._shape_info = None

  def _axes(self, input_shape):
    ndim = len(input_shape)
    if any(a < -ndim or a >= ndim for a in self.axis):
      raise ValueError(
          "All `axis` values must be in the range [-ndim, ndim). Received "
          f"inputs with ndim={ndim}, while axis={self.axis}")
    keep = tuple(sorted(a % ndim for a in self.axis))
    for d in keep:
      if input_shape[d] is None:
        raise ValueError(
            "All `axis` values to be kept must have a known shape. Received "
            f"axis={self.axis}, inputs.shape={tuple(input_shape)}, with "
            f"unknown axis at index {d}")
    reduce = tuple(d for d in range(ndim) if d not in keep)
    stat_shape = tuple(int(input_shape[d]) for d in keep)
    broadcast = tuple(int(input_shape[d]) if d in keep else 1
                      for d in range(ndim))
    return keep, reduce, stat_shape, broadcast

  def build(self, input_shape):
    keep, _, stat_shape, broadcast = self._axes(input_shape)
    self._broadcast_shape = broadcast
    if self.input_mean is not None:
      return
    if self._adapted is not None and self._adapted[0].shape != stat_shape:
      raise ValueError(
          f"Layer {self.name!r} was adapted on data with kept axes of shape "
          f"{self._adapted[0].shape}, but is built for inputs of shape "
          f"{tuple(input_shape)} (kept axes {keep}: {stat_shape}).")
    mean, variance, count = self._adapted or (0.0, 1.0, 0)
    self.adapt_mean = self.add_weight(
        name="mean", shape=stat_shape, trainable=False,
        initializer=_base.constant_init(mean))
    self.adapt_variance = self.add_weight(
        name="variance", shape=stat_shape, trainable=False,
        initializer=_base.constant_init(variance))
    self.count = self.add_weight(
        name="count", shape=(), dtype="int32", trainable=False,
        initializer=_base.constant_init(count))

  def _statistics(self, ndim):
    if self.input_mean is not None:
      mean = jnp.asarray(self.input_mean, self.compute_dtype)
      variance = jnp.asarray(self.input_variance, self.compute_dtype)
      if mean.ndim:
        keep = sorted(a % ndim for a in self.axis)
        expanded = [1] * ndim
        for i in range(1, mean.ndim + 1):
          expanded[keep[-i]] = mean.shape[-i]
        mean, variance = mean.reshape(expanded), variance.reshape(expanded)
      return (jnp.broadcast_to(mean, self._broadcast_shape),
              jnp.broadcast_to(variance, self._broadcast_shape))
    mean = jnp.reshape(self.adapt_mean, self._broadcast_shape)
    variance = jnp.reshape(self.adapt_variance, self._broadcast_shape)
    return (mean.astype(self.compute_dtype),
            variance.astype(self.compute_dtype))

  def call(self, inputs):
    inputs = jnp.asarray(inputs, self.compute_dtype)
    mean, variance = self._statistics(inputs.ndim)
    scale = jnp.maximum(jnp.sqrt(variance), _EPSILON)
    if self.invert:
      return mean + inputs * scale
    return (inputs - mean) / scale

  def compute_output_shape(self, input_shape):
    return tuple(input_shape)

  def adapt(self, data, steps=None):
    """Computes the mean and variance of `data` (Keras's running merge).

    Args:
      data: a NumPy array, a generator / iterable of batches (or of `(x, y)`
        tuples), or a PyDataset-like object (`__getitem__`, `__len__`).
      steps: the number of batches to read from an iterable.

    Raises:
      ValueError: if the kept axes do not match the built or fixed shape, or
        the layer was given `mean`/`variance`.
    """
    if self.input_mean is not None:
      raise ValueError(
          f"Layer {self.name!r} was given `mean` and `variance`; adapt() "
          "would ignore the data. Create it without them to adapt.")
    is_array = isinstance(data, (np.ndarray, jax.Array))
    total_mean = total_var = None
    total_count = 0
    stat_shape = None
    for batch in _base.adapt_batches(data, steps, list_is_batches=True):
      batch = batch.astype(np.float32) if not is_array else batch
      keep, reduce, shape, _ = self._axes(batch.shape)
      if stat_shape is None:
        stat_shape = shape
        self._check_adapt_shape(shape, batch.shape)
      elif shape != stat_shape:
        raise ValueError(
            "adapt() yielded a batch with incompatible shape. Expected kept "
            f"axes {stat_shape}, got {tuple(batch.shape)}.")
      batch_mean = np.mean(batch, axis=reduce)
      batch_var = np.var(batch, axis=reduce)
      if is_array:
        total_mean, total_var = batch_mean, batch_var
        total_count = math.prod(batch.shape[d] for d in reduce)
        break
      batch_count = math.prod(batch.shape[d] for d in reduce) if reduce else 1
      if total_mean is None:
        total_mean = np.zeros(stat_shape, np.float32)
        total_var = np.zeros(stat_shape, np.float32)
      total_count += batch_count
      w_new = float(batch_count) / total_count
      w_old = 1.0 - w_new
      new_mean = total_mean * w_old + batch_mean * w_new
      total_var = ((total_var + (total_mean - new_mean) ** 2) * w_old
                   + (batch_var + (batch_mean - new_mean) ** 2) * w_new)
      total_mean = new_mean
    mean = np.asarray(total_mean, np.float32)
    variance = np.asarray(total_var, np.float32)
    self._adapted = (mean, variance, np.int32(0))
    if self._weight_records:
      self.set_weights([mean, variance, np.int32(0)])

  def _check_adapt_shape(self, stat_shape, data_shape):
    if self._weight_records:
      built = tuple(self._weight_records[0].shape)
      if built != stat_shape:
        raise ValueError(
            f"The layer was built for kept axes of shape {built}, but adapt() "
            f"is being called with data of an incompatible shape, "
            f"data.shape={tuple(data_shape)}")

  @property
  def mean(self):
    """The mean used by `call` (the given one, or the adapted weight)."""
    if self.input_mean is not None:
      return np.asarray(self.input_mean)
    if self._weight_records:
      return np.asarray(self.adapt_mean)
    return None if self._adapted is None else self._adapted[0]

  @property
  def variance(self):
    if self.input_variance is not None:
      return np.asarray(self.input_variance)
    if self._weight_records:
      return np.asarray(self.adapt_variance)
    return None if self._adapted is None else self._adapted[1]

  def get_config(self):
    return {**super().get_config(), "axis": list(self.axis),
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist()}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    if config.get("mean") is None or config.get("variance") is None:
      config["mean"] = config["variance"] = None
    return cls(**config)
