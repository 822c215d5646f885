"""`GroupQueryAttention` (Ainslie et al., 2023) with Keras 3's weight layout."""
import math
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp

from .. import initializers
from .._core import _naming
from ._attention import _combine_masks
from ._layer import Layer

_MASKED_LOGIT = -1e9


def _positive(name, value):
  if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
    raise ValueError(
        f"GroupQueryAttention argument `{name}` must be a positive integer. "
        f"Received: {name}={value!r}")
  return value


class GroupQueryAttention(Layer):
  """Attention whose key/value heads are shared by groups of query heads.

  `num_query_heads` query heads attend with `num_key_value_heads` key and
  value heads (each repeated `num_query_heads // num_key_value_heads`
  times); `num_key_value_heads == 1` is multi-query attention. Inputs are
  `(batch, T, dim)` queries and `(batch, S, dim)` values (and keys).

  Weights, all params, in Keras order: `query_kernel` (dim, Hq, head_dim),
  `query_bias` (Hq, head_dim), `key_kernel` (dim, Hkv, head_dim),
  `key_bias`, [`gate_kernel`, `gate_bias` with `use_gate`], `value_kernel`,
  `value_bias`, `output_kernel` (Hq, head_dim, dim), `output_bias` (dim,)
  (Keras's `query/kernel`, ..., `attention_output/bias`).

  Args:
    head_dim: size of each head.
    num_query_heads: number of query heads.
    num_key_value_heads: number of key/value heads; divides
      `num_query_heads`.
    dropout: dropout on the attention weights (training only).
    use_bias: learn the biases.
    sliding_window: None or a positive int: a query attends only to keys
      less than `sliding_window` positions away.
    flash_attention: accepted (None, True or False) for compatibility; XLA
      compiles one attention path.
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    use_gate: multiply the attention output by `sigmoid(query @ gate)`.
    seed: optional int folded into the dropout key.
    kernel_regularizer, bias_regularizer, activity_regularizer,
      kernel_constraint, bias_constraint: Keras regularizers and constraints (see Layer._set_weight_extras).
    **kwargs: base `Layer` arguments.

  Masked entries of the attention weights are 0 (as Keras's masked softmax,
  so a query step with no valid key attends nowhere).

  Call arguments: `query`, `value`, `key=None`, `query_mask`, `value_mask`,
  `key_mask` (filled in from Keras masks), `attention_mask` (batch, T, S),
  `return_attention_scores=False`, `training`, `use_causal_mask=False`.

  >>> GroupQueryAttention(4, 4, 2).get_config()["num_key_value_heads"]
  2
  """

  supports_masking = True

  def __init__(self, head_dim: int, num_query_heads: int,
               num_key_value_heads: int, dropout: float = 0.0,
               use_bias: bool = True, sliding_window: Optional[int] = None,
               flash_attention=None, kernel_initializer="glorot_uniform",
               bias_initializer="zeros", kernel_regularizer=None,
               bias_regularizer=None, activity_regularizer=None,
               kernel_constraint=None, bias_constraint=None,
               use_gate: bool = False, seed: Optional[int] = None, **kwargs):
    if kwargs.get("name") is None and type(self) is GroupQueryAttention:
      # Keras's class is `GroupedQueryAttention` (this name is its alias), so
      # its auto-names are grouped_query_attention, grouped_query_attention_1.
      kwargs["name"] = _naming.unique_name("grouped_query_attention")
    super().__init__(**kwargs)
    self._set_weight_extras(kernel_regularizer=kernel_regularizer,
                       bias_regularizer=bias_regularizer,
                       activity_regularizer=activity_regularizer,
                       kernel_constraint=kernel_constraint,
                       bias_constraint=bias_constraint)
    self.head_dim = _positive("head_dim", head_dim)
    self.num_query_heads = _positive("num_query_heads", num_query_heads)
    self.num_key_value_heads = _positive("num_key_value_heads",
                                         num_key_value_heads)
    if num_query_heads % num_key_value_heads:
      raise ValueError(
          "`num_query_heads` must be divisible by `num_key_value_heads`. "
          f"Received: num_query_heads={num_query_heads}, "
          f"num_key_value_heads={num_key_value_heads}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
        not 0 <= dropout < 1:
      raise ValueError("GroupQueryAttention argument `dropout` must be a float"
                       f" in [0, 1). Received: dropout={dropout!r}")
    if sliding_window is not None and (
        isinstance(sliding_window, bool) or not isinstance(sliding_window, int)
        or sliding_window <= 0):
      raise ValueError(
          "`sliding_window` must be `None` or a positive integer. Received: "
          f"sliding_window={sliding_window!r}")
    if flash_attention not in (None, True, False):
      raise ValueError("`flash_attention` must be None, True or False. "
                       f"Received: flash_attention={flash_attention!r}")
    self.dropout = float(dropout)
    self.use_bias = bool(use_bias)
    self.sliding_window = sliding_window
    self.flash_attention = flash_attention
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)
    self.use_gate = bool(use_gate)
    self.seed = seed

  def _projection(self, prefix, in_dim, heads):
    kernel = self.add_weight((in_dim, heads, self.head_dim),
                             self.kernel_initializer, name=f"{prefix}_kernel")
    bias = None
    if self.use_bias:
      bias = self.add_weight((heads, self.head_dim), self.bias_initializer,
                             name=f"{prefix}_bias")
    return kernel, bias

  def call(self, query, value, key=None, query_mask=None, value_mask=None,
           key_mask=None, attention_mask=None,
           return_attention_scores: bool = False, training: bool = False,
           use_causal_mask: bool = False):
    key = value if key is None else key
    dtype = query.dtype
    if query.ndim != 3 or value.ndim != 3 or key.ndim != 3 or \
        query.shape[-1] != value.shape[-1]:
      raise ValueError(
          f"Layer {self.name!r} (GroupQueryAttention) expects query (batch, "
          "T, dim) and value/key (batch, S, dim) with the same dim. Received "
          f"shapes {query.shape}, {value.shape}, {key.shape}.")
    dim = query.shape[-1]
    heads_q, heads_kv = self.num_query_heads, self.num_key_value_heads
    q_kernel, q_bias = self._projection("query", dim, heads_q)
    k_kernel, k_bias = self._projection("key", key.shape[-1], heads_kv)
    if self.use_gate:
      g_kernel, g_bias = self._projection("gate", dim, heads_q)
    v_kernel, v_bias = self._projection("value", value.shape[-1], heads_kv)
    out_kernel = self.add_weight((heads_q, self.head_dim, dim),
                                 self.kernel_initializer, name="output_kernel")
    out_bias = (self.add_weight((dim,), self.bias_initializer,
                                name="output_bias") if self.use_bias else None)

    def project(x, kernel, bias):
      y = jnp.einsum("btm,muh->btuh", x, kernel.astype(dtype))
      return y if bias is None else y + bias.astype(dtype)

    mask = _combine_masks(attention_mask, query_mask, value_mask, key_mask)
    t, s = query.shape[1], value.shape[1]
    if use_causal_mask:
      causal = jnp.tril(jnp.ones((1, t, s), bool))
      mask = causal if mask is None else jnp.asarray(mask, bool) & causal
    if self.sliding_window is not None:
      rows = jnp.arange(t)[None, :, None]
      cols = jnp.arange(s)[None, None, :]
      window = jnp.abs(rows - cols) < self.sliding_window
      mask = window if mask is None else jnp.asarray(mask, bool) & window
    gate = (jax.nn.sigmoid(project(query, g_kernel, g_bias))
            if self.use_gate else None)
    q = project(query, q_kernel, q_bias)
    k = jnp.repeat(project(key, k_kernel, k_bias), heads_q // heads_kv, 2)
    v = jnp.repeat(project(value, v_kernel, v_bias), heads_q // heads_kv, 2)
    q = q * jnp.asarray(1.0 / math.sqrt(float(self.head_dim)), dtype)
    logits = jnp.einsum("bquh,bkuh->buqk", q, k)
    if mask is not None:
      mask = jnp.asarray(mask)
      mask = mask if mask.dtype == jnp.bool_ else mask != 0
      logits = jnp.where(jnp.expand_dims(mask, -3), logits,
                         jnp.asarray(_MASKED_LOGIT, dtype))
    scores = jax.nn.softmax(logits, axis=-1)
    if mask is not None:
      # As Keras's masked Softmax: masked entries weigh 0 (a query row with
      # no valid key attends nowhere).
      scores = scores * jnp.expand_dims(mask, -3).astype(scores.dtype)
    weights = scores
    if training and self.dropout > 0:
      rng = hk.next_rng_key()
      if self.seed is not None:
        rng = jax.random.fold_in(rng, self.seed)
      keep = jax.random.bernoulli(rng, 1.0 - self.dropout, scores.shape)
      weights = jnp.where(keep, scores / (1.0 - self.dropout), 0.0)
    attended = jnp.einsum("buqk,bkuh->bquh", weights, v)
    if gate is not None:
      attended = attended * gate
    output = jnp.einsum("bquh,uhm->bqm", attended, out_kernel.astype(dtype))
    if out_bias is not None:
      output = output + out_bias.astype(dtype)
    if return_attention_scores:
      return output, scores
    return output

  def get_config(self):
    return {
        **super().get_config(), "head_dim": self.head_dim,
        "num_query_heads": self.num_query_heads,
        "num_key_value_heads": self.num_key_value_heads,
        "use_bias": self.use_bias, "use_gate": self.use_gate,
        "sliding_window": self.sliding_window, "dropout": self.dropout,
        "flash_attention": self.flash_attention,
        "kernel_initializer": initializers.serialize(self.kernel_initializer),
        "bias_initializer": initializers.serialize(self.bias_initializer),
        **self._weight_extras_config(), "seed": self.seed,
    }
