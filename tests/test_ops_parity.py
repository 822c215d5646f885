"""Parity sweep: every `keras.ops` name against `hk_keras.ops` (JAX backend).

The names come from `dir(keras.ops)` (and `keras.ops.image`), so a Keras op
hk_keras lacks fails here unless it is listed in KNOWN_EXCEPTIONS with its
reason (the same list as docs/differences_from_keras.md). Each op is called
with the same arguments in both libraries on tiny random inputs of several
shapes and dtypes; results must match to atol 1e-5 with the same dtype.
"""
import inspect
import os

import jax
import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
from keras import ops as kops  # pylint: disable=g-import-not-at-top

from hk_keras import ops  # pylint: disable=g-import-not-at-top

# name -> why hk_keras does not provide it (kept in step with
# docs/differences_from_keras.md).
KNOWN_EXCEPTIONS = {
    "image.elastic_transform": "random augmentation; needs hk_keras.random "
                               "seeds (issue 11, utils engineer)",
}

R = np.random.default_rng(0)


def f32(*shape, lo=-1.0, hi=1.0):
  return R.uniform(lo, hi, shape).astype("float32")


def i32(*shape, lo=-3, hi=4, dtype="int32"):
  return R.integers(lo, hi, shape).astype(dtype)


def b(*shape):
  return R.integers(0, 2, shape).astype(bool)


A23 = f32(2, 3)
A3 = f32(3)
P23 = f32(2, 3, lo=0.1, hi=0.9)
I23 = i32(2, 3)
I8 = i32(2, 3, dtype="int8")
U8 = i32(2, 3, lo=0, hi=5, dtype="uint8")
H23 = f32(2, 3).astype("float16")
B23 = b(2, 3)
SPD = (lambda m: (m @ m.T + 3 * np.eye(3)).astype("float32"))(f32(3, 3))
M33 = f32(3, 3)
IMG = f32(1, 6, 6, 3, lo=0, hi=1)


# Few inputs per op, reused across ops (each new shape and dtype costs XLA
# compilations in both libraries): float32, int8, float16 and bool cover
# Keras's float-promotion and int-keeping rules.
def unary_inputs():
  return [P23, I8, H23]


def binary_inputs():
  return [(A23, A3), (P23, I8), (I8, U8), (H23, 2.0)]


UNARY = """abs absolute arccos arccosh arcsin arcsinh arctan arctanh cbrt ceil
conj conjugate cos cosh deg2rad exp exp2 expm1 fabs floor imag isfinite isinf
isnan isneginf isposinf isreal log log10 log1p log2 negative rad2deg real
reciprocal sign signbit sin sinc sinh sqrt square tan tanh trunc i0 angle
erf erfinv rsqrt relu relu6 sigmoid softplus softsign silu swish log_sigmoid
hard_sigmoid hard_silu hard_swish selu tanh_shrink sparse_sigmoid hard_tanh
sparse_plus squareplus leaky_relu elu celu gelu hard_shrink soft_shrink
logical_not copy ravel round nan_to_num stop_gradient size ndim
ones_like zeros_like empty_like erfc""".split()
INT_UNARY = "bitwise_invert bitwise_not".split()
BINARY = """add subtract multiply divide true_divide maximum minimum fmax fmin
mod fmod power floor_divide arctan2 hypot logaddexp logaddexp2 heaviside equal
not_equal greater greater_equal less less_equal logical_and logical_or
logical_xor divide_no_nan isclose allclose nextafter append""".split()
INT_BINARY = """gcd lcm bitwise_and bitwise_or bitwise_xor bitwise_left_shift
left_shift bitwise_right_shift right_shift""".split()
REDUCE = """sum prod mean max min amax amin all any argmax argmin nanmax nanmin
nanargmax nanargmin nansum nanprod nanmean nanstd nanvar var std ptp median
nanmedian logsumexp""".split()
CUMULATIVE = "cumsum cumprod nancumsum nancumprod".split()
SOFTMAXES = "softmax log_softmax sparsemax glu".split()


def c(*args, **kwargs):
  return (args, kwargs)


