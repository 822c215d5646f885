"""The pmap strategy: one replica of each step per device, with collectives.

Every replica holds the whole train state (pmap `in_axes=None`, `out_axes=None`:
the state stays one replicated array, never a stacked copy per device) and
processes its own slice of the global batch. The steps average gradients and
combine losses, metrics and BatchNormalization statistics over the axis
through the replica scope (`_core/_replica.py`), so N devices on a global
batch compute what one device computes on it.
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._core import _replica
from ._strategy import Strategy

AXIS = "batch"

_UNEVEN_LOCAL = (
    "A batch of {n} rows does not split over this process's {k} devices; the "
    "engine pads batches before placing them, so this is a bug in a caller of "
    "shard(). Pad the batch to a multiple of {k} rows.")


class PmapStrategy(Strategy):
  """Data parallelism with `jax.pmap` over `devices` (all processes')."""

  axis_name = AXIS

  def __init__(self, devices):
    self.devices = tuple(devices)
    me = jax.process_index()
    self.local_devices = tuple(d for d in self.devices if d.process_index == me)
    self.num_replicas = len(self.devices)
    self.local_replicas = len(self.local_devices)
    mesh = Mesh(np.array(self.devices), (AXIS,))
    # pmap takes and returns process-local arrays.
    local = mesh.local_mesh
    self._replicated = NamedSharding(local, PartitionSpec())
    self._split = NamedSharding(local, PartitionSpec(AXIS))
    self._multi_process = jax.process_count() > 1
    ids = np.arange(self.local_replicas, dtype=np.int32)
    self._ids = ids if self._multi_process else jax.device_put(ids, self._split)

  def compile(self, fn, *, donate_state=True, static_argnums=(),
              batch_argnums=(), batch_outputs=False):
    """pmaps `fn(state, *args)`; `batch_argnums` args are mapped over the
    devices, the others broadcast. The state and logs come back replicated
    (or, with `batch_outputs`, the per-device outputs stacked on axis 0)."""
    num_replicas = self.num_replicas

    def replica(ids, *args):
      # pmap needs one mapped argument; the replica ids are that argument.
      del ids
      with _replica.scope(AXIS, num_replicas):
        return fn(*args)

    compiled = {}

    def call(*args):
      f = compiled.get(len(args))
      if f is None:
        in_axes = (0,) + tuple(0 if i in batch_argnums else None
                               for i in range(len(args)))
        f = compiled[len(args)] = jax.pmap(
            replica, AXIS, in_axes=in_axes,
            out_axes=0 if batch_outputs else None,
            static_broadcasted_argnums=tuple(i + 1 for i in static_argnums),
            donate_argnums=(1,) if donate_state else (),
            devices=self.devices)
      return f(self._ids, *args)
    return self._one_step_at_a_time(self.devices, call)

  def put(self, tree):
    return jax.device_put(tree, self._replicated)

  def shard(self, tree):
    """(B, ...) -> (local devices, B / local devices, ...), one row block per
    device."""
    k = self.local_replicas

    def split(a):
      a = np.asarray(a) if self._multi_process else a
      if a.shape[0] % k:
        raise ValueError(_UNEVEN_LOCAL.format(n=a.shape[0], k=k))
      a = a.reshape((k, a.shape[0] // k) + tuple(a.shape[1:]))
      return a if self._multi_process else jax.device_put(a, self._split)
    return jax.tree_util.tree_map(split, tree)

  def unshard(self, tree):
    out = super().unshard(tree)
    if self._multi_process:
      from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
      out = multihost_utils.process_allgather(out, tiled=True)
    return jax.tree_util.tree_map(
        lambda a: np.asarray(a).reshape((-1,) + a.shape[2:]), out)
