"""KL divergence and Poisson losses between distributions or rates."""

from typing import Optional

import jax.numpy as jnp

from ._checks import aligned
from ._loss import LossFunctionWrapper
from ._reduction import epsilon


def kl_divergence(y_true, y_pred):
  """Per-sample `sum(y_true * log(y_true / y_pred), axis=-1)`.

  Both inputs are clipped to `[1e-7, 1]` first.

  Args:
    y_true: target distributions.
    y_pred: predicted distributions.

  Returns:
    The divergences, reduced over the last axis.
  """
  y_true, y_pred = aligned("KLDivergence", y_true, y_pred)
  y_true = jnp.clip(y_true, epsilon(), 1.0)
  y_pred = jnp.clip(y_pred, epsilon(), 1.0)
  return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
  """Per-sample `mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)`.

  Args:
    y_true: observed counts.
    y_pred: predicted rates.

  Returns:
    The losses, reduced over the last axis.
  """
  y_true, y_pred = aligned("Poisson", y_true, y_pred)
  return jnp.mean(y_pred - y_true * jnp.log(y_pred + epsilon()), axis=-1)


class KLDivergence(LossFunctionWrapper):
  """Kullback-Leibler divergence from `y_pred` to `y_true`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"kl_divergence"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> loss = KLDivergence()
    >>> round(float(loss(jnp.array([[0.5, 0.5]]), jnp.array([[0.5, 0.5]]))), 4)
    0.0
  """

  def __init__(self, reduction="sum_over_batch_size", name="kl_divergence",
               dtype: Optional[str] = None):
    super().__init__(kl_divergence, reduction=reduction, name=name,
                     dtype=dtype)


class Poisson(LossFunctionWrapper):
  """Poisson negative log-likelihood (up to a constant), `y_pred - y_true * log(y_pred)`.

  Args:
    reduction: see `Loss`.
    name: defaults to `"poisson"`.
    dtype: computation dtype, default `"float32"`.

  Example:
    >>> import jax.numpy as jnp
    >>> round(float(Poisson()(jnp.array([[1.]]), jnp.array([[1.]]))), 4)
    1.0
  """

  def __init__(self, reduction="sum_over_batch_size", name="poisson",
               dtype: Optional[str] = None):
    super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)