def _cases():
  cases = {}
  for n in UNARY:
    cases[n] = [c(x) for x in unary_inputs()]
  for n in INT_UNARY:
    cases[n] = [c(I23), c(I8), c(U8), c(B23)]
  for n in BINARY:
    cases[n] = [c(x, y) for x, y in binary_inputs()]
  for n in INT_BINARY:
    cases[n] = [c(I23, I23 % 3), c(U8, U8), c(I8, 2)] if "shift" in n else [
        c(I23, I23), c(U8, U8), c(I8, I23)]
  for n in REDUCE:
    cases[n] = [c(A23, axis=1), c(I8, axis=0, keepdims=True),
                c(H23, axis=(0, 1))]
  for n in CUMULATIVE:
    cases[n] = [c(A23), c(I8, axis=0), c(B23, axis=1)]
  for n in SOFTMAXES:
    cases[n] = [c(f32(2, 4)), c(f32(2, 4), axis=0), c(H23.reshape(3, 2))]
  cases.update({
      "clip": [c(A23, -0.5, 0.5), c(I23, 0, 2), c(B23, 0, 1)],
      "ldexp": [c(A23, I23), c(I23, I23 % 3)],
      "round": [c(A23 * 10, 1), c(I23)],
      "nan_to_num": [c(np.array([np.nan, np.inf, -np.inf, 1.0], "float32")),
                     c(np.array([np.nan, 1.0], "float32"), nan=2.0,
                       posinf=3.0)],
      "arange": [c(5), c(1, 7, 2), c(0.5, 3.0), c(2, 6, dtype="float32"),
                 c(0, 3, 0.5)],
      "array": [c([1, 2]), c([1.0, 2.0]), c(A23, dtype="int32")],
      "zeros": [c((2, 3)), c(3, dtype="int32")],
      "ones": [c((2, 3)), c([2], dtype="bool")],
      "empty": [c((2, 3))],
      "full": [c((2, 2), 3), c((2,), 1.5), c((2,), 2, dtype="float16")],
      "full_like": [c(A23, 2), c(I23, 1.5), c(A23, 3, dtype="int32")],
      "zeros_like": [c(A23), c(I23, dtype="float32")],
      "ones_like": [c(A23), c(B23)],
      "eye": [c(3), c(2, 3, 1), c(3, dtype="int32")],
      "identity": [c(3), c(2, dtype="bool")],
      "tri": [c(3), c(3, 4, -1)],
      "linspace": [c(0, 1, 5), c(0.0, 2.0, 4, endpoint=False),
                   c(0, 10, 3, dtype="int32")],
      "logspace": [c(0, 2, 3), c(0.0, 1.0, 4, base=2)],
      "geomspace": [c(1, 100, 3), c(1.0, 8.0, 4)],
      "bartlett": [c(5)], "blackman": [c(5)], "hamming": [c(5)],
      "hanning": [c(5)], "kaiser": [c(5, 2.0)],
      "reshape": [c(A23, (3, 2)), c(I23, (-1,)), c(A23, [1, -1])],
      "transpose": [c(A23), c(f32(2, 3, 4), (1, 0, 2))],
      "swapaxes": [c(f32(2, 3, 4), 0, 2)],
      "moveaxis": [c(f32(2, 3, 4), 0, -1)],
      "expand_dims": [c(A23, 0), c(A23, (0, 2))],
      "squeeze": [c(f32(1, 3, 1)), c(f32(1, 3, 1), axis=0)],
      "broadcast_to": [c(A3, (2, 3))],
      "concatenate": [c([A23, A23]), c([A23, I23], axis=1),
                      c([I8, U8], axis=0)],
      "stack": [c([A23, A23]), c([I23, A23], axis=1)],
      "hstack": [c([A23, I23])], "vstack": [c([A23, A23])],
      "dstack": [c([A23, A23])],
      "split": [c(f32(4, 2), 2), c(f32(4, 2), [1, 3])],
      "array_split": [c(f32(5, 2), 2)],
      "hsplit": [c(f32(2, 4), 2)], "vsplit": [c(f32(4, 2), 2)],
      "dsplit": [c(f32(2, 2, 4), 2)],
      "flip": [c(A23), c(A23, axis=1)],
      "fliplr": [c(A23)], "flipud": [c(A23)],
      "rot90": [c(A23), c(A23, k=2)],
      "roll": [c(A23, 1), c(A23, 1, axis=1)],
      "repeat": [c(A23, 2), c(A23, 2, axis=1)],
      "tile": [c(A23, 2), c(A23, (2, 1))],
      "pad": [c(A23, ((1, 1), (0, 2))), c(I23, 1, constant_values=5),
              c(A23, ((1, 1), (2, 2)), mode="reflect")],
      "tril": [c(M33), c(M33, 1)], "triu": [c(M33), c(M33, -1)],
      "diag": [c(M33), c(A3, 1)], "diagflat": [c(A3)],
      "diagonal": [c(M33), c(f32(2, 3, 3), 1, 1, 2)],
      "trace": [c(M33), c(I23), c(B23)],
      "meshgrid": [c(A3, f32(2)), c(A3, f32(2), indexing="ij")],
      "vander": [c(A3), c(A3, 4, True)],
      "view": [c(A23, "int32"), c(I23, "float32")],
      "view_as_real": [c(A3 + 1j * A3)],
      "view_as_complex": [c(f32(3, 2))],
      "get_item": [c(A23, 1), c(A23, (slice(None), 0)),
                   c(A23, (Ellipsis, slice(1, None)))],
      "take": [c(A23, np.array([0, 2])), c(A23, np.array([1, 0]), axis=0),
               c(A23, np.array([[0], [1]]), axis=1)],
      "take_along_axis": [c(A23, np.array([[0, 2, 1], [1, 1, 0]]), axis=1)],
      "where": [c(B23, A23, I23), c(B23, 1, A23), c(B23, I8, U8), c(B23)],
      "select": [c([B23, ~B23], [A23, A23 * 2]),
                 c([B23], [I23], default=7)],
      "nonzero": [c(I23), c(B23)],
      "argsort": [c(A23), c(A23, axis=0)],
      "argpartition": [c(np.array([3.0, 1.0, 2.0, 0.5], "float32"), 1)],
      "sort": [c(A23), c(I23, axis=0)],
      "searchsorted": [c(np.array([1.0, 2.0, 3.0], "float32"),
                         np.array([2.5, 0.0], "float32")),
                       c(np.array([1, 2, 3]), np.array([2]), side="right")],
      "digitize": [c(A23, np.array([-0.5, 0.0, 0.5], "float32"))],
      "isin": [c(I23, np.array([0, 1])), c(I23, np.array([0]), invert=True)],
      "bincount": [c(np.array([0, 1, 1, 3])),
                   c(np.array([0, 1, 1]), weights=np.array([.5, 1., 2.],
                                                           "float32")),
                   c(np.array([0, 2]), minlength=5)],
      "histogram": [c(f32(10)), c(f32(10), bins=4, range=(-1.0, 1.0))],
      "unravel_index": [c(np.array([1, 5]), (2, 3))],
      "unique": [c(np.array([3, 1, 1, 2])),
                 c(np.array([3, 1, 1, 2]), return_counts=True)],
      "top_k": [c(f32(2, 5), 2)],
      "in_top_k": [c(np.array([1, 0]), f32(2, 4), 2)],
      "segment_sum": [c(A3, np.array([0, 0, 1])),
                      c(A23, np.array([1, 0]), num_segments=3)],
      "segment_max": [c(A3, np.array([0, 0, 1]))],
      "segment_min": [c(A3, np.array([0, 0, 1]))],
      "segment_prod": [c(A3, np.array([0, 0, 1]))],
      "matmul": [c(A23, A23.T), c(I23, I23.T), c(I8, I8.T), c(A23, I23.T),
                 c(f32(2, 2, 3), f32(3, 2))],
      "dot": [c(A23, A23.T), c(A3, A3), c(I23, A23.T)],
      "tensordot": [c(A23, A23.T, 1), c(A23, A23, axes=2)],
      "inner": [c(A3, A3), c(A23, A23)], "outer": [c(A3, A3)],
      "vdot": [c(A3, A3)], "kron": [c(A23, M33)],
      "cross": [c(A3, f32(3)), c(A23, f32(2, 3))],
      "einsum": [c("ij,jk->ik", A23, A23.T), c("ii", M33), c("ij->j", I23)],
      "correlate": [c(A3, f32(2)), c(A3, f32(2), mode="full")],
      "cdist": [c(A23, f32(4, 3))], "corrcoef": [c(f32(3, 4))],
      "diff": [c(A23), c(A23, 2, axis=0)],
      "average": [c(A23), c(A23, axis=1, weights=A3 + 2), c(I23, axis=0)],
      "count_nonzero": [c(I23), c(I23, axis=1)],
      "trapezoid": [c(A23), c(A23, dx=0.5, axis=0), c(A3, x=f32(3))],
      "quantile": [c(A23, 0.5), c(A23, np.array([0.25, 0.75], "float32"),
                                  axis=1)],
      "percentile": [c(A23, 50.0), c(I23, 25.0, axis=0)],
      "nanquantile": [c(A23, 0.5)], "nanpercentile": [c(A23, 50.0)],
      "cast": [c(A23, "int32"), c(I23, "float16"), c(A23, "bool")],
      "saturate_cast": [c(A23 * 300, "int8"), c(I23 * 100, "uint8")],
      "convert_to_tensor": [c([1, 2]), c(A23, dtype="float16"), c(3.0)],
      "convert_to_numpy": [c(A23)],
      "slice": [c(A23, (0, 1), (2, 2))],
      "slice_update": [c(A23, (0, 1), np.ones((1, 2), "float32"))],
      "scatter": [c(np.array([[0, 1], [1, 2]]), np.array([1.0, 2.0],
                                                         "float32"), (2, 3))],
      "scatter_update": [c(A23, np.array([[0, 1]]), np.array([5.0],
                                                             "float32"))],
      "unstack": [c(A23), c(A23, axis=1)],
      "shape": [c(A23)], "dtype": [c(A23), c(I8)], "is_tensor": [c(A23)],
      "cholesky": [c(SPD), c(SPD, upper=True)],
      "cholesky_inverse": [c(np.linalg.cholesky(SPD).astype("float32"))],
      "det": [c(M33)], "inv": [c(SPD)], "logdet": [c(SPD)],
      "slogdet": [c(M33)], "eigh": [c(SPD)],
      "lstsq": [c(SPD, A3)], "solve": [c(SPD, A3)],
      "solve_triangular": [c(np.tril(SPD), A3, lower=True)],
      "lu_factor": [c(SPD)], "qr": [c(M33)],
      "norm": [c(A23), c(A23, axis=1), c(M33, ord="fro"), c(A3, ord=1)],
      "svd": [c(SPD, compute_uv=False)], "pinv": [c(SPD)],
      "matrix_rank": [c(M33)],
      "threshold": [c(A23, 0.1, 5.0)],
      "batch_normalization": [c(A23, A3, A3 + 2, 1, offset=A3, scale=A3)],
      "layer_normalization": [c(A23), c(A23, gamma=A3, beta=A3)],
      "rms_normalization": [c(A23), c(A23, scale=A3)],
      "normalize": [c(A23), c(A23, axis=0, order=1)],
      "moments": [c(A23, axes=[0]), c(f32(2, 3, 4), axes=(0, 1),
                                       keepdims=True)],
      "one_hot": [c(np.array([0, 2, 1]), 3), c(np.array([1, 0]), 2, axis=0)],
      "multi_hot": [c(np.array([[0, 2], [1, 1]]), 3)],
      "binary_crossentropy": [c(B23.astype("float32"), P23),
                              c(B23.astype("float32"), A23,
                                from_logits=True)],
      "categorical_crossentropy": [
          c(np.eye(3, dtype="float32")[[0, 2]], P23),
          c(np.eye(3, dtype="float32")[[0, 2]], A23, from_logits=True)],
      "sparse_categorical_crossentropy": [
          c(np.array([0, 2]), P23), c(np.array([1, 0]), A23,
                                       from_logits=True)],
      "psnr": [c(P23, P23 * 0.9, 1.0)],
      "dot_product_attention": [
          c(f32(1, 3, 2, 4), f32(1, 3, 2, 4), f32(1, 3, 2, 4)),
          c(f32(1, 3, 2, 4), f32(1, 3, 2, 4), f32(1, 3, 2, 4),
            is_causal=True)],
      "conv": [c(f32(1, 5, 5, 2), f32(3, 3, 2, 4)),
               c(f32(1, 6, 2), f32(3, 2, 3), strides=2, padding="same"),
               c(f32(1, 5, 5, 2), f32(2, 2, 2, 3), dilation_rate=2)],
      "depthwise_conv": [c(f32(1, 5, 5, 2), f32(3, 3, 2, 2)),
                         c(f32(1, 6, 2), f32(3, 2, 1), padding="same")],
      "separable_conv": [c(f32(1, 5, 5, 2), f32(3, 3, 2, 1),
                           f32(1, 1, 2, 3))],
      "conv_transpose": [c(f32(1, 4, 4, 2), f32(3, 3, 3, 2), strides=2),
                         c(f32(1, 4, 2), f32(3, 3, 2), 2, "same")],
      "max_pool": [c(f32(1, 4, 4, 2), (2, 2), (2, 2)), c(f32(1, 5, 2), 2, 1, "same")],
      "average_pool": [c(f32(1, 4, 4, 2), (2, 2), (2, 2)),
                       c(f32(1, 5, 5, 2), 2, 2, "same")],
      "adaptive_average_pool": [c(f32(1, 5, 5, 2), 2)],
      "adaptive_max_pool": [c(f32(1, 5, 5, 2), (2, 3))],
      "depth_to_space": [c(f32(1, 2, 2, 8), 2)],
      "space_to_depth": [c(f32(1, 4, 4, 2), 2)],
      "unfold": [c(f32(1, 2, 4, 4), 2)],
      "fold": [c(f32(1, 8, 9), (4, 4), 2)],
      "ctc_loss": [c(np.array([[1, 2, 0]]), f32(1, 5, 4), np.array([2]),
                     np.array([5]))],
      "ctc_decode": [c(f32(2, 5, 4), np.array([5, 3]))],
      "fft": [c((A23, A23))], "fft2": [c((A23, A23))],
      "ifft2": [c((A23, A23))], "rfft": [c(f32(2, 8)), c(f32(8), 6)],
      "irfft": [c((A23, A23)), c((A23, A23), 4)],
      "stft": [c(f32(2, 16), 8, 4, 8), c(f32(16), 6, 2, 8, window=None,
                                         center=False)],
      "istft": [c((f32(5, 5), f32(5, 5)), 8, 4, 8)],
      "extract_sequences": [c(f32(2, 10), 4, 2)],
      "polar": [c(P23, A23)],
      "rearrange": [c(f32(2, 3, 4), "b h w -> b (h w)"),
                    c(f32(2, 6), "b (h w) -> w b h", h=2)],
      "image.resize": [c(IMG, (3, 3)), c(IMG, (4, 8), interpolation="nearest"),
                       c(IMG, (3, 3), crop_to_aspect_ratio=True)],
      "image.rgb_to_grayscale": [c(IMG)], "image.rgb_to_hsv": [c(IMG)],
      "image.hsv_to_rgb": [c(IMG)],
      "image.crop_images": [c(IMG, 1, 1, target_height=3, target_width=4)],
      "image.pad_images": [c(IMG, 1, 2, target_height=8, target_width=9)],
      "image.extract_patches": [c(IMG, 2), c(IMG, (3, 3), strides=2)],
      "image.map_coordinates": [c(f32(4, 4), f32(2, 3, lo=0, hi=3), 1)],
      "image.scale_and_translate": [
          c(IMG, (1, 3, 3, 3), np.array([0.5, 0.5], "float32"),
            np.array([0.0, 0.0], "float32"), (1, 2), "linear")],
      "image.affine_transform": [
          c(IMG, np.array([1, 0.1, 0.5, 0, 1, 0.2, 0, 0], "float32"))],
      # Keras 3.15 reads data_format=None as channels_first here (unlike
      # every other image op); hk_keras follows image_data_format().
      "image.gaussian_blur": [c(IMG, data_format="channels_last")],
      "image.extract_patches_3d": [c(f32(1, 4, 4, 4, 2), 2),
                                   c(f32(4, 5, 4, 1), (2, 3, 2), strides=1)],
      "image.perspective_transform": [
          c(IMG, np.array([[0, 0], [5, 0], [0, 5], [5, 5]], "float32"),
            np.array([[0.5, 0], [5, 1], [0, 4.5], [4, 5]], "float32")),
          c(IMG[0], np.array([[0, 0], [5, 0], [0, 5], [5, 5]], "float32"),
            np.array([[1, 1], [5, 0], [0, 5], [5, 4]], "float32"),
            interpolation="nearest", fill_value=0.5)],
      "image.ssim": [c(f32(2, 12, 12, 3, lo=0, hi=1), f32(2, 12, 12, 3, lo=0,
                                                           hi=1), filter_size=5),
                     c(IMG[0], IMG[0] * 0.9, filter_size=3)],
      "image.sobel_edges": [c(IMG), c(IMG.transpose(0, 3, 1, 2),
                                      data_format="channels_first")],
  })
  return cases


