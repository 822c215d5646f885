"""Keras 3's stateless metric API over the pure `init/update/result`.

`metric.variables` are `Variable` handles on the leaves of the held state
(Keras order is the state's leaf order); `stateless_update_state`,
`stateless_result` and `stateless_reset_state` take and return plain lists
of arrays in that order, for steps written against Keras 3's JAX API.
"""
from typing import Any, List

import jax

from .._core import _variable


def _path_name(path) -> str:
  return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


class StatelessMetric:
  """Mixed into `Metric`."""

  def _state_treedef(self):
    return jax.tree_util.tree_structure(jax.eval_shape(self.init))

  def _from_list(self, metric_variables):
    treedef = self._state_treedef()
    values = _variable.values_of(list(metric_variables))
    if len(values) != treedef.num_leaves:
      raise ValueError(
          f"Metric {self.name!r} has {treedef.num_leaves} variables; "
          f"received a list of {len(values)}. Pass the slice of "
          "`metrics_variables` that belongs to this metric (its "
          "`len(metric.variables)` entries).")
    return jax.tree_util.tree_unflatten(treedef, values)

  @property
  def variables(self) -> List[_variable.Variable]:
    """The state as Keras variables (reading and assigning the held state)."""
    held = self.__dict__.get("_state")
    if held is not None and (jax.tree_util.tree_structure(held)
                             != self._state_treedef()):
      self._state = None  # e.g. compile_metrics, built since it was read
    leaves = jax.tree_util.tree_leaves_with_path(self.state)
    out = []
    for i, (path, _) in enumerate(leaves):
      name = _path_name(path) or str(i)
      out.append(_variable.Variable(
          lambda i=i: jax.tree_util.tree_leaves(self.state)[i],
          lambda value, i=i: self._assign_leaf(i, value),
          name=name.split("/")[-1], path=f"{self.name}/{name}"))
    return out

  def _assign_leaf(self, i, value):
    leaves, treedef = jax.tree_util.tree_flatten(self.state)
    if tuple(jax.numpy.shape(value)) != tuple(leaves[i].shape):
      raise ValueError(
          f"Assigning variable {i} of metric {self.name!r}: expected shape "
          f"{tuple(leaves[i].shape)}, received "
          f"{tuple(jax.numpy.shape(value))}.")
    leaves[i] = jax.numpy.asarray(value, leaves[i].dtype)
    self.state = jax.tree_util.tree_unflatten(treedef, leaves)

  def stateless_update_state(self, metric_variables, *args, **kwargs
                             ) -> List[Any]:
    """`update_state` without side effects: new values of the variables."""
    state = self.update(self._from_list(metric_variables), *args, **kwargs)
    return jax.tree_util.tree_leaves(state)

  def stateless_result(self, metric_variables):
    """`result()` of the given variable values."""
    return self.result(self._from_list(metric_variables))

  def stateless_reset_state(self) -> List[Any]:
    """The variable values of a fresh state."""
    return jax.tree_util.tree_leaves(self.init())
