"""Symbolic tensors for the Functional API: `Input`, `KerasTensor`, nodes."""
from typing import Any, NamedTuple, Optional, Tuple

import haiku as hk
import jax
import jax.numpy as jnp

from .. import utils
from .._core import _context
from .._core import _masking
from .._core import _naming
from ._layer import Layer

_NO_OPS_ON_SYMBOLIC = (
    "hk_keras symbolic tensors (from hk_keras.Input) hold no data, so {op} "
    "cannot run on them. Use hk_keras.ops functions (e.g. hk_keras.ops.mean, "
    "ops.reshape), Python operators (x + y, x[:, 0]) or layers: they add "
    "nodes to the model's graph. For other jnp code, wrap it in "
    "hk_keras.layers.Lambda(lambda x: ...).")

# Dummy sizes substituted for unknown (None) dimensions when inferring shapes;
# dimensions that change between the two traces are reported as None. They
# are large and coprime so that strided, pooled or cropped sizes still differ
# (with 2 and 3, a 2x2 pooling maps both to 1). Traces are abstract, so the
# size costs nothing.
_DUMMY_SIZES = (29, 31)


class ShapeSpec(NamedTuple):
  shape: Tuple[Optional[int], ...]
  dtype: Any


class Node(NamedTuple):
  """One call of a layer on symbolic tensors."""
  layer: Layer
  args: Any
  kwargs: Any
  outputs: Any


class KerasTensor:
  """A symbolic tensor: a shape (batch dim None) and dtype in a layer graph."""

  def __init__(self, shape, dtype="float32", node=None, name=None):
    self.shape = tuple(None if d is None else int(d) for d in shape)
    self.dtype = "string" if is_string_dtype(dtype) else jnp.dtype(dtype).name
    self.node = node
    self.name = name
    # The symbolic mask of this tensor (a bool KerasTensor) when the layer
    # that made it propagates one, as Keras 3's `KerasTensor._keras_mask`.
    self._keras_mask = None

  @property
  def ndim(self):
    return len(self.shape)

  def __repr__(self):
    return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

  def _refuse(self, op):
    raise TypeError(_NO_OPS_ON_SYMBOLIC.format(op=op))

  # Python operators build op nodes of the graph, as in Keras 3.
  def __add__(self, other): return _ops().add(self, other)
  def __radd__(self, other): return _ops().add(other, self)
  def __sub__(self, other): return _ops().subtract(self, other)
  def __rsub__(self, other): return _ops().subtract(other, self)
  def __mul__(self, other): return _ops().multiply(self, other)
  def __rmul__(self, other): return _ops().multiply(other, self)
  def __truediv__(self, other): return _ops().true_divide(self, other)
  def __rtruediv__(self, other): return _ops().true_divide(other, self)
  def __floordiv__(self, other): return _ops().floor_divide(self, other)
  def __rfloordiv__(self, other): return _ops().floor_divide(other, self)
  def __mod__(self, other): return _ops().mod(self, other)
  def __rmod__(self, other): return _ops().mod(other, self)
  def __pow__(self, other): return _ops().power(self, other)
  def __rpow__(self, other): return _ops().power(other, self)
  def __matmul__(self, other): return _ops().matmul(self, other)
  def __rmatmul__(self, other): return _ops().matmul(other, self)
  def __neg__(self): return _ops().negative(self)
  def __abs__(self): return _ops().absolute(self)
  def __invert__(self): return _ops().bitwise_invert(self)
  def __and__(self, other): return _ops().logical_and(self, other)
  def __rand__(self, other): return _ops().logical_and(other, self)
  def __or__(self, other): return _ops().logical_or(self, other)
  def __ror__(self, other): return _ops().logical_or(other, self)
  def __xor__(self, other): return _ops().logical_xor(self, other)
  def __rxor__(self, other): return _ops().logical_xor(other, self)
  def __lt__(self, other): return _ops().less(self, other)
  def __le__(self, other): return _ops().less_equal(self, other)
  def __gt__(self, other): return _ops().greater(self, other)
  def __ge__(self, other): return _ops().greater_equal(self, other)
  # Keras 3 defines `!=` (not `==`, which stays identity so tensors can be
  # compared and looked up in containers).
  def __ne__(self, other): return _ops().not_equal(self, other)
  __hash__ = object.__hash__
  def __getitem__(self, key): return _ops().get_item(self, key)
  def __round__(self, ndigits=None): return _ops().round(self, ndigits or 0)

  @property
  def T(self):  # pylint: disable=invalid-name
    return _ops().transpose(self)

  def __bool__(self):
    raise TypeError(
        "A symbolic tensor has no truth value: it holds no data until the "
        "model runs. Use hk_keras.ops.cond / ops.where for data-dependent "
        f"choices. Received: {self!r}")

  def __iter__(self):
    raise TypeError(
        "A symbolic tensor cannot be iterated over. Index it "
        f"(x[:, 0]) or use hk_keras.ops.unstack. Received: {self!r}")

  def __array__(self, *a, **k): self._refuse("a NumPy function")

  @property
  def __jax_array__(self):
    # JAX looks this attribute up (getattr) before calling it, and jitted jnp
    # functions reject the object with their own message at that point, so
    # refuse on lookup. ValueError: jit rewraps a TypeError into a generic
    # "Error interpreting argument" message that hides this one.
    raise ValueError(_NO_OPS_ON_SYMBOLIC.format(op="a jnp function"))


