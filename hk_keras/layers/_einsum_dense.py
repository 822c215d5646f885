"""`EinsumDense`: a dense layer written as an einsum equation (Keras 3)."""
import re

import jax.numpy as jnp

from .. import activations
from .. import initializers
from ._layer import Layer
from ._spatial_args import reject_unsupported

_LETTERS = "[a-zA-Z]"
# "ab,bc->ac", "...b,bc->...c" (left elided) and "ab...,bc->ac..." (right).
_PLAIN = re.compile(rf"^({_LETTERS}+),({_LETTERS}+)->({_LETTERS}+)$")
_LEFT = re.compile(rf"^\.\.\.({_LETTERS}+),({_LETTERS}+)->\.\.\.({_LETTERS}+)$")
_RIGHT = re.compile(
    rf"^({_LETTERS}{{2,}})\.\.\.,({_LETTERS}+)->({_LETTERS}{{2,}})\.\.\.$")

_EQUATION_HELP = (
    "EinsumDense: `equation` must read 'ab,bc->ac' (inputs, kernel, output), "
    "optionally with '...' at the start of the input and output ('...b,bc->"
    "...c') or after their first letter ('ab...,bc->ac...'). Received: "
    "equation={equation!r}")


def einsum_shapes(equation, output_shape, bias_axes, input_shape):
  """Works out the kernel, bias and full output shapes of an EinsumDense.

  Args:
    equation: the einsum equation.
    output_shape: the output shape without the batch axis (ints; None
      where the size follows the inputs).
    bias_axes: letters of the output that get a bias, or None.
    input_shape: the full input shape, batch axis included.

  Returns:
    `(kernel_shape, bias_shape or None, full_output_shape)`; the bias shape
    spans the output axes from the first biased one to the end, with 1 on
    unbiased axes (so it broadcasts against the output's trailing axes).

  Raises:
    ValueError: on a malformed equation or inconsistent shapes.
  """
  for pattern, elided_side in ((_PLAIN, None), (_LEFT, "left"),
                               (_RIGHT, "right")):
    match = pattern.match(equation)
    if match:
      break
  else:
    raise ValueError(_EQUATION_HELP.format(equation=equation))
  input_spec, kernel_spec, output_spec = match.groups()
  input_shape = tuple(input_shape)
  elided = len(input_shape) - len(input_spec)
  if elided < 0 or (elided and elided_side is None):
    raise ValueError(
        f"EinsumDense: equation {equation!r} names {len(input_spec)} input "
        f"axes but the inputs have shape {input_shape} (rank "
        f"{len(input_shape)}). Use '...' for extra axes or fix the equation.")
  outputs = list(output_shape)
  # The batch size comes first, then the elided axes where they were.
  outputs.insert(0, input_shape[0])
  if elided_side == "left":
    outputs[1:1] = list(input_shape[1:elided])
  elif elided_side == "right":
    outputs.extend(input_shape[len(input_shape) - elided:])
  if elided_side == "left":
    in_axis = {c: i + elided for i, c in enumerate(input_spec)}
    out_axis = {c: len(outputs) - len(output_spec) + i
                for i, c in enumerate(output_spec)}
  else:
    in_axis = {c: i for i, c in enumerate(input_spec)}
    out_axis = {c: i for i, c in enumerate(output_spec)}
  if len(outputs) != len(output_spec) + max(elided, 0):
    raise ValueError(
        f"EinsumDense: `output_shape` {tuple(output_shape)} does not fit the "
        f"equation {equation!r}: the output names {len(output_spec)} axes "
        "(batch included), so output_shape needs one entry per output axis "
        "after the batch axis.")
  for c in output_spec:
    if c in in_axis:
      size = input_shape[in_axis[c]]
      given = outputs[out_axis[c]]
      if given is not None and size is not None and given != size:
        raise ValueError(
            f"EinsumDense: output axis {c!r} is an input axis of size {size}, "
            f"but output_shape gives {given}. Received: equation="
            f"{equation!r}, output_shape={tuple(output_shape)}, input shape "
            f"{input_shape}")
      outputs[out_axis[c]] = size
    elif c not in kernel_spec:
      raise ValueError(
          f"EinsumDense: output axis {c!r} of {equation!r} is neither an input "
          "nor a kernel axis.")
  kernel_shape = []
  for c in kernel_spec:
    if c in in_axis:
      kernel_shape.append(input_shape[in_axis[c]])
    elif c in out_axis:
      kernel_shape.append(outputs[out_axis[c]])
    else:
      raise ValueError(
          f"EinsumDense: kernel axis {c!r} of {equation!r} is in neither the "
          "input nor the output, so its size is unknown.")
  if any(d is None for d in kernel_shape):
    raise ValueError(
        f"EinsumDense: the kernel shape {tuple(kernel_shape)} has unknown "
        f"sizes; give them in output_shape or the input shape. Received: "
        f"equation={equation!r}, output_shape={tuple(output_shape)}")
  bias_shape = None
  if bias_axes is not None:
    for c in bias_axes:
      if c not in output_spec:
        raise ValueError(
            f"EinsumDense: bias axis {c!r} is not an output axis of "
            f"{equation!r}. Received: bias_axes={bias_axes!r}")
    first = min(output_spec.index(c) for c in bias_axes)
    bias_shape = [outputs[out_axis[c]] if c in bias_axes else 1
                  for c in output_spec[first:]]
    if elided_side == "right":
      bias_shape += [1] * elided
  return tuple(kernel_shape), (None if bias_shape is None
                               else tuple(bias_shape)), tuple(outputs)


