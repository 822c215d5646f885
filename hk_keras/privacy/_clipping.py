"""The pure pieces of a DP-SGD gradient: per-example (or per-microbatch)
gradients, clipping each to a global L2 norm, and the Gaussian noise."""
import jax
import jax.numpy as jnp


def microbatches(tree, num):
  """Leaves of shape (B, ...) -> (num, B // num, ...)."""
  def split(a):
    return jnp.reshape(a, (num, a.shape[0] // num) + a.shape[1:])
  return jax.tree_util.tree_map(split, tree)


def unsplit(tree):
  """Leaves of shape (M, G, ...) -> (M * G, ...)."""
  return jax.tree_util.tree_map(
      lambda a: jnp.reshape(a, (a.shape[0] * a.shape[1],) + a.shape[2:]),
      tree)


def per_example_grads(loss_fn, diff, groups, keys):
  """`jax.grad(loss_fn)` of each group: `loss_fn(diff, group, key) ->
  (loss, aux)` vmapped over the leading axis of `groups` and `keys`.
  Returns (gradients with a leading group axis, aux of each group)."""
  grad = jax.grad(loss_fn, has_aux=True)
  return jax.vmap(grad, in_axes=(None, 0, 0))(diff, groups, keys)


def global_norms(grads):
  """(M,) global L2 norms of M stacked gradient trees (in float32)."""
  leaves = jax.tree_util.tree_leaves(grads)
  squares = [jnp.sum(jnp.square(g.astype(jnp.float32)).reshape(g.shape[0], -1),
                     axis=1) for g in leaves]
  return jnp.sqrt(sum(squares))


def clip_factors(norms, l2_norm_clip):
  """min(1, C / norm) per gradient (TF Privacy's clip_by_global_norm)."""
  return l2_norm_clip / jnp.maximum(norms, l2_norm_clip)


def weighted_sum(grads, weights):
  """sum_i weights[i] * grads[i] over the leading axis, for each leaf."""
  def reduce(g):
    w = weights.astype(jnp.float32)
    return jnp.tensordot(w, g.astype(jnp.float32), axes=1).astype(g.dtype)
  return jax.tree_util.tree_map(reduce, grads)


def gaussian_noise(tree, key, std):
  """Independent N(0, std^2) noise shaped like `tree`.

  One draw of all the values, cut into the leaves: each random op costs
  ~1 s of XLA:CPU compile time, so one per leaf made a small model's step
  compile several times slower.
  """
  leaves, treedef = jax.tree_util.tree_flatten(tree)
  sizes = [int(l.size) for l in leaves]
  flat = std * jax.random.normal(key, (max(sum(sizes), 1),), jnp.float32)
  noise, start = [], 0
  for leaf, size in zip(leaves, sizes):
    part = jax.lax.slice_in_dim(flat, start, start + size)
    noise.append(part.reshape(leaf.shape).astype(leaf.dtype))
    start += size
  return jax.tree_util.tree_unflatten(treedef, noise)
