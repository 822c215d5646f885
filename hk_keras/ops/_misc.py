"""NumPy-style helpers that fit no other group: polar, vectorize, rearrange."""
import re

import jax.numpy as jnp

from ._core import convert_to_tensor
from ._symbolic import op


@op
def polar(abs_, angle):
  """The complex number `abs_ * exp(1j * angle)`."""
  abs_ = convert_to_tensor(abs_)
  angle = convert_to_tensor(angle)
  return abs_ * (jnp.cos(angle) + 1j * jnp.sin(angle))


def vectorize(pyfunc, *, excluded=None, signature=None):
  """A vectorised version of `pyfunc` (jnp.vectorize)."""
  return jnp.vectorize(pyfunc, excluded=excluded or frozenset(),
                       signature=signature)


def _groups(side):
  """'b (h w) c' -> [['b'], ['h', 'w'], ['c']]."""
  tokens = re.findall(r"\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+", side)
  groups, current = [], None
  for tok in tokens:
    if tok == "(":
      current = []
    elif tok == ")":
      groups.append(current)
      current = None
    elif current is not None:
      current.append(tok)
    else:
      groups.append([tok])
  return groups


@op
def rearrange(tensor, pattern, **axes_lengths):
  """einops-style `rearrange`: transpose, split and merge axes by pattern,
  e.g. `rearrange(x, "b (h w) c -> b h w c", h=4)`."""
  tensor = convert_to_tensor(tensor)
  if "->" not in pattern:
    raise ValueError(f"rearrange pattern must contain '->'. Received: "
                     f"pattern={pattern!r}")
  left, right = (s.strip() for s in pattern.split("->"))
  in_groups, out_groups = _groups(left), _groups(right)
  if len(in_groups) != tensor.ndim:
    raise ValueError(f"Pattern {left!r} names {len(in_groups)} axes but the "
                     f"tensor has {tensor.ndim} (shape {tensor.shape}).")
  sizes = dict(axes_lengths)
  for group, dim in zip(in_groups, tensor.shape):
    unknown = [a for a in group if a not in sizes]
    known = 1
    for a in group:
      if a in sizes:
        known *= sizes[a]
    if len(unknown) > 1:
      raise ValueError(f"Cannot infer the sizes of {unknown} in {pattern!r}: "
                       "pass all but one as keyword arguments.")
    if unknown:
      sizes[unknown[0]] = dim // known
  flat_in = [a for g in in_groups for a in g]
  x = tensor.reshape([sizes[a] for a in flat_in])
  flat_out = [a for g in out_groups for a in g]
  if sorted(flat_in) != sorted(flat_out):
    raise ValueError(f"Both sides of {pattern!r} must name the same axes.")
  x = jnp.transpose(x, [flat_in.index(a) for a in flat_out])
  shape = []
  for g in out_groups:
    size = 1
    for a in g:
      size *= sizes[a]
    shape.append(size)
  return x.reshape(shape)
