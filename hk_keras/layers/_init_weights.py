"""Weights created in a layer's `__init__` (Keras 3: `self.w =
self.add_weight(shape=(3, 4), ...)` with a known shape).

hk_keras weights are Haiku parameters and state, created while a model is
initialised, so `add_weight` outside a trace only records what to create and
returns an `UnbuiltWeight` (shape, dtype and name, no value yet). Each trace
of the layer creates the recorded weights first, before `build`, and the
attributes that held the placeholder read as `WeightView`s of them in the
layer's code (so `self.total.assign_add(x)` works). Outside a trace, once
the model is built, the attribute and `layer.weights` give the value.
"""
import jax.numpy as jnp

_UNKNOWN_SHAPE = (
    "Layer {layer!r}: add_weight(shape={shape}) was called outside of a model "
    "trace (e.g. in __init__) with a shape that is not fully known. A weight "
    "created in __init__ needs a concrete shape (Keras 3 creates it "
    "immediately); create weights whose shape depends on the input in "
    "build(input_shape) instead.")


class UnbuiltWeight:
  """A weight declared in `__init__`, created when the model is initialised.

  Attributes:
    shape, dtype, name, trainable: as given to `add_weight`.
  """

  def __init__(self, layer, kwargs, attrs=None):
    self._layer = layer
    self._kwargs = kwargs
    self.attrs = list(attrs or [])
    self.shape = kwargs["shape"]
    self.dtype = jnp.dtype(kwargs["dtype"] or layer.dtype)
    self.name = kwargs["name"]
    self.trainable = kwargs["trainable"]

  @property
  def path(self):
    return f"{self._layer.name}/{self.name}"

  def _not_built(self, *args, **kwargs):
    raise ValueError(
        f"Weight {self.path!r} has no value yet: hk_keras creates weights "
        "when the model is initialised. Build the model first (call it on "
        "data, model.build(input_shape), or give it an hk_keras.Input); "
        "inside call() the weight reads as its value.")

  numpy = value = assign = assign_add = assign_sub = __array__ = _not_built

  def __repr__(self):
    return (f"<UnbuiltWeight path={self.path}, shape={self.shape}, "
            f"dtype={self.dtype.name}, trainable={self.trainable}>")


def declare(layer, kwargs):
  """Records an `add_weight` call made outside a trace; returns its
  placeholder."""
  shape = kwargs.get("shape")
  shape = () if shape is None else tuple(shape)
  if any(d is None for d in shape):
    raise ValueError(_UNKNOWN_SHAPE.format(layer=layer.name, shape=shape))
  pending = layer.__dict__.setdefault("_init_weights", [])
  kwargs = dict(kwargs, shape=tuple(int(d) for d in shape))
  if kwargs.get("name") is None:
    kwargs["name"] = f"variable_{len(pending)}"
  names = [w.name for w in pending]
  if kwargs["name"] in names:
    raise ValueError(
        f"Layer {layer.name!r} already has a weight named {kwargs['name']!r}. "
        "Give each add_weight call a unique name.")
  weight = UnbuiltWeight(layer, kwargs)
  pending.append(weight)
  return weight


def noticed_attribute(layer, attr, value):
  """`layer.attr = value` was set: remember attributes holding a declared
  weight (their reads in a trace become the weight)."""
  if isinstance(value, UnbuiltWeight) and value._layer is layer:  # pylint: disable=protected-access
    value.attrs.append(attr)
    layer.__dict__.setdefault("_init_weight_attrs", set()).add(attr)


def create_in_trace(layer):
  """Creates the declared weights in the current trace, before `build`, and
  points the attributes that held them at their views."""
  from ._weight_view import WeightView  # pylint: disable=g-import-not-at-top
  for weight in layer.__dict__.get("_init_weights") or ():
    value = layer.add_weight(**weight._kwargs)  # pylint: disable=protected-access
    kind = "params" if weight.trainable else "state"
    view = WeightView(layer, kind, weight.name, value)
    layer._trace_values[id(view)] = (kind, weight.name, view)  # pylint: disable=protected-access
    for attr in weight.attrs:
      object.__setattr__(layer, attr, view)
