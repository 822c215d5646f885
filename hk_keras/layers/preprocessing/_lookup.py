"""`StringLookup` and `IntegerLookup`: vocabulary lookups with OOV buckets.

The vocabulary, Keras's special tokens and `adapt` follow Keras 3's
`IndexLookup`: ids are `[mask][oov * num_oov_indices][tokens...]`, adapted
tokens are ordered by count (descending), ties by token (descending), and
OOV tokens beyond one bucket are hashed (FarmHash) or, for integers,
`floormod`-ed into the buckets. `StringLookup` runs on the host (NumPy);
`IntegerLookup` runs in the compiled step with its vocabulary as a constant.
"""
import collections
import os
from typing import List, Optional

import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from . import _base
from . import _farmhash

_NO_VOCABULARY = (
    "Layer {name!r} ({cls}) has no vocabulary yet. Pass `vocabulary=` to the "
    "constructor, call `set_vocabulary(...)`, or call `adapt(data)` before "
    "using the layer.")


class _LookupState:
  """Vocabulary, special tokens, adapt and config shared by the lookups."""

  _vocabulary_dtype = "string"

  def _init_lookup(self, max_tokens, num_oov_indices, mask_token, oov_token,
                   vocabulary, idf_weights, invert, output_mode,
                   pad_to_max_tokens, sparse, salt, oov_method="farmhash"):
    if max_tokens is not None and max_tokens <= 1:
      raise ValueError(
          "If set, `max_tokens` must be greater than 1. Received: "
          f"max_tokens={max_tokens}")
    if num_oov_indices < 0:
      raise ValueError(
          "`num_oov_indices` must be greater than or equal to 0. Received: "
          f"num_oov_indices={num_oov_indices}")
    if output_mode == "tf-idf":
      output_mode = "tf_idf"
    if output_mode == "binary":
      output_mode = "multi_hot"
    _base.check_output_mode(output_mode, _base.OUTPUT_MODES)
    if invert and output_mode != "int":
      raise ValueError(
          "`output_mode` must be `'int'` when `invert` is true. Received: "
          f"output_mode={output_mode!r}")
    if sparse:
      raise ValueError(
          "sparse=True is not supported in hk_keras (JAX arrays are dense; "
          "Keras supports it only with the TensorFlow backend). Pass "
          "sparse=False.")
    if pad_to_max_tokens and max_tokens is None:
      raise ValueError(
          "If pad_to_max_tokens is True, must set `max_tokens`. Received: "
          f"max_tokens={max_tokens}")
    if idf_weights is not None and output_mode != "tf_idf":
      raise ValueError(
          "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
          f"Received: idf_weights={idf_weights} and "
          f"output_mode={output_mode!r}")
    if salt is not None:
      if isinstance(salt, int):
        salt = [salt, salt]
      elif not (isinstance(salt, (list, tuple)) and len(salt) == 2):
        raise ValueError(
            "`salt` must be an int or a pair of ints. Received: "
            f"salt={salt!r}")
      salt = [int(s) for s in salt]
    self.max_tokens = max_tokens
    self.num_oov_indices = int(num_oov_indices)
    self.mask_token = mask_token
    self.oov_token = oov_token
    self.invert = bool(invert)
    self.output_mode = output_mode
    self.pad_to_max_tokens = bool(pad_to_max_tokens)
    self.sparse = False
    self.salt = salt
    self.oov_method = oov_method
    self.input_vocabulary = vocabulary
    self.input_idf_weights = idf_weights
    self._tokens: List = []
    self._idf = None
    if vocabulary is not None:
      self.set_vocabulary(vocabulary, idf_weights)
    elif output_mode == "tf_idf" and idf_weights is not None:
      raise ValueError(
          "`idf_weights` needs a `vocabulary` of the same length.")

  # -- indices ---------------------------------------------------------------
  def _oov_start_index(self) -> int:
    return 1 if self.mask_token is not None and self.output_mode == "int" else 0

  def _token_start_index(self) -> int:
    return self._oov_start_index() + self.num_oov_indices

  def vocabulary_size(self) -> int:
    """The vocabulary size, mask and OOV indices included."""
    return len(self._tokens) + self._token_start_index()

  def get_vocabulary(self, include_special_tokens: bool = True) -> list:
    """The vocabulary; with special tokens, index i is the token of id i."""
    vocab = ([self.mask_token] * self._oov_start_index()
             + [self.oov_token] * self.num_oov_indices + list(self._tokens))
    if not include_special_tokens:
      vocab = vocab[self._token_start_index():]
    return vocab

  def _depth(self) -> int:
    if self.pad_to_max_tokens:
      return int(self.max_tokens)
    return self.vocabulary_size()

  def _cast_token(self, token):
    return str(token) if self._vocabulary_dtype == "string" else int(token)

  # -- setting the vocabulary ------------------------------------------------
  def set_vocabulary(self, vocabulary, idf_weights=None):
    """Sets the vocabulary (and idf weights for `output_mode="tf_idf"`).

    Args:
      vocabulary: a list or 1D array of tokens, or the path of a text file
        with one token per line. It may start with the special tokens (mask,
        then OOV) in exactly that order.
      idf_weights: the inverse document frequency of each token, for
        `"tf_idf"` only.

    Raises:
      ValueError: on repeated tokens, misplaced special tokens, a vocabulary
        larger than `max_tokens`, or idf weights that do not fit.
    """
    if self.output_mode == "tf_idf" and idf_weights is None:
      raise ValueError(
          "`idf_weights` must be set if output_mode is 'tf_idf'.")
    if self.output_mode != "tf_idf" and idf_weights is not None:
      raise ValueError(
          "`idf_weights` should only be set if output_mode is 'tf_idf'. "
          f"Received: output_mode={self.output_mode!r}")
    if isinstance(vocabulary, str):
      if not os.path.isfile(vocabulary):
        raise ValueError(
            f"Vocabulary file {vocabulary!r} does not exist. Pass a list of "
            "tokens or the path of a text file with one token per line.")
      with open(vocabulary, encoding="utf-8") as f:
        vocabulary = [line for line in f.read().splitlines()]
      while vocabulary and vocabulary[-1] == "":
        vocabulary.pop()
    vocabulary = [self._cast_token(t.decode("utf-8") if isinstance(t, bytes)
                                   else t) for t in np.asarray(
                                       vocabulary, dtype=object).reshape(-1)]
    special = ([self.mask_token] * self._oov_start_index()
               + [self.oov_token] * self.num_oov_indices)
    start = self._token_start_index()
    found_special = bool(special) and vocabulary[:start] == special
    tokens = vocabulary[start:] if found_special else vocabulary
    repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
    if repeated:
      raise ValueError(
          "The passed vocabulary has at least one repeated term. Please "
          f"uniquify your dataset. The repeated terms are: {sorted(repeated)}")
    if self.mask_token is not None and self.mask_token in tokens:
      raise ValueError(
          f"Found reserved mask token {self.mask_token!r} at an unexpected "
          "location in `vocabulary`. Either remove all mask and OOV tokens, "
          f"or include them only at the start in this order: {special}.")
    if self.invert and self.oov_token is not None and self.oov_token in tokens:
      raise ValueError(
          f"Found reserved OOV token {self.oov_token!r} at an unexpected "
          "location in `vocabulary`. Either remove all mask and OOV tokens, "
          f"or include them only at the start in this order: {special}.")
    if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
      raise ValueError(
          "Attempted to set a vocabulary larger than the maximum vocab size. "
          f"Received vocabulary size is {start + len(tokens)}; `max_tokens` "
          f"is {self.max_tokens}.")
    self._tokens = tokens
    if self.output_mode == "tf_idf":
      idf = np.asarray(idf_weights, np.float32).reshape(-1)
      if len(idf) != len(vocabulary):
        raise ValueError(
            "`idf_weights` must be the same length as vocabulary. "
            f"len(idf_weights) is {len(idf)}; len(vocabulary) is "
            f"{len(vocabulary)}")
      front = 0 if found_special else start
      back = (self.max_tokens - front - len(idf)) if (
          self.pad_to_max_tokens) else 0
      idf = np.pad(idf, (front, back), constant_values=(
          float(np.average(idf)) if front else 0.0, 0.0))
      self._idf = idf.astype(np.float32)
    self._vocabulary_changed()

  def _vocabulary_changed(self):
    """Hook: the lookup tables derived from the vocabulary are stale."""
    forget = getattr(self, "_forget_compiled", None)
    if forget is not None:
      forget()

  # -- adapt -----------------------------------------------------------------
  def adapt(self, data, steps: Optional[int] = None):
    """Builds the vocabulary from data: tokens by frequency, as Keras.

    Args:
      data: an array, a generator / iterable of batches, or a PyDataset-like
        object. A 1D batch counts as one document (for tf_idf).
      steps: the number of batches to read from an iterable.
    """
    if self.input_vocabulary is not None:
      raise ValueError(
          f"Cannot adapt layer {self.name!r} after setting a static vocabulary "
          "via the `vocabulary` argument.")
    counts = collections.Counter()
    doc_counts = collections.Counter()
    num_documents = 0
    for batch in _base.adapt_batches(data, steps):
      for row in self._adapt_rows(batch):
        counts.update(row)
        if self.output_mode == "tf_idf":
          doc_counts.update(set(row))
          num_documents += 1
    for special in (self.mask_token, self.oov_token):
      if special is not None:
        counts.pop(special, None)
        doc_counts.pop(special, None)
    # Count descending, ties by token descending (Keras's lexsort reversed).
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]),
                     reverse=True)
    if self.max_tokens:
      ordered = ordered[:self.max_tokens - self._token_start_index()]
    self._tokens = [t for t, _ in ordered]
    if self.output_mode == "tf_idf":
      docs = np.asarray([doc_counts[t] for t in self._tokens], np.float64)
      idf = np.log(1 + num_documents / (1 + docs)).astype(np.float32)
      mean = float(np.mean(idf)) if len(idf) else float("nan")
      idf = np.pad(idf, (self._token_start_index(), 0), constant_values=mean)
      if self.pad_to_max_tokens and self.max_tokens is not None:
        idf = np.pad(idf, (0, self.max_tokens - len(idf)))
      self._idf = idf.astype(np.float32)
    self._vocabulary_changed()

  def _adapt_tokens(self, batch):
    return batch

  def _adapt_rows(self, batch):
    """The documents (lists of tokens) of an adapt batch: a 1D batch is one
    document, as in Keras."""
    batch = self._adapt_tokens(batch)
    if batch.ndim <= 1:
      return [batch.reshape(-1).tolist()]
    return batch.reshape(batch.shape[0], -1).tolist()

  def _check_ready(self):
    if not self._tokens and self.output_mode != "int" and (
        not self.pad_to_max_tokens):
      raise RuntimeError(
          f"When using `output_mode={self.output_mode}` and "
          "`pad_to_max_tokens=False`, you must set the layer's vocabulary "
          "before calling it. Either pass a `vocabulary` argument to the "
          "layer, or call `adapt` with some sample data.")

  def _encode(self, xp, ids):
    if self.output_mode == "int":
      return ids
    out = _base.encode_categorical(
        xp, ids, "count" if self.output_mode == "tf_idf" else (
            self.output_mode), self._depth(), np.float32)
    if self.output_mode == "tf_idf":
      idf = xp.asarray(self._idf)
      out = out * idf.reshape((1,) * (out.ndim - 1) + idf.shape)
    return out

  # -- config ----------------------------------------------------------------
  def _lookup_config(self):
    # The vocabulary (adapted or given) is data: it travels in the config,
    # so a saved model reloads with it.
    vocabulary = self.get_vocabulary() if (
        self._tokens or self.input_vocabulary is not None) else None
    idf = self._idf.tolist() if self._idf is not None else None
    if idf is not None and self.pad_to_max_tokens and vocabulary is not None:
      idf = idf[:len(vocabulary)]
    return {
        "invert": self.invert, "max_tokens": self.max_tokens,
        "num_oov_indices": self.num_oov_indices,
        "oov_token": self.oov_token, "mask_token": self.mask_token,
        "output_mode": self.output_mode, "sparse": self.sparse,
        "pad_to_max_tokens": self.pad_to_max_tokens,
        "vocabulary_dtype": self._vocabulary_dtype,
        "idf_weights": idf, "vocabulary": vocabulary,
        "vocabulary_size": self.vocabulary_size(), "salt": self.salt,
    }


