"""`Attention` (Luong dot-product) and `AdditiveAttention` (Bahdanau), Keras 3."""
from typing import Optional

import haiku as hk
import jax
import jax.numpy as jnp

from ._layer import Layer


class Attention(Layer):
  """Dot-product attention over `[query, value]` or `[query, value, key]`.

  `scores = query @ key^T` (times `scale` with `use_scale`; with
  `score_mode="concat"`, `concat_score_weight * sum(tanh(q + k))`), softmax
  over the value steps, then `weights @ value`. Masks: the value mask (a
  Keras mask of `value`, or `mask=[query_mask, value_mask]`) removes padded
  value steps; the query mask zeros the outputs at padded query steps and
  is passed on as the output's mask.

  Weights: `scale` (scalar, with `use_scale`), `concat_score_weight`
  (scalar, with `score_mode="concat"`).

  Args:
    use_scale: learn a scalar scale of the scores (default False).
    score_mode: "dot" (default) or "concat".
    dropout: dropout rate on the attention weights (training only).
    seed: optional int folded into the dropout key.
    **kwargs: base `Layer` arguments.

  Call arguments: `inputs` (a list), `mask`, `training`,
  `return_attention_scores=False`, `use_causal_mask=False`.

  >>> Attention(score_mode="concat").get_config()["score_mode"]
  'concat'
  """

  supports_masking = True

  def __init__(self, use_scale: bool = False, score_mode: str = "dot",
               dropout: float = 0.0, seed: Optional[int] = None, **kwargs):
    super().__init__(**kwargs)
    if score_mode not in ("dot", "concat"):
      raise ValueError(
          "Invalid value for argument score_mode. Expected one of {'dot', "
          f"'concat'}}. Received: score_mode={score_mode!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or \
        not 0 <= dropout < 1:
      raise ValueError(f"{type(self).__name__} argument `dropout` must be a "
                       f"float in [0, 1). Received: dropout={dropout!r}")
    self.use_scale = bool(use_scale)
    self.score_mode = score_mode
    self.dropout = float(dropout)
    self.seed = seed

  def _validate(self, inputs):
    if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
      raise ValueError(
          f"{type(self).__name__} layer must be called on a list of inputs, "
          f"namely [query, value] or [query, value, key]. Received: "
          f"inputs={inputs!r}.")

  def build(self, input_shape):
    self._validate(input_shape)
    self.scale = None
    self.concat_score_weight = None
    if self.use_scale:
      self.scale = self.add_weight((), "ones", name="scale")
    if self.score_mode == "concat":
      self.concat_score_weight = self.add_weight((), "ones",
                                                 name="concat_score_weight")

  def _scores(self, query, key):
    if self.score_mode == "dot":
      scores = jnp.matmul(query, jnp.swapaxes(key, -2, -1))
      if self.scale is not None:
        scores = scores * self.scale
      return scores
    total = jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3)
    if self.scale is not None:
      total = self.scale * total
    return self.concat_score_weight * jnp.sum(jnp.tanh(total), axis=-1)

  def call(self, inputs, mask=None, training=False,
           return_attention_scores: bool = False,
           use_causal_mask: bool = False):
    self._validate(inputs)
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    q_mask = mask[0] if mask else None
    v_mask = mask[1] if mask else None
    scores = self._scores(query, key)
    score_mask = None
    if v_mask is not None:
      score_mask = jnp.expand_dims(jnp.asarray(v_mask, bool), -2)
    if use_causal_mask:
      tq, tv = scores.shape[-2:]
      causal = jnp.tril(jnp.ones((1, tq, tv), bool))
      score_mask = causal if score_mask is None else score_mask & causal
    if score_mask is not None:
      big = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
      scores = jnp.where(score_mask, scores, scores - big)
    weights = jax.nn.softmax(scores, axis=-1)
    if training and self.dropout > 0:
      rng = hk.next_rng_key()
      if self.seed is not None:
        rng = jax.random.fold_in(rng, self.seed)
      keep = jax.random.bernoulli(rng, 1.0 - self.dropout, weights.shape)
      weights_used = jnp.where(keep, weights / (1.0 - self.dropout), 0.0)
    else:
      weights_used = weights
    output = jnp.matmul(weights_used, value)
    if q_mask is not None:
      output = jnp.where(jnp.expand_dims(jnp.asarray(q_mask, bool), -1),
                         output, 0)
    if return_attention_scores:
      return output, weights_used
    return output

  def compute_mask(self, inputs, previous_mask=None):
    if not isinstance(previous_mask, (list, tuple)) or previous_mask[0] is None:
      return None
    return previous_mask[0]

  def get_config(self):
    return {**super().get_config(), "use_scale": self.use_scale,
            "score_mode": self.score_mode, "dropout": self.dropout,
            "seed": self.seed}


class AdditiveAttention(Attention):
  """Additive (Bahdanau-style) attention, Keras 3.

  `scores = sum(scale * tanh(query + key), axis=-1)` for every
  (query step, key step) pair; otherwise as `Attention` (masks included).

  Weights: `scale` `(dim,)` with `use_scale` (default True, glorot_uniform).

  Args:
    use_scale: learn a per-feature scale (default True).
    dropout: dropout rate on the attention weights (training only).
    **kwargs: base `Layer` arguments (and `seed`).

  >>> AdditiveAttention().get_config()["use_scale"]
  True
  """

  def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
    super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

  def build(self, input_shape):
    self._validate(input_shape)
    self.scale = None
    if self.use_scale:
      self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform",
                                   name="scale")

  def _scores(self, query, key):
    total = jnp.tanh(jnp.expand_dims(query, -2) + jnp.expand_dims(key, -3))
    scale = self.scale if self.use_scale else 1.0
    return jnp.sum(scale * total, axis=-1)

  def get_config(self):
    config = super().get_config()
    del config["score_mode"]
    return config
