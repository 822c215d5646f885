"""`per_example_gradients`: the gradient of each example's training loss."""
import jax
import jax.numpy as jnp

from .. import utils
from .._engine import _data
from . import _clipping
from ._private_step import example_loss_fn, group_keys

_NOT_COMPILED = (
    "per_example_gradients differentiates the loss the model was compiled "
    "with: call model.compile(optimizer=..., loss=...) first.")


def _make(model):
  def fn(params, model_state, rng, x, y, sample_weight):
    loss_fn = example_loss_fn(model, {}, model_state)
    rows = jax.tree_util.tree_leaves(x)[0].shape[0]
    groups = _clipping.microbatches((x, y, sample_weight), rows)
    grads, _ = _clipping.per_example_grads(loss_fn, params, groups,
                                           group_keys(rng, rows))
    return grads
  return fn


def per_example_gradients(model, x, y, sample_weight=None, rng=None):
  """Gradients of each example's loss with respect to every param.

  Each example is applied on its own (a batch of one, in training mode,
  with its own dropout key `fold_in(rng, i)`), and its loss is the model's
  `compute_loss` (compiled loss plus `model.losses`) on that example,
  times its `sample_weight`. Computed as `jax.vmap` of `jax.grad` under
  `jax.jit`, compiled once per model and input shapes.

  Args:
    model: a compiled hk_keras model.
    x, y: a batch of inputs and targets (arrays or trees of arrays).
    sample_weight: optional (batch,) weights.
    rng: optional PRNG key for dropout (default: a fresh key).

  Returns:
    The params tree (`{module: {name: array}}`) with a leading batch axis.
  """
  if not getattr(model, "compiled", False):
    raise RuntimeError(_NOT_COMPILED)
  live = model._live  # pylint: disable=protected-access
  arrays = _data.ArrayData(x, y, sample_weight)
  live.ensure(arrays.x, arrays.y)
  state = live.inference_state()
  fn = live.cache._cached(  # pylint: disable=protected-access
      ("per_example_gradients",), lambda: jax.jit(_make(model)))
  rng = utils.next_rng_key() if rng is None else rng
  sw = None if arrays.sample_weight is None else jnp.asarray(
      arrays.sample_weight, jnp.float32)
  return fn(state.params, state.state, rng, arrays.x, arrays.y, sw)
