"""Shape alignment, sample weighting and reduction shared by losses and metrics.

Everything here works on static shapes only, so it runs at trace time under
`jax.jit` and never branches on array values.
"""

from typing import Optional, Tuple

import jax.numpy as jnp

EPSILON = 1e-7
"""The default fuzz factor (`hk_keras.config.epsilon()` unless changed)."""


def epsilon() -> float:
  """The fuzz factor losses clip with, read at call (trace) time as Keras's
  `backend.epsilon()`: `hk_keras.config.set_epsilon` changes it."""
  from ..config import _settings  # pylint: disable=g-import-not-at-top
  return _settings.epsilon()

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight",
              "none", None)

_SAMPLE_WEIGHT_HINT = (
    "sample_weight must be a scalar, have one weight per sample (shape "
    "(batch,) or (batch, 1)), or match the shape of the per-sample losses.")


def standardize_reduction(reduction):
  """Checks a `reduction` argument and returns it unchanged.

  Raises:
    ValueError: if `reduction` is not one of `REDUCTIONS`.
  """
  if reduction not in REDUCTIONS:
    raise ValueError(
        f"Invalid value for argument `reduction`. Expected one of "
        f"{list(REDUCTIONS)}. Received: reduction={reduction!r}")
  return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
  """Makes two arrays the same rank when they differ by a trailing 1.

  When one array has exactly one more dimension than the other and that last
  dimension has size 1, it is squeezed; except when the other array is rank 1
  and `expand_rank_1` is set, in which case the rank-1 array gets a trailing
  axis instead. This is the rule Keras 3 applies between `y_true` and `y_pred`
  (so `(N,)` targets meet `(N, 1)` predictions as `(N, 1)`, never as an
  `(N, N)` broadcast) and between losses and sample weights.

  Args:
    x1: first array.
    x2: second array.
    expand_rank_1: expand a rank-1 array rather than squeeze the other one.

  Returns:
    The pair `(x1, x2)`, possibly reshaped.
  """
  r1, r2 = jnp.ndim(x1), jnp.ndim(x2)
  if r1 == r2:
    return x1, x2
  if r1 == r2 + 1 and jnp.shape(x1)[-1] == 1:
    if r2 == 1 and expand_rank_1:
      x2 = jnp.expand_dims(x2, -1)
    else:
      x1 = jnp.squeeze(x1, -1)
  if r2 == r1 + 1 and jnp.shape(x2)[-1] == 1:
    if r1 == 1 and expand_rank_1:
      x1 = jnp.expand_dims(x1, -1)
    else:
      x2 = jnp.squeeze(x2, -1)
  return x1, x2


def divide_no_nan(x, y):
  """`x / y`, with 0 wherever `y == 0` (and gradients that stay finite)."""
  safe_y = jnp.where(y == 0, jnp.ones_like(y), y)
  return jnp.where(y == 0, jnp.zeros_like(x / safe_y), x / safe_y)


def pad_trailing(x, ndim: int):
  """Appends size-1 axes to `x` until it has `ndim` dimensions."""
  return jnp.reshape(x, jnp.shape(x) + (1,) * (ndim - jnp.ndim(x)))


def align_sample_weight(values, sample_weight) -> Tuple[object, object, bool]:
  """Brings `sample_weight` to the rank of `values`.

  Keras 3's rank rule first (`squeeze_or_expand_to_same_rank`); then a weight
  with fewer dimensions than the losses is aligned on the leading (batch)
  axes, so `(N,)` weights apply per sample to `(N, T)` per-timestep losses.
  Keras 3 broadcasts from the trailing axis there, which fails (or silently
  weights the wrong axis when `T == N`).

  Args:
    values: per-sample (or per-element) losses.
    sample_weight: weights.

  Returns:
    `(values, sample_weight, padded)` where `padded` says whether the leading
    alignment was used.

  Raises:
    ValueError: if the weights cannot be broadcast against the losses.
  """
  original_shape = jnp.shape(sample_weight)
  values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
  padded = False
  if 0 < jnp.ndim(sample_weight) < jnp.ndim(values):
    sample_weight = pad_trailing(sample_weight, jnp.ndim(values))
    padded = True
  if jnp.ndim(sample_weight) > 0:
    try:
      if jnp.ndim(sample_weight) != jnp.ndim(values):
        raise ValueError("rank")
      jnp.broadcast_shapes(jnp.shape(values), jnp.shape(sample_weight))
    except ValueError:
      raise ValueError(
          f"sample_weight of shape {tuple(original_shape)} does not match the "
          f"per-sample values of shape {tuple(jnp.shape(values))}. "
          f"{_SAMPLE_WEIGHT_HINT}") from None
  return values, sample_weight, padded


def apply_mask(sample_weight, mask, dtype, reduction):
  """Folds a boolean mask of valid entries into the sample weights.

  For the averaging reductions, valid entries get weight `total / valid` so
  that dividing by the number of entries gives the mean over valid entries
  only (as Keras 3 does).
  """
  if mask is None:
    return sample_weight
  if reduction in ("mean", "sum_over_batch_size"):
    total = jnp.asarray(mask.size, dtype)
    valid = jnp.sum(mask.astype(dtype))
    float_mask = jnp.where(mask, divide_no_nan(total, valid), 0).astype(dtype)
  else:
    float_mask = mask.astype(dtype)
  if sample_weight is None:
    return float_mask
  sample_weight = jnp.asarray(sample_weight, dtype)
  float_mask, sample_weight = squeeze_or_expand_to_same_rank(
      float_mask, sample_weight)
  if 0 < jnp.ndim(sample_weight) < jnp.ndim(float_mask):
    sample_weight = pad_trailing(sample_weight, jnp.ndim(float_mask))
  elif 0 < jnp.ndim(float_mask) < jnp.ndim(sample_weight):
    float_mask = pad_trailing(float_mask, jnp.ndim(sample_weight))
  return sample_weight * float_mask


def reduce_weighted_values(values,
                           sample_weight=None,
                           mask=None,
                           reduction: Optional[str] = "sum_over_batch_size",
                           dtype="float32"):
  """Weights per-sample losses and reduces them as Keras 3's `Loss` does.

  Args:
    values: per-sample losses.
    sample_weight: optional weights (scalar, per sample, or per element).
    mask: optional boolean array of valid entries, shaped like `values`.
    reduction: `"sum_over_batch_size"`/`"mean"` (weighted sum divided by the
      number of entries), `"sum"`, `"mean_with_sample_weight"` (weighted sum
      divided by the sum of the weights) or `None`/`"none"`.
    dtype: dtype of the computation.

  Returns:
    The reduced loss (a scalar), or the weighted losses for `None`/`"none"`.
  """
  reduction = standardize_reduction(reduction)
  values = jnp.asarray(values, dtype)
  if sample_weight is not None:
    sample_weight = jnp.asarray(sample_weight, dtype)
  sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
  padded = False
  if sample_weight is not None:
    values, sample_weight, padded = align_sample_weight(values, sample_weight)
    values = values * sample_weight
  if reduction in (None, "none") or values.shape in ((), (0,)):
    return values
  loss = jnp.sum(values)
  if reduction == "sum":
    return loss
  if reduction == "mean_with_sample_weight" and sample_weight is not None:
    if padded:
      sample_weight = jnp.broadcast_to(sample_weight, values.shape)
    divisor = jnp.sum(sample_weight).astype(loss.dtype)
  else:
    divisor = jnp.asarray(values.size, loss.dtype)
  return divide_no_nan(loss, divisor)
