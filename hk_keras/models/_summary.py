"""Keras-style `model.summary()` table."""
import numpy as np

from ..layers import _input
from ..layers import _layer


def _fmt_shape(shape):
  if isinstance(shape, dict):
    return "{" + ", ".join(f"{k}: {_fmt_shape(v)}" for k, v in shape.items()) + "}"
  if isinstance(shape, list) or (isinstance(shape, tuple) and shape and
                                 isinstance(shape[0], (tuple, list))):
    return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"
  dims = ["None" if d is None else str(d) for d in shape]
  return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"


def _fmt_bytes(n):
  for unit in ("B", "KB", "MB", "GB"):
    if n < 1024 or unit == "GB":
      return f"{n:.2f} {unit}"
    n /= 1024.0


def _size(records):
  count = sum(int(np.prod(r.shape, dtype=np.int64)) for r in records)
  nbytes = sum(int(np.prod(r.shape, dtype=np.int64)) * np.dtype(r.dtype).itemsize
               for r in records)
  return count, nbytes


def layer_rows(model):
  """(name (type), output shape, param count) for each top-level layer."""
  rows = []
  for layer in getattr(model, "_operations", model.layers):
    if getattr(layer, "_is_container", False):
      records = layer._records
    else:
      records = [r for r in model._records if r.owner is layer]
    if isinstance(layer, _input.InputLayer):
      shape = layer.input_shape
    else:
      shape = model._layer_output_shapes.get(id(layer), "?")
    kind = getattr(layer, "summary_class_name", type(layer).__name__)
    rows.append((f"{layer.name} ({kind})", shape,
                 _size(records)[0]))
  return rows


def print_summary(model, line_length=None, print_fn=None):
  model._require_built()
  print_fn = print_fn or print
  rows = [(n, _fmt_shape(s) if s != "?" else "?", f"{c:,}")
          for n, s, c in layer_rows(model)]
  headers = ("Layer (type)", "Output Shape", "Param #")
  widths = [max([len(headers[i])] + [len(r[i]) for r in rows]) + 2
            for i in range(3)]
  if line_length:
    widths[0] = max(widths[0], line_length - widths[1] - widths[2] - 4)

  def line(left, mid, right, fill="━"):
    return left + mid.join(fill * w for w in widths) + right

  def row(cells, bar="│"):
    texts = [f" {cells[0]:<{widths[0] - 2}} ", f" {cells[1]:<{widths[1] - 2}} ",
             f" {cells[2]:>{widths[2] - 2}} "]
    return bar + bar.join(texts) + bar

  out = [f'Model: "{model.name}"', line("┏", "┳", "┓"), row(headers, "┃"),
         line("┡", "╇", "┩")]
  for i, r in enumerate(rows):
    out.append(row(r))
    if i != len(rows) - 1:
      out.append(line("├", "┼", "┤", "─"))
  out.append(line("└", "┴", "┘", "─"))
  trainable = [r for r in model._records if _layer.is_trainable(r)]
  frozen = [r for r in model._records if not _layer.is_trainable(r)]
  total = _size(model._records)
  t, f = _size(trainable), _size(frozen)
  out.append(f" Total params: {total[0]:,} ({_fmt_bytes(total[1])})")
  out.append(f" Trainable params: {t[0]:,} ({_fmt_bytes(t[1])})")
  out.append(f" Non-trainable params: {f[0]:,} ({_fmt_bytes(f[1])})")
  print_fn("\n".join(out))
