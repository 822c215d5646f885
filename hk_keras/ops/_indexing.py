"""Indexing, selection, sorting and searching."""
import jax
import jax.numpy as jnp

from . import _dtypes
from ._core import cast, convert_to_tensor
from ._symbolic import op


def _t(x):
  return convert_to_tensor(x)


@op
def get_item(x, key):
  """`x[key]` (what `tensor[...]` calls on symbolic tensors)."""
  return _t(x)[key]


@op
def take(x, indices, axis=None):
  """Entries of `x` at `indices` along `axis` (flattened if None); negative
  indices count from the end, as Keras."""
  x = _t(x)
  indices = _t(indices)
  return jnp.take(x, indices, axis=axis)


@op
def take_along_axis(x, indices, axis=None):
  """Entries of `x` picked along `axis` by `indices` of matching rank."""
  return jnp.take_along_axis(_t(x), _t(indices), axis=axis)


@op
def where(condition, x1=None, x2=None):
  """`x1` where `condition`, else `x2` (promoted as Keras); with only
  `condition`, the indices of its non-zero entries."""
  condition = _t(condition).astype("bool")
  if x1 is None and x2 is None:
    return jnp.nonzero(condition)
  if x1 is None or x2 is None:
    raise ValueError("where() takes both x1 and x2, or neither. Received "
                     f"x1={x1!r}, x2={x2!r}.")
  dtype = _dtypes.result_type(_dtypes.dtype_of(x1), _dtypes.dtype_of(x2))
  return jnp.where(condition, cast(_t(x1), dtype), cast(_t(x2), dtype))


@op
def select(condlist, choicelist, default=0):
  """The first choice whose condition holds, per entry."""
  return jnp.select([_t(c).astype("bool") for c in condlist],
                    [_t(c) for c in choicelist], default)


@op
def nonzero(x):
  """The indices of non-zero entries, one int32 tensor per axis."""
  return jnp.nonzero(_t(x))


@op
def argsort(x, axis=-1):
  """The indices that sort `x` along `axis`."""
  x = _t(x)
  if x.ndim == 0:
    return jnp.argsort(x, axis=None)
  return jnp.argsort(x, axis=axis)


@op
def argpartition(x, kth, axis=-1):
  """Indices that partition `x` around its `kth` smallest entry."""
  return jnp.argpartition(_t(x), kth, axis=axis)


@op
def sort(x, axis=-1):
  """`x` sorted along `axis`."""
  return jnp.sort(_t(x), axis=axis)


@op
def searchsorted(sorted_sequence, values, side="left"):
  """Where `values` would be inserted into a sorted 1-D sequence (int32)."""
  sorted_sequence = _t(sorted_sequence)
  if sorted_sequence.ndim != 1:
    raise ValueError("searchsorted only supports 1-D sorted sequences. "
                     f"Received: sorted_sequence.shape={sorted_sequence.shape}")
  return jnp.searchsorted(sorted_sequence, _t(values), side=side).astype(
      "int32")


@op
def digitize(x, bins):
  """The index of the bin of each entry (int32)."""
  return jnp.digitize(_t(x), _t(bins)).astype("int32")


@op
def isin(x1, x2, assume_unique=False, invert=False):
  """Whether each entry of `x1` is in `x2`."""
  return jnp.isin(_t(x1), _t(x2), assume_unique=assume_unique, invert=invert)


@op
def bincount(x, weights=None, minlength=0, sparse=False):
  """Counts of each non-negative int (per row for 2-D `x`)."""
  if sparse:
    raise ValueError("bincount(sparse=True) is not supported: hk_keras ops "
                     "return dense jax arrays.")
  x = _t(x)
  if weights is not None:
    weights = _t(weights)
  length = int(jnp.max(x)) + 1 if x.size else 0
  length = max(length, minlength)
  if x.ndim == 2:
    if weights is None:
      return jax.vmap(lambda r: jnp.bincount(r, length=length))(x)
    return jax.vmap(lambda r, w: jnp.bincount(r, w, length=length))(x, weights)
  if weights is None:
    return jnp.bincount(x, length=length)
  return jnp.bincount(x, weights, length=length)


@op
def histogram(x, bins=10, range=None):  # pylint: disable=redefined-builtin
  """`(counts, bin_edges)` of a 1-D tensor."""
  x = _t(x)
  if x.ndim != 1:
    raise ValueError(f"histogram expects a 1-D tensor. Received shape "
                     f"{x.shape}.")
  if range is None:
    range = (jnp.min(x), jnp.max(x))
  counts, edges = jnp.histogram(x, bins=bins, range=range)
  return counts.astype(_dtypes.FLOATX), edges


@op
def unravel_index(indices, shape):
  """The coordinates of flat `indices` in an array of `shape`."""
  return tuple(jnp.unravel_index(_t(indices), tuple(shape)))


@op
def unique(x, sorted=True, return_index=False, return_inverse=False,  # pylint: disable=redefined-builtin
           return_counts=False, axis=None, size=None, fill_value=None):
  """The unique entries of `x` (with `size`, padded to that length)."""
  del sorted
  return jnp.unique(_t(x), return_index=return_index,
                    return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis, size=size,
                    fill_value=fill_value)


@op
def top_k(x, k, sorted=True):  # pylint: disable=redefined-builtin
  """`(values, indices)` of the `k` largest entries on the last axis."""
  del sorted
  return jax.lax.top_k(_t(x), k)


@op
def in_top_k(targets, predictions, k):
  """Whether each target is among the `k` largest predictions of its row."""
  targets = _t(targets)[..., None]
  predictions = _t(predictions)
  topk = jax.lax.top_k(predictions, k)[1]
  return jnp.any(targets == topk, axis=-1)


def _segment(name, reduce, identity):
  def f(data, segment_ids, num_segments=None, sorted=False):  # pylint: disable=redefined-builtin
    data = _t(data)
    segment_ids = _t(segment_ids)
    if num_segments is None:
      raise ValueError(
          "Argument `num_segments` must be set (JAX needs static output "
          f"shapes). Received: num_segments=None")
    return reduce(data, segment_ids, num_segments=num_segments,
                  indices_are_sorted=sorted)
  f.__name__ = f.__qualname__ = name
  f.__doc__ = (f"`{name}` of `data` rows that share a segment id; empty "
               f"segments give {identity}.")
  return op(f)


segment_sum = _segment("segment_sum", jax.ops.segment_sum, 0)
segment_max = _segment("segment_max", jax.ops.segment_max, "the dtype minimum")
segment_min = _segment("segment_min", jax.ops.segment_min, "the dtype maximum")
segment_prod = _segment("segment_prod", jax.ops.segment_prod, 1)
