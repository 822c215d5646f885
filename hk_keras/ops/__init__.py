"""hk_keras.ops: the Keras 3 `keras.ops` namespace on jax.numpy, jax.nn,
jax.lax, jax.scipy and jax.image.

On arrays, ops compute and return jax arrays, with Keras 3's argument names,
defaults and dtype rules. On symbolic tensors (from `hk_keras.Input`) they add
a node to the Functional graph instead (see docs/ops.md).
"""
from ._core import (
    associative_scan, cast, cond, convert_to_numpy, convert_to_tensor,
    custom_gradient, dtype, fori_loop, is_tensor, jvp, map, saturate_cast,
    scan, scatter, scatter_update, shape, slice, slice_update, stop_gradient,
    switch, unstack, vectorized_map, while_loop)
from ._elementwise import (
    abs, absolute, add, allclose, angle, arccos, arccosh, arcsin, arcsinh,
    arctan, arctan2, arctanh, bitwise_and, bitwise_invert, bitwise_left_shift,
    bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor, cbrt, ceil,
    clip, conj, conjugate, cos, cosh, deg2rad, divide, divide_no_nan, equal,
    erf, erfc, erfinv, exp, exp2, expm1, fabs, floor, floor_divide, fmax,
    fmin, fmod, gcd, greater, greater_equal, heaviside, hypot, i0, imag,
    isclose, isfinite, isinf, isnan, isneginf, isposinf, isreal, lcm, ldexp,
    left_shift, less, less_equal, log, log10, log1p, log2, logaddexp,
    logaddexp2, logical_and, logical_not, logical_or, logical_xor, maximum,
    minimum, mod, multiply, nan_to_num, negative, nextafter, not_equal, power,
    rad2deg, real, reciprocal, right_shift, round, rsqrt, sign, signbit, sin,
    sinc, sinh, sqrt, square, subtract, tan, tanh, true_divide, trunc)
from ._reductions import (
    all, amax, amin, any, argmax, argmin, average, count_nonzero, cumprod,
    cumsum, diff, logsumexp, max, mean, median, min, moments, nanargmax,
    nanargmin, nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin,
    nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar, percentile,
    prod, ptp, quantile, std, sum, trapezoid, var)
from ._creation import (
    arange, array, bartlett, blackman, empty, empty_like, eye, full,
    full_like, geomspace, hamming, hanning, identity, kaiser, linspace,
    logspace, ones, ones_like, tri, zeros, zeros_like)
from ._shapes import (
    append, array_split, broadcast_to, concatenate, copy, diag, diagflat,
    diagonal, dsplit, dstack, expand_dims, flip, fliplr, flipud, hsplit,
    hstack, meshgrid, moveaxis, ndim, pad, ravel, repeat, reshape, roll,
    rot90, size, split, squeeze, stack, swapaxes, tile, trace, transpose,
    tril, triu, vander, view, view_as_complex, view_as_real, vsplit, vstack)
from ._indexing import (
    argpartition, argsort, bincount, digitize, get_item, histogram, in_top_k,
    isin, nonzero, searchsorted, segment_max, segment_min, segment_prod,
    segment_sum, select, sort, take, take_along_axis, top_k, unique,
    unravel_index, where)
from ._products import (
    cdist, corrcoef, correlate, cross, dot, einsum, inner, kron, matmul,
    outer, tensordot, vdot)
from ._linalg import (
    cholesky, cholesky_inverse, det, eig, eigh, inv, logdet, lstsq, lu_factor,
    matrix_rank, norm, pinv, qr, slogdet, solve, solve_triangular, svd)
from ._activations import (
    celu, elu, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_swish,
    hard_tanh, leaky_relu, log_sigmoid, log_softmax, relu, relu6, selu,
    sigmoid, silu, soft_shrink, softmax, softplus, softsign, sparse_plus,
    sparse_sigmoid, sparsemax, squareplus, swish, tanh_shrink, threshold)
from ._conv import (
    adaptive_average_pool, adaptive_max_pool, average_pool, conv,
    conv_transpose, depth_to_space, depthwise_conv, fold, max_pool,
    separable_conv, space_to_depth, unfold)
from ._nn_misc import (
    batch_normalization, binary_crossentropy, categorical_crossentropy,
    ctc_decode, ctc_loss, dot_product_attention, layer_normalization,
    multi_hot, normalize, one_hot, psnr, rms_normalization,
    sparse_categorical_crossentropy)
from ._signal import (
    extract_sequences, fft, fft2, ifft2, irfft, istft, rfft, stft)