class StringLookup(_LookupState, _base.HostLayer):
  """Maps strings to integer ids from a vocabulary (Keras 3 semantics).

  Runs on the host in NumPy (see docs/preprocessing.md): call it on data, or
  put it first in a `Sequential` model, which then accepts string arrays.

  >>> layer = StringLookup(vocabulary=["a", "b", "c"])
  >>> layer(np.array([["a", "c"], ["d", "b"]])).tolist()
  [[1, 3], [0, 2]]

  Args:
    max_tokens: the maximum vocabulary size, special tokens included.
    num_oov_indices: the number of out-of-vocabulary buckets (hashed).
    mask_token: the token of id 0 (None: no mask).
    oov_token: the token returned by `invert=True` for OOV ids.
    vocabulary: a list of tokens or the path of a text file.
    idf_weights: for `output_mode="tf_idf"` with a given vocabulary.
    invert: map ids back to tokens.
    output_mode: "int", "one_hot", "multi_hot", "count" or "tf_idf".
    pad_to_max_tokens: pad encoded outputs to `max_tokens`.
    sparse: must be False (JAX has no sparse outputs here).
    encoding: the text encoding of bytes inputs.
    salt: a SipHash key for the OOV buckets instead of FarmHash.
  """

  def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
               oov_token="[UNK]", vocabulary=None, idf_weights=None,
               invert=False, output_mode="int", pad_to_max_tokens=False,
               sparse=False, encoding="utf-8", name=None, salt=None,
               **kwargs):
    kwargs.pop("vocabulary_dtype", None)
    kwargs.pop("vocabulary_size", None)
    super().__init__(name=name, **kwargs)
    self.encoding = encoding
    self._index = {}
    self._init_lookup(max_tokens, num_oov_indices, mask_token, oov_token,
                      vocabulary, idf_weights, invert, output_mode,
                      pad_to_max_tokens, sparse, salt)

  def _vocabulary_changed(self):
    start = self._token_start_index()
    self._index = {t: i + start for i, t in enumerate(self._tokens)}

  def _adapt_tokens(self, batch):
    return _base.to_str_array(batch)

  def host_call(self, inputs):
    self._check_ready()
    if self.invert:
      return self._invert(np.asarray(inputs))
    strings = _base.to_str_array(inputs)
    ids = self.lookup_strings(strings)
    return self._encode(np, ids)

  def lookup_strings(self, strings: np.ndarray) -> np.ndarray:
    """Integer ids of a string array (mask, OOV buckets and vocabulary)."""
    uniques, inverse = np.unique(strings.reshape(-1), return_inverse=True)
    table = np.empty(len(uniques), np.int32)
    oov_start = self._oov_start_index()
    mask_id = 0 if self.output_mode == "int" else -1
    for i, token in enumerate(uniques.tolist()):
      if self.mask_token is not None and token == self.mask_token:
        table[i] = mask_id
      elif token in self._index:
        table[i] = self._index[token]
      elif self.num_oov_indices == 0:
        raise ValueError(
            "When `num_oov_indices=0` all inputs should be in vocabulary, "
            f"found OOV value {token!r}, consider setting "
            "`num_oov_indices=1`.")
      elif self.num_oov_indices == 1:
        table[i] = oov_start
      else:
        raw = token.encode(self.encoding)
        h = (_farmhash.siphash24(raw, self.salt) if self.salt is not None
             else _farmhash.fingerprint64(raw))
        table[i] = oov_start + h % self.num_oov_indices
    return table[inverse].reshape(strings.shape)

  def _invert(self, ids):
    vocab = np.asarray(self.get_vocabulary(), dtype=object)
    ids = ids.astype(np.int64)
    inside = (ids >= 0) & (ids < len(vocab))
    out = np.where(inside, vocab[np.clip(ids, 0, max(len(vocab) - 1, 0))],
                   self.oov_token)
    return out.astype(str)

  def get_config(self):
    return {**_base.HostLayer.get_config(self), **self._lookup_config(),
            "encoding": self.encoding}


