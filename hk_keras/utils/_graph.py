"""`get_source_inputs`: the `Input` tensors a symbolic tensor comes from."""
import jax


def get_source_inputs(tensor):
  """The `hk_keras.Input` tensors that `tensor` was computed from.

  Args:
    tensor: a symbolic tensor of the Functional API.

  Returns:
    A list of input tensors, in the order a depth-first walk meets them.

  Raises:
    ValueError: if `tensor` is not a symbolic tensor.

  >>> import hk_keras
  >>> x = hk_keras.Input((2,))
  >>> get_source_inputs(hk_keras.layers.Dense(3)(x))[0] is x
  True
  """
  from ..layers import _input  # pylint: disable=g-import-not-at-top
  is_kt = lambda x: isinstance(x, _input.KerasTensor)
  if not is_kt(tensor):
    raise ValueError(
        "get_source_inputs expects a symbolic tensor (from hk_keras.Input or "
        f"a layer called on one). Received: {tensor!r} of type "
        f"{type(tensor).__name__}")
  found, seen = [], set()

  def walk(t):
    node = t.node
    if node is None or isinstance(node.layer, _input.InputLayer):
      if id(t) not in seen:
        seen.add(id(t))
        found.append(t)
      return
    for parent in jax.tree_util.tree_leaves((node.args, node.kwargs),
                                            is_leaf=is_kt):
      if is_kt(parent):
        walk(parent)

  walk(tensor)
  return found
