"""`CategoryEncoding` and `Discretization`."""
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from . import _base


class CategoryEncoding(_base.JitWhenEager, Layer):
  """Encodes integer ids as one-hot, multi-hot or count vectors (Keras 3).

  Ids outside `[0, num_tokens)` give all-zero rows (Keras with JAX gives
  the same; it validates only on TensorFlow). Runs inside the compiled step.

  >>> layer = CategoryEncoding(num_tokens=4)
  >>> np.asarray(layer(np.array([[0, 1], [0, 0]]))).tolist()
  [[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]

  Args:
    num_tokens: the depth of the encoding.
    output_mode: "multi_hot" (default), "one_hot" or "count".
    sparse: must be False.
  """

  def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False,
               **kwargs):
    super().__init__(**kwargs)
    if output_mode == "binary":
      output_mode = "multi_hot"
    _base.check_output_mode(output_mode, ("count", "one_hot", "multi_hot"))
    if num_tokens is None:
      raise ValueError(
          "num_tokens must be set to use this layer. If the number of tokens "
          "is not known beforehand, use the IntegerLookup layer instead.")
    if num_tokens < 1:
      raise ValueError(
          f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
    if sparse:
      raise ValueError(
          "sparse=True is not supported in hk_keras (dense JAX arrays only).")
    self.num_tokens = int(num_tokens)
    self.output_mode = output_mode
    self.sparse = False

  def call(self, inputs, count_weights=None):
    if count_weights is not None:
      if self.output_mode != "count":
        raise ValueError(
            "`count_weights` is not used when `output_mode` is not "
            f"`'count'`. Received `count_weights={count_weights}`.")
      count_weights = jnp.asarray(count_weights, self.compute_dtype)
    ids = jnp.asarray(inputs).astype(jnp.int32)
    return _base.encode_categorical(jnp, ids, self.output_mode,
                                    self.num_tokens, self.compute_dtype,
                                    count_weights)

  def get_config(self):
    return {**super().get_config(), "num_tokens": self.num_tokens,
            "output_mode": self.output_mode, "sparse": self.sparse}


# -- Discretization's quantile summaries (Keras 3's algorithm) --------------

def _summarize(values, epsilon):
  """A 2 x k summary (values, weights) of a batch: every `step`-th sorted
  value, each weighing `step`."""
  values = np.sort(np.reshape(values, [-1]))
  step = max(values.size * epsilon, 1)
  picked = values[int(step - 1)::int(step)]
  return np.stack([picked, np.full_like(picked, step)])


def _compress(summary, epsilon):
  """Re-bins a summary at `1/epsilon` cumulative-weight quantiles."""
  if summary.shape[1] * epsilon < 1:
    return summary
  percents = epsilon + np.arange(0.0, 1.0, epsilon)
  cum = summary[1].cumsum()
  frac = cum / cum[-1]
  bins = np.interp(percents, frac, summary[0])
  cum = np.interp(percents, frac, cum)
  weights = cum - np.concatenate((np.array([0]), cum[:-1]))
  return np.stack((bins, weights)).astype("float32")


def _merge(prev, new, epsilon):
  merged = np.concatenate((prev, new), axis=1)
  merged = np.take(merged, np.argsort(merged[0]), axis=1)
  return _compress(merged, epsilon)


class Discretization(_base.JitWhenEager, Layer):
  """Buckets numbers by boundaries, given or adapted from quantiles.

  `adapt` uses Keras 3's mergeable quantile summaries (same boundaries).
  Bucket `i` holds `boundaries[i-1] <= x < boundaries[i]`. Runs inside the
  compiled step with the boundaries as constants.

  >>> layer = Discretization(bin_boundaries=[0.0, 1.0])
  >>> np.asarray(layer(np.array([-1.0, 0.5, 2.0]))).tolist()
  [0, 1, 2]

  Args:
    bin_boundaries: sorted boundaries (n boundaries give n + 1 bins).
    num_bins: the number of bins to adapt.
    epsilon: the quantile summaries' error tolerance.
    output_mode: "int", "one_hot", "multi_hot" or "count".
    sparse: must be False.
  """

  def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01,
               output_mode="int", sparse=False, dtype=None, name=None,
               **kwargs):
    if dtype is None:
      dtype = "int32" if output_mode == "int" else "float32"
    # An integer dtype names the output; inputs are never cast to it.
    kwargs.setdefault("autocast", False)
    super().__init__(name=name, dtype=dtype, **kwargs)
    _base.check_output_mode(output_mode,
                            ("int", "one_hot", "multi_hot", "count"))
    if sparse:
      raise ValueError(
          "sparse=True is not supported in hk_keras (dense JAX arrays only).")
    if num_bins is not None and num_bins < 0:
      raise ValueError(
          "`num_bins` must be greater than or equal to 0. Received: "
          f"`num_bins={num_bins}`")
    if num_bins is not None and bin_boundaries is not None:
      if len(bin_boundaries) != num_bins - 1:
        raise ValueError(
            "Both `num_bins` and `bin_boundaries` should not be set. "
            f"Received: `num_bins={num_bins}` and "
            f"`bin_boundaries={bin_boundaries}`")
    self.input_bin_boundaries = bin_boundaries
    self.bin_boundaries = (list(bin_boundaries) if bin_boundaries is not None
                           else None)
    self.num_bins = num_bins
    self.epsilon = float(epsilon)
    self.output_mode = output_mode
    self.sparse = False
    self._summary = np.array([[], []], dtype="float32")

  def adapt(self, data, steps=None):
    """Finds `num_bins - 1` quantile boundaries of `data`.

    Raises:
      ValueError: if the layer was created with `bin_boundaries`.
    """
    if self.num_bins is None:
      raise ValueError(
          "Cannot adapt a Discretization layer that has been initialized "
          "with `bin_boundaries`, use `num_bins` instead.")
    summary = np.array([[], []], dtype="float32")
    for batch in _base.adapt_batches(data, steps, list_is_batches=True):
      summary = _merge(_summarize(np.asarray(batch, np.float32), self.epsilon),
                       summary, self.epsilon)
    self._summary = summary
    self._forget_compiled()
    self.bin_boundaries = _compress(summary,
                                    1.0 / self.num_bins)[0, :-1].tolist()

  def call(self, inputs):
    if self.bin_boundaries is None:
      raise ValueError(
          "You need to either pass the `bin_boundaries` argument at "
          "construction time or call `adapt(dataset)` before you can start "
          "using the `Discretization` layer.")
    inputs = jnp.asarray(inputs)
    ids = jnp.digitize(inputs, jnp.asarray(self.bin_boundaries, jnp.float32))
    out_dtype = self.compute_dtype
    return _base.encode_categorical(jnp, ids.astype(jnp.int32),
                                    self.output_mode,
                                    len(self.bin_boundaries) + 1, out_dtype)

  def get_config(self):
    return {**super().get_config(), "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins, "epsilon": self.epsilon,
            "output_mode": self.output_mode, "sparse": self.sparse}

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    if config.get("bin_boundaries") is not None and (
        config.get("num_bins") is not None):
      boundaries = config.pop("bin_boundaries")
      layer = cls(**config)
      layer.bin_boundaries = boundaries
      return layer
    return cls(**config)
