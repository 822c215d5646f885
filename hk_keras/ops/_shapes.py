"""Shape manipulation: reshape, transpose, join, split, repeat, pad."""

import jax.numpy as jnp
import numpy as np

from . import _dtypes
from ._core import cast, convert_to_tensor
from ._symbolic import op


def _t(x):
  return convert_to_tensor(x)


def _common(xs):
  dtype = _dtypes.result_type(*[_dtypes.dtype_of(x) for x in xs])
  return [cast(_t(x), dtype) for x in xs]


@op
def reshape(x, newshape):
  """`x` with shape `newshape` (one entry may be -1)."""
  if isinstance(newshape, list):
    newshape = tuple(newshape)
  return jnp.reshape(_t(x), newshape)


@op
def transpose(x, axes=None):
  """Permutes the axes (reverses them by default)."""
  return jnp.transpose(_t(x), axes)


@op
def swapaxes(x, axis1, axis2):
  """Swaps two axes."""
  return jnp.swapaxes(_t(x), axis1, axis2)


@op
def moveaxis(x, source, destination):
  """Moves axes to new positions."""
  return jnp.moveaxis(_t(x), source, destination)


@op
def expand_dims(x, axis):
  """Inserts length-1 axes at `axis` (an int or a tuple)."""
  return jnp.expand_dims(_t(x), tuple(axis) if isinstance(axis, list)
                         else axis)


@op
def squeeze(x, axis=None):
  """Removes length-1 axes."""
  return jnp.squeeze(_t(x), tuple(axis) if isinstance(axis, list) else axis)


@op
def ravel(x):
  """The flattened tensor."""
  return jnp.ravel(_t(x))


@op
def broadcast_to(x, shape):
  """Broadcasts `x` to `shape`."""
  return jnp.broadcast_to(_t(x), tuple(shape))


@op
def concatenate(xs, axis=0):
  """Joins tensors along an existing axis (dtypes promoted as Keras)."""
  return jnp.concatenate(_common(xs), axis=axis)


@op
def append(x1, x2, axis=None):
  """`x2` appended to `x1` (flattened when `axis` is None)."""
  a, b = _common([x1, x2])
  return jnp.append(a, b, axis=axis)


@op
def stack(x, axis=0):
  """Joins tensors along a new axis."""
  return jnp.stack(_common(x), axis=axis)


@op
def hstack(xs):
  """Stacks horizontally (column-wise)."""
  return jnp.hstack(_common(xs))


@op
def vstack(xs):
  """Stacks vertically (row-wise)."""
  return jnp.vstack(_common(xs))


@op
def dstack(xs):
  """Stacks along the third axis."""
  return jnp.dstack(_common(xs))


def _indices(indices_or_sections):
  if isinstance(indices_or_sections, (list, tuple)):
    return list(indices_or_sections)
  return indices_or_sections


@op
def split(x, indices_or_sections, axis=0):
  """Splits into a list of tensors (equal sections or at indices)."""
  return jnp.split(_t(x), _indices(indices_or_sections), axis=axis)


@op
def array_split(x, indices_or_sections, axis=0):
  """Like `split`, but sections may differ in size by one."""
  return jnp.array_split(_t(x), _indices(indices_or_sections), axis=axis)


@op
def hsplit(x, indices_or_sections):
  """Splits along axis 1 (axis 0 for 1-D)."""
  return jnp.hsplit(_t(x), _indices(indices_or_sections))


@op
def vsplit(x, indices_or_sections):
  """Splits along axis 0."""
  return jnp.vsplit(_t(x), _indices(indices_or_sections))


@op
def dsplit(x, indices_or_sections):
  """Splits along axis 2."""
  return jnp.dsplit(_t(x), _indices(indices_or_sections))


@op
def flip(x, axis=None):
  """Reverses the order along `axis` (all axes by default)."""
  return jnp.flip(_t(x), axis=tuple(axis) if isinstance(axis, list) else axis)


@op
def fliplr(x):
  """Reverses axis 1."""
  return jnp.fliplr(_t(x))


@op
def flipud(x):
  """Reverses axis 0."""
  return jnp.flipud(_t(x))