CASES = _cases()

# Ops that take functions (or give results that are not arrays to compare
# element-wise): a case builder returns the call for each namespace.
FUNCTIONAL = {
    "cond": lambda o: o.cond(True, lambda: o.ones(2), lambda: o.zeros(2)),
    "switch": lambda o: o.switch(1, [lambda x: x + 1, lambda x: x * 2], A3),
    "scan": lambda o: o.scan(lambda c, x: (c + x, c * x), np.float32(0.), A3),
    "associative_scan": lambda o: o.associative_scan(lambda a, b: a + b, A23,
                                                     axis=1),
    "map": lambda o: o.map(lambda x: x * 2, A23),
    "fori_loop": lambda o: o.fori_loop(0, 3, lambda i, v: v + i, 0.5),
    "while_loop": lambda o: o.while_loop(lambda x: x < 10, lambda x: x * 2,
                                         1),
    "vectorized_map": lambda o: o.vectorized_map(lambda x: x.sum(), A23),
    "vectorize": lambda o: o.vectorize(lambda x: x * 2)(A3),
    "custom_gradient": lambda o: jax.grad(
        lambda x: o.custom_gradient(
            lambda v: (v * 2, lambda g: g * 10))(x))(np.float32(1.0)),
    "jvp": lambda o: o.jvp(lambda x: x ** 2, (A3,), (np.ones(3, "float32"),)),
    "eig": lambda o: np.sort(np.abs(np.asarray(o.eig(SPD)[0]))),
}

