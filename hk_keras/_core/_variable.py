"""`Variable`: a Keras-3-style handle on one weight or state array.

hk_keras keeps weights in Haiku dicts (and optimizer and metric states in
optax/metric pytrees); a `Variable` names one leaf of them for code written
against Keras 3's stateless JAX API (`model.trainable_variables`,
`optimizer.variables`, `metric.variables`). It reads the current value on
demand (`v.value`, `np.asarray(v)`, `jnp` ops), and `v.assign(value)`
writes it back to its owner outside compiled code.

A `Variable` is a pytree with one leaf, its value: passed to `jax.jit` or
`jax.grad` it becomes that array (a tracer inside), so Keras's
`state = (model.trainable_variables, ...)` can be handed to a jitted step.
Inside the trace it is a detached handle on the traced value, without
`assign`.
"""
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np

_DETACHED = (
    "Variable {path!r} is a traced value inside jax.jit/jax.grad (or a "
    "detached copy), so it cannot be assigned. Return new values from the "
    "step (the stateless API) and assign them outside: "
    "`for v, value in zip(model.trainable_variables, new_values): "
    "v.assign(value)`.")


class Variable:
  """One named array of a model, optimizer or metric (Keras 3's facade).

  Attributes:
    name: the short name (`"kernel"`).
    path: the full name (`"dense/kernel"`).
    trainable: whether the optimizer trains it.
  """

  __slots__ = ("name", "path", "trainable", "_read", "_write")

  def __init__(self, read: Callable[[], Any],
               write: Optional[Callable[[Any], None]], *, name: str,
               path: str, trainable: bool = False):
    self._read = read
    self._write = write
    self.name = name
    self.path = path
    self.trainable = trainable

  @property
  def value(self) -> jax.Array:
    """The current value."""
    return self._read()

  @property
  def shape(self):
    return tuple(jnp.shape(self.value))

  @property
  def dtype(self):
    return jnp.result_type(self.value)

  @property
  def ndim(self) -> int:
    return len(self.shape)

  def numpy(self) -> np.ndarray:
    return np.asarray(self.value)

  def assign(self, value) -> "Variable":
    """Writes `value` (same shape) into the owner, as Keras's `assign`."""
    if self._write is None:
      raise RuntimeError(_DETACHED.format(path=self.path))
    self._write(value)
    return self

  def assign_add(self, delta) -> "Variable":
    return self.assign(self.value + delta)

  def assign_sub(self, delta) -> "Variable":
    return self.assign(self.value - delta)

  # -- array protocol ---------------------------------------------------------
  def __jax_array__(self):
    return jnp.asarray(self.value)

  def __array__(self, dtype=None, copy=None):
    del copy
    return np.asarray(self.value, dtype=dtype)

  def __len__(self):
    return len(self.value)

  def __getitem__(self, idx):
    return self.value[idx]

  def __float__(self):
    return float(self.value)

  def __int__(self):
    return int(self.value)

  def __bool__(self):
    return bool(self.value)

  def __repr__(self):
    return (f"<Variable path={self.path}, shape={self.shape}, "
            f"dtype={self.dtype}>")


def _unary(op):
  return lambda self: op(self.value)


def _binary(op):
  return lambda self, other: op(self.value, _value(other))


def _rbinary(op):
  return lambda self, other: op(_value(other), self.value)


def _value(x):
  return x.value if isinstance(x, Variable) else x


for _name, _op in (("add", jnp.add), ("sub", jnp.subtract),
                   ("mul", jnp.multiply), ("truediv", jnp.true_divide),
                   ("floordiv", jnp.floor_divide), ("pow", jnp.power),
                   ("matmul", jnp.matmul), ("mod", jnp.mod)):
  setattr(Variable, f"__{_name}__", _binary(_op))
  setattr(Variable, f"__r{_name}__", _rbinary(_op))
for _name, _op in (("lt", jnp.less), ("le", jnp.less_equal),
                   ("gt", jnp.greater), ("ge", jnp.greater_equal)):
  setattr(Variable, f"__{_name}__", _binary(_op))
Variable.__neg__ = _unary(jnp.negative)
Variable.__abs__ = _unary(jnp.abs)
Variable.T = property(lambda self: self.value.T)


def detached(value, name: str = "", path: str = "", trainable=False):
  """A handle on a plain (possibly traced) value, without `assign`."""
  return Variable(lambda: value, None, name=name, path=path,
                  trainable=trainable)


def _flatten(v):
  return (v.value,), (v.name, v.path, v.trainable)


def _unflatten(aux, children):
  name, path, trainable = aux
  return detached(children[0], name, path, trainable)


jax.tree_util.register_pytree_node(Variable, _flatten, _unflatten)


def value_of(x):
  """The array behind `x` (a Variable or an array-like); arrays pass."""
  return x.value if isinstance(x, Variable) else x


def values_of(xs):
  """`value_of` over a list (a Keras list of variables or arrays)."""
  return [value_of(x) for x in xs]
