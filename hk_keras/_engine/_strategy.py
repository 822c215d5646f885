"""Device strategies: how a step is compiled and where a batch is placed.

The engine talks to devices only through this interface, so the pmap and
sharding strategies (`_pmap.py`, `_sharding.py`) replace the single-device one
without touching the engine:

* `compile(fn, donate_state=True, static_argnums=(), batch_argnums=(),
  batch_outputs=False)`: compiles `fn(state, *args)`. Arguments listed in
  `batch_argnums` are batches split over the replicas (placed by `shard`);
  all others are replicated (placed by `put`) or Python scalars. The state
  and logs come back replicated; with `batch_outputs` the outputs are
  per-example (predictions) and are read with `unshard`.
* `put(tree)`: replicates host or device values (datasets, metrics).
* `put_train_state(ts, copy=True)`: fresh copies of a `TrainState` (fields may be
  None) placed where the steps expect it: replicated, or split by the
  distribution's layouts (each param copied shard by shard).
* `shard(tree)`: splits a batch over the replicas along axis 0; its size must
  be a multiple of `pad_size`'s granularity (the engine pads and masks).
* `fetch(tree)` / `unshard(tree)`: replicated values / per-example outputs to
  host NumPy.
* `pad_size(n, local=False)`: the smallest size >= n that splits evenly.
* `broadcast(tree)`: process 0's values on every process (multi-host).
* `num_replicas`, `axis_name` (the pmap axis, or None), `is_chief`.

Inside a compiled step, code reads the replica scope (`_core/_replica.py`)
entered by `compile`, never the strategy.
"""
import weakref

import jax
import numpy as np

from .._core import _settings


# XLA:CPU runs each device's share of a program with collectives on a shared
# thread pool, and a participant waiting in an all-reduce holds its thread.
# With several steps in flight (async dispatch), the next step's
# participants can take every thread while the current step still waits for
# one: a deadlock ("Expected 4 threads to join the rendezvous, but only 3 of
# them arrived", then abort). Seen with jax 0.10.2 on 2 cores with plain
# jax.jit over a 4-device CPU mesh, not only here; waiting for each step
# before dispatching the next avoids it. Only multi-device CPU strategies
# wait (CPU devices are for tests; there dispatch overlap gains little).


class Strategy:
  """Base of the device strategies (defaults suit one process)."""

  num_replicas = 1
  local_replicas = 1
  axis_name = None
  # Whether predict may send contiguous host slices with each step (one
  # device: transfers then overlap compute) instead of placing all inputs
  # first and gathering rows on the devices.
  streams_host_slices = False

  def _one_step_at_a_time(self, devices, fn):
    """`fn`, waiting for its outputs on multi-device CPU (see above)."""
    if len(devices) < 2 or any(d.platform != "cpu" for d in devices):
      return fn

    def call(*args):
      return jax.block_until_ready(fn(*args))
    return call

  def pad_size(self, n: int, *, local: bool = False) -> int:
    """Smallest size >= n that splits evenly over the replicas (the local
    ones for a per-process batch)."""
    k = self.local_replicas if local else self.num_replicas
    return -(-int(n) // k) * k

  @property
  def is_chief(self) -> bool:
    """True in the process that writes logs and checkpoints (process 0)."""
    return jax.process_index() == 0

  def broadcast(self, tree):
    """Process 0's values of `tree` in every process (identity with one)."""
    if jax.process_count() == 1:
      return tree
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
    return multihost_utils.broadcast_one_to_all(tree)

  def put_train_state(self, ts, copy=True):
    """A train state placed for the steps (replicated by default); with
    `copy`, fresh buffers that never alias `ts` (the steps donate them)."""
    if copy:
      import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
      ts = jax.tree_util.tree_map(jnp.copy, ts)
    return self.put(ts)

  def fetch(self, tree):
    """Brings replicated device values back to the host."""
    return jax.device_get(tree)

  def unshard(self, tree):
    """Per-example outputs of a `batch_outputs` step as host NumPy arrays."""
    return jax.tree_util.tree_map(np.asarray, jax.device_get(tree))


class SingleDevice(Strategy):
  """Runs compiled steps on one device with `jax.jit`."""

  streams_host_slices = True

  def __init__(self, device=None):
    self.device = device or jax.devices()[0]

  def compile(self, fn, *, donate_state=True, static_argnums=(),
              batch_argnums=(), batch_outputs=False):
    """jit-compiles `fn(state, *args)`, donating the train state."""
    del batch_argnums, batch_outputs
    return jax.jit(fn, donate_argnums=(0,) if donate_state else (),
                   static_argnums=static_argnums)

  def put(self, tree):
    """Moves a pytree of host arrays to the device (asynchronously)."""
    return jax.device_put(tree, self.device)

  def shard(self, tree):
    return jax.device_put(tree, self.device)


_STRATEGIES = weakref.WeakKeyDictionary()


def get_strategy(distribution=None):
  """The strategy for `distribution`, or for the global distribution setting
  (`hk_keras.distribution.set_distribution`, read from `_core._settings`)
  when None.

  One strategy per distribution object: models compiled with the same
  `DataParallel` share its devices' placement, so their steps' cache keys
  agree.
  """
  if distribution is None:
    distribution = _settings.get("distribution")
  if distribution is None:
    return SingleDevice()
  strategy = _STRATEGIES.get(distribution)
  if strategy is None:
    if distribution.backend == "pmap":
      from ._pmap import PmapStrategy  # pylint: disable=g-import-not-at-top
      strategy = PmapStrategy(distribution.devices)
    else:
      from ._sharding import ShardingStrategy  # pylint: disable=g-import-not-at-top
      strategy = ShardingStrategy(
          mesh=distribution.device_mesh.backend_mesh,
          batch_axis=distribution.batch_dim_name,
          layouts=getattr(distribution, "tensor_axes", None))
    _STRATEGIES[distribution] = strategy
  return strategy
