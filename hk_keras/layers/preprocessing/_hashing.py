"""`Hashing` and `HashedCrossing`: values to bins with Keras 3's hashes.

Keras hashes the string form of each value (integers in decimal, floats
truncated to integers first) with FarmHash Fingerprint64, or SipHash-2-4
when a `salt` is given; crossings combine the per-feature fingerprints with
`FingerprintCat64` under TensorFlow's `cross_hashed` key (strings enter by
their fingerprint, integers by their value). These run on the
host; inside a compiled step numbers are hashed by a `jax.pure_callback`.
"""
import jax
import jax.numpy as jnp
import numpy as np

from .._layer import Layer
from . import _base
from . import _farmhash

_MASK = (1 << 64) - 1
_CROSS_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash key
_CAT_MUL = 0xc6a4a7935bd1e995


def _token_bytes(value) -> bytes:
  if isinstance(value, bytes):
    return value
  if isinstance(value, (str, np.str_)):
    return str(value).encode("utf-8")
  return str(int(value)).encode("ascii")


def hash_to_bins(values: np.ndarray, num_bins: int, salt=None) -> np.ndarray:
  """Bin ids in `[0, num_bins)` of an array of strings or numbers (host)."""
  values = np.asarray(values)
  if values.dtype.kind == "f":
    values = values.astype(np.int64)
  flat = values.reshape(-1)
  uniques, inverse = np.unique(flat, return_inverse=True)
  if salt is None:
    hashed = [_farmhash.fingerprint64(_token_bytes(u)) % num_bins
              for u in uniques.tolist()]
  else:
    hashed = [_farmhash.siphash24(_token_bytes(u), salt) % num_bins
              for u in uniques.tolist()]
  return np.asarray(hashed, np.int32)[inverse].reshape(values.shape)


def hash_numbers_in_trace(x, num_bins, salt=None):
  """`hash_to_bins` on a traced numeric array, through a host callback."""
  def host(v):
    return hash_to_bins(np.asarray(v), num_bins, salt)
  return jax.pure_callback(
      host, jax.ShapeDtypeStruct(x.shape, jnp.int32), x,
      vmap_method="sequential")


def _normalize_salt(salt):
  if salt is None:
    return None
  if isinstance(salt, (tuple, list)) and len(salt) == 2:
    return [int(s) for s in salt]
  if isinstance(salt, int) and not isinstance(salt, bool):
    return [salt, salt]
  raise ValueError(
      "The `salt` argument for `Hashing` can only be a tuple of size 2 "
      f"integers, or a single integer. Received: salt={salt!r}.")


class Hashing(_base.HostLayer):
  """Hashes strings or integers into `num_bins` bins (Keras 3's hash).

  String inputs are hashed on the host (call the layer on data, or place it
  first in a `Sequential` model). Inside a model on numeric inputs the same
  hash runs from the compiled step through a host callback.

  >>> layer = Hashing(num_bins=3)
  >>> layer(np.array([["A"], ["B"], ["C"], ["D"], ["E"]])).tolist()
  [[1], [0], [1], [1], [2]]

  Args:
    num_bins: the number of bins, the mask bin included.
    mask_value: a value that maps to bin 0 (the others to `[1, num_bins)`).
    salt: an int or a pair of ints: use SipHash with this key.
    output_mode: "int", "one_hot", "multi_hot" or "count".
    sparse: must be False.
  """

  def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int",
               sparse=False, **kwargs):
    if kwargs.get("dtype") is None:
      kwargs["dtype"] = "int32" if output_mode == "int" else "float32"
    kwargs.setdefault("autocast", False)  # dtype names the output only
    super().__init__(**kwargs)
    if num_bins is None or num_bins <= 0:
      raise ValueError(
          "The `num_bins` for `Hashing` cannot be `None` or non-positive "
          f"values. Received: num_bins={num_bins}.")
    _base.check_output_mode(output_mode,
                            ("int", "one_hot", "multi_hot", "count"))
    if output_mode == "int" and self.dtype not in ("int32", "int64"):
      raise ValueError(
          "When `output_mode=\"int\"`, `dtype` should be an integer type, "
          f"'int32' or 'int64'. Received: dtype={self.dtype}")
    if sparse:
      raise ValueError(
          "sparse=True is not supported in hk_keras (dense JAX arrays only).")
    self.num_bins = int(num_bins)
    self.mask_value = mask_value
    self.salt = _normalize_salt(salt)
    self.output_mode = output_mode
    self.sparse = False
    self._host_applied = False

  def _bins(self, xp, values, hashed):
    if self.mask_value is not None and self.num_bins > 1:
      hashed = xp.where(values == self.mask_value, 0, hashed + 1)
    out_dtype = np.int32 if self.output_mode == "int" else np.float32
    return _base.encode_categorical(xp, hashed, self.output_mode,
                                    self.num_bins, out_dtype)

  def _num_hash_bins(self):
    if self.mask_value is not None and self.num_bins > 1:
      return self.num_bins - 1
    return self.num_bins

  def _numeric_in_graph(self, args):
    return True  # symbolic inputs are numeric (no string Inputs)

  def host_call(self, inputs):
    values = np.asarray(inputs)
    if values.dtype.kind in ("S", "O"):
      values = _base.to_str_array(values)
    hashed = hash_to_bins(values, self._num_hash_bins(), self.salt)
    out = self._bins(np, values, hashed)
    return out if values.dtype.kind == "U" else jnp.asarray(out)

  def call(self, inputs, training=False):
    del training
    if self._host_applied:
      return inputs  # the engine hashed this batch on the host already
    hashed = hash_numbers_in_trace(inputs, self._num_hash_bins(), self.salt)
    return self._bins(jnp, inputs, hashed)

  def get_config(self):
    return {**super().get_config(), "num_bins": self.num_bins,
            "salt": self.salt, "mask_value": self.mask_value,
            "output_mode": self.output_mode, "sparse": self.sparse}


