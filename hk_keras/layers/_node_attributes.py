"""`layer.input` / `layer.output`: the symbolic tensors of a layer's first
call in a Functional graph, as in Keras 3."""

_NEVER_CALLED = (
    "The layer {name!r} has never been called on symbolic tensors (from "
    "hk_keras.Input), so it has no defined {what}. Call it in a Functional "
    "model first: y = layer(x) with x = hk_keras.Input(...).")


def _unwrap(args):
  if isinstance(args, (list, tuple)) and len(args) == 1:
    return args[0]
  return args


class GraphAttributeError(AttributeError):
  """A graph attribute (`input`, `output`, ...) that this layer lacks."""


def explain_missing(layer, name):
  """Re-raises the property's own message: Python falls back to
  `Layer.__getattr__` when a property raises AttributeError, which would
  otherwise replace it with a generic one."""
  prop = getattr(type(layer), name, None)
  if isinstance(prop, property):
    try:
      prop.fget(layer)
    except GraphAttributeError:
      raise
    except AttributeError as err:
      raise GraphAttributeError(str(err)) from None


class NodeAttributes:
  """Mixed into `Layer`: `input` and `output` read the first call's node."""

  def _first_node(self, what):
    nodes = self.__dict__.get("_inbound_nodes") or []
    if not nodes:
      raise GraphAttributeError(
          _NEVER_CALLED.format(name=self.name, what=what))
    return nodes[0]

  def _record_node(self, node):
    self.__dict__.setdefault("_inbound_nodes", []).append(node)

  @property
  def input(self):
    """The symbolic input(s) of the layer's first call."""
    own = self.__dict__.get("_own_output")
    if own is not None:  # an InputLayer is its own input
      return own
    return _unwrap(self._first_node("input").args)

  @property
  def output(self):
    """The symbolic output(s) of the layer's first call."""
    own = self.__dict__.get("_own_output")
    if own is not None:
      return own
    return self._first_node("output").outputs[0]

  @output.setter
  def output(self, value):
    self.__dict__["_own_output"] = value
