"""Wrappers around recurrent and per-step layers: `Bidirectional`,
`TimeDistributed`."""
import jax.numpy as jnp

from ._layer import Layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _clone(layer, **overrides):
  from ..saving import _serialization  # pylint: disable=g-import-not-at-top
  entry = _serialization.serialize_keras_object(layer)
  entry["config"].update(overrides)
  entry["name"] = entry["config"].get("name", entry["name"])
  with _serialization.load_context():
    return _serialization.deserialize_keras_object(entry)


def _strip(name, prefix):
  return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(Layer):
  """Runs an RNN forwards and backwards and merges the outputs (Keras 3).

  The forward layer is a copy of `layer` named `forward_<name>`; the
  backward layer is `backward_layer` or a copy with `go_backwards=True`
  named `backward_<name>`. With `return_sequences` the backward outputs are
  flipped back to time order before merging, and both layers output zeros at
  masked steps (Keras forces `zero_output_for_mask`).

  Weights: the forward layer's, then the backward layer's.

  Args:
    layer: an RNN layer (`LSTM`, `GRU`, `SimpleRNN`, `RNN`).
    merge_mode: "concat" (default), "sum", "mul", "ave" or None (a list of
      the two outputs).
    weights: not supported (set weights after building instead).
    backward_layer: optional RNN layer for the backward direction; it must
      have the opposite `go_backwards` and the same `return_sequences`,
      `return_state` and `stateful`.
    **kwargs: base `Layer` arguments.

  Call arguments: `sequences`, `initial_state` (forward states then
  backward states), `mask`, `training`.

  >>> from hk_keras import layers
  >>> Bidirectional(layers.LSTM(4)).forward_layer.name.startswith("forward_")
  True
  """

  supports_masking = True

  def __init__(self, layer, merge_mode="concat", weights=None,
               backward_layer=None, **kwargs):
    if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
      raise ValueError(
          "Please initialize `Bidirectional` layer with a recurrent layer "
          f"(LSTM, GRU, SimpleRNN or RNN). Received: layer={layer!r}")
    if backward_layer is not None and not isinstance(backward_layer, Layer):
      raise ValueError(
          "`backward_layer` needs to be an hk_keras layer. Received: "
          f"{backward_layer!r}")
    if merge_mode not in _MERGE_MODES:
      raise ValueError(
          f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should "
          'be one of {"sum", "mul", "ave", "concat", None}.')
    if weights is not None:
      raise ValueError(
          "Bidirectional(weights=...) is not supported by hk_keras: build the "
          "model, then call layer.set_weights(weights).")
    super().__init__(**kwargs)
    self.forward_layer = _clone(
        layer, name=f"forward_{_strip(layer.name, 'forward_')}")
    if backward_layer is None:
      self.backward_layer = _clone(
          layer, go_backwards=not layer.go_backwards,
          name=f"backward_{_strip(layer.name, 'backward_')}")
    else:
      self.backward_layer = backward_layer
    if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
      raise ValueError(
          "Forward layer and backward layer should have different "
          "`go_backwards` values. Received: forward_layer.go_backwards="
          f"{self.forward_layer.go_backwards}, backward_layer.go_backwards="
          f"{self.backward_layer.go_backwards}")
    for attr in ("stateful", "return_sequences", "return_state"):
      a = getattr(self.forward_layer, attr)
      b = getattr(self.backward_layer, attr)
      if a != b:
        raise ValueError(
            "Forward layer and backward layer are expected to have the same "
            f"value for attribute {attr!r}, got {a} for the forward layer and "
            f"{b} for the backward layer.")
    for l in (self.forward_layer, self.backward_layer):
      if hasattr(l, "zero_output_for_mask"):
        l.zero_output_for_mask = l.return_sequences
    self.merge_mode = merge_mode
    self.stateful = self.forward_layer.stateful
    self.return_sequences = self.forward_layer.return_sequences
    self.return_state = self.forward_layer.return_state

  def reset_states(self):
    if not self.stateful:
      raise AttributeError("Layer must be stateful.")
    self.forward_layer.reset_states()
    self.backward_layer.reset_states()

  reset_state = reset_states

  def compute_mask(self, inputs, previous_mask):
    del inputs
    mask = previous_mask
    if isinstance(mask, (list, tuple)):
      mask = mask[0]
    if self.return_sequences:
      output_mask = (mask, mask) if self.merge_mode is None else mask
    else:
      output_mask = (None, None) if self.merge_mode is None else None
    if self.return_state:
      count = 2 * self.forward_layer._state_count()
      head = list(output_mask) if isinstance(output_mask, tuple) else [
          output_mask]
      return head + [None] * count
    return output_mask

  def call(self, sequences, initial_state=None, mask=None, training=False):
    forward_state = backward_state = None
    if initial_state is not None:
      half = len(initial_state) // 2
      forward_state = list(initial_state[:half])
      backward_state = list(initial_state[half:])
    y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                           training=training)
    y_rev = self.backward_layer(sequences, initial_state=backward_state,
                                mask=mask, training=training)
    states = ()
    if self.return_state:
      states = tuple(y[1:]) + tuple(y_rev[1:])
      y, y_rev = y[0], y_rev[0]
    if self.return_sequences:
      y_rev = jnp.flip(y_rev, axis=1)
    if self.merge_mode == "concat":
      output = jnp.concatenate([y, y_rev], axis=-1)
    elif self.merge_mode == "sum":
      output = y + y_rev
    elif self.merge_mode == "ave":
      output = (y + y_rev) / 2
    elif self.merge_mode == "mul":
      output = y * y_rev
    else:
      output = (y, y_rev)
    if self.return_state:
      if self.merge_mode is None:
        return output + states
      return (output,) + states
    return output

  def get_config(self):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    return {**super().get_config(), "merge_mode": self.merge_mode,
            "layer": _serialization.serialize_keras_object(self.forward_layer),
            "backward_layer": _serialization.serialize_keras_object(
                self.backward_layer)}

  @classmethod
  def from_config(cls, config):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    config["layer"] = _serialization.deserialize_keras_object(config["layer"])
    backward = config.pop("backward_layer", None)
    if backward is not None:
      config["backward_layer"] = _serialization.deserialize_keras_object(
          backward)
    return cls(**config)


