"""`WeightView`: a weight read inside a trace that can be assigned (Keras 3).

Keras code changes weights inside `call` through the variable it reads:
`self.total.assign_add(x)` (a non-trainable weight made in `__init__`) or
`self.conv.kernel.assign(self.conv.kernel * mask)` (PixelCNN's masked
convolution). In hk_keras a weight read in a trace is a jax array, which has
no `assign`; so where Keras code meets weights, it meets a view instead:

* the weights a layer creates in `__init__` (always a view in its code);
* the weights of another layer, read from a user-defined layer's code.

The weights a layer creates in `build` read as plain arrays in its own code,
and built-in layers always see plain arrays, so existing code is unchanged.

A view computes like its current value: arithmetic operators, indexing,
`hk_keras.ops` functions, `.shape`, `.T`, ... (`jax.numpy` functions need
`view.value` or `jnp.asarray(view)`: JAX no longer converts foreign objects
itself). `assign(value)` replaces the value for the rest of the trace: later
reads, in this layer or in the owning layer's own call, see it. A
non-trainable weight's new value is also written to the Haiku state, so it is
kept after the step (Keras's stored-back non-trainable variables). A
trainable weight's assigned value is used by the rest of that forward pass
and gradients flow through it, but the stored weight stays the optimizer's:
that is what Keras 3 does on the JAX backend inside `fit`, `evaluate` and
`predict` (its stateless call keeps only the non-trainable values).
"""
import jax
import jax.numpy as jnp
import numpy as np


class WeightView:
  """A weight of `layer` in the current trace (see the module docstring)."""

  __slots__ = ("_layer", "_kind", "_name", "_value", "__weakref__")

  def __init__(self, layer, kind, name, value):
    self._layer = layer
    self._kind = kind
    self._name = name
    self._value = value

  # -- what it is ------------------------------------------------------------
  @property
  def value(self):
    """The current value, a jax array."""
    return self._value

  @property
  def name(self):
    return self._name

  @property
  def path(self):
    return f"{self._layer.name}/{self._name}"

  @property
  def trainable(self) -> bool:
    return self._kind == "params"

  @property
  def shape(self):
    return tuple(self._value.shape)

  @property
  def dtype(self):
    return self._value.dtype

  @property
  def ndim(self):
    return self._value.ndim

  def numpy(self):
    return np.asarray(self._value)

  def __array__(self, dtype=None, copy=None):
    del copy
    return np.asarray(self._value, dtype)

  def __jax_array__(self):
    return self._value

  def __getattr__(self, name):
    # Array methods and properties (.T, .reshape, .astype, .sum, ...).
    if name.startswith("_"):
      raise AttributeError(name)
    return getattr(self._value, name)

  def __repr__(self):
    return (f"<WeightView path={self.path}, shape={self.shape}, "
            f"dtype={self.dtype}, trainable={self.trainable}>")

  # -- changing it -------------------------------------------------------------
  def assign(self, value):
    """Sets the weight for the rest of this trace (see the module doc)."""
    value = jnp.asarray(unwrap(value), self._value.dtype)
    if tuple(value.shape) != self.shape:
      raise ValueError(
          f"Cannot assign a value of shape {tuple(value.shape)} to weight "
          f"{self.path!r} of shape {self.shape}. Assign a value of the "
          "weight's shape.")
    self._value = value
    if self._kind == "state":
      from .._core import _context  # pylint: disable=g-import-not-at-top
      _context.current().set_layer_state(self._layer, self._name, value)
    return self

  def assign_add(self, value):
    return self.assign(self._value + unwrap(value))

  def assign_sub(self, value):
    return self.assign(self._value - unwrap(value))

  # -- computing with it -------------------------------------------------------
  def __getitem__(self, idx):
    return self._value[unwrap(idx)]

  def __len__(self):
    return len(self._value)

  def __iter__(self):
    return iter(self._value)

  def __bool__(self):
    return bool(self._value)

  def __float__(self):
    return float(self._value)

  def __int__(self):
    return int(self._value)

  __hash__ = object.__hash__


def _binary(name):
  def method(self, other):
    return getattr(self._value, name)(unwrap(other))
  method.__name__ = name
  return method


def _unary(name):
  def method(self):
    return getattr(self._value, name)()
  method.__name__ = name
  return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow",
            "matmul", "and", "or", "xor", "lshift", "rshift"):
  setattr(WeightView, f"__{_op}__", _binary(f"__{_op}__"))
  setattr(WeightView, f"__r{_op}__", _binary(f"__r{_op}__"))
for _op in ("lt", "le", "gt", "ge", "eq", "ne"):
  setattr(WeightView, f"__{_op}__", _binary(f"__{_op}__"))
for _op in ("neg", "pos", "abs", "invert"):
  setattr(WeightView, f"__{_op}__", _unary(f"__{_op}__"))
del _op


def unwrap(x):
  """`x`'s value if it is a view, else `x`."""
  return x._value if isinstance(x, WeightView) else x  # pylint: disable=protected-access


def unwrap_tree(tree):
  """Replaces every view in a pytree by its value."""
  return jax.tree_util.tree_map(unwrap, tree)


def unwrap_args(args, kwargs):
  """Views among an op's arguments (top level and one list level down, as
  in `ops.concatenate([a, view])`) replaced by their values."""
  def fix(a):
    if isinstance(a, WeightView):
      return a._value  # pylint: disable=protected-access
    if isinstance(a, (list, tuple)) and not hasattr(a, "_fields") and any(
        isinstance(v, WeightView) for v in a):
      return type(a)(unwrap(v) for v in a)
    return a
  return tuple(fix(a) for a in args), {k: fix(v) for k, v in kwargs.items()}


def is_user_layer(layer) -> bool:
  """A layer whose class is defined outside hk_keras (Keras user code)."""
  return not type(layer).__module__.startswith("hk_keras.")
