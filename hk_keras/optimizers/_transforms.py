"""Gradient transformations shared by all optimizers: Keras's clipping,
loss-scale removal and decoupled weight decay, with Keras 3's numerics."""

from typing import Any, Optional

import jax
import jax.numpy as jnp
import optax


def keras_clip(clipnorm: Optional[float] = None,
               clipvalue: Optional[float] = None,
               global_clipnorm: Optional[float] = None
               ) -> optax.GradientTransformation:
  """Clips gradients exactly as a Keras 3 optimizer does before its update.

  At most one argument may be set (the caller validates this). `clipnorm`
  rescales each gradient leaf to L2 norm at most `clipnorm`;
  `global_clipnorm` rescales all leaves together (a non-finite global norm
  turns the gradients into NaN, as in Keras); `clipvalue` clips
  element-wise to `[-clipvalue, clipvalue]`.

  Args:
    clipnorm: Per-leaf norm limit, or None.
    clipvalue: Element-wise limit, or None.
    global_clipnorm: Global norm limit, or None.

  Returns:
    A stateless `optax.GradientTransformation` (identity when none is set).

  >>> tx = keras_clip(clipvalue=1.0)
  >>> tx.update({"w": jnp.array([-3., 0.5])}, tx.init(None))[0]["w"]
  Array([-1. ,  0.5], dtype=float32)
  """
  if clipnorm and clipnorm > 0:
    def clip(g):
      l2sum = jnp.sum(jnp.square(g), keepdims=True)
      positive = l2sum > 0
      l2norm = jnp.where(positive,
                         jnp.sqrt(jnp.where(positive, l2sum,
                                            jnp.ones_like(l2sum))), l2sum)
      return (g * clipnorm) / jnp.maximum(l2norm, clipnorm)

    def update_leaves(updates):
      return jax.tree.map(clip, updates)
  elif global_clipnorm and global_clipnorm > 0:
    def update_leaves(updates):
      leaves = jax.tree.leaves(updates)
      if not leaves:
        return updates
      norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in leaves))
      scale = global_clipnorm * jnp.minimum(1.0 / norm, 1.0 / global_clipnorm)
      scale = scale + (norm - norm)
      return jax.tree.map(lambda g: g * scale.astype(g.dtype), updates)
  elif clipvalue and clipvalue > 0:
    def update_leaves(updates):
      return jax.tree.map(lambda g: jnp.clip(g, -clipvalue, clipvalue),
                          updates)
  else:
    return optax.identity()

  def update_fn(updates, state, params=None):
    del params
    return update_leaves(updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(),
                                      update_fn)


def keras_weight_decay(weight_decay: float,
                       learning_rate: Any) -> optax.GradientTransformation:
  """Adds Keras 3's decoupled weight decay `-param * weight_decay * lr`.

  Keras shrinks every variable by `variable * weight_decay * lr` before the
  optimizer's own step; since the step does not read the variable, adding the
  same term to the update is equivalent. Place it last in a chain.

  Args:
    weight_decay: The decay coefficient.
    learning_rate: The current learning rate (a scalar).

  Returns:
    A stateless `optax.GradientTransformation` needing `params` in `update`.

  Raises:
    ValueError: At update time if `params` is None.

  >>> tx = keras_weight_decay(0.5, 0.1)
  >>> tx.update({"w": jnp.zeros(1)}, tx.init(None), {"w": jnp.ones(1)})[0]
  {'w': Array([-0.05], dtype=float32)}
  """
  def update_fn(updates, state, params=None):
    if params is None:
      raise ValueError(
          "Weight decay needs the current parameters: call "
          "`update(grads, opt_state, params)` with `params`.")
    decayed = jax.tree.map(
        lambda u, p: u - (p * jnp.asarray(weight_decay, p.dtype)) *
        jnp.asarray(learning_rate, p.dtype), updates, params)
    return decayed, state

  return optax.GradientTransformation(lambda params: optax.EmptyState(),
                                      update_fn)


def unscale_loss(loss_scale_factor: float) -> optax.GradientTransformation:
  """Divides gradients by the loss scale factor (Keras's `loss_scale_factor`).

  >>> tx = unscale_loss(4.0)
  >>> tx.update(jnp.array([8.0]), tx.init(None))[0]
  Array([2.], dtype=float32)
  """
  def update_fn(updates, state, params=None):
    del params
    return jax.tree.map(lambda g: g / loss_scale_factor, updates), state

  return optax.GradientTransformation(lambda params: optax.EmptyState(),
                                      update_fn)
