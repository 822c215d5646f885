"""Pure wrappers that turn a step into the form a loop calls.

`step(state, batch)` becomes `run(state, chunk, start)` (the batch is
sliced from a device chunk), K steps in one `lax.scan`, a step under a padding
mask, an eval step that returns only the metrics, or a checkified step.
Nothing here compiles or touches the host; `_step_cache` compiles the
results.
"""
import jax
import jax.numpy as jnp
from jax.experimental import checkify

from .._core import _replica
from . import _batching


def scan_steps(step):
  """K steps in one call: `step` scanned over K stacked batches."""
  def multi(state, batches):
    state, logs = jax.lax.scan(step, state, batches)
    return state, jax.tree_util.tree_map(lambda l: l[-1], logs)
  return multi


def indexed(step, batch_size, masked=False):
  """Wraps step(state, batch) as run(state, chunk, start): the batch is rows
  `start:start + batch_size` of a device chunk (`_batching.batch_rows`).

  With `masked`, run(state, chunk, start, real): only the first `real` rows
  (a traced count, so one program serves every remainder) count, and the
  step runs under that padding mask (`_replica.masked_rows`): the last
  partial batch of an epoch, padded to `batch_size`.
  """
  if not masked:
    def run(state, data, start):
      return step(state, _batching.batch_rows(data, start, batch_size))
    return run

  def run_masked(state, data, start, real):
    batch = _batching.batch_rows(data, start, batch_size)
    local = batch_size // _replica.count()
    rows = _replica.constrain(_replica.row_mask(local, real))
    with _replica.masked_rows(rows):
      return step(state, batch)
  return run_masked


def indexed_scan(step, batch_size, num_steps):
  """`num_steps` consecutive batches of a chunk in one scan:
  run(state, chunk, start)."""
  def run(state, data, start):
    def body(carry, j):
      return step(carry, _batching.batch_rows(
          data, start + j * batch_size, batch_size))
    state, logs = jax.lax.scan(body, state, jnp.arange(num_steps))
    return state, jax.tree_util.tree_map(lambda l: l[-1], logs)
  return run


def indexed_eval(test_step, batch_size):
  """test_step(state, batch, mask) as run(state, chunk, mask, start): rows
  `start:start + batch_size` of a chunk, real where `mask` is 1."""
  def run(state, data, mask, start):
    return test_step(state, _batching.batch_rows(data, start, batch_size),
                     _batching.rows(mask, start, batch_size))
  return run


def metrics_only(step):
  """An eval step that returns (metrics, logs), not the whole state.

  Returning the state from a step whose state is not donated makes XLA copy
  every param and optimizer slot into new output buffers on each batch;
  evaluation only changes the metrics.
  """
  def run(state, *args):
    new_state, logs = step(state, *args)
    return new_state.metrics, logs
  return run


def indexed_predict(predict_step, batch_size):
  """predict_step(state, x) as run(state, chunk, start)."""
  def run(state, data, start):
    return predict_step(state, _batching.batch_rows(data, start, batch_size))
  return run


def with_row_mask(step):
  """step(state, batch) as run(state, batch, mask) for a host batch padded
  to split over the replicas: the step runs under that padding mask."""
  def run(state, batch, mask):
    with _replica.masked_rows(mask):
      return step(state, batch)
  return run


def with_checks(step):
  """checkify the step (debug=True): errors are raised on the host."""
  return checkify.checkify(step, errors=checkify.user_checks)


def has_primitive(closed_jaxpr, name: str) -> bool:
  """Whether a jaxpr (or any jaxpr nested in it) uses primitive `name`."""
  def walk(jaxpr):
    for eqn in jaxpr.eqns:
      if eqn.primitive.name == name:
        return True
      for param in eqn.params.values():
        for sub in (param if isinstance(param, (list, tuple)) else [param]):
          inner = getattr(sub, "jaxpr", None)
          if inner is not None and hasattr(inner, "eqns") and walk(inner):
            return True
          if hasattr(sub, "eqns") and walk(sub):
            return True
    return False
  return walk(closed_jaxpr.jaxpr)


def matmul_flops(closed_jaxpr) -> float:
  """FLOPs of the `dot_general`s of a jaxpr (nested jaxprs included; a scan
  body counted once)."""
  total = 0.0

  def walk(jaxpr):
    nonlocal total
    for eqn in jaxpr.eqns:
      if eqn.primitive.name == "dot_general":
        (contract, _), _ = eqn.params["dimension_numbers"]
        lhs = eqn.invars[0].aval.shape
        k = 1
        for d in contract:
          k *= lhs[d]
        out = 1
        for d in eqn.outvars[0].aval.shape:
          out *= d
        total += 2.0 * out * k
      for param in eqn.params.values():
        for sub in (param if isinstance(param, (list, tuple)) else [param]):
          inner = getattr(sub, "jaxpr", None)
          if inner is not None and hasattr(inner, "eqns"):
            walk(inner)
          elif hasattr(sub, "eqns"):
            walk(sub)
  walk(closed_jaxpr.jaxpr)
  return total
