"""The sublayers a layer tracks, depth first (Keras 3's order)."""


def sublayers(layer):
  """Every layer tracked under `layer` (not `layer` itself), depth first in
  attribute-assignment order, each once."""
  out = []
  _walk(layer, out)
  return out


def _walk(layer, out):
  for sub in layer.__dict__.get("_tracked_layers") or ():
    if all(sub is not seen for seen in out):
      out.append(sub)
      _walk(sub, out)