class TimeDistributed(Layer):
  """Applies `layer` to every timestep (Keras 3).

  Inputs `(batch, timesteps, ...)`; the wrapped layer sees `(batch *
  timesteps, ...)` in one call (one set of weights for all steps) and the
  result is reshaped back to `(batch, timesteps, ...)`. A Keras mask passes
  through to the output (and to the layer's own `mask` argument, if any).

  Args:
    layer: the layer to apply (e.g. `Dense`).
    **kwargs: base `Layer` arguments.

  >>> import hk_keras
  >>> from hk_keras import layers
  >>> TimeDistributed(layers.Dense(3))(hk_keras.Input((5, 4))).shape
  (None, 5, 3)
  """

  supports_masking = True

  def __init__(self, layer, **kwargs):
    if not isinstance(layer, Layer):
      raise ValueError(
          "Please initialize `TimeDistributed` layer with an hk_keras layer "
          f"instance. Received: {layer!r}")
    super().__init__(**kwargs)
    self.layer = layer

  def build(self, input_shape):
    if not isinstance(input_shape, tuple) or len(input_shape) < 3:
      raise ValueError(
          f"Layer {self.name!r} (TimeDistributed) expects inputs of shape "
          f"(batch, timesteps, ...), at least rank 3. Received: input_shape="
          f"{input_shape}")

  def call(self, inputs, training=False, mask=None):
    batch, steps = inputs.shape[:2]
    if mask is not None and tuple(mask.shape[:2]) != (batch, steps):
      raise ValueError(
          f"The `mask` passed to the `TimeDistributed` layer has a shape "
          f"{tuple(mask.shape)} that is incompatible with the input shape "
          f"{tuple(inputs.shape)}: its first two dimensions must be (batch, "
          "timesteps).")
    flat = jnp.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
    kwargs = {"training": training}
    from .._core import _masking  # pylint: disable=g-import-not-at-top
    params = {p.name for p in _masking._call_parameters(self.layer)}
    if mask is not None and "mask" in params and mask.ndim > 2:
      kwargs["mask"] = jnp.reshape(mask, (batch * steps,) + mask.shape[2:])
    out = self.layer(flat, **kwargs)
    return jnp.reshape(out, (batch, steps) + tuple(out.shape[1:]))

  def get_config(self):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    return {**super().get_config(),
            "layer": _serialization.serialize_keras_object(self.layer)}

  @classmethod
  def from_config(cls, config):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    config["layer"] = _serialization.deserialize_keras_object(config["layer"])
    return cls(**config)
