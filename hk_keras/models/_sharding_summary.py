"""`model.summary(show_sharding=True)`: where each param lives.

One row per param and Haiku state entry: its path, shape, layout (the mesh
axis each axis is split over, "-" for none) and the bytes one device holds;
then the per-device totals of params, optimizer state and Haiku state next
to the totals a single device would hold.
"""
import jax
import numpy as np

from .._engine import _live_state
from .._engine._train_state import TrainState, split_trainable


def _shape(x):
  return tuple(getattr(x, "shape", np.shape(x)))


def _device_bytes(leaf, sharding):
  shape = _shape(leaf)
  if hasattr(sharding, "shard_shape"):
    shape = sharding.shard_shape(shape)
  return int(np.prod(shape, dtype=np.int64)) * np.dtype(leaf.dtype).itemsize


def _full_bytes(leaf):
  return int(np.prod(_shape(leaf), dtype=np.int64)) * np.dtype(
      leaf.dtype).itemsize


def _layout(sharding, ndim):
  spec = tuple(getattr(sharding, "spec", ()))
  spec = spec + (None,) * (ndim - len(spec))
  return "(" + ", ".join("-" if a is None else str(a) for a in spec) + ")"


def _placed(model):
  """(train state, its shardings): the live one, or laid out as it will be."""
  live = _live_state.live_state(model)
  strategy = live.strategy
  ts = live.train_state
  if ts is None:
    opt = None
    if live.options.tx is not None:
      trainable, _ = split_trainable(model.params, model.trainable_mask())
      opt = jax.eval_shape(live.options.tx.init, trainable)
    ts = TrainState(model.params, model.state, opt, None, None, None)
  if hasattr(strategy, "state_shardings"):
    return ts, strategy.state_shardings(ts)
  return ts, jax.tree_util.tree_map(lambda _: None, ts)


def _fmt(n):
  for unit in ("B", "KB", "MB", "GB"):
    if n < 1024 or unit == "GB":
      return f"{n:.2f} {unit}"
    n /= 1024.0


def sharding_lines(model):
  """The lines `summary(show_sharding=True)` adds."""
  ts, shardings = _placed(model)
  rows = [("Param (path)", "Shape", "Layout", "Per device")]
  for kind in ("params", "state"):
    tree, specs = getattr(ts, kind), getattr(shardings, kind)
    for module, leaves in (tree or {}).items():
      for name, leaf in leaves.items():
        s = specs[module][name] if specs else None
        rows.append((f"{module}/{name}", str(_shape(leaf)),
                     _layout(s, len(_shape(leaf))),
                     _fmt(_device_bytes(leaf, s))))
  widths = [max(len(r[i]) for r in rows) for i in range(4)]
  out = ["", "Sharding:"]
  for r in rows:
    out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)))

  def totals(field):
    leaves = jax.tree_util.tree_leaves(getattr(ts, field))
    specs = jax.tree_util.tree_leaves(getattr(shardings, field))
    if len(specs) != len(leaves):
      specs = [None] * len(leaves)
    return (sum(_device_bytes(l, s) for l, s in zip(leaves, specs)),
            sum(_full_bytes(l) for l in leaves))
  for label, field in (("Params", "params"), ("Optimizer state", "opt_state"),
                       ("Haiku state", "state")):
    device, full = totals(field)
    out.append(f" {label} per device: {_fmt(device)} (unsplit: {_fmt(full)})")
  return out
