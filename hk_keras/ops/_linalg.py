"""Linear algebra (`hk_keras.ops.linalg`), on jnp.linalg and jax.scipy."""
import jax
import jax.numpy as jnp

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op


def _float(x):
  x = convert_to_tensor(x)
  return x.astype(_dtypes.float_dtype(x))


@op
def cholesky(x, upper=False):
  """The Cholesky factor (lower by default) of a positive-definite matrix."""
  out = jnp.linalg.cholesky(_float(x))
  return jnp.swapaxes(out, -1, -2).conj() if upper else out


@op
def cholesky_inverse(x, upper=False):
  """The inverse of `A` from its Cholesky factor `x`."""
  x = _float(x)
  lower = jnp.swapaxes(x, -1, -2).conj() if upper else x
  eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
  inv_l = jax.scipy.linalg.solve_triangular(lower, eye, lower=True)
  return jnp.swapaxes(inv_l, -1, -2).conj() @ inv_l


@op
def det(x):
  """The determinant."""
  return jnp.linalg.det(_float(x))


@op
def eig(x):
  """`(eigenvalues, eigenvectors)` of a square matrix (complex)."""
  return jnp.linalg.eig(_float(x))


@op
def eigh(x):
  """`(eigenvalues, eigenvectors)` of a symmetric matrix."""
  return jnp.linalg.eigh(_float(x))


@op
def inv(x):
  """The matrix inverse."""
  return jnp.linalg.inv(_float(x))


@op
def logdet(x):
  """`log(det(x))` of a positive-definite matrix."""
  return jnp.linalg.slogdet(_float(x))[1]


@op
def slogdet(x):
  """`(sign, log|det|)`."""
  return tuple(jnp.linalg.slogdet(_float(x)))


@op
def lstsq(a, b, rcond=None):
  """The least-squares solution of `a @ x = b`."""
  a, b = _float(a), _float(b)
  return jnp.linalg.lstsq(a, b, rcond=rcond)[0]


@op
def lu_factor(x):
  """`(lu, pivots)` of the LU factorisation."""
  return jax.scipy.linalg.lu_factor(_float(x))


@op
def norm(x, ord=None, axis=None, keepdims=False):  # pylint: disable=redefined-builtin
  """Vector or matrix norm."""
  x = _float(x)
  if isinstance(axis, list):
    axis = tuple(axis)
  return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


@op
def qr(x, mode="reduced"):
  """`(q, r)`; `mode` is "reduced" or "complete"."""
  if mode not in ("reduced", "complete"):
    raise ValueError("`mode` argument value not supported. Expected one of "
                     f"{{'reduced', 'complete'}}. Received: mode={mode}")
  return jnp.linalg.qr(_float(x), mode=mode)


@op
def solve(a, b):
  """`x` with `a @ x = b`."""
  return jnp.linalg.solve(_float(a), _float(b))


@op
def solve_triangular(a, b, lower=False):
  """Solves `a @ x = b` for triangular `a`."""
  return jax.scipy.linalg.solve_triangular(_float(a), _float(b), lower=lower)


@op
def svd(x, full_matrices=True, compute_uv=True):
  """`(u, s, vh)`, or `s` with `compute_uv=False`."""
  return jnp.linalg.svd(_float(x), full_matrices=full_matrices,
                        compute_uv=compute_uv)


@op
def pinv(x, rcond=None):
  """The Moore-Penrose pseudo-inverse."""
  x = _float(x)
  if rcond is None:
    return jnp.linalg.pinv(x)
  return jnp.linalg.pinv(x, rtol=rcond)


@op
def matrix_rank(x, tol=None):
  """The rank (number of singular values above `tol`)."""
  x = _float(x)
  if tol is None:
    return jnp.linalg.matrix_rank(x)
  return jnp.linalg.matrix_rank(x, rtol=tol)
