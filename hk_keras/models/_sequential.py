"""`Sequential`: a plain stack of layers."""
from .._core import _masking
from .._core import _naming
from ..layers import _input
from ..layers._layer import Layer
from ._model import Model


class Sequential(Model):
  """A linear stack of layers, each taking the previous one's output.

  Builds as soon as the input shape is known: from an `hk_keras.Input` first
  layer, an `input_shape=` argument on the first layer, `build(input_shape)`,
  or lazily on the first data.

  >>> import hk_keras
  >>> model = hk_keras.Sequential([hk_keras.Input((4,)),
  ...                              hk_keras.layers.Dense(2)])
  >>> [l.name for l in model.layers][-1].startswith("dense")
  True
  """

  def __init__(self, layers=None, name=None, trainable=True, **kwargs):
    super().__init__(name=name or _naming.unique_name("sequential"),
                     trainable=trainable, **kwargs)
    self._input_layer = None
    for layer in layers or []:
      self.add(layer, rebuild=False)
    self._maybe_build()

  @property
  def layers(self):
    return list(self._tracked_layers)

  def add(self, layer, rebuild=True):
    """Appends a layer (or an `hk_keras.Input` as the first entry).

    Raises:
      TypeError: if `layer` is not a Layer or Input.
    """
    if isinstance(layer, _input.KerasTensor):
      layer = layer.node.layer
    if isinstance(layer, _input.InputLayer):
      if self._tracked_layers or self._input_layer is not None:
        raise ValueError(
            "An Input can only be the first entry of a Sequential model.")
      self._input_layer = layer
      if layer.is_string:
        # Strings reach the model through its leading host layers, which
        # turn them into numbers first: the model builds on those.
        return
      # A fixed batch size (Input(..., batch_size=n)) is kept, as the
      # Functional API keeps it: stateful RNNs build their states for it.
      self._input_spec = _input.ShapeSpec(tuple(layer.input_shape),
                                          layer.dtype)
      return
    if not isinstance(layer, Layer):
      raise TypeError(
          "Sequential.add expects an hk_keras layer or hk_keras.Input. "
          f"Received: {layer!r} of type {type(layer).__name__}.")
    if any(layer is l for l in self._tracked_layers):
      raise ValueError(f"Layer {layer.name!r} is already in this Sequential.")
    if not self._tracked_layers and self._input_spec is None:
      if layer._declared_input_shape is not None:
        self._input_spec = _input.ShapeSpec(
            (None,) + tuple(layer._declared_input_shape), "float32")
      elif isinstance(getattr(layer, "_input_spec", None), _input.ShapeSpec):
        # A model with one known input (e.g. a Functional one) fixes the
        # input shape, as in Keras.
        self._input_spec = layer._input_spec
    self._tracked_layers.append(layer)
    self._invalidate()
    if rebuild:
      self._maybe_build()

  def pop(self, rebuild=True):
    """Removes and returns the last layer.

    Raises:
      ValueError: if the model has no layers.
    """
    if not self._tracked_layers:
      raise ValueError(f"Sequential {self.name!r} has no layers to pop.")
    layer = self._tracked_layers.pop()
    self._invalidate()
    if rebuild:
      self._maybe_build()
    return layer

  def _invalidate(self):
    self.built = False
    self._records = []
    self._jitted_apply = None

  def _maybe_build(self):
    if self._input_spec is not None and self._tracked_layers:
      self._build_from_specs((self._input_spec,))

  def call(self, inputs, training=False, mask=None):
    x = inputs
    if self._input_layer is not None and not self._input_layer.is_string:
      x = _input.as_input_dtype(x, self._input_layer.dtype)
    mask = _masking.get_keras_mask(inputs) if mask is None else mask
    if mask is not None and _masking.get_keras_mask(x) is None:
      _masking.set_keras_mask(x, mask)
    for layer in self._tracked_layers:
      x = layer(x, training=training)
    return x

  def get_config(self):
    """The layers in order, plus the input layer or input shape."""
    from ..saving import _graph  # pylint: disable=g-import-not-at-top
    return _graph.sequential_config(self)
