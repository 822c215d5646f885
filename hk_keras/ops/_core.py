"""Core ops: tensor conversion, dtypes, shapes, control flow, gradients."""
import builtins

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

from . import _dtypes
from ._symbolic import op


def _is_array_like(x):
  return isinstance(x, (jax.Array, np.ndarray, np.generic))


@op
def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
  """Converts `x` (array, list, scalar) to a jax array of `dtype`.

  >>> convert_to_tensor([1, 2]).dtype
  dtype('int32')
  """
  del sparse
  if ragged:
    raise ValueError("ragged=True is not supported: hk_keras ops work on "
                     "dense jax arrays. Pad the data to a dense array.")
  if dtype is not None:
    dtype = _dtypes.standardize_dtype(dtype)
  if isinstance(x, jax.Array) and (dtype is None or x.dtype == dtype):
    return x
  if dtype == "bfloat16" and not isinstance(x, jax.Array):
    return jnp.asarray(x).astype(dtype)
  return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x):
  """Returns `x` as a NumPy array (bfloat16 kept as ml_dtypes.bfloat16)."""
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  if isinstance(x, _input.KerasTensor):
    raise ValueError(
        f"convert_to_numpy() needs concrete values, but received the symbolic "
        f"tensor {x!r}. Symbolic tensors have no values until the model runs "
        "on data: call the model (or model.predict) and convert its output.")
  if isinstance(x, jax.Array) and x.dtype == jnp.bfloat16:
    return np.array(x, dtype=ml_dtypes.bfloat16)
  return np.array(x)


def is_tensor(x):
  """True for jax arrays (what hk_keras ops return)."""
  return isinstance(x, jax.Array)


def shape(x):
  """The shape as a tuple (`None` for unknown sizes of symbolic tensors)."""
  if hasattr(x, "shape"):
    return tuple(x.shape)
  return tuple(np.shape(x))


def dtype(x):
  """The dtype name of `x` as Keras writes it, e.g. `"float32"`."""
  return _dtypes.standardize_dtype(convert_to_tensor(x).dtype
                                   if not hasattr(x, "dtype") else x.dtype)


@op
def cast(x, dtype):
  """Casts `x` to `dtype`."""
  dtype = _dtypes.standardize_dtype(dtype)
  return convert_to_tensor(x).astype(dtype)


@op
def saturate_cast(x, dtype):
  """Casts with values clipped to the target dtype's range first."""
  dtype = _dtypes.standardize_dtype(dtype)
  x = convert_to_tensor(x)
  in_dtype = x.dtype
  if in_dtype == jnp.bool_ or not jnp.issubdtype(jnp.dtype(dtype),
                                                 jnp.number):
    return x.astype(dtype)
  in_info = _info(in_dtype)
  out_info = _info(dtype)
  lo = builtins.max(in_info.min, out_info.min)
  hi = builtins.min(in_info.max, out_info.max)
  if jnp.issubdtype(in_dtype, jnp.integer):
    x = jnp.clip(x, int(lo), int(hi))
  else:
    x = jnp.clip(x, np.asarray(lo, in_dtype), np.asarray(hi, in_dtype))
  return x.astype(dtype)


def _info(dtype):
  dtype = jnp.dtype(dtype)
  if jnp.issubdtype(dtype, jnp.integer):
    return jnp.iinfo(dtype)
  return jnp.finfo(dtype)


@op
def stop_gradient(variable):
  """Blocks gradients (jax.lax.stop_gradient)."""
  return jax.lax.stop_gradient(variable)


@op
def cond(pred, true_fn, false_fn):
  """Runs `true_fn()` or `false_fn()` (jax.lax.cond)."""
  return jax.lax.cond(pred, true_fn, false_fn)


@op
def switch(index, branches, *operands):
  """Runs `branches[index](*operands)` (jax.lax.switch)."""
  return jax.lax.switch(index, branches, *operands)


@op
def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
  """`carry, ys = scan(f, init, xs)` with `f(carry, x) -> (carry, y)`."""
  if not isinstance(unroll, bool) and not isinstance(unroll, int):
    raise ValueError(f"`unroll` must be a bool or an int. Received: "
                     f"unroll={unroll!r}")
  return jax.lax.scan(f, init, xs=xs, length=length, reverse=reverse,
                      unroll=unroll)


