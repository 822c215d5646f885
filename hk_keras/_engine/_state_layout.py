"""Optimizer state laid out like the params it tracks.

optax states hold slots shaped like the params (Adam's `mu`/`nu`,
momentum, accumulated gradients of MultiSteps) inside arbitrary
NamedTuples. Any subtree that is a Haiku-like mapping {module: {name:
array}} over the params' module and param names is such a slot tree: each
array shaped like its param takes that param's sharding. Every other leaf
(counts, scalars, `MaskedNode`s) is replicated.
"""
from collections.abc import Mapping

import jax
import numpy as np


def _params_like(x, params) -> bool:
  if not isinstance(x, Mapping) or not x:
    return False
  for module, leaves in x.items():
    if module not in params or not isinstance(leaves, Mapping):
      return False
    if any(name not in params[module] for name in leaves):
      return False
  return True


def follow_params(opt_state, params, param_shardings, replicated):
  """The sharding of each leaf of `opt_state` (see the module docstring)."""
  def slots(tree):
    out = {}
    for module, leaves in tree.items():
      out[module] = {}
      for name, leaf in leaves.items():
        same = (np.shape(leaf) == np.shape(params[module][name]))
        out[module][name] = jax.tree_util.tree_map(
            lambda _, s=param_shardings[module][name] if same else replicated:
            s, leaf)
    return out

  def one(x):
    if _params_like(x, params):
      return slots(x)
    return jax.tree_util.tree_map(lambda _: replicated, x)
  return jax.tree_util.tree_map(
      one, opt_state, is_leaf=lambda x: _params_like(x, params))
