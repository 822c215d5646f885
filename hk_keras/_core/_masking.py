"""Keras masks: a boolean array of valid timesteps that follows a tensor.

Keras 3 attaches a mask to the tensor it describes (`_keras_mask`); a layer
call fills its `mask` argument from its inputs' masks and attaches
`compute_mask(inputs, previous_mask)` to its outputs. JAX arrays and tracers
take no new attributes, so, as Keras itself does for such tensors, the masks
live in a table keyed by the tensor's identity, each entry dropped when its
tensor is garbage collected. Everything here runs at trace time: the masks
are traced arrays of the same computation, so masking costs no host work in
a compiled step.
"""
import inspect
import weakref

import jax

_masks = {}  # id(tensor) -> (weakref to tensor, mask)


def set_keras_mask(x, mask) -> None:
  """Attaches `mask` to the tensor `x` (None removes it)."""
  key = id(x)
  if mask is None:
    _masks.pop(key, None)
    return
  try:
    ref = weakref.ref(x, lambda _, key=key, table=_masks: table.pop(key, None))
  except TypeError:  # not weak-referenceable (a Python number): no mask
    return
  _masks[key] = (ref, mask)


def get_keras_mask(x):
  """The mask attached to `x`, or None."""
  entry = _masks.get(id(x))
  if entry is None or entry[0]() is not x:
    return None
  return entry[1]


def _is_tensor(x) -> bool:
  return isinstance(x, jax.Array) or hasattr(x, "aval")


def _tensor_tree(x) -> bool:
  leaves = jax.tree_util.tree_leaves(x)
  return bool(leaves) and all(_is_tensor(l) for l in leaves)


def tree_masks(tree):
  """The masks of a structure of tensors (None where a tensor has none)."""
  return jax.tree_util.tree_map(get_keras_mask, tree)


def _any_mask(masks) -> bool:
  return any(m is not None for m in jax.tree_util.tree_leaves(
      masks, is_leaf=lambda m: m is None))


_signatures = {}


def _call_parameters(layer):
  fn = type(layer).call
  params = _signatures.get(fn)
  if params is None:
    params = list(inspect.signature(layer.call).parameters.values())
    _signatures[fn] = params
  return params


def fill_mask_arguments(layer, args, kwargs):
  """Keras's call-time mask filling; returns (kwargs, previous_mask).

  With one tensor argument and a `mask` parameter left unset, `mask` gets
  the argument's masks; with several tensor arguments each `<name>_mask`
  parameter gets the masks of `<name>` (e.g. `query_mask`, `value_mask`).
  `previous_mask` (given to `compute_mask`) is the `mask` argument, or else
  the masks of the first argument.
  """
  params = _call_parameters(layer)
  names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY,
                                                p.POSITIONAL_OR_KEYWORD)]
  accepted = {p.name for p in params}
  bound = dict(zip(names, args))
  bound.update(kwargs)
  tensors = {k: v for k, v in bound.items()
             if k not in ("mask", "training") and not k.endswith("_mask")
             and v is not None and _tensor_tree(v)}
  if len(tensors) == 1:
    if "mask" in accepted and bound.get("mask") is None:
      masks = tree_masks(next(iter(tensors.values())))
      if _any_mask(masks):
        kwargs = {**kwargs, "mask": masks}
  elif len(tensors) > 1:
    for name, value in tensors.items():
      arg = f"{name}_mask"
      if arg in accepted and bound.get(arg) is None:
        masks = tree_masks(value)
        if _any_mask(masks):
          kwargs = {**kwargs, arg: masks}
  if kwargs.get("mask") is not None:
    previous = kwargs["mask"]
  else:
    first = args[0] if args else None
    previous = tree_masks(first) if first is not None else None
  return kwargs, previous


def set_output_masks(layer, args, outputs, previous_mask) -> None:
  """Attaches `layer.compute_mask(inputs, previous_mask)` to the outputs.

  As Keras: only for layers that support masking, and not when the call
  already attached masks to all of its outputs (e.g. `Masking`).
  """
  if not layer.supports_masking:
    return
  flat = jax.tree_util.tree_leaves(outputs)
  if not flat or all(get_keras_mask(t) is not None for t in flat):
    return
  inputs = args[0] if args else None
  masks = layer.compute_mask(inputs, previous_mask)
  if masks is None:
    return
  flat_masks = jax.tree_util.tree_leaves(
      masks, is_leaf=lambda m: m is None)
  if len(flat_masks) == 1 and len(flat) > 1:
    flat_masks = flat_masks * len(flat)
  for tensor, mask in zip(flat, flat_masks):
    if mask is not None and get_keras_mask(tensor) is None:
      set_keras_mask(tensor, mask)


def carry_input_masks(inputs, mask, values, structure) -> None:
  """Keeps a Functional model's input masks on its (converted) inputs.

  Args:
    inputs: what the model was called on.
    mask: the call's `mask` argument (same structure), or None.
    values: id(input KerasTensor) -> the converted input value.
    structure: the model's input KerasTensors (one, a list or a dict).
  """
  if isinstance(structure, dict):
    pairs = [(structure[k], inputs[k], (mask or {}).get(k) if isinstance(
        mask, dict) else None) for k in structure]
  elif isinstance(structure, list):
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * len(
        items)
    pairs = list(zip(structure, items, masks))
  else:
    item = inputs[0] if isinstance(inputs, (list, tuple)) and len(
        inputs) == 1 else inputs
    pairs = [(structure, item, mask)]
  for tensor, value, m in pairs:
    m = get_keras_mask(value) if m is None else m
    converted = values[id(tensor)]
    if m is not None and get_keras_mask(converted) is None:
      set_keras_mask(converted, m)
