"""Normalization, losses, encodings and attention of `hk_keras.ops.nn`."""
import math

import jax
import jax.numpy as jnp

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op

EPSILON = 1e-7


def _float(x):
  x = convert_to_tensor(x)
  return x.astype(_dtypes.float_dtype(x))


@op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None,
                        epsilon=1e-3):
  """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, with the
  statistics along `axis`."""
  x = convert_to_tensor(x)
  shape = [1] * x.ndim
  shape[axis] = x.shape[axis]
  def view(v):
    return jnp.reshape(convert_to_tensor(v), shape)
  inv = jax.lax.rsqrt(view(variance) + epsilon)
  if scale is not None:
    inv = inv * view(scale)
  res = -view(mean) * inv
  if offset is not None:
    res = res + view(offset)
  return x * inv + res


@op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None,
                        **kwargs):
  """Normalizes over `axis`, then scales by `gamma` and shifts by `beta`."""
  rms_scaling = kwargs.pop("rms_scaling", False)
  if kwargs:
    raise TypeError(f"layer_normalization got unexpected arguments "
                    f"{sorted(kwargs)}.")
  x = _float(x)
  epsilon = EPSILON if epsilon is None else epsilon
  axis = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
  if rms_scaling:
    return rms_normalization(x, gamma, axis, epsilon)
  compute = x.astype("float32") if x.dtype in (jnp.float16,
                                               jnp.bfloat16) else x
  m = jnp.mean(compute, axis=axis, keepdims=True)
  v = jnp.var(compute, axis=axis, keepdims=True)
  out = (compute - m) * jax.lax.rsqrt(v + epsilon)
  if gamma is not None:
    out = out * convert_to_tensor(gamma).astype(out.dtype)
  if beta is not None:
    out = out + convert_to_tensor(beta).astype(out.dtype)
  return out.astype(x.dtype)


@op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
  """`x / sqrt(mean(x**2, axis) + epsilon) * scale`."""
  x = _float(x)
  epsilon = EPSILON if epsilon is None else epsilon
  axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
  out = x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True)
                          + epsilon)
  if scale is not None:
    out = out * convert_to_tensor(scale).astype(x.dtype)
  return out


@op
def normalize(x, axis=-1, order=2, epsilon=None):
  """`x` divided by its `order`-norm along `axis`."""
  x = _float(x)
  if epsilon is None:
    epsilon = EPSILON
  norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
  return x / jnp.maximum(norm, epsilon)


@op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
  """One-hot encodings of int labels (floatx by default)."""
  if sparse:
    raise ValueError("one_hot(sparse=True) is not supported: hk_keras ops "
                     "return dense jax arrays.")
  x = convert_to_tensor(x)
  dtype = _dtypes.standardize_dtype(dtype or _dtypes.FLOATX)
  return jax.nn.one_hot(x, num_classes, axis=axis, dtype=dtype)


@op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False,
              **kwargs):
  """Multi-hot encodings: 1 for each label present in a row."""
  if num_classes is None:
    num_classes = kwargs.pop("num_tokens", None)
  if num_classes is None:
    raise ValueError("multi_hot needs `num_classes`.")
  inputs = convert_to_tensor(inputs)
  reduction_axis = 1 if inputs.ndim > 1 else 0
  encoded = one_hot(inputs, num_classes, axis=axis, dtype=dtype,
                    sparse=sparse)
  return jnp.max(encoded, axis=reduction_axis)


def _clipped(output):
  return jnp.clip(output, EPSILON, 1.0 - EPSILON)


@op
def binary_crossentropy(target, output, from_logits=False):
  """Element-wise binary crossentropy."""
  target = convert_to_tensor(target)
  output = convert_to_tensor(output)
  if target.shape != output.shape:
    raise ValueError("Arguments `target` and `output` must have the same "
                     f"shape. Received: target.shape={target.shape}, "
                     f"output.shape={output.shape}")
  if from_logits:
    log_p = jax.nn.log_sigmoid(output)
    log_not_p = jax.nn.log_sigmoid(-output)
    return -target * log_p - (1 - target) * log_not_p
  output = _clipped(output)
  bce = target * jnp.log(output)
  bce += (1 - target) * jnp.log(1 - output)
  return -bce


@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
  """Crossentropy of one-hot `target` and `output` along `axis`."""
  target = convert_to_tensor(target)
  output = convert_to_tensor(output)
  if target.shape != output.shape:
    raise ValueError("Arguments `target` and `output` must have the same "
                     f"shape. Received: target.shape={target.shape}, "
                     f"output.shape={output.shape}")
  if from_logits:
    log_prob = jax.nn.log_softmax(output, axis=axis)
  else:
    output = output / jnp.sum(output, axis, keepdims=True)
    log_prob = jnp.log(_clipped(output))
  return -jnp.sum(target * log_prob, axis=axis)