@op
def associative_scan(f, elems, reverse=False, axis=0):
  """Parallel prefix scan with an associative `f` (jax.lax.associative_scan)."""
  return jax.lax.associative_scan(f, elems, reverse=reverse, axis=axis)


@op
def map(f, xs):  # pylint: disable=redefined-builtin
  """Applies `f` to each slice of `xs` along its first axis (jax.lax.map)."""
  return jax.lax.map(f, xs)


@op
def fori_loop(lower, upper, body_fun, init_val):
  """`for i in range(lower, upper): val = body_fun(i, val)`."""
  return jax.lax.fori_loop(lower, upper, body_fun, init_val)


@op
def while_loop(cond, body, loop_vars, maximum_iterations=None):  # pylint: disable=redefined-outer-name
  """Keras's while loop: `cond(*loop_vars)`, `body(*loop_vars)`.

  A tuple or list `loop_vars` is unpacked into the calls (as Keras does);
  the result has the structure of `loop_vars`.
  """
  is_tuple = isinstance(loop_vars, (tuple, list))
  loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
  if maximum_iterations is not None:
    state = (0, loop_vars)

    def cond_fn(s):
      return jnp.logical_and(cond(*s[1]), s[0] < maximum_iterations)

    def body_fn(s):
      out = body(*s[1])
      out = tuple(out) if is_tuple else (out,)
      return (s[0] + 1, out)
    result = jax.lax.while_loop(cond_fn, body_fn, state)[1]
  else:
    def body_fn(s):
      out = body(*s)
      return tuple(out) if is_tuple else (out,)
    result = jax.lax.while_loop(lambda s: cond(*s), body_fn, loop_vars)
  return result if is_tuple else result[0]


@op
def vectorized_map(function, elements):
  """Maps `function` over the first axis of `elements` (jax.vmap)."""
  return jax.vmap(function)(elements)


def custom_gradient(f):
  """Decorator for a function returning `(output, grad_fn)`;
  `grad_fn(upstream)` returns the input gradients (jax.custom_gradient)."""
  return jax.custom_gradient(f)


def jvp(fun, primals, tangents, has_aux=False):
  """Jacobian-vector product (jax.jvp), with `has_aux` as Keras."""
  if has_aux:
    return jax.jvp(fun, primals, tangents, has_aux=True)
  return jax.jvp(fun, primals, tangents)


@op
def slice(inputs, start_indices, shape):  # pylint: disable=redefined-builtin,redefined-outer-name
  """The block of `shape` starting at `start_indices` (lax.dynamic_slice)."""
  return jax.lax.dynamic_slice(convert_to_tensor(inputs), start_indices,
                               shape)


@op
def slice_update(inputs, start_indices, updates):
  """`inputs` with the block at `start_indices` replaced by `updates`."""
  inputs = convert_to_tensor(inputs)
  updates = convert_to_tensor(updates, dtype=inputs.dtype)
  return jax.lax.dynamic_update_slice(inputs, updates, start_indices)


@op
def scatter(indices, values, shape):  # pylint: disable=redefined-outer-name
  """A zero tensor of `shape` with `values` added at `indices`."""
  indices = convert_to_tensor(indices)
  values = convert_to_tensor(values)
  zeros = jnp.zeros(shape, values.dtype)
  key = tuple(jnp.moveaxis(indices, -1, 0))
  return zeros.at[key].add(values)


@op
def scatter_update(inputs, indices, updates, reduction=None):
  """`inputs` with `updates` written (or combined by `reduction`) at
  `indices`; `reduction` is None, "add", "max", "min" or "mul"."""
  inputs = convert_to_tensor(inputs)
  indices = jnp.asarray(indices)
  updates = convert_to_tensor(updates, dtype=inputs.dtype)
  key = tuple(jnp.moveaxis(indices, -1, 0))
  at = inputs.at[key]
  if reduction is None:
    return at.set(updates)
  methods = {"add": at.add, "max": at.max, "min": at.min, "mul": at.multiply}
  if reduction not in methods:
    raise ValueError(f"Unsupported reduction {reduction!r}: expected None, "
                     "'add', 'max', 'min' or 'mul'.")
  return methods[reduction](updates)


@op
def unstack(x, num=None, axis=0):
  """Splits `x` into a list of tensors along `axis`."""
  del num
  x = convert_to_tensor(x)
  return [jax.lax.index_in_dim(x, i, axis, keepdims=False)
          for i in range(x.shape[axis])]
