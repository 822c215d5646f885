"""What the preprocessing layers share: adapt data, host layers, encoding.

Two kinds of preprocessing layers exist in hk_keras:

- numeric layers (`Normalization`, image augmentation, ...) are ordinary
  layers: they run inside the model's Haiku transform, so inside the
  compiled train step;
- host layers (`StringLookup`, `TextVectorization`, string `Hashing`) work on
  strings, which XLA cannot hold. They run on the host in NumPy: when called
  on data directly, or, placed first in a `Sequential` model, on the batch
  before the compiled step (see `hk_keras/_engine/_host_inputs.py`). Inside
  a trace they receive the already converted numbers and pass them through.
"""
import itertools
from typing import Any, Iterator

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from .. import _input
from .._layer import Layer

_ADAPT_TYPES = (
    "adapt() takes a NumPy array (or a list / nested list convertible to "
    "one), a generator or iterable of batches, or a PyDataset-like object "
    "(`__getitem__` and `__len__`, items `x` or `(x, y)`). Received: {kind}.")


def _first(batch):
  """The `x` of an `(x, y[, sample_weight])` batch."""
  if isinstance(batch, tuple):
    return batch[0]
  return batch


def adapt_batches(data, steps=None,
                  list_is_batches=False) -> Iterator[np.ndarray]:
  """Yields the batches of adapt data as NumPy arrays.

  An array is one batch (a list too, unless `list_is_batches`: Keras's
  `Normalization` reads a list as a list of batches); an iterable yields
  batches; an object with `__getitem__` and `__len__` (a `PyDataset`) is
  indexed.

  Raises:
    TypeError: for data of another kind.
    ValueError: for an iterable without batches.
  """
  if isinstance(data, (str, bytes, dict)):
    raise TypeError(_ADAPT_TYPES.format(kind=type(data).__name__))
  if isinstance(data, list) and list_is_batches:
    data = iter(data)
  if isinstance(data, (np.ndarray, jax.Array, list)) or np.isscalar(data):
    yield _to_numpy(data)
    return
  if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
    count = len(data) if steps is None else min(len(data), steps)
    for i in range(count):
      yield _to_numpy(_first(data[i]))
    return
  if hasattr(data, "__iter__"):
    iterator = iter(data)
    batches = iterator if steps is None else itertools.islice(iterator, steps)
    any_batch = False
    for batch in batches:
      any_batch = True
      yield _to_numpy(_first(batch))
    if not any_batch:
      raise ValueError(
          "adapt() received an empty iterable (no batches). Pass at least one "
          "batch, e.g. layer.adapt(x) or layer.adapt([x_batch]).")
    return
  raise TypeError(_ADAPT_TYPES.format(kind=type(data).__name__))


def _to_numpy(x) -> np.ndarray:
  x = np.asarray(x)
  if x.dtype.kind == "O" or x.dtype.kind == "S":
    x = to_str_array(x)
  return x


def to_str_array(x) -> np.ndarray:
  """A NumPy unicode array from strings, bytes or a nested list of them."""
  x = np.asarray(x)
  if x.dtype.kind == "U":
    return x
  if x.dtype.kind in ("S", "O"):
    flat = [v.decode("utf-8") if isinstance(v, bytes) else str(v)
            for v in x.reshape(-1)]
    return np.asarray(flat, dtype=str).reshape(x.shape) if flat else (
        np.zeros(x.shape, dtype="<U1"))
  return x.astype(str)


def is_string_array(x) -> bool:
  return np.asarray(x).dtype.kind in ("U", "S", "O")


def constant_init(value):
  """A Haiku initializer returning `value` (e.g. adapted statistics)."""
  value = np.asarray(value)

  def init(shape, dtype):
    return jnp.broadcast_to(jnp.asarray(value, dtype), shape)
  return init


