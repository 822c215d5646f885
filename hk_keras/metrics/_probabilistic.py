"""Losses tracked as metrics: crossentropies, divergences and hinges."""

from typing import Optional

from ..losses import _crossentropy
from ..losses import _hinge
from ..losses import _probabilistic
from ..losses._crossentropy import _sparse_labels
from ..losses._reduction import squeeze_or_expand_to_same_rank
from ._reduction import MeanMetricWrapper


class BinaryCrossentropy(MeanMetricWrapper):
  """Running weighted mean of the binary crossentropy.

  Args:
    name: defaults to `"binary_crossentropy"`.
    dtype: defaults to `"float32"`.
    from_logits: whether `y_pred` holds logits.
    label_smoothing: squeezes targets towards 0.5 by this amount.

  Example:
    >>> import jax.numpy as jnp
    >>> m = BinaryCrossentropy(from_logits=True)
    >>> round(float(m(jnp.array([[1.], [0.]]), jnp.array([[0.], [0.]]))), 4)
    0.6931
  """

  def __init__(self, name: str = "binary_crossentropy",
               dtype: Optional[str] = None, from_logits: bool = False,
               label_smoothing: float = 0.0):
    super().__init__(_crossentropy.binary_crossentropy, name=name, dtype=dtype,
                     from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
  """Running weighted mean of the categorical crossentropy.

  Args:
    name: defaults to `"categorical_crossentropy"`.
    dtype: defaults to `"float32"`.
    from_logits: whether `y_pred` holds logits.
    label_smoothing: mixes the targets with the uniform distribution.
    axis: the class axis, default -1.

  Example:
    >>> import jax.numpy as jnp
    >>> m = CategoricalCrossentropy()
    >>> round(float(m(jnp.array([[0., 1.]]), jnp.array([[0.5, 0.5]]))), 4)
    0.6931
  """

  def __init__(self, name: str = "categorical_crossentropy",
               dtype: Optional[str] = None, from_logits: bool = False,
               label_smoothing: float = 0.0, axis: int = -1):
    super().__init__(_crossentropy.categorical_crossentropy, name=name,
                     dtype=dtype, from_logits=from_logits,
                     label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
  """Running weighted mean of the sparse categorical crossentropy.

  Entries whose target is `ignore_class` are left out of the mean.

  Args:
    name: defaults to `"sparse_categorical_crossentropy"`.
    dtype: defaults to `"float32"`.
    from_logits: whether `y_pred` holds logits.
    ignore_class: optional class index to leave out.
    axis: the class axis, default -1.

  Example:
    >>> import jax.numpy as jnp
    >>> m = SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(m(jnp.array([1]), jnp.array([[0., 0.]]))), 4)
    0.6931
  """

  def __init__(self, name: str = "sparse_categorical_crossentropy",
               dtype: Optional[str] = None, from_logits: bool = False,
               ignore_class: Optional[int] = None, axis: int = -1):
    super().__init__(_crossentropy.sparse_categorical_crossentropy, name=name,
                     dtype=dtype, from_logits=from_logits,
                     ignore_class=ignore_class, axis=axis)
    self.ignore_class = ignore_class
    self.axis = axis

  def compute_mask(self, y_true, y_pred):
    if self.ignore_class is None:
      return None
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    axis = self.axis % max(y_pred.ndim, 1)
    return _sparse_labels(y_true, y_pred, axis) != self.ignore_class


class KLDivergence(MeanMetricWrapper):
  """Running weighted mean of the Kullback-Leibler divergence.

  Args:
    name: defaults to `"kl_divergence"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = KLDivergence()
    >>> float(m(jnp.array([[0.5, 0.5]]), jnp.array([[0.5, 0.5]])))
    0.0
  """

  def __init__(self, name: str = "kl_divergence", dtype: Optional[str] = None):
    super().__init__(_probabilistic.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
  """Running weighted mean of the Poisson loss.

  Args:
    name: defaults to `"poisson"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> round(float(Poisson()(jnp.array([[1.]]), jnp.array([[1.]]))), 4)
    1.0
  """

  def __init__(self, name: str = "poisson", dtype: Optional[str] = None):
    super().__init__(_probabilistic.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
  """Running weighted mean of the hinge loss.

  Args:
    name: defaults to `"hinge"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(Hinge()(jnp.array([[1., 0.]]), jnp.array([[0.5, 0.5]])))
    1.0
  """

  def __init__(self, name: str = "hinge", dtype: Optional[str] = None):
    super().__init__(_hinge.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
  """Running weighted mean of the squared hinge loss.

  Args:
    name: defaults to `"squared_hinge"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(SquaredHinge()(jnp.array([[1., 0.]]), jnp.array([[0.5, 0.5]])))
    1.25
  """

  def __init__(self, name: str = "squared_hinge", dtype: Optional[str] = None):
    super().__init__(_hinge.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
  """Running weighted mean of the categorical hinge loss.

  Args:
    name: defaults to `"categorical_hinge"`.
    dtype: defaults to `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> m = CategoricalHinge()
    >>> round(float(m(jnp.array([[0., 1.]]), jnp.array([[0.3, 0.7]]))), 4)
    0.6
  """

  def __init__(self, name: str = "categorical_hinge",
               dtype: Optional[str] = None):
    super().__init__(_hinge.categorical_hinge, name=name, dtype=dtype)