# Outputs compared up to sign/phase, where decompositions are only unique so.
UP_TO_SIGN = {"qr", "eigh"}


def _all_names():
  names = [n for n in dir(kops) if not n.startswith("_")
           and not inspect.ismodule(getattr(kops, n))]
  names += ["image." + n for n in dir(kops.image) if not n.startswith("_")]
  return sorted(names)


def _get(namespace, name):
  if name.startswith("image."):
    return getattr(namespace.image, name.split(".", 1)[1])
  return getattr(namespace, name)


def _leaves(x):
  if isinstance(x, (list, tuple)):
    return [l for v in x for l in _leaves(v)]
  return [x]


def _compare(name, got, want, where):
  got_l, want_l = _leaves(got), _leaves(want)
  assert len(got_l) == len(want_l), f"{where}: {len(got_l)} outputs, Keras " \
      f"{len(want_l)}"
  for g, w in zip(got_l, want_l):
    if isinstance(w, (str, bool)) or w is None:
      assert g == w, f"{where}: {g!r} != Keras {w!r}"
      continue
    g_np, w_np = np.asarray(g), np.asarray(w)
    if hasattr(w, "dtype"):
      assert str(np.asarray(g).dtype) == str(w_np.dtype), (
          f"{where}: dtype {g_np.dtype} != Keras {w_np.dtype}")
    assert g_np.shape == w_np.shape, (
        f"{where}: shape {g_np.shape} != Keras {w_np.shape}")
    if name in UP_TO_SIGN:
      g_np, w_np = np.abs(g_np), np.abs(w_np)
    if g_np.dtype == object or w_np.dtype.kind in "bOSU":
      np.testing.assert_array_equal(g_np, w_np, err_msg=where)
    else:
      np.testing.assert_allclose(g_np.astype("complex128" if w_np.dtype.kind
                                             == "c" else "float64"),
                                 w_np.astype("complex128" if w_np.dtype.kind
                                             == "c" else "float64"),
                                 atol=1e-5, rtol=1e-5, equal_nan=True,
                                 err_msg=where)