def _cat64(fp1: int, fp2: int) -> int:
  result = fp1 ^ _CAT_MUL
  t = (fp2 * _CAT_MUL) & _MASK
  result ^= ((t ^ (t >> 47)) * _CAT_MUL) & _MASK
  result = (result * _CAT_MUL) & _MASK
  result = ((result ^ (result >> 47)) * _CAT_MUL) & _MASK
  return result ^ (result >> 47)


def cross_to_bins(features, num_bins: int) -> np.ndarray:
  """Hashed crosses of same-shaped feature arrays (host)."""
  arrays = [np.asarray(f) for f in features]
  shape = arrays[0].shape
  columns = []
  for a in arrays:
    if a.dtype.kind in ("S", "O"):
      a = _base.to_str_array(a)
    columns.append(a.reshape(-1).tolist())
  out = np.empty(len(columns[0]), np.int32)
  cache = {}
  for i, row in enumerate(zip(*columns)):
    h = _CROSS_KEY
    for value in row:
      if isinstance(value, str):
        fp = cache.get(value)
        if fp is None:
          fp = cache[value] = _farmhash.fingerprint64(value.encode("utf-8"))
      else:
        fp = int(value) & _MASK
      h = _cat64(h, fp)
    out[i] = h % num_bins
  return out.reshape(shape)


class HashedCrossing(Layer):
  """Crosses two or more categorical features into `num_bins` hashed bins.

  Keras 3's (TensorFlow's `cross_hashed`) hash of the tuple of values.
  Runs on the host when called on data; inside a model the hash is a host
  callback from the compiled step (numeric features).

  >>> layer = HashedCrossing(num_bins=5)
  >>> np.asarray(layer((np.array(["A", "B", "A", "B", "A"]),
  ...                   np.array([101, 101, 101, 102, 102])))).tolist()
  [1, 4, 1, 1, 3]

  Args:
    num_bins: the number of bins.
    output_mode: "int" or "one_hot".
    sparse: must be False.
  """

  def __init__(self, num_bins, output_mode="int", sparse=False, name=None,
               dtype=None, **kwargs):
    if dtype is None:
      dtype = "int32" if output_mode == "int" else "float32"
    kwargs.setdefault("autocast", False)  # dtype names the output only
    super().__init__(name=name, dtype=dtype, **kwargs)
    _base.check_output_mode(output_mode, ("int", "one_hot"))
    if sparse:
      raise ValueError(
          "sparse=True is not supported in hk_keras (dense JAX arrays only).")
    self.num_bins = int(num_bins)
    self.output_mode = output_mode
    self.sparse = False

  def _check(self, inputs):
    if not isinstance(inputs, (tuple, list)) or len(inputs) < 2:
      raise ValueError(
          "`HashedCrossing` should be called on a list or tuple of at least "
          f"two inputs. Received: inputs={inputs!r}")
    shapes = {tuple(np.shape(x)) for x in inputs}
    if len(shapes) > 1:
      raise ValueError(
          "All `HashedCrossing` inputs should have the same shape. Received: "
          f"shapes {sorted(shapes)}")
    if len(next(iter(shapes))) > 2:
      raise ValueError(
          "All `HashedCrossing` inputs should have rank 0, 1 or 2 (dense). "
          f"Received: shape {next(iter(shapes))}")

  def _encode(self, xp, ids):
    out_dtype = np.int32 if self.output_mode == "int" else np.float32
    return _base.encode_categorical(xp, ids, self.output_mode, self.num_bins,
                                    out_dtype)

  def __call__(self, *args, **kwargs):
    from ..._core import _context  # pylint: disable=g-import-not-at-top
    from .. import _input  # pylint: disable=g-import-not-at-top
    if (args and _context.current() is None
        and not _input.any_symbolic((args, kwargs))):
      self._check(args[0])
      return jnp.asarray(self._encode(np, cross_to_bins(args[0],
                                                         self.num_bins)))
    return super().__call__(*args, **kwargs)

  def call(self, inputs):
    self._check(inputs)
    inputs = tuple(inputs)
    num_bins = self.num_bins
    ids = jax.pure_callback(
        lambda *f: cross_to_bins(f, num_bins),
        jax.ShapeDtypeStruct(inputs[0].shape, jnp.int32), *inputs,
        vmap_method="sequential")
    return self._encode(jnp, ids)

  def get_config(self):
    return {**super().get_config(), "num_bins": self.num_bins,
            "output_mode": self.output_mode, "sparse": self.sparse}