def _ops():
  from .. import ops  # pylint: disable=g-import-not-at-top
  return ops


class InputLayer(Layer):
  """The layer behind `Input`: it only names and shapes a model input."""

  def __init__(self, shape, dtype="float32", name=None, batch_size=None,
               **kwargs):
    name = name or _naming.unique_name("input_layer")
    # A string input (for leading host layers such as StringLookup) holds
    # no JAX dtype: the layers compute in the default policy.
    self.is_string = is_string_dtype(dtype)
    super().__init__(name=name, dtype=None if self.is_string else dtype,
                     **kwargs)
    self.input_shape = (batch_size,) + tuple(shape)
    self.output = KerasTensor(self.input_shape, dtype,
                              node=Node(self, (), {}, None), name=name)
    self.built = True

  def call(self, inputs):
    return inputs

  def get_config(self):
    return {"name": self.name,
            "dtype": "string" if self.is_string else self.dtype,
            "batch_shape": list(self.input_shape)}

  @classmethod
  def from_config(cls, config):
    batch_shape = config["batch_shape"]
    return cls(shape=tuple(batch_shape[1:]), dtype=config["dtype"],
               name=config["name"], batch_size=batch_shape[0])


def Input(shape=None, dtype="float32", name=None, batch_size=None,  # pylint: disable=invalid-name
          batch_shape=None) -> KerasTensor:
  """Starts a Functional model: a symbolic input of the given shape.

  Args:
    shape: the shape without the batch dimension, e.g. `(784,)`; `None`
      entries are unknown sizes.
    dtype: the input dtype.
    name: optional name (defaults to `input_layer`, `input_layer_1`, ...).
    batch_size: optional fixed batch size.
    batch_shape: instead of `shape` and `batch_size`, the full shape with
      the batch axis first, e.g. `(32, 784)` (Keras 3).

  Returns:
    A `KerasTensor` with `.shape` `(batch_size, *shape)` and `.dtype`.

  Raises:
    ValueError: if `shape` is not a tuple of positive ints or None.

  >>> x = Input((4,))
  >>> x.shape
  (None, 4)
  """
  if batch_shape is not None:
    if shape is not None:
      raise ValueError(
          "Input takes shape= or batch_shape=, not both. Received: "
          f"shape={shape!r}, batch_shape={batch_shape!r}")
    batch_shape = tuple(batch_shape)
    batch_size, shape = (batch_shape[0] if batch_shape else None,
                         batch_shape[1:])
  if shape is None:
    raise ValueError(
        "Input shape must be a tuple of dimensions without the batch axis, "
        "e.g. shape=(784,) (or the full batch_shape=(None, 784)). Received: "
        "shape=None")
  if isinstance(shape, int):
    shape = (shape,)
  try:
    if isinstance(shape, (str, bytes)):
      raise TypeError
    shape = tuple(shape)
  except TypeError:
    raise ValueError(
        f"Input shape must be a tuple of dimensions without the batch axis, "
        f"e.g. shape=(784,). Received: shape={shape!r}") from None
  for d in shape:
    if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d <= 0):
      raise ValueError(
          "Input shape entries must be positive ints or None (unknown size), "
          f"e.g. shape=(28, 28, 1). Received: shape={shape!r}")
  try:
    if not is_string_dtype(dtype):
      jnp.dtype(dtype)
  except TypeError:
    raise ValueError(f"Input dtype {dtype!r} is not a valid dtype.") from None
  layer = InputLayer(shape, dtype=dtype, name=name, batch_size=batch_size)
  return layer.output


def is_string_dtype(dtype) -> bool:
  """Whether `dtype` names strings ("string", `str`), as Keras accepts for an
  `Input` feeding host layers (`StringLookup`, `TextVectorization`)."""
  return dtype is str or (isinstance(dtype, str) and dtype in ("string",
                                                               "str"))