@op
def sparse_categorical_crossentropy(target, output, from_logits=False,
                                    axis=-1):
  """Crossentropy of int labels `target` and `output` along `axis`."""
  target = convert_to_tensor(target, dtype="int32")
  output = convert_to_tensor(output)
  if target.ndim == output.ndim and target.shape[-1] == 1:
    target = jnp.squeeze(target, axis=-1)
  if from_logits:
    log_prob = jax.nn.log_softmax(output, axis=axis)
  else:
    output = output / jnp.sum(output, axis, keepdims=True)
    log_prob = jnp.log(_clipped(output))
  labels = jax.nn.one_hot(target, output.shape[axis], axis=axis)
  return -jnp.sum(labels * log_prob, axis=axis)


@op
def psnr(x1, x2, max_val):
  """Peak signal-to-noise ratio in dB."""
  x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
  if x1.shape != x2.shape:
    raise ValueError("psnr expects inputs of the same shape. Received: "
                     f"x1.shape={x1.shape}, x2.shape={x2.shape}")
  mse = jnp.mean(jnp.square(x1 - x2))
  return 20 * jnp.log10(max_val) - 10 * jnp.log10(mse)


@op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None,
                          attn_logits_soft_cap=None):
  """Scaled dot-product attention on `(batch, seq, heads, dim)` tensors."""
  if flash_attention:
    raise ValueError("flash_attention=True is not supported by hk_keras ops "
                     "on this backend; use None or False.")
  query = convert_to_tensor(query)
  key = convert_to_tensor(key)
  value = convert_to_tensor(value)
  if scale is None:
    scale = 1.0 / math.sqrt(query.shape[-1])
  logits = jnp.einsum("BTNH,BSNH->BNTS", query, key) * jnp.asarray(
      scale, query.dtype)
  if attn_logits_soft_cap is not None:
    logits = jnp.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
  if bias is not None:
    logits = logits + convert_to_tensor(bias).astype(logits.dtype)
  keep = None
  if mask is not None:
    keep = convert_to_tensor(mask).astype("bool")
  if is_causal:
    t, s = logits.shape[-2:]
    causal = jnp.tril(jnp.ones((t, s), "bool"))
    keep = causal if keep is None else jnp.logical_and(keep, causal)
  if keep is not None:
    big_neg = jnp.asarray(jnp.finfo(logits.dtype).min, logits.dtype)
    logits = jnp.where(keep, logits, big_neg)
  probs = jax.nn.softmax(logits.astype("float32"), axis=-1).astype(
      logits.dtype)
  return jnp.einsum("BNTS,BSNH->BTNH", probs, value)


@op
def ctc_loss(target, output, target_length, output_length, mask_index=0):
  """CTC loss per sequence; `output` are logits `(batch, time, classes)`."""
  import optax  # pylint: disable=g-import-not-at-top
  target = convert_to_tensor(target, dtype="int32")
  output = convert_to_tensor(output)
  target_length = convert_to_tensor(target_length, dtype="int32")
  output_length = convert_to_tensor(output_length, dtype="int32")
  t = output.shape[1]
  logit_pad = (jnp.arange(t)[None, :] >= output_length[:, None]).astype(
      output.dtype)
  label_pad = (jnp.arange(target.shape[1])[None, :] >= target_length[:, None]
               ).astype(output.dtype)
  return optax.ctc_loss(output, logit_pad, target, label_pad,
                        blank_id=mask_index)


@op
def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100,
               top_paths=1, merge_repeated=True, mask_index=0):
  """Greedy CTC decoding: `(decoded, scores)` with decoded
  `(1, batch, time)` padded with -1 and scores `(batch, 1)` (minus the sum
  of the per-step maxima of `inputs`, as Keras)."""
  del beam_width
  if strategy != "greedy":
    raise ValueError(
        "hk_keras ctc_decode supports strategy='greedy' only (beam search is "
        f"not implemented). Received: strategy={strategy!r}")
  if top_paths != 1:
    raise ValueError("Greedy ctc_decode gives one path: top_paths must be 1.")
  inputs = convert_to_tensor(inputs)
  sequence_lengths = convert_to_tensor(sequence_lengths, dtype="int32")
  _, t, _ = inputs.shape
  indices = jnp.argmax(inputs, axis=-1).astype("int32")
  scores = jnp.max(inputs, axis=-1)
  valid = jnp.arange(t)[None, :] < sequence_lengths[:, None]
  indices = jnp.where(valid, indices, mask_index)
  scores = jnp.where(valid, scores, 0.0)
  keep = indices != mask_index
  if merge_repeated:
    previous = jnp.pad(indices[:, :-1], ((0, 0), (1, 0)), constant_values=-1)
    keep = jnp.logical_and(keep, indices != previous)
  order = jnp.argsort(jnp.logical_not(keep), axis=1, stable=True)
  decoded = jnp.take_along_axis(jnp.where(keep, indices, -1), order, axis=1)
  return decoded[None], -jnp.sum(scores, axis=1, keepdims=True)
