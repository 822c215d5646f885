"""Which form a layer's weight attributes take while some code runs.

Inside a trace a weight attribute (`self.kernel`) holds either the plain jax
array or a `WeightView` of it (see `_weight_view`). Each layer call (and
each build) in a trace enters the code of one layer; `enter` sets the forms
that code must see and returns what it changed, and `leave` undoes it,
carrying assigned values along:

* built-in layer code: plain arrays for the layer and all its sublayers
  (hk_keras's own layers compute on arrays, and on nothing else);
* user layer code: views of its sublayers' weights and of the weights it
  created in `__init__`; plain arrays for those its `build` created.
"""
from . import _layer_walk
from ._weight_view import WeightView, is_user_layer


def enter(ctx, layer):
  """Shows `layer`'s code the forms described above; returns the changes."""
  changes = []
  if is_user_layer(layer):
    ctx.views_made = True
    own_views = layer.__dict__.get("_init_weight_attrs") or ()
    _show(layer, lambda attr: attr in own_views, changes)
    for sub in _layer_walk.sublayers(layer):
      _show(sub, lambda attr: True, changes)
  elif ctx.views_made:
    for sub in [layer] + _layer_walk.sublayers(layer):
      _show(sub, lambda attr: False, changes)
  return changes


def leave(changes):
  """Restores the forms `enter` replaced, keeping assigned values."""
  for layer, attr, previous in reversed(changes):
    current = layer.__dict__.get(attr)
    if isinstance(previous, WeightView):
      if current is not None and not isinstance(current, WeightView):
        previous._value = current  # pylint: disable=protected-access
      object.__setattr__(layer, attr, previous)
    elif isinstance(current, WeightView):
      _put(layer, attr, current.value, current)


def _show(layer, want_view, changes):
  values = layer.__dict__.get("_trace_values")
  if not values:
    return
  for attr, current in list(layer.__dict__.items()):
    entry = values.get(id(current))
    if entry is None or entry[2] is not current:
      continue
    wanted = want_view(attr)
    if wanted and not isinstance(current, WeightView):
      kind, name, _ = entry
      _put(layer, attr, WeightView(layer, kind, name, current), current)
      changes.append((layer, attr, current))
    elif not wanted and isinstance(current, WeightView):
      _put(layer, attr, current.value, current)
      changes.append((layer, attr, current))


def _put(layer, attr, new, old):
  """Stores `new` as the attribute, a weight of this trace like `old`."""
  values = layer.__dict__["_trace_values"]
  kind, name, _ = values[id(old)]
  values[id(new)] = (kind, name, new)
  object.__setattr__(layer, attr, new)
