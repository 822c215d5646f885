"""Array helpers of `keras.utils`: `to_categorical`, `normalize`,
`pad_sequences`, `pack_x_y_sample_weight`, `unpack_x_y_sample_weight`."""
from typing import Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np


def to_categorical(x, num_classes: Optional[int] = None) -> np.ndarray:
  """Class vector (integers) -> one-hot matrix, as Keras.

  A trailing axis of size 1 is dropped first (`(N, 1)` labels give `(N,
  num_classes)`).

  Args:
    x: integer class labels, 0 to `num_classes - 1`.
    num_classes: the number of classes; default `max(x) + 1`.

  Returns:
    A float64 NumPy array, as Keras gives for NumPy input (a float32 jax
    array for jax input), of shape
    `x.shape + (num_classes,)`.

  Raises:
    ValueError: if a label is negative or not below `num_classes`.

  >>> to_categorical([0, 2], num_classes=3)
  array([[1., 0., 0.],
         [0., 0., 1.]])
  """
  as_jax = isinstance(x, jax.Array)
  labels = np.asarray(x)
  if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
    raise ValueError(
        "to_categorical expects integer class labels. Received values such "
        f"as {labels.ravel()[:3].tolist()}")
  labels = labels.astype("int64")
  shape = labels.shape
  if len(shape) > 1 and shape[-1] == 1:
    shape = shape[:-1]
  labels = labels.reshape(-1)
  if num_classes is None:
    num_classes = int(labels.max()) + 1 if labels.size else 0
  if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
    raise ValueError(
        f"to_categorical: labels must be in [0, {num_classes}) for "
        f"num_classes={num_classes}. Received labels from {labels.min()} to "
        f"{labels.max()}.")
  out = np.zeros((labels.size, num_classes), np.float64)
  out[np.arange(labels.size), labels] = 1.0
  out = out.reshape(tuple(shape) + (num_classes,))
  return jnp.asarray(out, jnp.float32) if as_jax else out


def normalize(x, axis: int = -1, order: int = 2):
  """Divides `x` by its `order`-norm along `axis` (zero norms stay 0).

  >>> normalize(np.array([[3.0, 4.0]]))
  array([[0.6, 0.8]])
  """
  if isinstance(x, jax.Array):
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.where(norm == 0, 1, norm).astype(x.dtype)
  x = np.asarray(x)
  norm = np.atleast_1d(np.linalg.norm(x, order, axis))
  norm[norm == 0] = 1
  return x / np.expand_dims(norm, axis if axis is not None else -1)


def pad_sequences(sequences: Sequence, maxlen: Optional[int] = None,
                  dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
  """Pads (or truncates) sequences to one length, as Keras.

  Args:
    sequences: a list of sequences (lists or arrays; items may be vectors).
    maxlen: the output length; default the longest sequence.
    dtype: the output dtype (strings are allowed, as in Keras).
    padding: "pre" or "post": where the padding goes.
    truncating: "pre" or "post": which end longer sequences lose.
    value: the padding value.

  Returns:
    A NumPy array of shape `(len(sequences), maxlen) + item_shape`.

  Raises:
    ValueError: on a bad `padding`/`truncating`, a non-iterable sequence or
      items of different shapes.

  >>> pad_sequences([[1, 2], [3]])
  array([[1, 2],
         [0, 3]], dtype=int32)
  """
  if not hasattr(sequences, "__len__"):
    raise ValueError("`sequences` must be iterable. Received: "
                     f"sequences={sequences!r}")
  for name, arg in (("padding", padding), ("truncating", truncating)):
    if arg not in ("pre", "post"):
      raise ValueError(
          f'{name} must be "pre" or "post". Received: {name}={arg!r}')
  lengths, item_shape = [], None
  for i, seq in enumerate(sequences):
    try:
      lengths.append(len(seq))
    except TypeError:
      raise ValueError(
          "`sequences` must be a list of iterables. Found non-iterable "
          f"{seq!r} at index {i}.") from None
    if len(seq) and item_shape is None:
      item_shape = np.asarray(seq).shape[1:]
  item_shape = item_shape or ()
  if maxlen is None:
    maxlen = max(lengths) if lengths else 0
  is_str = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(
      np.dtype(dtype), np.object_)
  if isinstance(value, str) and not is_str:
    raise ValueError(
        f"`dtype` {dtype} is not compatible with `value`'s type "
        f"{type(value)}. Pass dtype=object for string padding.")
  out = np.full((len(sequences), maxlen) + tuple(item_shape), value,
                dtype=dtype)
  for i, seq in enumerate(sequences):
    if not len(seq) or maxlen == 0:
      continue
    seq = np.asarray(seq, dtype=dtype)
    trunc = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
    if trunc.shape[1:] != tuple(item_shape):
      raise ValueError(
          f"Shape of sample {trunc.shape[1:]} of sequence at position {i} "
          f"is different from expected shape {tuple(item_shape)}.")
    if padding == "post":
      out[i, :len(trunc)] = trunc
    else:
      out[i, -len(trunc):] = trunc
  return out


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
  """`(x,)`, `(x, y)` or `(x, y, sample_weight)`: the batch tuple `fit` reads.

  A lone `x` that is itself a tuple or list is wrapped in a 1-tuple so that
  it is not taken for `(x, y)`, as in Keras.
  """
  if y is None:
    if not isinstance(x, (tuple, list)):
      return x
    return (x,)
  if sample_weight is None:
    return (x, y)
  return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
  """A batch -> `(x, y, sample_weight)` with None for the missing parts.

  Raises:
    ValueError: for a tuple of more than three elements.
  """
  if isinstance(data, list):
    data = tuple(data)
  if not isinstance(data, tuple):
    return (data, None, None)
  if len(data) == 1:
    return (data[0], None, None)
  if len(data) == 2:
    return (data[0], data[1], None)
  if len(data) == 3:
    return (data[0], data[1], data[2])
  raise ValueError(
      "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, "
      f"sample_weight)`, found a tuple of {len(data)} elements: {data!r}")
