"""`MultiHeadAttention` with Keras 3's weight layout."""
import math
from typing import Optional, Sequence, Union

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .. import initializers
from ._layer import Layer

# Keras regularizer/constraint arguments (see Layer._set_weight_extras).
_MHA_EXTRAS = ("kernel_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "bias_constraint")

# Logit given to masked positions before the softmax (Keras 3 uses the same).
_MASKED_LOGIT = -1e9
_MASKED_LOGIT_FLOAT16 = -3e4


def _positive_int(name: str, value, allow_none: bool = False):
  if value is None and allow_none:
    return None
  if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
    raise ValueError(
        f"MultiHeadAttention argument `{name}` must be a positive integer"
        f"{' or None' if allow_none else ''}. Received: {name}={value!r}")
  return value


def _int_tuple(name: str, value):
  """None, an int or a sequence of ints -> None or a tuple of ints."""
  if value is None:
    return None
  items = [value] if isinstance(value, int) else value
  try:
    items = tuple(items)
  except TypeError:
    items = None
  if not items or any(isinstance(v, bool) or not isinstance(v, int)
                      for v in items):
    raise ValueError(
        f"MultiHeadAttention argument `{name}` must be None, an int or a "
        f"non-empty list/tuple of ints. Received: {name}={value!r}")
  return items


def _combine_masks(attention_mask, query_mask, value_mask, key_mask):
  """Keras masks of query (B, T) and value/key (B, S) -> a (B, T, S) mask.

  As Keras 3: padded keys get no attention, padded queries attend nowhere
  (uniformly, after the softmax), and an explicit `attention_mask` is
  and-ed in.
  """
  auto = None
  if query_mask is not None:
    auto = jnp.expand_dims(jnp.asarray(query_mask, bool), -1)
  for m in (value_mask, key_mask):
    if m is not None:
      m = jnp.expand_dims(jnp.asarray(m, bool), -2)
      auto = m if auto is None else auto & m
  if auto is None:
    return attention_mask
  if attention_mask is None:
    return auto
  attention_mask = jnp.asarray(attention_mask)
  if attention_mask.dtype != jnp.bool_:
    attention_mask = attention_mask != 0
  return attention_mask & auto


class MultiHeadAttention(Layer):
  """Multi-head scaled dot-product attention (Vaswani et al., 2017), Keras 3
  semantics and weight layout.

  `query`, `key` and `value` are projected to `num_heads` heads
  (`key_dim` channels for query and key, `value_dim` for value); each head
  computes `softmax(q k^T / sqrt(key_dim)) v` over the attention axes, and
  the heads are projected back to the query's last dimension (or
  `output_shape`).

  Weights, all params, in Keras order (Keras path in brackets):
  `query_kernel` (dim_q, heads, key_dim) [query/kernel], `query_bias`
  (heads, key_dim), `key_kernel` (dim_k, heads, key_dim), `key_bias`,
  `value_kernel` (dim_v, heads, value_dim), `value_bias`, `output_kernel`
  (heads, value_dim, *output_shape) [attention_output/kernel] and
  `output_bias` (*output_shape,). The biases are absent with
  `use_bias=False`.

  Keras masks reach the layer as `query_mask`, `value_mask` and `key_mask`
  (filled in from `Embedding(mask_zero=True)` or `Masking` upstream): padded
  keys get no attention, and the output carries the query's mask.

  Differences from Keras 3: a query row whose mask is all False attends uniformly
  to every position in all cases (Keras 3 does so on its default path but
  gives zero weights when scores are returned or dropout is on).

  Args:
    num_heads: number of attention heads.
    key_dim: channels per head for query and key.
    value_dim: channels per head for value; default `key_dim`.
    dropout: dropout rate on the attention weights (training only).
    use_bias: whether the projections have biases.
    output_shape: the output's trailing shape (int or tuple); default the
      query's last dimension.
    attention_axes: axes of the query (not batch, not features) to attend
      over; default all axes between them (the sequence axis for rank-3
      inputs).
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    seed: optional int folded into the dropout key.
    kernel_regularizer, bias_regularizer, activity_regularizer,
      kernel_constraint, bias_constraint: `hk_keras.regularizers` / `hk_keras.constraints`
      (names, objects or callables), as in Keras.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Call arguments:
    query: (batch, target..., dim_q).
    value: (batch, source..., dim_v).
    key: optional (batch, source..., dim_k); defaults to `value`.
    attention_mask: optional boolean (or 0/1) array broadcastable to
      (batch, target_attention_dims..., source_attention_dims...), e.g.
      (batch, T, S); True (non-zero) means "may attend".
    return_attention_scores: also return the attention weights, shape
      (batch, heads, T, S) for rank-3 inputs.
    training: enables dropout.
    use_causal_mask: also forbid attending to later positions (one
      attention axis only).

  Raises:
    ValueError: on an invalid argument, or (when called) on inputs of rank
      < 3 or with mismatched shapes.

  >>> mha = MultiHeadAttention(num_heads=2, key_dim=8)
  >>> mha.get_config()["value_dim"]
  8
  """

  supports_masking = True  # the output carries the query mask

  def __init__(self, num_heads: int, key_dim: int,
               value_dim: Optional[int] = None, dropout: float = 0.0,
               use_bias: bool = True,
               output_shape: Union[None, int, Sequence[int]] = None,
               attention_axes: Union[None, int, Sequence[int]] = None,
               kernel_initializer="glorot_uniform", bias_initializer="zeros",
               seed: Optional[int] = None, kernel_regularizer=None,
               bias_regularizer=None, activity_regularizer=None,
               kernel_constraint=None, bias_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    self.num_heads = _positive_int("num_heads", num_heads)
    self.key_dim = _positive_int("key_dim", key_dim)
    self.value_dim = _positive_int("value_dim", value_dim,
                                   allow_none=True) or key_dim
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
        not 0.0 <= dropout < 1.0:
      raise ValueError(
          "MultiHeadAttention argument `dropout` must be a float in [0, 1). "
          f"Received: dropout={dropout!r}")
    self.dropout = float(dropout)
    if not isinstance(use_bias, bool):
      raise ValueError(
          "MultiHeadAttention argument `use_bias` must be True or False. "
          f"Received: use_bias={use_bias!r}")
    self.use_bias = use_bias
    self.output_shape = _int_tuple("output_shape", output_shape)
    if self.output_shape and any(d <= 0 for d in self.output_shape):
      raise ValueError(
          "MultiHeadAttention argument `output_shape` must hold positive "
          f"sizes. Received: output_shape={output_shape!r}")
    self.attention_axes = _int_tuple("attention_axes", attention_axes)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)
    if seed is not None and (isinstance(seed, bool) or
                             not isinstance(seed, int)):
      raise ValueError(
          "MultiHeadAttention argument `seed` must be None or an int. "
          f"Received: seed={seed!r}")
    self.seed = seed

  # -- shapes and weights -----------------------------------------------------
  def _attention_axes_for(self, rank: int):
    if self.attention_axes is None:
      return tuple(range(1, rank - 1))
    axes = []
    for axis in self.attention_axes:
      if not -rank <= axis < rank or axis % rank in (0, rank - 1):
        raise ValueError(
            f"Layer {self.name!r} (MultiHeadAttention) got attention_axes="
            f"{self.attention_axes}, but for a query of rank {rank} the "
            f"attention axes must be in 1..{rank - 2} (neither the batch nor "
            "the feature axis).")
      axes.append(axis % rank)
    return tuple(sorted(set(axes)))

  def build(self, input_shape):
    query_shape = tuple(input_shape)
    if len(query_shape) < 3 or query_shape[-1] is None:
      raise ValueError(
          f"Layer {self.name!r} (MultiHeadAttention) expects a query of shape "
          f"(batch, sequence..., features) with known features, received "
          f"shape {query_shape}. Use inputs like hk_keras.Input((seq_len, "
          "dim)), or add a sequence axis (x[:, None]).")
    self._axes = self._attention_axes_for(len(query_shape))

  def _check_shapes(self, query, value, key):
    rank = query.ndim
    if value.ndim != rank or key.ndim != rank:
      raise ValueError(
          f"Layer {self.name!r} (MultiHeadAttention) needs query, value and "
          f"key of the same rank; received shapes query={query.shape}, "
          f"value={value.shape}, key={key.shape}.")
    if value.shape[:-1] != key.shape[:-1]:
      raise ValueError(
          f"Layer {self.name!r} (MultiHeadAttention): all dimensions of value "
          "and key except the last one must be equal. Received: "
          f"value={value.shape}, key={key.shape}.")
    for axis in range(rank - 1):
      if axis not in self._axes and query.shape[axis] != value.shape[axis]:
        raise ValueError(
            f"Layer {self.name!r} (MultiHeadAttention): query and value must "
            f"agree on the non-attention axis {axis}. Received: "
            f"query={query.shape}, value={value.shape} (attention axes "
            f"{self._axes}).")

  def _projection(self, prefix, dim, heads_dim):
    kernel = self.add_weight((dim, self.num_heads, heads_dim),
                             self.kernel_initializer, name=f"{prefix}_kernel")
    bias = None
    if self.use_bias:
      bias = self.add_weight((self.num_heads, heads_dim),
                             self.bias_initializer, name=f"{prefix}_bias")
    return kernel, bias

  def _create_weights(self, query_dim, key_dim, value_dim):
    self.query_kernel, self.query_bias = self._projection(
        "query", query_dim, self.key_dim)
    self.key_kernel, self.key_bias = self._projection(
        "key", key_dim, self.key_dim)
    self.value_kernel, self.value_bias = self._projection(
        "value", value_dim, self.value_dim)
    out_shape = self.output_shape or (query_dim,)
    self.output_kernel = self.add_weight(
        (self.num_heads, self.value_dim) + tuple(out_shape),
        self.kernel_initializer, name="output_kernel")
    self.output_bias = None
    if self.use_bias:
      self.output_bias = self.add_weight(tuple(out_shape),
                                         self.bias_initializer,
                                         name="output_bias")

  # -- computation ------------------------------------------------------------
  @staticmethod
  def _project(x, kernel, bias):
    out = jnp.einsum("...d,dnh->...nh", x, kernel.astype(x.dtype))
    if bias is not None:
      out = out + jnp.reshape(bias.astype(x.dtype),
                              (1,) * (out.ndim - 2) + bias.shape)
    return out

  def _to_heads_first(self, x):
    """(B, inner..., N, H) -> (B, other..., N, attended, H) and its layout."""
    rank = x.ndim - 1  # the input's rank
    others = [a for a in range(1, rank - 1) if a not in self._axes]
    perm = [0] + others + [rank - 1] + list(self._axes) + [rank]
    moved = jnp.transpose(x, perm)
    attn_sizes = tuple(x.shape[a] for a in self._axes)
    lead = moved.shape[:len(others) + 2]
    flat = moved.reshape(lead + (int(np.prod(attn_sizes)), x.shape[-1]))
    return flat, perm, moved.shape, attn_sizes

  def _mask(self, attention_mask, use_causal_mask, scores_shape, q_sizes,
            k_sizes):
    """A boolean mask of the attention scores' full (unflattened) shape."""
    mask = None
    if attention_mask is not None:
      mask = jnp.asarray(attention_mask)
      mask = mask if mask.dtype == jnp.bool_ else mask != 0
      expand_axis = -2 * len(self._axes) - 1
      while mask.ndim < len(scores_shape):
        mask = jnp.expand_dims(mask, expand_axis)
      mask = jnp.broadcast_to(mask, scores_shape)
    if use_causal_mask:
      if len(self._axes) != 1:
        raise ValueError(
            f"Layer {self.name!r} (MultiHeadAttention): use_causal_mask=True "
            f"needs a single attention axis, got attention_axes={self._axes}.")
      causal = jnp.tril(jnp.ones(q_sizes + k_sizes, jnp.bool_))
      causal = jnp.broadcast_to(causal, scores_shape)
      mask = causal if mask is None else mask & causal
    return mask

  def call(self, query, value, key=None, attention_mask=None,
           return_attention_scores: bool = False, training: bool = False,
           use_causal_mask: bool = False, query_mask=None, value_mask=None,
           key_mask=None):
    attention_mask = _combine_masks(attention_mask, query_mask, value_mask,
                                    key_mask)
    key = value if key is None else key
    dtype = query.dtype
    value, key = jnp.asarray(value, dtype), jnp.asarray(key, dtype)
    self._check_shapes(query, value, key)
    self._create_weights(query.shape[-1], key.shape[-1], value.shape[-1])

    q = self._project(query, self.query_kernel, self.query_bias)
    k = self._project(key, self.key_kernel, self.key_bias)
    v = self._project(value, self.value_kernel, self.value_bias)

    q, perm, q_moved_shape, q_sizes = self._to_heads_first(q)
    k, _, _, k_sizes = self._to_heads_first(k)
    v, _, _, _ = self._to_heads_first(v)
    q = q * jnp.asarray(1.0 / math.sqrt(float(self.key_dim)), dtype)
    logits = jnp.einsum("...th,...sh->...ts", q, k)

    # The Keras layout of the scores: (B, other..., N, q_attn..., k_attn...).
    scores_shape = logits.shape[:-2] + q_sizes + k_sizes
    mask = self._mask(attention_mask, use_causal_mask, scores_shape, q_sizes,
                      k_sizes)
    if mask is not None:
      masked = (_MASKED_LOGIT_FLOAT16 if dtype == jnp.float16
                else _MASKED_LOGIT)
      logits = jnp.where(mask.reshape(logits.shape), logits,
                         jnp.asarray(masked, dtype))
    weights = jax.nn.softmax(logits, axis=-1)
    scores = weights

    if training and self.dropout > 0:
      rng = hk.next_rng_key()
      if self.seed is not None:
        rng = jax.random.fold_in(rng, self.seed)
      keep = jax.random.bernoulli(rng, 1.0 - self.dropout, weights.shape)
      weights = jnp.where(keep, weights / (1.0 - self.dropout),
                          jnp.zeros_like(weights))

    attended = jnp.einsum("...ts,...sh->...th", weights, v)
    attended = attended.reshape(q_moved_shape[:-1] + (self.value_dim,))
    attended = jnp.transpose(attended, np.argsort(perm))

    out_kernel = self.output_kernel.astype(dtype)
    out_shape = out_kernel.shape[2:]
    flat_kernel = out_kernel.reshape(out_kernel.shape[:2] + (-1,))
    output = jnp.einsum("...nh,nho->...o", attended, flat_kernel)
    output = output.reshape(output.shape[:-1] + out_shape)
    if self.output_bias is not None:
      output = output + jnp.reshape(
          self.output_bias.astype(dtype),
          (1,) * (output.ndim - len(out_shape)) + out_shape)
    if return_attention_scores:
      return output, scores.reshape(scores_shape)
    return output

  def get_config(self):
    return {
        **super().get_config(), "num_heads": self.num_heads,
        "key_dim": self.key_dim, "value_dim": self.value_dim,
        "dropout": self.dropout, "use_bias": self.use_bias,
        "output_shape": (None if self.output_shape is None
                         else list(self.output_shape)),
        "attention_axes": (None if self.attention_axes is None
                           else list(self.attention_axes)),
        "kernel_initializer": initializers.serialize(self.kernel_initializer),
        "bias_initializer": initializers.serialize(self.bias_initializer),
        "seed": self.seed, **self._weight_extras_config(),
    }
