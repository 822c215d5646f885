"""Trace-time shape checks with messages that say what to do."""

import jax.numpy as jnp

from ._reduction import squeeze_or_expand_to_same_rank


def as_float_pair(y_true, y_pred):
  """Casts `y_pred` to a float dtype and `y_true` to the same dtype."""
  y_pred = jnp.asarray(y_pred)
  if not jnp.issubdtype(y_pred.dtype, jnp.floating):
    y_pred = y_pred.astype(jnp.float32)
  return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def aligned(loss_name: str, y_true, y_pred, *, same_shape: bool = False):
  """Aligns ranks as Keras 3 does, then checks the shapes agree.

  Args:
    loss_name: name used in the error message (a Keras class name).
    y_true: targets.
    y_pred: predictions.
    same_shape: require identical shapes rather than same-rank broadcasting.

  Returns:
    `(y_true, y_pred)` cast to a float dtype and aligned in rank.

  Raises:
    ValueError: if the shapes do not agree.
  """
  y_true, y_pred = as_float_pair(y_true, y_pred)
  y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
  ok = y_true.ndim == y_pred.ndim
  if ok and same_shape:
    ok = y_true.shape == y_pred.shape
  elif ok:
    try:
      jnp.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
      ok = False
  if not ok:
    expected = "the same" if same_shape else "the same (or broadcastable)"
    raise ValueError(
        f"{loss_name} expects y_true and y_pred of {expected} shape, got "
        f"y_true shape {tuple(y_true.shape)} and y_pred shape "
        f"{tuple(y_pred.shape)}. A trailing axis of size 1 is the only "
        "difference that is aligned automatically; reshape the targets to "
        "match the model output.")
  return y_true, y_pred