@op
def rot90(array, k=1, axes=(0, 1)):  # pylint: disable=redefined-outer-name
  """Rotates by 90 degrees `k` times in the plane of `axes`."""
  return jnp.rot90(_t(array), k=k, axes=tuple(axes))


@op
def roll(x, shift, axis=None):
  """Rolls entries along `axis`."""
  return jnp.roll(_t(x), shift, axis=axis)


@op
def repeat(x, repeats, axis=None):
  """Repeats each entry `repeats` times."""
  return jnp.repeat(_t(x), repeats, axis=axis)


@op
def tile(x, repeats):
  """Tiles `x` `repeats` times."""
  return jnp.tile(_t(x), repeats)


@op
def pad(x, pad_width, mode="constant", constant_values=None):
  """Pads `x`; `constant_values` only with `mode="constant"`."""
  x = _t(x)
  pad_width = np.asarray(pad_width, dtype="int64").tolist()
  if constant_values is not None:
    if mode != "constant":
      raise ValueError(
          "Argument `constant_values` can only be provided when "
          f"`mode == 'constant'`. Received: mode={mode}")
    return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
  return jnp.pad(x, pad_width, mode=mode)


@op
def tril(x, k=0):
  """The lower triangle (entries above the `k`-th diagonal zeroed)."""
  return jnp.tril(_t(x), k=k)


@op
def triu(x, k=0):
  """The upper triangle."""
  return jnp.triu(_t(x), k=k)


@op
def diag(x, k=0):
  """The `k`-th diagonal of a matrix, or a diagonal matrix from a vector."""
  return jnp.diag(_t(x), k=k)


@op
def diagflat(x, k=0):
  """A diagonal matrix from the flattened `x`."""
  return jnp.diagflat(_t(x), k=k)


@op
def diagonal(x, offset=0, axis1=0, axis2=1):
  """Diagonals over axes `axis1` and `axis2`."""
  return jnp.diagonal(_t(x), offset=offset, axis1=axis1, axis2=axis2)


@op
def trace(x, offset=0, axis1=0, axis2=1):
  """Sum along diagonals (small ints accumulate in int32)."""
  x = _t(x)
  dtype = _dtypes.standardize_dtype(x.dtype)
  if dtype in ("bool", "int8", "int16"):
    dtype = "int32"
  elif dtype in ("uint8", "uint16"):
    dtype = "uint32"
  return jnp.trace(x, offset=offset, axis1=axis1, axis2=axis2, dtype=dtype)


@op
def meshgrid(*x, indexing="xy"):
  """Coordinate grids from 1-D coordinate vectors."""
  return jnp.meshgrid(*[_t(v) for v in x], indexing=indexing)


@op
def vander(x, N=None, increasing=False):  # pylint: disable=invalid-name
  """The Vandermonde matrix of `x`."""
  return jnp.vander(_t(x), N=N, increasing=increasing)


@op
def size(x):
  """The number of entries (an int32 scalar)."""
  return jnp.asarray(jnp.size(_t(x)), "int32")


def ndim(x):
  """The number of axes (an int; static for symbolic tensors too)."""
  if hasattr(x, "ndim"):
    return x.ndim
  return jnp.ndim(_t(x))


@op
def copy(x):
  """A copy of `x`."""
  return jnp.array(_t(x), copy=True)


@op
def view(x, dtype=None):
  """The bits of `x` reinterpreted as `dtype` (same itemsize, or the last
  axis rescaled)."""
  x = _t(x)
  if dtype is None:
    return x
  return x.view(_dtypes.standardize_dtype(dtype))


@op
def view_as_real(x):
  """A complex tensor as real pairs on a new last axis."""
  x = _t(x)
  return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


@op
def view_as_complex(x):
  """Real pairs on the last axis as a complex tensor."""
  x = _t(x)
  if x.shape[-1] != 2:
    raise ValueError("view_as_complex expects a last axis of size 2 (real "
                     f"and imaginary parts). Received shape {x.shape}.")
  return jax_complex(x[..., 0], x[..., 1])


def jax_complex(re, im):
  return jnp.asarray(re) + 1j * jnp.asarray(im)