class IntegerLookup(_LookupState, _base.JitWhenEager, Layer):
  """Maps integers to contiguous ids from a vocabulary (Keras 3 semantics).

  Runs inside the compiled step (the vocabulary is a constant of the trace;
  set or adapt it before building the model).

  >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
  >>> np.asarray(layer(np.array([[12, 1138, 42], [42, 1000, 36]]))).tolist()
  [[1, 3, 4], [4, 0, 2]]

  Args: as `StringLookup`, with integer tokens (`oov_token=-1`), plus
    `oov_method`: "floormod" (default) puts an OOV integer `x` in bucket
    `x % num_oov_indices`; "farmhash" hashes its decimal string.
  """

  _vocabulary_dtype = "int64"

  def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None,
               oov_token=-1, vocabulary=None, vocabulary_dtype="int64",
               idf_weights=None, invert=False, output_mode="int",
               sparse=False, pad_to_max_tokens=False, oov_method="floormod",
               salt=None, name=None, **kwargs):
    kwargs.pop("vocabulary_size", None)
    super().__init__(name=name, **kwargs)
    if vocabulary_dtype not in ("int32", "int64"):
      raise ValueError(
          "`vocabulary_dtype` must be 'int32' or 'int64'. Received: "
          f"vocabulary_dtype={vocabulary_dtype!r}")
    if oov_method not in ("floormod", "farmhash"):
      raise ValueError(
          "`oov_method` must be 'floormod' or 'farmhash'. Received: "
          f"oov_method={oov_method!r}")
    self.vocabulary_dtype = vocabulary_dtype
    self._init_lookup(max_tokens, num_oov_indices, mask_token, oov_token,
                      vocabulary, idf_weights, invert, output_mode,
                      pad_to_max_tokens, sparse, salt, oov_method)

  def _adapt_tokens(self, batch):
    return np.asarray(batch).astype(np.int64)

  def call(self, inputs):
    self._check_ready()
    if self.invert:
      vocab = jnp.asarray(self.get_vocabulary(), jnp.int32)
      ids = inputs.astype(jnp.int32)
      inside = (ids >= 0) & (ids < vocab.shape[0])
      return jnp.where(inside, vocab[jnp.clip(ids, 0, vocab.shape[0] - 1)],
                       self.oov_token)
    x = inputs.astype(jnp.int32)
    ids = self._lookup(x)
    return self._encode(jnp, ids)

  def _lookup(self, x):
    start = self._token_start_index()
    oov_start = self._oov_start_index()
    if self._tokens:
      tokens = np.asarray(self._tokens, np.int64)
      order = np.argsort(tokens, kind="stable")
      keys = jnp.asarray(tokens[order], jnp.int32)
      values = jnp.asarray(order + start, jnp.int32)
      pos = jnp.clip(jnp.searchsorted(keys, x), 0, keys.shape[0] - 1)
      found = keys[pos] == x
      ids = jnp.where(found, values[pos], -1)
    else:
      found = jnp.zeros(x.shape, bool)
      ids = jnp.full(x.shape, -1, jnp.int32)
    if self.num_oov_indices == 1:
      ids = jnp.where(found, ids, oov_start)
    elif self.num_oov_indices > 1:
      if self.oov_method == "floormod":
        buckets = jnp.mod(x, self.num_oov_indices)
      else:
        buckets = _host_int_hash(x, self.num_oov_indices, self.salt)
      ids = jnp.where(found, ids, oov_start + buckets)
    if self.mask_token is not None:
      mask_id = 0 if self.output_mode == "int" else -1
      ids = jnp.where(x == self.mask_token, mask_id, ids)
    return ids

  def get_config(self):
    config = {**Layer.get_config(self), **self._lookup_config()}
    config["vocabulary_dtype"] = self.vocabulary_dtype
    config["oov_method"] = self.oov_method
    return config


def _host_int_hash(x, num_bins, salt):
  from . import _hashing  # pylint: disable=g-import-not-at-top
  return _hashing.hash_numbers_in_trace(x, num_bins, salt)