def test_coverage_is_at_least_95_percent_and_exceptions_are_real():
  names = _all_names()
  missing = [n for n in names if n not in KNOWN_EXCEPTIONS
             and not _has(n)]
  assert not missing, f"hk_keras.ops lacks {missing}"
  stale = [n for n in KNOWN_EXCEPTIONS if _has(n) or n not in names]
  assert not stale, f"KNOWN_EXCEPTIONS lists {stale}, which exist now (or " \
      "are no Keras op): remove them"
  provided = len(names) - len(KNOWN_EXCEPTIONS)
  assert provided / len(names) >= 0.95, (provided, len(names))


def _has(name):
  try:
    _get(ops, name)
    return True
  except AttributeError:
    return False


def test_every_keras_op_has_parity_cases():
  untested = [n for n in _all_names() if n not in KNOWN_EXCEPTIONS
              and n not in CASES and n not in FUNCTIONAL]
  assert not untested, f"no parity cases for {untested}"


class _Arg:
  """Where the `index`-th array input goes in a case's arguments."""

  def __init__(self, index):
    self.index = index


def _lift(value, arrays):
  """Replaces NumPy arrays by `_Arg` slots, so that cases can be traced."""
  if isinstance(value, np.ndarray):
    arrays.append(value)
    return _Arg(len(arrays) - 1)
  if isinstance(value, list):
    return [_lift(v, arrays) for v in value]
  if isinstance(value, tuple):
    return tuple(_lift(v, arrays) for v in value)
  if isinstance(value, dict):
    return {k: _lift(v, arrays) for k, v in value.items()}
  return value


