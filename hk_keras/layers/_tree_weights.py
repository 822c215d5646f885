"""Pytrees of arrays (another library's params) as a layer's Haiku weights.

The wrapper layers (`JaxLayer`, `FlaxLayer`, `EquinoxLayer`) hold a foreign
pytree of params or state. Each array leaf becomes one Haiku parameter (or
state entry) of the layer's module, named by its tree path joined with dots,
e.g. `params["mlp"]["params.Dense_0.kernel"]` for a Flax Linen kernel or
`params["mlp"]["layers.0.weight"]` for an Equinox one. Other leaves (None,
functions, strings) are configuration and stay as they are.
"""
from typing import Any, List, NamedTuple, Optional

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np


class TreeTemplate(NamedTuple):
  """The structure of a pytree and, per leaf, its weight name or None.

  Attributes:
    treedef: the tree's structure.
    names: one entry per leaf: the weight name, or None for a static leaf.
    statics: one entry per leaf: the static value (None for weights).
    specs: one entry per leaf: `jax.ShapeDtypeStruct` of a weight, or None.
  """
  treedef: Any
  names: List[Optional[str]]
  statics: List[Any]
  specs: List[Optional[jax.ShapeDtypeStruct]]


def is_weight_leaf(leaf) -> bool:
  """Arrays, abstract arrays and Python numbers become weights."""
  if isinstance(leaf, (jax.Array, np.ndarray, np.generic,
                       jax.ShapeDtypeStruct)):
    return not jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key)
  return isinstance(leaf, (bool, int, float))


def path_name(path, default: str) -> str:
  """`(DictKey('params'), DictKey('Dense_0'), ...)` -> "params.Dense_0..."."""
  parts = []
  for key in path:
    for attr in ("key", "name", "idx"):
      if hasattr(key, attr):
        parts.append(str(getattr(key, attr)))
        break
    else:
      parts.append(str(key))
  name = ".".join(p.strip(".") for p in parts if p.strip("."))
  return (name or default).replace("/", ".")


def template(tree, default: str, float_dtype) -> TreeTemplate:
  """The template of `tree`; floating leaves take `float_dtype`."""
  leaves, treedef = jax.tree_util.tree_flatten_with_path(tree)
  names, statics, specs, seen = [], [], [], set()
  for path, leaf in leaves:
    if not is_weight_leaf(leaf):
      names.append(None)
      statics.append(leaf)
      specs.append(None)
      continue
    name = path_name(path, default)
    if name in seen:
      name = f"{name}_{len(seen)}"
    seen.add(name)
    dtype = jnp.result_type(leaf)
    if isinstance(leaf, (bool, int, float)):
      dtype = jax.dtypes.canonicalize_dtype(type(leaf))
    if jnp.issubdtype(dtype, jnp.floating):
      dtype = jnp.dtype(float_dtype)
    names.append(name)
    statics.append(None)
    specs.append(jax.ShapeDtypeStruct(tuple(np.shape(leaf)), dtype))
  return TreeTemplate(treedef, names, statics, specs)


def read(kind: str, tmpl: TreeTemplate, values=None):
  """Creates (init) or reads (apply) the weights of `tmpl` as a pytree.

  Args:
    kind: "params" (Haiku parameters) or "state" (Haiku state).
    tmpl: the tree's template.
    values: during init, a tree of the same structure with the initial
      values; None when the values come from the params/state passed to
      apply.
  """
  value_leaves = (None if values is None
                  else jax.tree_util.tree_leaves(values))
  get = hk.get_parameter if kind == "params" else hk.get_state
  out = []
  for i, (name, static, spec) in enumerate(
      zip(tmpl.names, tmpl.statics, tmpl.specs)):
    if name is None:
      out.append(static)
      continue
    initial = None if value_leaves is None else value_leaves[i]
    out.append(get(name, spec.shape, spec.dtype, init=_constant(initial, name)))
  return jax.tree_util.tree_unflatten(tmpl.treedef, out)


def write(tmpl: TreeTemplate, new_state, who: str) -> None:
  """Stores a new state tree (same structure as `tmpl`) as Haiku state."""
  leaves, treedef = jax.tree_util.tree_flatten(new_state)
  if treedef != tmpl.treedef:
    raise ValueError(
        f"{who}: the state returned by the call has a different structure "
        f"from the state at initialisation.\nExpected: {tmpl.treedef}\n"
        f"Received: {treedef}\nReturn the new state with the same keys and "
        "nesting as the state the function was given.")
  for name, spec, leaf in zip(tmpl.names, tmpl.specs, leaves):
    if name is not None:
      hk.set_state(name, jnp.asarray(leaf, spec.dtype))


def _constant(value, name):
  def init(shape, dtype):
    if value is None:
      raise ValueError(
          f"No initial value for weight {name!r}: the layer was initialised "
          "without values (this is a bug in the wrapper layer).")
    return jnp.broadcast_to(jnp.asarray(value, dtype), shape)
  return init