from ._misc import (
    polar, rearrange, vectorize)
from . import image, linalg, nn, numpy

__all__ = [
    "abs", "absolute", "adaptive_average_pool", "adaptive_max_pool", "add",
    "all", "allclose", "amax", "amin", "angle", "any", "append", "arange",
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "argmax", "argmin", "argpartition", "argsort", "array", "array_split",
    "associative_scan", "average", "average_pool", "bartlett",
    "batch_normalization", "binary_crossentropy", "bincount", "bitwise_and",
    "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "blackman", "broadcast_to", "cast",
    "categorical_crossentropy", "cbrt", "cdist", "ceil", "celu", "cholesky",
    "cholesky_inverse", "clip", "concatenate", "cond", "conj", "conjugate",
    "conv", "conv_transpose", "convert_to_numpy", "convert_to_tensor", "copy",
    "corrcoef", "correlate", "cos", "cosh", "count_nonzero", "cross",
    "ctc_decode", "ctc_loss", "cumprod", "cumsum", "custom_gradient",
    "deg2rad", "depth_to_space", "depthwise_conv", "det", "diag", "diagflat",
    "diagonal", "diff", "digitize", "divide", "divide_no_nan", "dot",
    "dot_product_attention", "dsplit", "dstack", "dtype", "eig", "eigh",
    "einsum", "elu", "empty", "empty_like", "equal", "erf", "erfc", "erfinv",
    "exp", "exp2", "expand_dims", "expm1", "extract_sequences", "eye", "fabs",
    "fft", "fft2", "flip", "fliplr", "flipud", "floor", "floor_divide", "fmax",
    "fmin", "fmod", "fold", "fori_loop", "full", "full_like", "gcd", "gelu",
    "geomspace", "get_item", "glu", "greater", "greater_equal", "hamming",
    "hanning", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "heaviside", "histogram", "hsplit", "hstack", "hypot", "i0",
    "identity", "ifft2", "imag", "image", "in_top_k", "inner", "inv", "irfft",
    "is_tensor", "isclose", "isfinite", "isin", "isinf", "isnan", "isneginf",
    "isposinf", "isreal", "istft", "jvp", "kaiser", "kron",
    "layer_normalization", "lcm", "ldexp", "leaky_relu", "left_shift", "less",
    "less_equal", "linalg", "linspace", "log", "log10", "log1p", "log2",
    "log_sigmoid", "log_softmax", "logaddexp", "logaddexp2", "logdet",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logspace",
    "logsumexp", "lstsq", "lu_factor", "map", "matmul", "matrix_rank", "max",
    "max_pool", "maximum", "mean", "median", "meshgrid", "min", "minimum",
    "mod", "moments", "moveaxis", "multi_hot", "multiply", "nan_to_num",
    "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean",
    "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd",
    "nansum", "nanvar", "ndim", "negative", "nextafter", "nn", "nonzero",
    "norm", "normalize", "not_equal", "numpy", "one_hot", "ones", "ones_like",
    "outer", "pad", "percentile", "pinv", "polar", "power", "prod", "psnr",
    "ptp", "qr", "quantile", "rad2deg", "ravel", "real", "rearrange",
    "reciprocal", "relu", "relu6", "repeat", "reshape", "rfft", "right_shift",
    "rms_normalization", "roll", "rot90", "round", "rsqrt", "saturate_cast",
    "scan", "scatter", "scatter_update", "searchsorted", "segment_max",
    "segment_min", "segment_prod", "segment_sum", "select", "selu",
    "separable_conv", "shape", "sigmoid", "sign", "signbit", "silu", "sin",
    "sinc", "sinh", "size", "slice", "slice_update", "slogdet", "soft_shrink",
    "softmax", "softplus", "softsign", "solve", "solve_triangular", "sort",
    "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "split", "sqrt", "square", "squareplus",
    "squeeze", "stack", "std", "stft", "stop_gradient", "subtract", "sum",
    "svd", "swapaxes", "swish", "switch", "take", "take_along_axis", "tan",
    "tanh", "tanh_shrink", "tensordot", "threshold", "tile", "top_k", "trace",
    "transpose", "trapezoid", "tri", "tril", "triu", "true_divide", "trunc",
    "unfold", "unique", "unravel_index", "unstack", "vander", "var", "vdot",
    "vectorize", "vectorized_map", "view", "view_as_complex", "view_as_real",
    "vsplit", "vstack", "where", "while_loop", "zeros", "zeros_like"
]