def _drop(value, arrays):
  if isinstance(value, _Arg):
    return arrays[value.index]
  if isinstance(value, list):
    return [_drop(v, arrays) for v in value]
  if isinstance(value, tuple):
    return tuple(_drop(v, arrays) for v in value)
  if isinstance(value, dict):
    return {k: _drop(v, arrays) for k, v in value.items()}
  return value


def _calls(names):
  """(where, name, call(namespace, arrays), arrays) for every case."""
  out = []
  for name in names:
    if name in KNOWN_EXCEPTIONS:
      continue
    if name in FUNCTIONAL:
      out.append((f"{name} case 0", name,
                  lambda o, _, f=FUNCTIONAL[name]: f(o), []))
      continue
    for i, (args, kwargs) in enumerate(CASES[name]):
      arrays = []
      template = _lift((args, kwargs), arrays)
      def call(o, arrs, n=name, t=template):
        a, k = _drop(t, arrs)
        return _get(o, n)(*a, **k)
      out.append((f"{name} case {i}", name, call, arrays))
  return out


def _compiled_values(where, name):
  """Whether a traceable case's values are compared (compiled), not only
  its abstract output (shapes and dtypes): case 0 of every op and the mixed
  int/float case 1 of binary ops. Every XLA compilation costs ~20 ms per
  case and library, and the file must stay fast."""
  index = int(where.rsplit(" ", 1)[1])
  return index == 0 or (index == 1 and name in BINARY)


