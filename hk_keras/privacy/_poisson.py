"""Poisson sampling inside the compiled step, with fixed-shape batches.

Each step draws, on the device, one uniform per training example; example i
joins the batch when its draw is below q. The chosen rows are gathered into
a batch of `max_batch` rows (a fixed shape, so nothing recompiles), the
rows past the sampled count are padding, and the step runs under the
engine's padding mask, so they add nothing to the gradient, the loss or
the metrics. `max_batch` is the (1 - TAIL) quantile of the binomial count:
a step that samples more rows (probability below TAIL) keeps the first
`max_batch` of them.
"""
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._core import _replica
from ._private_step import SAMPLING_SALT

TAIL = 1e-10


class PrivateRun(NamedTuple):
  """What a private fit call fixes for its compiled steps."""
  num_examples: int
  batch_size: int
  q: float
  expected_batch: float
  max_batch: int


def max_batch_size(n, q, num_replicas=1) -> int:
  """The (1 - TAIL) quantile of Binomial(n, q), rounded up to split over
  the replicas."""
  from scipy import stats  # pylint: disable=g-import-not-at-top
  size = int(stats.binom.isf(TAIL, n, q)) + 1
  size = min(max(size, 1), n)
  return int(math.ceil(size / num_replicas) * num_replicas)


def sample(key, n, q, size):
  """(indices (size,), number of real rows) of one Poisson-sampled batch."""
  take = jax.random.uniform(key, (n,)) < q
  index = jnp.nonzero(take, size=size, fill_value=0)[0].astype(jnp.int32)
  return index, jnp.minimum(jnp.sum(take.astype(jnp.int32)), size)


def sampled_step(step, run):
  """step(state, batch) as one(state, data): the batch Poisson-sampled from
  all of `data` with a key from the state's RNG and step counter."""
  def one(state, data):
    n = run.num_examples  # the data's real rows (a chunk may be padded)
    key = jax.random.fold_in(jax.random.fold_in(state.rng, state.step),
                             SAMPLING_SALT)
    index, count = sample(key, n, run.q, run.max_batch)
    local = run.max_batch // _replica.count()
    rows = _replica.constrain(_replica.local_rows(index))
    mask = _replica.constrain(_replica.row_mask(local, count))
    batch = _replica.constrain(jax.tree_util.tree_map(lambda a: jnp.take(a, rows, axis=0), data))
    with _replica.masked_rows(mask):
      return step(state, batch)
  return one


def sampled_train_fn(step, run, num_steps):
  """`run(state, chunk, start[, real_rows])` (the form fit calls) of
  `num_steps` Poisson-sampled steps from the chunk holding the whole epoch
  (the loops give Poisson runs one chunk); `start` and `real_rows` are not
  used."""
  one = sampled_step(step, run)

  def fn(state, data, *unused):
    del unused
    if num_steps == 1:
      return one(state, data)
    state, logs = jax.lax.scan(lambda s, _: one(s, data), state,
                               jnp.arange(num_steps))
    return state, jax.tree_util.tree_map(lambda l: l[-1], logs)
  return fn


def check_rate(q):
  if not 0 < q <= 1:
    raise ValueError(f"The sampling rate q = batch_size / N = {q} must be in "
                     "(0, 1]: use a batch_size at most the dataset size.")
  return float(np.float64(q))
