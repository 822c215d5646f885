"""`SpectralNormalization`: divides a layer's kernel by its spectral norm."""
import haiku as hk
import jax
import jax.numpy as jnp

from .. import initializers
from .._core import _context
from ._layer import Layer

_EPSILON = 1e-7  # Keras's backend.epsilon(), the floor of the L2 norm


class _Scope(hk.Module):
  """The Haiku module the wrapped layer's weights live in."""

  def __call__(self, fn):
    return fn()


def _l2_normalize(x):
  """Keras 3's `ops.normalize(x, axis=None)`: `x * min(rsqrt(sum x^2), 1/eps)`."""
  inv = jax.lax.rsqrt(jnp.sum(jnp.square(x)))
  return x * jnp.minimum(inv, 1.0 / _EPSILON)


def power_iteration(kernel, vector_u, iterations):
  """The new `u` and `kernel / sigma`, sigma estimated by power iteration.

  Args:
    kernel: any shape; its last axis is the output axis.
    vector_u: (1, kernel.shape[-1]).
    iterations: the number of power iterations (>= 1).

  Returns:
    `(new vector_u, normalized kernel)`; gradients do not flow through `u`
    and `v` (as Keras), only through the kernel in `kernel / sigma`.
  """
  weights = jnp.reshape(kernel, (-1, kernel.shape[-1]))
  u = vector_u.astype(kernel.dtype)
  for _ in range(iterations):
    v = _l2_normalize(u @ weights.T)
    u = _l2_normalize(v @ weights)
  u = jax.lax.stop_gradient(u)
  v = jax.lax.stop_gradient(v)
  sigma = (v @ weights) @ u.T  # (1, 1)
  return u.astype(vector_u.dtype), kernel / sigma[0, 0]


class SpectralNormalization(Layer):
  """Spectral normalization of a wrapped layer's kernel (Miyato et al., 2018;
  Keras 3 `keras.layers.SpectralNormalization`).

  In training, one or more power iterations on the kernel (reshaped to
  `(-1, kernel.shape[-1])`) update the non-trainable vector `vector_u` (Haiku
  state) and estimate the kernel's largest singular value `sigma`; the
  wrapped layer then runs with `kernel / sigma` (the gradient flows through
  the division). An all-zero kernel is left as it is. In inference the
  wrapped layer runs with its kernel unchanged.

  As in Keras 3's JAX backend under `fit` (a stateless call), the stored
  kernel param is not overwritten with the normalized one: Haiku params are
  read-only inside `apply`. (Keras's eager `layer(x, training=True)` also
  assigns `kernel / sigma` to the kernel variable.)

  Weights: the wrapped layer's (under `<name>/<layer name>`), then
  `vector_u` (1, units), initialized `TruncatedNormal(stddev=0.02)`.

  Args:
    layer: a layer with a `kernel` (`Dense`, `Conv2D`, ...) or an
      `embeddings` (`Embedding`) weight.
    power_iterations: power iterations per training call (positive int).
    **kwargs: base `Layer` arguments.

  >>> from hk_keras import layers
  >>> SpectralNormalization(layers.Dense(3)).get_config()["power_iterations"]
  1
  """

  def __init__(self, layer, power_iterations: int = 1, **kwargs):
    if not isinstance(layer, Layer):
      raise ValueError(
          "SpectralNormalization wraps an hk_keras layer with a `kernel` or "
          f"`embeddings` weight (Dense, Conv2D, Embedding, ...). Received: "
          f"layer={layer!r}")
    if (isinstance(power_iterations, bool) or
        not isinstance(power_iterations, int) or power_iterations <= 0):
      raise ValueError(
          "`power_iterations` should be greater than zero. Received: "
          f"`power_iterations={power_iterations!r}`")
    super().__init__(**kwargs)
    self.layer = layer
    self.power_iterations = power_iterations

  def build(self, input_shape):
    layer = self.layer
    ctx = _context.current()
    if all(layer is not l for l in ctx.traced_layers):
      ctx.traced_layers.append(layer)
    ctx.layer_stack.append(layer)  # its weights are recorded as its own
    try:
      _Scope(name=layer.name)(lambda: layer._build_in_trace(input_shape))
    finally:
      ctx.layer_stack.pop()
    for attr in ("kernel", "embeddings"):
      if attr in layer.__dict__:
        self._kernel_attr = attr
        break
    else:
      raise ValueError(
          f"{type(layer).__name__} object has no attribute 'kernel' nor "
          "'embeddings': SpectralNormalization wraps a layer with one of "
          "them (Dense, Conv*, Embedding, ...).")
    kernel = layer.__dict__[self._kernel_attr]
    # Keras's wrapper tracks the kernel as its own weight (listed first).
    entry = layer._trace_values.get(id(kernel))
    if entry is not None:
      self._claimed_weights = ((layer, entry[1]),)
    self.vector_u = self.add_weight(
        (1, kernel.shape[-1]),
        initializers.TruncatedNormal(stddev=0.02), dtype=layer.dtype,
        trainable=False, name="vector_u")

  def call(self, inputs, training=False):
    layer = self.layer
    kwargs = {"training": training} if layer._call_accepts_training else {}
    if not training:
      out = layer._call_with_autocast((inputs,), kwargs)
      return jnp.asarray(out, inputs.dtype)
    kernel = layer.__dict__[self._kernel_attr]
    new_u, normalized = power_iteration(kernel, self.vector_u,
                                        self.power_iterations)
    zero = jnp.all(kernel == 0)
    new_u = jnp.where(zero, self.vector_u, new_u)
    normalized = jnp.where(zero, kernel, normalized)
    self.assign(self.vector_u, new_u)
    layer.__dict__[self._kernel_attr] = normalized
    try:
      out = layer._call_with_autocast((inputs,), kwargs)
    finally:
      layer.__dict__[self._kernel_attr] = kernel
    return jnp.asarray(out, inputs.dtype)

  def compute_output_shape(self, input_shape):
    return self.layer.compute_output_shape(input_shape)

  def get_config(self):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    return {**super().get_config(),
            "layer": _serialization.serialize_keras_object(self.layer),
            "power_iterations": self.power_iterations}

  @classmethod
  def from_config(cls, config):
    from ..saving import _serialization  # pylint: disable=g-import-not-at-top
    config = dict(config)
    config["layer"] = _serialization.deserialize_keras_object(config["layer"])
    return cls(**config)