def _abstract(call, arrays):
  """`(keras_out, hk_out)` shapes and dtypes when both libraries trace the
  case (static output shapes), else None."""
  outs = []
  try:
    for namespace in (kops, ops):
      out = jax.eval_shape(lambda a, o=namespace: call(o, a), arrays)
      if not all(hasattr(l, "dtype") for l in jax.tree_util.tree_leaves(out)):
        return None
      outs.append(out)
  except Exception:  # pylint: disable=broad-except
    return None
  return outs


def _compare_abstract(got, want, where):
  got_l, want_l = _leaves(got), _leaves(want)
  assert len(got_l) == len(want_l), f"{where}: {len(got_l)} outputs, Keras " \
      f"{len(want_l)}"
  for g, w in zip(got_l, want_l):
    assert (tuple(g.shape), str(g.dtype)) == (tuple(w.shape), str(w.dtype)), (
        f"{where}: {g.shape} {g.dtype} != Keras {w.shape} {w.dtype}")


def _sweep(names):
  """Runs every case in both libraries; returns the failures.

  Traceable cases are all compared abstractly (output shapes and dtypes,
  no compilation); the values of `_compiled_values` cases are compared from
  jitted calls that batch 128 cases each (a few XLA compilations instead of
  thousands of op-by-op ones). Cases that cannot be traced (data-dependent
  shapes, Python results) run eagerly.
  """
  failures = []
  calls = _calls(names)
  batched, eager = [], []
  for item in calls:
    outs = _abstract(item[2], item[3]) if item[3] else None
    if outs is None:
      eager.append(item)
      continue
    try:
      _compare_abstract(outs[1], outs[0], item[0])
    except AssertionError as err:
      failures.append(str(err)[:300])
    if _compiled_values(item[0], item[1]):
      batched.append(item)
  for start in range(0, len(batched), 128):
    chunk = batched[start:start + 128]
    def run_all(namespace, all_arrays, chunk=chunk):
      return [call(namespace, arrs) for (_, _, call, _), arrs in
              zip(chunk, all_arrays)]
    inputs = [arrays for *_, arrays in chunk]
    want_all = jax.jit(lambda a, f=run_all: f(kops, a))(inputs)
    got_all = jax.jit(lambda a, f=run_all: f(ops, a))(inputs)
    for (where, name, _, _), got, want in zip(chunk, got_all, want_all):
      try:
        _compare(name, got, want, where)
      except Exception as err:  # pylint: disable=broad-except
        failures.append(f"{where}: {type(err).__name__}: {str(err)[:300]}")
  for where, name, call, arrays in eager:
    try:
      want = call(kops, arrays)
    except Exception as err:  # pylint: disable=broad-except
      # Keras refuses the input: hk_keras must refuse it too.
      try:
        call(ops, arrays)
      except Exception:  # pylint: disable=broad-except
        continue
      failures.append(f"{where}: Keras raises {type(err).__name__}: {err}; "
                      "hk_keras does not")
      continue
    try:
      _compare(name, call(ops, arrays), want, where)
    except Exception as err:  # pylint: disable=broad-except
      failures.append(f"{where}: {type(err).__name__}: {str(err)[:300]}")
  return failures


