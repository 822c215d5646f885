"""The sharding strategy: one jit program over a 1-D device mesh.

Params and all other state are replicated (`PartitionSpec()`); batches are
split along axis 0 (`PartitionSpec("batch")`). The step is written for the
global batch, so XLA inserts the gradient all-reduce itself and jnp computes
global BatchNormalization statistics: no explicit collectives are needed (the
replica scope has no axis name).
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._core import _replica
from ._strategy import Strategy

AXIS = "batch"


class ShardingStrategy(Strategy):
  """Data parallelism with `jax.jit` and `NamedSharding` over `devices`."""

  def __init__(self, devices):
    self.devices = tuple(devices)
    me = jax.process_index()
    self.num_replicas = len(self.devices)
    self.local_replicas = sum(d.process_index == me for d in self.devices)
    self.mesh = Mesh(np.array(self.devices), (AXIS,))
    self._replicated = NamedSharding(self.mesh, PartitionSpec())
    self._split = NamedSharding(self.mesh, PartitionSpec(AXIS))
    self._multi_process = jax.process_count() > 1

  def _constrain(self, tree):
    return jax.tree_util.tree_map(
        lambda a: jax.lax.with_sharding_constraint(a, self._split)
        if getattr(a, "ndim", 0) else a, tree)

  def compile(self, fn, *, donate_state=True, static_argnums=(),
              batch_argnums=(), batch_outputs=False):
    """jit-compiles `fn(state, *args)` for the mesh; the state and logs come
    back replicated, per-example outputs split like the batch."""
    del batch_argnums  # Placed by shard(); jit follows the arguments.
    num_replicas = self.num_replicas

    def global_step(*args):
      with _replica.scope(None, num_replicas, self._constrain):
        return fn(*args)
    return self._one_step_at_a_time(self.devices, jax.jit(
        global_step, donate_argnums=(0,) if donate_state else (),
        static_argnums=static_argnums,
        out_shardings=self._split if batch_outputs else self._replicated))

  def put(self, tree):
    return jax.device_put(tree, self._replicated)

  def shard(self, tree):
    if self._multi_process:
      # Each process holds its rows of the global batch.
      return jax.tree_util.tree_map(
          lambda a: jax.make_array_from_process_local_data(
              self._split, np.asarray(a)), tree)
    return jax.device_put(tree, self._split)

  def fetch(self, tree):
    if self._multi_process:
      # Replicated arrays: every process holds the whole value.
      return jax.tree_util.tree_map(
          lambda a: np.asarray(a.addressable_data(0))
          if isinstance(a, jax.Array) else a, tree)
    return jax.device_get(tree)

  def unshard(self, tree):
    if self._multi_process:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      return jax.tree_util.tree_map(
          np.asarray, multihost_utils.process_allgather(tree, tiled=True))
    return super().unshard(tree)
