"""Keras masks on model outputs, folded into loss and metric weights.

A prediction that carries a Keras mask (e.g. the per-timestep output of an
RNN after `Embedding(mask_zero=True)`) leaves its masked entries out of the
loss and of mean metrics, as Keras 3's `Loss.__call__` and
`MeanMetricWrapper.update_state` do: for the averaging reductions a valid
entry weighs `entries / valid entries`, so the loss is the mean over valid
timesteps. The padded rows of a last uneven batch (`rows`) count as masked,
and under pmap the valid entries are counted over the global batch.
"""
import jax.numpy as jnp

from .._core import _masking
from .._core import _replica
from ..losses import _reduction


def _combine(sample_weight, weights):
  if sample_weight is None:
    return weights
  sw = jnp.asarray(sample_weight, jnp.float32)
  weights, sw = _reduction.squeeze_or_expand_to_same_rank(weights, sw)
  if 0 < sw.ndim < weights.ndim:
    sw = _reduction.pad_trailing(sw, weights.ndim)
  elif 0 < weights.ndim < sw.ndim:
    weights = _reduction.pad_trailing(weights, sw.ndim)
  return sw * weights


def masked_weights(y_pred, sample_weight, rows, loss, fallback):
  """Sample weights and loss scale for one output, its Keras mask included.

  Args:
    y_pred: the output's prediction (looked up for a Keras mask).
    sample_weight: the user's weights for this output, or None.
    rows: (batch,) 0/1 mask of real rows, or None.
    loss: the output's loss (None for metrics: 0/1 weights).
    fallback: `fallback(sample_weight, rows, loss) -> (weights, scale)`, the
      engine's rule without a Keras mask.

  Returns:
    (weights, scale) as `fallback` returns them.
  """
  mask = _masking.get_keras_mask(y_pred)
  if mask is None:
    return fallback(sample_weight, rows, loss)
  m = jnp.asarray(mask, jnp.float32)
  if rows is not None:
    m = m * jnp.reshape(rows, rows.shape + (1,) * (m.ndim - 1))
  reduction = getattr(loss, "reduction", None)
  if reduction in ("sum_over_batch_size", "mean"):
    total = m.size * _replica.count()
    valid = _replica.psum(jnp.sum(m))
    m = jnp.where(m > 0, _reduction.divide_no_nan(
        jnp.asarray(total, jnp.float32), valid), 0.0)
  scale = _replica.count() if reduction == "sum" else 1.0
  return _combine(sample_weight, m), scale


def applies_to_metric(metric) -> bool:
  """Keras 3 applies output masks to mean metrics (`MeanMetricWrapper`)."""
  from ..metrics._reduction import MeanMetricWrapper  # pylint: disable=g-import-not-at-top
  return isinstance(metric, MeanMetricWrapper)