def test_parity_sweep():
  failures = _sweep(_all_names())
  if os.environ.get("HK_OPS_FAILURES"):
    with open(os.environ["HK_OPS_FAILURES"], "w") as f:
      f.write("\n".join(failures))
  assert not failures, "\n".join(failures)


# Static answers about a tensor: on symbolic tensors they answer at once
# (shape tuple with None, dtype name, rank) instead of adding a node.
STATIC = {"shape", "dtype", "ndim", "is_tensor"}


def test_every_op_builds_a_graph_node_on_symbolic_tensors():
  """One case per op with its first array argument made symbolic: the op
  adds a node whose inferred shapes and dtypes are those of the eager call."""
  import hk_keras  # pylint: disable=g-import-not-at-top
  seen, failures = set(), []
  for where, name, call, arrays in _calls(_all_names()):
    if name in seen or name in FUNCTIONAL or name in STATIC or not arrays or (
        arrays[0].ndim == 0):
      continue
    try:
      want = jax.eval_shape(lambda a, f=call: f(ops, a), arrays)
    except Exception:  # pylint: disable=broad-except
      continue  # data-dependent output shapes: no static graph node
    seen.add(name)
    x = arrays[0]
    symbolic = hk_keras.Input(x.shape[1:], dtype=x.dtype.name,
                              batch_size=x.shape[0])
    try:
      got = call(ops, [symbolic] + arrays[1:])
      got_l, want_l = _leaves(got), jax.tree_util.tree_leaves(want)
      assert len(got_l) == len(want_l), (len(got_l), len(want_l))
      for g, w in zip(got_l, want_l):
        assert isinstance(g, type(symbolic)), type(g)
        assert type(g.node.layer).__name__ == "OpLayer"
        assert (tuple(g.shape), g.dtype) == (tuple(w.shape), w.dtype.name), (
            g, w)
    except Exception as err:  # pylint: disable=broad-except
      failures.append(f"{where}: {type(err).__name__}: {str(err)[:200]}")
  assert not failures, "\n".join(failures)
  assert len(seen) > 250, len(seen)


def _signature(fn):
  try:
    params = inspect.signature(fn).parameters.values()
  except (TypeError, ValueError):
    return None
  return [(p.name, p.kind, p.default) for p in params]


def test_argument_names_and_defaults_match_keras():
  mismatched = []
  for name in _all_names():
    if name in KNOWN_EXCEPTIONS:
      continue
    want, got = _signature(_get(kops, name)), _signature(_get(ops, name))
    if want != got:
      mismatched.append(f"{name}: {got} != Keras {want}")
  assert not mismatched, "\n".join(mismatched)
