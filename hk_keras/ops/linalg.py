"""hk_keras.ops.linalg: the `keras.ops.linalg` names (the same functions as
in `hk_keras.ops`)."""
from . import (
    cholesky, cholesky_inverse, det, eig, eigh, inv, jvp, lstsq, lu_factor,
    matrix_rank, norm, pinv, qr, solve, solve_triangular, svd)

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp",
    "lstsq", "lu_factor", "matrix_rank", "norm", "pinv", "qr", "solve",
    "solve_triangular", "svd"
]