def as_input_dtype(value, dtype):
  """Converts data fed to an `Input` to its declared dtype, as Keras does.

  Without this, uint8 images or int features reach layers that cast their
  float kernels to the input's dtype, and compute with truncated weights.
  """
  dtype = jnp.dtype(dtype)
  if getattr(value, "dtype", None) != dtype:
    value = jnp.asarray(value, dtype)
  return value


def _is_symbolic(x):
  return isinstance(x, KerasTensor)


def any_symbolic(tree) -> bool:
  return any(_is_symbolic(l) for l in jax.tree_util.tree_leaves(
      tree, is_leaf=_is_symbolic))


def _concrete(tree, size):
  def to_struct(x):
    if _is_symbolic(x) or isinstance(x, ShapeSpec):
      shape = tuple(size if d is None else d for d in x.shape)
      return jax.ShapeDtypeStruct(shape, jnp.dtype(x.dtype))
    return x
  return jax.tree_util.tree_map(
      to_struct, tree, is_leaf=lambda x: _is_symbolic(x) or isinstance(x, ShapeSpec))


def infer_output_spec(layer, args, kwargs, with_masks=False):
  """Abstractly traces `layer` twice to find its output shapes and dtypes.

  Unknown input dimensions take two different dummy sizes; output dimensions
  that differ between the traces are unknown (None). With `with_masks`,
  also returns the output masks' specs (None for an output without a mask),
  one per output leaf.
  """
  def run(*a, **k):
    with _context.trace_context() as ctx:
      return ctx.call_layer(layer, a, k)
  transformed = hk.transform_with_state(run)

  is_spec = lambda x: _is_symbolic(x) or isinstance(x, ShapeSpec)
  # Symbolic inputs that carry a symbolic mask get a traced mask attached,
  # so the call sees `mask` (and `compute_mask` its previous mask) during
  # shape inference, as in Keras 3.
  # (Leaves of the call as given: one per leaf of its concrete form.)
  given = jax.tree_util.tree_leaves((args, kwargs), is_leaf=is_spec)

  def abstract(size):
    # Only the symbolic inputs are traced; everything else in the call
    # (training=True, axis=-1, constant arrays) stays a Python value.
    leaves, treedef = jax.tree_util.tree_flatten(
        (_concrete(args, size), _concrete(kwargs, size)))
    symbolic = [i for i, l in enumerate(leaves)
                if isinstance(l, jax.ShapeDtypeStruct)]
    masks = [getattr(given[i], "_keras_mask", None) for i in symbolic]
    masks = [None if m is None else _concrete(m, size) for m in masks]
    def f(rng, traced, traced_masks):
      full = list(leaves)
      for i, value, mask in zip(symbolic, traced, traced_masks):
        full[i] = value
        _masking.set_keras_mask(value, mask)
      a, k = jax.tree_util.tree_unflatten(treedef, full)
      params, state = transformed.init(rng, *a, **k)
      out, _ = transformed.apply(params, state, rng, *a, **k)
      out_masks = [_masking.get_keras_mask(o)
                   for o in jax.tree_util.tree_leaves(out)]
      return out, out_masks
    return jax.eval_shape(f, jax.random.PRNGKey(0),
                          [leaves[i] for i in symbolic], masks)

  outs = [abstract(size) for size in _DUMMY_SIZES]
  def merge(a, b):
    shape = tuple(x if x == y else None for x, y in zip(a.shape, b.shape))
    return ShapeSpec(shape, jnp.dtype(a.dtype).name)
  spec = jax.tree_util.tree_map(merge, outs[0][0], outs[1][0])
  if with_masks:
    masks = [None if m is None else merge(m, n)
             for m, n in zip(outs[0][1], outs[1][1])]
    return spec, masks
  return spec


def symbolic_call(layer, args, kwargs):
  """Records a layer call in the Functional graph and returns its outputs."""
  spec, masks = infer_output_spec(layer, args, kwargs, with_masks=True)
  holder = []
  node = Node(layer, args, kwargs, holder)
  outputs = jax.tree_util.tree_map(
      lambda s: KerasTensor(s.shape, s.dtype, node=node), spec,
      is_leaf=lambda s: isinstance(s, ShapeSpec))
  for tensor, mask in zip(jax.tree_util.tree_leaves(outputs,
                                                    is_leaf=_is_symbolic),
                          masks):
    if mask is not None:
      tensor._keras_mask = KerasTensor(mask.shape, mask.dtype)  # pylint: disable=protected-access
  holder.append(outputs)
  layer._record_node(node)  # for layer.input / layer.output
  return outputs