class HostLayer(Layer):
  """A preprocessing layer that runs on the host in NumPy (string data).

  Subclasses implement `host_call(inputs: np.ndarray) -> np.ndarray`. Called
  on concrete data, the layer runs `host_call`; inside a model trace it
  receives numbers already produced by `host_call` (the engine runs the
  model's leading host layers on each batch before the compiled step) and
  passes them through.
  """

  _runs_on_host = True

  def _numeric_in_graph(self, args) -> bool:
    """Whether a symbolic call is fine (a numeric layer in a graph)."""
    del args
    return False

  def __call__(self, *args, **kwargs):
    if _input.any_symbolic((args, kwargs)):
      if self._numeric_in_graph(args):
        return super().__call__(*args, **kwargs)
      raise TypeError(
          f"{type(self).__name__} runs on the host (it works on strings, "
          "which XLA cannot hold) and cannot be called on a symbolic "
          "hk_keras.Input. Put it first in a Sequential model (which then "
          "accepts string arrays in fit/evaluate/predict), or apply it to the "
          "data before the model: x = layer(strings).")
    from ..._core import _context  # pylint: disable=g-import-not-at-top
    if _context.current() is not None:
      return super().__call__(*args, **kwargs)
    kwargs.pop("training", None)
    if len(args) != 1 or kwargs:
      raise TypeError(
          f"{type(self).__name__} takes one input array. Received "
          f"{len(args)} positional and {sorted(kwargs)} keyword arguments.")
    return self.host_call(args[0])

  def call(self, inputs, training=False):
    del training
    return inputs

  def host_call(self, inputs):
    raise NotImplementedError


# -- categorical encoding shared by CategoryEncoding, lookups and hashing ---

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def one_hot(xp, ids, depth, dtype):
  """One-hot with zeros for out-of-range ids, as `jax.nn.one_hot`."""
  classes = xp.arange(depth).reshape((1,) * ids.ndim + (depth,))
  return (ids[..., None] == classes).astype(dtype)


def encode_categorical(xp, ids, output_mode, depth, dtype, count_weights=None):
  """Keras's categorical encoding of integer `ids` with array module `xp`
  (NumPy on the host, jax.numpy in a trace)."""
  if output_mode == "int":
    return ids.astype(dtype)
  if ids.ndim == 0:
    ids = ids[None]
  if output_mode == "one_hot":
    if ids.ndim > 1 and ids.shape[-1] == 1:
      ids = ids.reshape(ids.shape[:-1])
    return one_hot(xp, ids, depth, dtype)
  axis = 1 if ids.ndim > 1 else 0
  if output_mode == "multi_hot":
    return one_hot(xp, ids, depth, dtype).max(axis=axis)
  if output_mode == "count":
    encoded = one_hot(xp, ids, depth, dtype)
    if count_weights is not None:
      encoded = encoded.astype(count_weights.dtype) * count_weights[..., None]
    return encoded.sum(axis=axis)
  raise ValueError(f"Unknown output_mode {output_mode!r}.")


def check_output_mode(output_mode, allowed):
  if output_mode not in allowed:
    raise ValueError(
        f"Invalid value for argument `output_mode`. Expected one of "
        f"{allowed}. Received: output_mode={output_mode!r}")


def plain(value: Any):
  """A JSON-able copy of a config value (arrays become lists)."""
  if isinstance(value, (np.ndarray, jax.Array)):
    return np.asarray(value).tolist()
  if isinstance(value, tuple):
    return list(value)
  return value


def _as_arrays(value):
  if isinstance(value, dict):
    return {k: _as_arrays(v) for k, v in value.items()}
  if isinstance(value, (np.ndarray, jax.Array)):
    return value
  return np.asarray(value)


class JitWhenEager:
  """Mixin for weightless layers: called on concrete data outside a model,
  the layer runs as one cached `jax.jit` (with a fresh RNG key per call)
  instead of op by op. Subclasses whose constants change (a new vocabulary
  or boundaries) call `_forget_compiled()`."""

  def __call__(self, *args, **kwargs):
    from ..._core import _context  # pylint: disable=g-import-not-at-top
    if _input.any_symbolic((args, kwargs)) or _context.current() is not None:
      return super().__call__(*args, **kwargs)
    from ... import utils  # pylint: disable=g-import-not-at-top
    training = kwargs.pop("training", None)
    fn = self.__dict__.get("_eager_fn")
    if fn is None:
      def pure(key, call_args, call_kwargs, training):
        def run():
          kw = dict(call_kwargs)
          if training is not None:
            kw["training"] = training
          return self._call_with_autocast(call_args, kw)
        return hk.transform(run).apply({}, key)
      fn = jax.jit(pure, static_argnums=3)
      object.__setattr__(self, "_eager_fn", fn)
    args = tuple(_as_arrays(a) for a in args)
    kwargs = {k: _as_arrays(v) for k, v in kwargs.items()}
    out = fn(utils.next_rng_key(), args, kwargs, training)
    self.built = True  # weightless: nothing else to build
    return out

  def _forget_compiled(self):
    self.__dict__.pop("_eager_fn", None)
