"""The data-parallel scope of a compiled step: which replica am I?

A device strategy enters a scope while it traces a step. Code inside the step
(the engine's pure steps, BatchNormalization, the loss) asks this module for
collectives instead of naming an axis itself:

* no scope (one device), or the sharding strategy (jnp sees the global batch
  and XLA inserts the communication): every helper is the identity;
* the pmap strategy: each replica sees its own slice of the global batch, and
  the helpers reduce over the pmap axis.

So the steps have one code path for all strategies. The scope is read at trace
time only; nothing here runs per step on the host.
"""
import contextlib
import threading
from typing import Any, Callable, NamedTuple, Optional

import jax
import jax.numpy as jnp


class ReplicaScope(NamedTuple):
  """How the step being traced is replicated.

  Attributes:
    axis_name: the pmap axis to reduce over, or None when the step sees the
      whole global batch.
    num_replicas: devices (replicas) taking part, over all processes.
    constrain: places a global batch gathered inside the step (the sharding
      strategy splits it over devices); identity otherwise.
  """
  axis_name: Optional[str]
  num_replicas: int
  constrain: Callable[[Any], Any]


_NONE = ReplicaScope(None, 1, lambda tree: tree)
_local = threading.local()


def current() -> ReplicaScope:
  stack = getattr(_local, "scopes", None)
  return stack[-1] if stack else _NONE


@contextlib.contextmanager
def scope(axis_name: Optional[str], num_replicas: int,
          constrain: Optional[Callable[[Any], Any]] = None):
  """Traces the enclosed step as one of `num_replicas` replicas."""
  stack = getattr(_local, "scopes", None)
  if stack is None:
    stack = _local.scopes = []
  stack.append(ReplicaScope(axis_name, int(num_replicas),
                            constrain or (lambda tree: tree)))
  try:
    yield
  finally:
    stack.pop()


def axis_name() -> Optional[str]:
  """The pmap axis of the step being traced (None: the step sees it all)."""
  return current().axis_name


def batch_stats_axis(explicit: Optional[str]) -> Optional[str]:
  """The axis to sum batch statistics over (BatchNormalization).

  Under the sharding strategy the step sees the global batch, so none;
  under pmap the strategy's axis unless the layer names one; otherwise the
  layer's own `cross_replica_axis` (for user code under its own pmap).
  """
  scope = current()
  if scope.axis_name is None and scope.num_replicas > 1:
    return None
  return explicit or scope.axis_name


def pmean(tree):
  """Mean over replicas (identity without a pmap axis)."""
  axis = axis_name()
  return tree if axis is None else jax.lax.pmean(tree, axis)


def psum(tree):
  """Sum over replicas (identity without a pmap axis)."""
  axis = axis_name()
  return tree if axis is None else jax.lax.psum(tree, axis)


def count() -> int:
  """How many replicas share the global batch in this trace (1 when the step
  sees the whole batch)."""
  return 1 if axis_name() is None else current().num_replicas


def fold_in(key):
  """A per-replica key: the replica index folded into `key` under pmap, so
  each replica draws different dropout masks (reproducible for a fixed device
  count). Unchanged without a pmap axis."""
  axis = axis_name()
  if axis is None:
    return key
  return jax.random.fold_in(key, jax.lax.axis_index(axis))


def local_rows(x):
  """This replica's contiguous share of the global rows of `x` (axis 0).

  Replica r of N takes rows [r * G / N, (r + 1) * G / N) of G rows; without a
  pmap axis, all rows.
  """
  axis = axis_name()
  if axis is None:
    return x
  n = current().num_replicas
  size = x.shape[0] // n
  start = jax.lax.axis_index(axis) * size
  return jax.lax.dynamic_slice_in_dim(x, start, size)


def row_mask(local_size: int, real):
  """(local_size,) float mask of this replica's rows that are real.

  The global batch holds `real` real rows followed by padding; `real` may be
  a traced scalar.
  """
  rows = jnp.arange(local_size)
  axis = axis_name()
  if axis is not None:
    rows = rows + jax.lax.axis_index(axis) * local_size
  return (rows < real).astype(jnp.float32)


def constrain(tree):
  """Places a batch gathered inside the step across the replicas."""
  return current().constrain(tree)


# -- the padding mask of the batch being processed --------------------------
# A global batch that does not split evenly over the replicas is padded; the
# step then sets this (batch,) 0/1 mask so that the loss, the metrics and
# BatchNormalization statistics ignore the padded rows.

def sample_mask():
  """The padding mask of the current step's batch, or None."""
  stack = getattr(_local, "masks", None)
  return stack[-1] if stack else None


@contextlib.contextmanager
def masked_rows(mask):
  """Marks the padded rows (mask 0) of the batch traced in this block."""
  stack = getattr(_local, "masks", None)
  if stack is None:
    stack = _local.masks = []
  stack.append(mask)
  try:
    yield
  finally:
    stack.pop()
