"""The sharding strategy: one jit program over a device mesh (GSPMD).

Batches are split along the mesh's batch axis (`PartitionSpec(axis)`) and
replicated along the others. Params and Haiku state are placed by the
distribution's layouts (`tensor_axes`: replicated under `DataParallel`,
split by a `LayoutMap`, "fsdp" or "auto" under `ModelParallel`); optimizer
slots shaped like the params follow their param's layout (`_state_layout`);
everything else is replicated. The train state is placed once, and every
step is compiled with these shardings as `in_shardings`/`out_shardings` and
donates it, so it stays where it is between steps. The step is written for
the global batch, so XLA inserts the gradient reductions and the gathers of
split params itself: no explicit collective is needed (the replica scope has
no axis name).
"""
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._core import _replica
from . import _state_layout
from ._strategy import Strategy
from ._train_state import TrainState

AXIS = "batch"


class ShardingStrategy(Strategy):
  """Data and model parallelism with `jax.jit` and `NamedSharding`.

  Args:
    devices: the devices of a 1-D data-parallel mesh (when `mesh` is None).
    mesh: a `jax.sharding.Mesh`.
    batch_axis: the mesh axis batches are split over.
    layouts: `tensor_axes(tree)` of the distribution (None: replicated).
  """

  def __init__(self, devices=None, *, mesh=None, batch_axis=AXIS,
               layouts=None):
    if mesh is None:
      mesh = Mesh(np.array(devices), (AXIS,))
    self.mesh = mesh
    self.devices = tuple(mesh.devices.flat)
    self.batch_axis = batch_axis
    me = jax.process_index()
    position = list(mesh.axis_names).index(batch_axis)
    self.num_replicas = int(mesh.devices.shape[position])
    local = {i[position] for i, d in np.ndenumerate(mesh.devices)
             if d.process_index == me}
    self.local_replicas = len(local)
    self._layouts = layouts
    self._replicated = NamedSharding(mesh, PartitionSpec())
    self._split = NamedSharding(mesh, PartitionSpec(batch_axis))
    self._multi_process = jax.process_count() > 1
    self._axes_cache = {}

  # -- layouts -----------------------------------------------------------------
  def _tree_shardings(self, tree):
    """NamedShardings for a Haiku tree by the distribution's layouts."""
    if tree is None:
      return None
    if self._layouts is None:
      return jax.tree_util.tree_map(lambda _: self._replicated, tree)
    key = tuple((m, n, np.shape(v)) for m, leaves in tree.items()
                for n, v in leaves.items())
    axes = self._axes_cache.get(key)
    if axes is None:
      axes = self._axes_cache[key] = self._layouts(tree)
    return {m: {n: NamedSharding(self.mesh, PartitionSpec(*axes[m][n]))
                for n in leaves} for m, leaves in tree.items()}

  def state_shardings(self, ts: TrainState):
    """The sharding of every leaf of a train state (fields may be None)."""
    params = self._tree_shardings(ts.params)
    rep = lambda t: jax.tree_util.tree_map(lambda _: self._replicated, t)
    opt = None if ts.opt_state is None else _state_layout.follow_params(
        ts.opt_state, ts.params, params, self._replicated)
    # The loss scale gets one sharding for its whole subtree (a pytree
    # prefix): jmp's loss-scale classes cannot be rebuilt around shardings.
    scale = None if ts.loss_scale is None else self._replicated
    return TrainState(params, self._tree_shardings(ts.state), opt,
                      rep(ts.rng), rep(ts.step), rep(ts.metrics), scale)

  def put_train_state(self, ts, copy=True):
    """`ts` laid out (each device receives only its shards); with `copy`
    never aliasing `ts`."""
    return self._place(ts, self.state_shardings(ts), copy)

  # -- compile -----------------------------------------------------------------
  def _constrain(self, tree):
    return jax.tree_util.tree_map(
        lambda a: jax.lax.with_sharding_constraint(a, self._split)
        if getattr(a, "ndim", 0) else a, tree)

  def _out_shardings(self, out, state_sharding, batch_outputs):
    if batch_outputs:
      return self._split
    first = out[0] if isinstance(out, tuple) and out else None
    if isinstance(first, TrainState):
      return (state_sharding,) + tuple(self._replicated for _ in out[1:])
    return self._replicated

  def compile(self, fn, *, donate_state=True, static_argnums=(),
              batch_argnums=(), batch_outputs=False):
    """jit-compiles `fn(state, *args)` for the mesh: the state goes in and
    comes back laid out (`in_shardings`/`out_shardings`), logs replicated,
    per-example outputs split like the batch. Other arguments keep the
    placement `put`/`shard` gave them."""
    del batch_argnums  # Placed by shard(); jit follows the arguments.
    num_replicas = self.num_replicas

    def global_step(*args):
      with _replica.scope(None, num_replicas, self._constrain):
        return fn(*args)

    compiled = {}  # by number of arguments

    def call(*args):
      if len(args) not in compiled:
        state = self.state_shardings(args[0]) if isinstance(
            args[0], TrainState) else self._replicated
        if static_argnums:
          out = self._replicated
        else:
          out = self._out_shardings(jax.eval_shape(global_step, *args),
                                    state, batch_outputs)
        compiled[len(args)] = (self._one_step_at_a_time(self.devices, jax.jit(
            global_step, donate_argnums=(0,) if donate_state else (),
            static_argnums=static_argnums,
            in_shardings=(state,) + (None,) * (len(args) - 1),
            out_shardings=out)))
      return compiled[len(args)](*args)
    return call

  # -- placement ---------------------------------------------------------------
  @staticmethod
  def _map_shardings(one, tree, shardings):
    """one(leaf, sharding) over `tree`, `shardings` being a pytree prefix
    of it (one sharding may cover a whole subtree)."""
    return jax.tree_util.tree_map(
        lambda s, sub: jax.tree_util.tree_map(lambda a: one(a, s), sub),
        shardings, tree)

  def _place(self, tree, shardings, copy=True):
    alias = False if copy else None
    if self._multi_process:
      # Every process holds the same host values; each places its devices'
      # shards of them. Global arrays (from an earlier step) are resharded.
      def one(a, s):
        if isinstance(a, jax.Array) and not a.is_fully_addressable:
          return jax.device_put(a, s, may_alias=alias)
        a = np.asarray(a)
        return jax.make_array_from_callback(a.shape, s, lambda i: a[i])
      return self._map_shardings(one, tree, shardings)
    def one(a, s):
      if isinstance(a, jax.Array) and not a.sharding.is_equivalent_to(
          s, a.ndim):
        # Split from the host: each device receives only its shard (a
        # reshard on the devices would compile a slicing program per shape).
        a = np.asarray(a)
      return jax.device_put(a, s, may_alias=alias)
    return self._map_shardings(one, tree, shardings)

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
