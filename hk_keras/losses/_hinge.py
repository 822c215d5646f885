"""Hinge losses for -1/1 (or 0/1) targets and for one-hot targets."""

from typing import Optional

import jax.numpy as jnp

from ._checks import aligned
from ._loss import LossFunctionWrapper


def _to_signed_labels(y_true):
  """Maps 0/1 targets to -1/1; leaves targets that are not all 0/1 alone."""
  is_binary = jnp.all((y_true == 0) | (y_true == 1))
  return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
  """Per-sample `mean(max(1 - y_true * y_pred, 0), axis=-1)`.

  Args:
    y_true: -1/1 targets; 0/1 targets are converted to -1/1.
    y_pred: predicted scores.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("Hinge", y_true, y_pred)
  y_true = _to_signed_labels(y_true)
  return jnp.mean(jnp.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
  """Per-sample `mean(max(1 - y_true * y_pred, 0) ** 2, axis=-1)`.

  Args:
    y_true: -1/1 targets; 0/1 targets are converted to -1/1.
    y_pred: predicted scores.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("SquaredHinge", y_true, y_pred)
  y_true = _to_signed_labels(y_true)
  return jnp.mean(jnp.square(jnp.maximum(1.0 - y_true * y_pred, 0.0)),
                  axis=-1)


def categorical_hinge(y_true, y_pred):
  """Per-sample `max(neg - pos + 1, 0)` for one-hot targets.

  `pos = sum(y_true * y_pred)` and `neg = max((1 - y_true) * y_pred)` over the
  last axis.

  Args:
    y_true: one-hot targets.
    y_pred: predicted scores.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("CategoricalHinge", y_true, y_pred)
  pos = jnp.sum(y_true * y_pred, axis=-1)
  neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
  return jnp.maximum(neg - pos + 1.0, jnp.zeros_like(pos))


class Hinge(LossFunctionWrapper):
  """Hinge loss, `max(1 - y_true * y_pred, 0)`, for -1/1 or 0/1 targets.

  Args:
    reduction: see `Loss`.
    name: defaults to `"hinge"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(Hinge()(jnp.array([[1., 0.]]), jnp.array([[0.5, 0.5]])))
    1.0
  """

  def __init__(self, reduction="sum_over_batch_size", name="hinge",
               dtype: Optional[str] = None):
    super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
  """Squared hinge loss, `max(1 - y_true * y_pred, 0) ** 2`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"squared_hinge"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> float(SquaredHinge()(jnp.array([[1., 0.]]), jnp.array([[0.5, 0.5]])))
    1.25
  """

  def __init__(self, reduction="sum_over_batch_size", name="squared_hinge",
               dtype: Optional[str] = None):
    super().__init__(squared_hinge, reduction=reduction, name=name,
                     dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
  """Categorical hinge loss for one-hot targets.

  Args:
    reduction: see `Loss`.
    name: defaults to `"categorical_hinge"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = CategoricalHinge()
    >>> round(float(loss(jnp.array([[0., 1.]]), jnp.array([[0.3, 0.7]]))), 4)
    0.6
  """

  def __init__(self, reduction="sum_over_batch_size",
               name="categorical_hinge", dtype: Optional[str] = None):
    super().__init__(categorical_hinge, reduction=reduction, name=name,
                     dtype=dtype)
