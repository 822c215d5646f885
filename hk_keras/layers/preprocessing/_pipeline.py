"""`Pipeline`: a sequence of preprocessing layers applied in order."""
from .._layer import Layer


class Pipeline(Layer):
  """Applies `layers` in order (Keras 3's `Pipeline`), passing `training`.

  Unlike `Sequential` it is a layer, not a model: use it inside models or
  on data. The inner layers run as nested layers of the pipeline.
  """

  def __init__(self, layers, name=None, **kwargs):
    super().__init__(name=name, **kwargs)
    layers = list(layers)
    for layer in layers:
      if not isinstance(layer, Layer):
        raise TypeError(
            "Pipeline takes a list of hk_keras layers. Received an element "
            f"of type {type(layer).__name__}: {layer!r}")
    self._pipeline_layers = layers
    self._tracked_layers.extend(layers)

  @property
  def layers(self):
    return list(self._pipeline_layers)

  def call(self, inputs, training=True):
    for layer in self._pipeline_layers:
      inputs = layer(inputs, training=training)
    return inputs

  def get_config(self):
    from ...saving import _serialization  # pylint: disable=g-import-not-at-top
    return {"name": self.name, "layers": [
        _serialization.serialize_keras_object(l)
        for l in self._pipeline_layers]}

  @classmethod
  def from_config(cls, config):
    from ...saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    layers = config.get("layers")
    if not isinstance(layers, (list, tuple)):
      raise ValueError(
          "`Pipeline` config must contain a `layers` key mapping to a list of "
          f"serialized layers. Received config with layers={layers!r}.")
    config["layers"] = [_serialization.deserialize_keras_object(l)
                        for l in layers]
    return cls(**config)
