"""The automatic layouts of `ModelParallel(layout_map="fsdp" / "auto")`.

"fsdp" (ZeRO-3 style): every param with at least `min_shard_size` elements
is split along its largest axis that divides evenly over the data axis;
the optimizer slots follow their param. "auto" first applies Megatron-style
tensor parallelism over a "model" mesh axis, recognising layers by their
Haiku param names:

* Dense `kernel` (in, out): column parallel `(None, "model")` (its bias
  split too) when out >= in, else row parallel `("model", None)`; an
  MLP's widening then narrowing Dense pair is Megatron's column/row pair.
* EinsumDense (and other >2-D) `kernel`: the last (output) axis.
* MultiHeadAttention: the heads axis of the query/key/value kernels and
  biases and of the output kernel (each device computes its heads).
* Embedding `embeddings` (vocab, dim): the vocabulary axis.

then FSDP over the data axis on the axes left. Axes that do not divide
evenly stay whole.
"""
import math

_HEADS_AXIS = {"query_kernel": 1, "key_kernel": 1, "value_kernel": 1,
               "query_bias": 0, "key_bias": 0, "value_bias": 0,
               "output_kernel": 0}


def _tensor_parallel_axis(name, shape, siblings):
  """The axis of param `name` to split over the model axis, or None."""
  if name in _HEADS_AXIS and len(shape) >= 2:
    return _HEADS_AXIS[name]
  if name == "embeddings" and len(shape) == 2:
    return 0
  if name == "kernel" and len(shape) == 2:
    return 1 if shape[1] >= shape[0] else 0
  if name == "kernel" and len(shape) > 2:
    return len(shape) - 1
  if name == "bias" and len(shape) == 1 and "kernel" in siblings:
    kernel = siblings["kernel"]
    if len(kernel) == 2 and kernel[1] >= kernel[0] or len(kernel) > 2:
      return 0 if kernel[-1] == shape[0] else None
  return None


def _fsdp(spec, shape, axis, size, min_size):
  if size <= 1 or math.prod(shape) < min_size:
    return spec
  free = [d for d in range(len(shape))
          if spec[d] is None and shape[d] % size == 0]
  if free:
    d = max(free, key=lambda d: shape[d])
    spec[d] = axis
  return spec


def auto_axes(mode, name, shape, siblings, data_axis, data_size, model_size,
              min_size):
  """The layout axes of one param (a tuple, one entry per axis)."""
  spec = [None] * len(shape)
  if (mode == "auto" and model_size > 1 and
      math.prod(shape) >= min_size):
    d = _tensor_parallel_axis(name, shape, siblings)
    if d is not None and shape[d] % model_size == 0:
      spec[d] = "model"
  return tuple(_fsdp(spec, shape, data_axis, data_size, min_size))
