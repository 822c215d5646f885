"""The DP-SGD train step: what the default `train_step` does when the model
was compiled with `privacy=DPSGD(...)`.

Per-example (or per-microbatch) gradients of the model's own
`compute_loss`, each example applied on its own (a batch of one under
`jax.vmap`, with its own dropout key), clipped to the global L2 norm C,
summed (over the replicas too), plus one Gaussian draw of std sigma * C for
the global batch (the same key on every replica), divided by the expected
batch size; then `apply_gradients` (the optimizer, frozen params untouched).
Padded rows (the padding mask of Poisson-sampled or uneven batches) add
nothing. Everything is traced once; no host work per step.
"""
import haiku as hk
import jax
import jax.numpy as jnp
from jax.experimental import checkify

from .._core import _context
from .._core import _replica
from .._engine import _default_steps
from .._engine._train_state import split_trainable
from . import _clipping

# fold_in salts separating the noise and Poisson-sampling keys from the
# per-example dropout keys (which fold in the example index).
NOISE_SALT = 0x7FFFFFF0
SAMPLING_SALT = 0x7FFFFFF1

_NO_WEIGHTS = (
    "DP-SGD bounds each example's influence by clipping its gradient; a "
    "sample_weight (or class_weight) would scale examples after that bound. "
    "Train without sample weights, or weight by resampling the data.")


def example_loss_fn(model, frozen, model_state, scale=None):
  """`loss(trainable, (x, y, sample_weight), key) -> (loss, aux)` of one
  group of rows applied on its own: no replica axis and no padding mask
  inside (the caller masks), its own `model.losses` scope."""
  def loss_fn(trainable, group, key):
    x, y, sample_weight = group
    params = hk.data_structures.merge(trainable, frozen)
    with _replica.scope(None, 1), _replica.masked_rows(None), \
        _context.loss_scope():
      y_pred, new_state = model.apply(params, model_state, key,
                                      *model._unpack_inputs(x), training=True)  # pylint: disable=protected-access
      loss = _default_steps.call_compute_loss(model, x, y, y_pred,
                                                 sample_weight, True)
    loss = jnp.asarray(loss, jnp.float32)
    scaled = loss if scale is None else scale.scale(loss)
    return scaled, (loss, y_pred, new_state)
  return loss_fn


def group_keys(key, num):
  return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(num))


def train_step(model, state, data):
  """One DP-SGD step. Returns (new train state, logs)."""
  live = model._live  # pylint: disable=protected-access
  dp = live.options.privacy
  x, y, sample_weight = data
  _default_steps.check_batch(x, y)
  if sample_weight is not None:
    raise ValueError(_NO_WEIGHTS)
  rng, step_rng = _default_steps._step_keys(state, data)  # pylint: disable=protected-access
  noise_key = jax.random.fold_in(step_rng, NOISE_SALT)  # same on replicas
  step_rng = _replica.fold_in(step_rng)
  trainable, frozen = split_trainable(state.params, live.mask)
  scale = getattr(state, "loss_scale", None)
  rows = jax.tree_util.tree_leaves(x)[0].shape[0]
  # num_microbatches counts the global batch; each replica takes its share.
  num = (dp.num_microbatches // _replica.count() if dp.num_microbatches
         else rows)
  if rows % num:
    raise ValueError(
        f"A batch of {rows} rows does not split into num_microbatches={num} "
        "microbatches: use a batch size (per device) that is a multiple of "
        "num_microbatches.")
  groups = _clipping.microbatches((x, y, None), num)
  loss_fn = example_loss_fn(model, frozen, state.state, scale)
  grads, (losses, y_pred, new_states) = _clipping.per_example_grads(
      loss_fn, trainable, groups, group_keys(step_rng, num))
  if scale is not None:
    grads = scale.unscale(grads)
  norms = _clipping.global_norms(grads)
  weights = _clipping.clip_factors(norms, dp.l2_norm_clip)
  mask = _replica.sample_mask()
  if mask is not None:
    if num != rows:
      raise ValueError("num_microbatches needs batches without padding.")
    weights = weights * mask
  summed = _replica.psum(_clipping.weighted_sum(grads, weights))
  sigma = dp.resolved_noise
  if sigma:
    noise = _clipping.gaussian_noise(summed, noise_key,
                                     sigma * dp.l2_norm_clip)
    summed = jax.tree_util.tree_map(jnp.add, summed, noise)
  divisor = _divisor(dp, num, mask)
  grads = jax.tree_util.tree_map(lambda g: g / divisor, summed)
  real = jnp.ones_like(losses) if mask is None else mask
  # This replica's share of the global mean loss (update_metrics averages
  # the replicas' shares, as for the default step).
  loss = jnp.sum(losses * real) * _replica.count() / jnp.maximum(
      _replica.psum(jnp.sum(real)), 1.0)
  y_pred = _clipping.unsplit(y_pred)
  new_model_state = jax.tree_util.tree_map(lambda s: s[0], new_states)
  if live.options.debug:
    checkify.check(jnp.isfinite(loss), _default_steps._NONFINITE_HINT.format(  # pylint: disable=protected-access
        "loss"))
  return _default_steps.finish_train_step(
      model, state, grads, new_model_state, rng, (loss, x, y, y_pred, None))


def _divisor(dp, num, mask):
  """The expected number of groups in the global batch: q * N under
  Poisson sampling, else the batch's real groups."""
  if dp.run is not None and dp.sampling == "poisson":
    return jnp.float32(dp.run.expected_batch)
  if mask is None:
    return jnp.float32(num * _replica.count())
  return jnp.maximum(_replica.psum(jnp.sum(mask)), 1.0)
