"""`Embedding`: integer ids -> dense vectors."""
import jax.numpy as jnp

from .. import initializers
from ._layer import Layer


def _check_positive_int(name: str, value) -> int:
  if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
    raise ValueError(
        f"Embedding argument `{name}` must be a positive integer. Received: "
        f"{name}={value!r}")
  return value


class Embedding(Layer):
  """Looks up a learned vector for each integer id (Keras 3 semantics).

  Inputs of any shape `(batch, ...)` holding ids in `[0, input_dim)` give
  outputs of shape `(batch, ..., output_dim)`. Non-integer inputs are cast
  to int32 first (truncating), as in Keras.

  Ids outside the table behave as Keras 3 on its JAX backend (both use
  `jnp.take`'s default "fill" mode): a negative id in `[-input_dim, 0)`
  counts from the end of the table (`-1` is row `input_dim - 1`), and any
  other out-of-range id gives a row of NaN. No error is raised, since the
  ids are traced values inside `jit`.

  With `mask_zero=True` the layer creates a Keras mask, `ids != 0`, that
  follows its output through the model: RNNs skip the padded steps,
  attention ignores padded keys, `GlobalAveragePooling1D` averages over the
  real steps, and losses and metrics leave padded timesteps out (see
  docs/masking_and_padding.md). Id 0 is then reserved for padding, as in
  Keras (so `input_dim` should be vocabulary size + 1).

  Weights: `embeddings` (input_dim, output_dim), a param.

  Args:
    input_dim: vocabulary size (largest id + 1).
    output_dim: size of each vector.
    embeddings_initializer: default "uniform" (RandomUniform(-0.05, 0.05)).
    mask_zero: see above.
    embeddings_regularizer, activity_regularizer, embeddings_constraint: `hk_keras.regularizers` /
      `hk_keras.constraints` (names, objects or callables), as in Keras.
    **kwargs: base `Layer` arguments (name, trainable, dtype).

  Raises:
    ValueError: if `input_dim` or `output_dim` is not a positive integer, or
      (when built) on inputs without a batch axis.

  >>> layer = Embedding(input_dim=1000, output_dim=16)
  >>> layer.get_config()["output_dim"]
  16
  """

  def __init__(self, input_dim: int, output_dim: int,
               embeddings_initializer="uniform", mask_zero: bool = False,
               embeddings_regularizer=None, activity_regularizer=None,
               embeddings_constraint=None, **kwargs):
    super().__init__(**kwargs)
    self._set_weight_extras(embeddings_regularizer=embeddings_regularizer,
                       activity_regularizer=activity_regularizer,
                       embeddings_constraint=embeddings_constraint)
    self.input_dim = _check_positive_int("input_dim", input_dim)
    self.output_dim = _check_positive_int("output_dim", output_dim)
    self.embeddings_initializer = initializers.get(embeddings_initializer)
    if not isinstance(mask_zero, bool):
      raise ValueError(
          "Embedding argument `mask_zero` must be True or False. Received: "
          f"mask_zero={mask_zero!r}")
    self.mask_zero = mask_zero
    self.supports_masking = mask_zero  # as Keras 3

  def build(self, input_shape):
    if len(input_shape) < 1:
      raise ValueError(
          f"Layer {self.name!r} (Embedding) expects integer ids with a batch "
          f"axis, shape (batch, ...), received shape {tuple(input_shape)}. "
          "Add a batch axis (ids[None]).")
    self.embeddings = self.add_weight(
        (self.input_dim, self.output_dim), self.embeddings_initializer,
        name="embeddings")

  def call(self, inputs):
    ids = jnp.asarray(inputs)
    if ids.dtype not in (jnp.int32, jnp.int64):
      ids = ids.astype(jnp.int32)
    return jnp.take(self.embeddings, ids, axis=0).astype(self.compute_dtype)

  def compute_mask(self, inputs, previous_mask=None):
    """`inputs != 0` with `mask_zero=True`, else None (Keras 3)."""
    del previous_mask
    if not self.mask_zero:
      return None
    return jnp.not_equal(jnp.asarray(inputs), 0)

  def get_config(self):
    return {
        **super().get_config(), "input_dim": self.input_dim,
        "output_dim": self.output_dim,
        "embeddings_initializer": initializers.serialize(
            self.embeddings_initializer),
        "mask_zero": self.mask_zero, **self._weight_extras_config(),
    }
