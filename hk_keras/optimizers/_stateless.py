"""Keras 3's stateless optimizer API over the optax transform.

`optimizer.build(var_list)` creates the optimizer state for a list of
variables (or arrays); `optimizer.variables` are its leaves as Keras
variables (the first is the step count); `stateless_apply(optimizer_variables,
grads, trainable_variables)` returns `(new trainable values, new optimizer
values)`, one Keras step, without side effects; `apply_gradients` and
`apply` do the same step on the held values and assign them.

Inside a Keras-form `train_step` run by `fit`, the model's compiled
optimizer is bound to the engine (`_core/_stateless_binding.py`): the lists
then map onto the model's Haiku params and the engine's optax state.
"""
from typing import Any, List

import jax
import optax

from .._core import _stateless_binding
from .._core import _variable

_NOT_BUILT = (
    "Optimizer {name!r} has no variables yet: call "
    "optimizer.build(model.trainable_variables) before stateless_apply (or "
    "use the optimizer through model.compile and fit).")


def _leaf_name(path) -> str:
  parts = [str(getattr(k, "name", getattr(k, "key", getattr(k, "idx", k))))
           for k in path]
  return "/".join(parts)


class StatelessOptimizer:
  """Mixed into `Optimizer`."""

  def _build_state(self, var_list) -> None:
    values = _variable.values_of(list(var_list))
    self._slots_state = self.build().init(values)
    self._slot_targets = [v if isinstance(v, _variable.Variable) else None
                          for v in var_list]

  @property
  def built(self) -> bool:
    return self.__dict__.get("_slots_state") is not None

  @property
  def variables(self) -> List[_variable.Variable]:
    """The optimizer state's leaves as Keras variables (after `build`)."""
    state = self.__dict__.get("_slots_state")
    if state is None:
      return []
    out = []
    for i, (path, _) in enumerate(jax.tree_util.tree_leaves_with_path(state)):
      name = _leaf_name(path) or str(i)
      out.append(_variable.Variable(
          lambda i=i: jax.tree_util.tree_leaves(self._slots_state)[i],
          lambda value, i=i: self._assign_slot(i, value),
          name=name.split("/")[-1], path=f"{self.name}/{name}"))
    return out

  def _assign_slot(self, i, value):
    leaves, treedef = jax.tree_util.tree_flatten(self._slots_state)
    leaves[i] = jax.numpy.asarray(value, leaves[i].dtype)
    self._slots_state = jax.tree_util.tree_unflatten(treedef, leaves)

  def stateless_apply(self, optimizer_variables, grads, trainable_variables
                      ) -> Any:
    """One optimizer step without side effects (Keras 3).

    Args:
      optimizer_variables: values in `optimizer.variables` order.
      grads: one gradient per trainable variable.
      trainable_variables: the current values, in the order the optimizer
        was built with (`model.trainable_variables`).

    Returns:
      `(trainable_variables, optimizer_variables)`: lists of new values.

    Raises:
      ValueError: if the optimizer is not built or a list has the wrong
        length.
    """
    binding = _stateless_binding.binding_of(self)
    if binding is not None:
      return binding.stateless_apply(optimizer_variables, grads,
                                     trainable_variables)
    state = self.__dict__.get("_slots_state")
    if state is None:
      raise ValueError(_NOT_BUILT.format(name=self.name))
    treedef = jax.tree_util.tree_structure(state)
    opt_values = _variable.values_of(list(optimizer_variables))
    params = _variable.values_of(list(trainable_variables))
    grads = _variable.values_of(list(grads))
    if len(opt_values) != treedef.num_leaves:
      raise ValueError(
          f"stateless_apply: optimizer {self.name!r} has "
          f"{treedef.num_leaves} variables, received {len(opt_values)}. Pass "
          "optimizer.variables (or the values a previous stateless_apply "
          "returned).")
    if len(grads) != len(params) or len(params) != len(self._slot_targets):
      raise ValueError(
          f"stateless_apply: the optimizer was built for "
          f"{len(self._slot_targets)} variables; received {len(grads)} "
          f"gradients and {len(params)} trainable variables.")
    opt_state = jax.tree_util.tree_unflatten(treedef, opt_values)
    updates, opt_state = self.build().update(grads, opt_state, params)
    return (list(optax.apply_updates(params, updates)),
            jax.tree_util.tree_leaves(opt_state))

  def apply_gradients(self, grads_and_vars) -> None:
    """Keras's stateful step: updates the variables and the optimizer
    state in place (outside compiled code)."""
    grads, variables = zip(*list(grads_and_vars))
    self.apply(list(grads), list(variables))

  def apply(self, grads, trainable_variables=None) -> None:
    """`apply_gradients` with separate lists (Keras 3)."""
    if trainable_variables is None:
      trainable_variables = [v for v in self._slot_targets]
    if not self.built:
      self._build_state(trainable_variables)
    new_values, new_slots = self.stateless_apply(
        [v.value for v in self.variables], grads, trainable_variables)
    for v, value in zip(trainable_variables, new_values):
      v.assign(value)
    self._slots_state = jax.tree_util.tree_unflatten(
        jax.tree_util.tree_structure(self._slots_state), new_slots)
