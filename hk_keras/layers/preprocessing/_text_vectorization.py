"""`TextVectorization`: strings to token ids or bag-of-words vectors.

Standardize (ASCII lowercasing and Keras's punctuation class, as TensorFlow
does), split (whitespace or characters), n-grams joined by a space, then a
`StringLookup` with mask token `""`. Runs on the host in NumPy.
"""
import re

import numpy as np

from ..._core import _registry
from . import _base
from ._lookup import StringLookup

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                             "abcdefghijklmnopqrstuvwxyz")


def _fn_config(value):
  if callable(value):
    return _registry.get_registered_name(value)
  return value


def _fn_from_config(value, what):
  if value in (None, "lower_and_strip_punctuation", "lower",
               "strip_punctuation", "whitespace", "character"):
    return value
  fn = _registry.get_registered_object(value)
  if fn is None:
    raise ValueError(
        f"TextVectorization: the {what} function {value!r} is not registered. "
        "Decorate it with @hk_keras.saving.register_keras_serializable() in "
        "the loading process (hk_keras never stores code in a file).")
  return fn


class TextVectorization(_base.HostLayer):
  """Maps text to integer sequences or token vectors (Keras 3 semantics).

  Runs on the host in NumPy: call it on string arrays, or put it first in a
  `Sequential` model, which then accepts string arrays in fit / evaluate /
  predict while the rest of the model runs compiled.

  >>> layer = TextVectorization(output_sequence_length=4)
  >>> layer.adapt(["the cat sat", "the dog"])
  >>> layer.get_vocabulary()
  ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
  >>> layer(np.array(["The cat!", "a dog"])).tolist()
  [[2, 5, 0, 0], [1, 4, 0, 0]]

  Args:
    max_tokens: the maximum vocabulary size (mask and OOV included).
    standardize: "lower_and_strip_punctuation", "lower",
      "strip_punctuation", None, or a callable on a NumPy string array.
    split: "whitespace", "character", None, or a callable mapping a NumPy
      string array (one string per row) to a list of token lists.
    ngrams: None, an int n (1..n-grams) or a tuple of widths.
    output_mode: "int", "multi_hot", "count" or "tf_idf".
    output_sequence_length: pad or truncate int outputs to this length
      (otherwise each call pads to its longest row).
    pad_to_max_tokens: pad encoded outputs to `max_tokens`.
    vocabulary, idf_weights: a given vocabulary (list or file path).
    sparse, ragged: must be False (dense NumPy outputs).
    encoding: the encoding of bytes inputs.
  """

  def __init__(self, max_tokens=None,
               standardize="lower_and_strip_punctuation", split="whitespace",
               ngrams=None, output_mode="int", output_sequence_length=None,
               pad_to_max_tokens=False, vocabulary=None, idf_weights=None,
               sparse=False, ragged=False, encoding="utf-8", name=None,
               **kwargs):
    kwargs.pop("vocabulary_size", None)
    super().__init__(name=name, **kwargs)
    if sparse or ragged:
      raise ValueError(
          "`sparse=True` and `ragged=True` are not supported in hk_keras (as "
          "in Keras, they need the TensorFlow backend). Use dense outputs.")
    if not (standardize in (None, "lower_and_strip_punctuation", "lower",
                            "strip_punctuation") or callable(standardize)):
      raise ValueError(
          "`standardize` must be one of None, 'lower_and_strip_punctuation', "
          f"'lower', 'strip_punctuation', or a callable. Received: "
          f"standardize={standardize!r}")
    if not (split in (None, "whitespace", "character") or callable(split)):
      raise ValueError(
          "`split` must be one of None, 'whitespace', 'character', or a "
          f"callable. Received: split={split!r}")
    if output_mode == "binary":
      output_mode = "multi_hot"
    if output_mode == "tf-idf":
      output_mode = "tf_idf"
    _base.check_output_mode(output_mode,
                            ("int", "one_hot", "multi_hot", "count", "tf_idf"))
    if isinstance(ngrams, list):
      ngrams = tuple(ngrams)
    if not (ngrams is None or isinstance(ngrams, int) or (
        isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
      raise ValueError(
          "`ngrams` must be None, an integer, or a tuple of integers. "
          f"Received: ngrams={ngrams}")
    if output_mode == "int" and not (
        output_sequence_length is None or isinstance(output_sequence_length,
                                                     int)):
      raise ValueError(
          "`output_sequence_length` must be either None or an integer when "
          "`output_mode` is 'int'. Received: "
          f"output_sequence_length={output_sequence_length}")
    if output_mode != "int" and output_sequence_length is not None:
      raise ValueError(
          "`output_sequence_length` must not be set if `output_mode` is not "
          f"'int'. Received output_sequence_length={output_sequence_length}.")
    self._max_tokens = max_tokens
    self._standardize = standardize
    self._split = split
    self._ngrams_arg = ngrams
    self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else (
        ngrams)
    self._output_mode = output_mode
    self._output_sequence_length = output_sequence_length
    self._encoding = encoding
    self._lookup_layer = StringLookup(
        max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
        pad_to_max_tokens=pad_to_max_tokens, mask_token="",
        output_mode=output_mode, encoding=encoding,
        name=f"{self.name}_lookup")
    # The tokens of a whole (2D) batch form rows of documents.
    self._lookup_layer._adapt_rows = self._adapt_rows

  # -- tokenizing ------------------------------------------------------------
  def _standardized(self, strings):
    mode = self._standardize
    if callable(mode):
      return _base.to_str_array(mode(strings))
    if mode in ("lower", "lower_and_strip_punctuation"):
      strings = np.vectorize(lambda s: s.translate(_ASCII_LOWER),
                             otypes=[str])(strings) if strings.size else strings
    if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
      strings = np.vectorize(lambda s: _PUNCTUATION.sub("", s),
                             otypes=[str])(strings) if strings.size else strings
    return strings

  def tokenize(self, inputs):
    """Standardizes and splits text: one token list per row (or the
    standardized strings when `split=None`)."""
    strings = _base.to_str_array(inputs)
    strings = self._standardized(strings)
    if self._split is None:
      return strings
    if strings.ndim > 1:
      if strings.shape[-1] != 1:
        raise ValueError(
            "When using `TextVectorization` to tokenize strings, the input "
            "rank must be 1 or the last shape dimension must be 1. Received: "
            f"inputs.shape={strings.shape} with rank={strings.ndim}")
      strings = strings.reshape(strings.shape[:-1])
    if strings.ndim == 0:
      strings = strings[None]
    if self._split == "whitespace":
      rows = [s.split() for s in strings.tolist()]
    elif self._split == "character":
      rows = [list(s) for s in strings.tolist()]
    else:
      rows = [list(r) for r in self._split(strings)]
    if self._ngrams is not None:
      rows = [self._ngrammed(r) for r in rows]
    return rows

  def _ngrammed(self, tokens):
    out = []
    for width in self._ngrams:
      out += [" ".join(tokens[i:i + width])
              for i in range(len(tokens) - width + 1)]
    return out

  def _adapt_rows(self, batch):
    tokens = self.tokenize(batch)
    if isinstance(tokens, np.ndarray):
      return StringLookup._adapt_rows(self._lookup_layer, tokens)
    return tokens

  # -- calling ---------------------------------------------------------------
  def host_call(self, inputs):
    lookup = self._lookup_layer
    lookup._check_ready()
    tokens = self.tokenize(inputs)
    if isinstance(tokens, np.ndarray):
      ids = lookup.lookup_strings(tokens)
      return lookup._encode(np, ids)
    if self._output_mode == "int":
      length = self._output_sequence_length
      if length is None:
        length = max((len(r) for r in tokens), default=0)
      out = np.zeros((len(tokens), length), np.int32)
      for i, row in enumerate(tokens):
        row = row[:length]
        if row:
          out[i, :len(row)] = lookup.lookup_strings(np.asarray(row, dtype=str))
      return out
    depth = lookup._depth()
    out = np.zeros((len(tokens), depth), np.float32)
    for i, row in enumerate(tokens):
      if row:
        ids = lookup.lookup_strings(np.asarray(row, dtype=str))
        out[i] = lookup._encode(np, ids[None])[0] if (
            self._output_mode != "tf_idf") else _tf_idf_row(lookup, ids)
    return out

  # -- vocabulary ------------------------------------------------------------
  def adapt(self, data, batch_size=None, steps=None):
    """Builds the vocabulary from text (arrays, lists, iterables)."""
    del batch_size
    self._lookup_layer.adapt(data, steps=steps)

  def get_vocabulary(self, include_special_tokens=True):
    return self._lookup_layer.get_vocabulary(include_special_tokens)

  def vocabulary_size(self):
    return self._lookup_layer.vocabulary_size()

  def set_vocabulary(self, vocabulary, idf_weights=None):
    self._lookup_layer.set_vocabulary(vocabulary, idf_weights)

  def compute_output_shape(self, input_shape):
    if self._output_mode == "int":
      return (input_shape[0], self._output_sequence_length)
    return (input_shape[0], self._lookup_layer._depth())

  def get_config(self):
    lookup = self._lookup_layer._lookup_config()
    return {
        **super().get_config(), "max_tokens": self._max_tokens,
        "standardize": _fn_config(self._standardize),
        "split": _fn_config(self._split), "ngrams": self._ngrams_arg,
        "output_mode": self._output_mode,
        "output_sequence_length": self._output_sequence_length,
        "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
        "sparse": False, "ragged": False,
        "vocabulary": lookup["vocabulary"],
        "idf_weights": lookup["idf_weights"], "encoding": self._encoding,
        "vocabulary_size": self.vocabulary_size(),
    }

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["standardize"] = _fn_from_config(config.get("standardize"),
                                            "standardize")
    config["split"] = _fn_from_config(config.get("split"), "split")
    return cls(**config)


def _tf_idf_row(lookup, ids):
  counts = np.bincount(ids[ids >= 0], minlength=lookup._depth())
  return counts[:lookup._depth()].astype(np.float32) * lookup._idf