class EinsumDense(Layer):
  """A dense layer of any rank, given as an einsum equation (Keras 3).

  `outputs = activation(einsum(equation, inputs, kernel) + bias)`. The
  equation names the input, kernel and output axes (`"ab,bc->ac"` is
  `Dense`); the kernel's sizes come from the input shape and
  `output_shape`.

  Args:
    equation: e.g. `"abc,cd->abd"`, `"...b,bc->...c"`, `"ab...,bc->ac..."`.
    output_shape: the output shape without the batch axis (an int for one
      axis); None entries take the size from the inputs.
    activation: name or callable; None means linear.
    bias_axes: letters of the output axes that get a bias (None: no bias).
    kernel_initializer: default "glorot_uniform".
    bias_initializer: default "zeros".
    kernel_regularizer, bias_regularizer, activity_regularizer,
    kernel_constraint, bias_constraint: Keras regularizers and constraints.
    lora_rank, lora_alpha, gptq_unpacked_column_size, quantization_config:
      only None (LoRA and quantization are not provided).

  Weights: `kernel`, then `bias` when `bias_axes` is set.

  >>> import hk_keras
  >>> layer = EinsumDense("abc,cd->abd", output_shape=(None, 8), bias_axes="d")
  >>> layer(hk_keras.Input((5, 3))).shape
  (None, 5, 8)
  """

  def __init__(self, equation, output_shape, activation=None, bias_axes=None,
               kernel_initializer="glorot_uniform", bias_initializer="zeros",
               kernel_regularizer=None, bias_regularizer=None,
               kernel_constraint=None, bias_constraint=None, lora_rank=None,
               lora_alpha=None, gptq_unpacked_column_size=None,
               quantization_config=None, **kwargs):
    # Keras 3 takes activity_regularizer through **kwargs here.
    activity_regularizer = kwargs.pop("activity_regularizer", None)
    super().__init__(**kwargs)
    self._set_weight_extras(
        kernel_regularizer=kernel_regularizer,
        bias_regularizer=bias_regularizer,
        activity_regularizer=activity_regularizer,
        kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    reject_unsupported(
        "EinsumDense", lora_rank=lora_rank, lora_alpha=lora_alpha,
        gptq_unpacked_column_size=gptq_unpacked_column_size,
        quantization_config=quantization_config)
    if not isinstance(equation, str):
      raise ValueError(_EQUATION_HELP.format(equation=equation))
    if not any(p.match(equation) for p in (_PLAIN, _LEFT, _RIGHT)):
      raise ValueError(_EQUATION_HELP.format(equation=equation))
    self.equation = equation
    if isinstance(output_shape, int):
      output_shape = (output_shape,)
    try:
      self.partial_output_shape = tuple(
          None if d is None else int(d) for d in output_shape)
    except (TypeError, ValueError):
      raise ValueError(
          "EinsumDense: `output_shape` must be an int or a tuple of ints "
          f"(None for sizes taken from the inputs). Received: output_shape="
          f"{output_shape!r}") from None
    if bias_axes is not None and not isinstance(bias_axes, str):
      raise ValueError(
          "EinsumDense: `bias_axes` must be None or a string of output axis "
          f"letters. Received: bias_axes={bias_axes!r}")
    self.bias_axes = bias_axes
    self.activation = activations.get(activation)
    self.kernel_initializer = initializers.get(kernel_initializer)
    self.bias_initializer = initializers.get(bias_initializer)

  def build(self, input_shape):
    kernel_shape, bias_shape, _ = einsum_shapes(
        self.equation, self.partial_output_shape, self.bias_axes, input_shape)
    self.kernel = self.add_weight(shape=kernel_shape,
                                  initializer=self.kernel_initializer,
                                  name="kernel")
    if bias_shape is not None:
      self.bias = self.add_weight(shape=bias_shape,
                                  initializer=self.bias_initializer,
                                  name="bias")

  def call(self, inputs):
    if not jnp.issubdtype(inputs.dtype, jnp.inexact):
      inputs = inputs.astype(self.compute_dtype)
    outputs = jnp.einsum(self.equation, inputs,
                         self.kernel.astype(inputs.dtype))
    if self.bias_axes is not None:
      bias = self.bias.astype(outputs.dtype)
      # Full-rank bias: no implicit rank promotion.
      bias = jnp.reshape(bias, (1,) * (outputs.ndim - bias.ndim) + bias.shape)
      outputs = outputs + bias
    return self.activation(outputs)

  def get_config(self):
    return {**super().get_config(),
            "output_shape": list(self.partial_output_shape),
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            "kernel_initializer": initializers.serialize(
                self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._weight_extras_config()}
