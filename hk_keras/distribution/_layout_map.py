"""`LayoutMap`: regular expressions over Haiku param paths -> layouts."""
import collections
import re

from ._tensor_layout import TensorLayout

# Params with fewer elements than this are replicated by "fsdp"/"auto" and
# may stay unmatched under LayoutMap(strict=True): splitting them saves less
# memory than the communication costs.
DEFAULT_MIN_SHARD_SIZE = 1 << 14


class LayoutMap(collections.abc.MutableMapping):
  """A dict from regular expressions to `TensorLayout`s (Keras 3's).

  Keys are matched (`re.fullmatch`) against Haiku param and state paths,
  "module/name": e.g. `"dense_1/kernel"`, `"embedding/embeddings"`,
  `"multi_head_attention/query_kernel"` (`model.params` shows them). An
  exact key wins; otherwise the one regex that matches; a path matching
  several raises. Values may be tuples of axis names, made into
  `TensorLayout`s on this map's mesh. Unmatched paths are replicated.

  Args:
    device_mesh: the `DeviceMesh` the layouts refer to.
    strict: raise (naming them) when params with at least `min_shard_size`
      elements match no key, instead of replicating them silently (a
      renamed layer otherwise falls back to replicated and runs out of
      memory).
    min_shard_size: see `strict`.

  >>> from hk_keras.distribution import DeviceMesh
  >>> layout_map = LayoutMap(DeviceMesh((1,), ["model"]))
  >>> layout_map["dense.*/kernel"] = (None, "model")
  >>> layout_map["dense_1/kernel"].axes
  (None, 'model')
  >>> layout_map["conv2d/kernel"] is None
  True
  """

  def __init__(self, device_mesh, strict: bool = False,
               min_shard_size: int = DEFAULT_MIN_SHARD_SIZE):
    self._layout_map = collections.OrderedDict()
    self._device_mesh = device_mesh
    self.strict = bool(strict)
    self.min_shard_size = int(min_shard_size)

  def __getitem__(self, key):
    """The layout for path `key` (exact key, else the one matching regex),
    or None."""
    if key in self._layout_map:
      return self._layout_map[key]
    matching = [p for p in self._layout_map if re.fullmatch(p, key)]
    if len(matching) > 1:
      raise ValueError(
          f"Path '{key}' matches multiple layout specification keys: "
          f"{matching}. Please make sure each tensor/variable path only "
          "matches at most one layout specification key in the LayoutMap.")
    return self._layout_map[matching[0]] if matching else None

  def __setitem__(self, key, layout):
    if key in self._layout_map:
      raise ValueError(
          f"{key} already exist in the LayoutMap with value "
          f"{self._layout_map[key]}. Please make sure to not use duplicated "
          "keys.")
    if isinstance(layout, (tuple, list)):
      layout = TensorLayout(axes=layout)
    if not isinstance(layout, TensorLayout):
      raise ValueError(
          f"{layout} should be a TensorLayout type, got {type(layout)}")
    if layout.device_mesh is None and self._device_mesh is not None:
      layout.device_mesh = self._device_mesh
    self._layout_map[key] = layout

  def __delitem__(self, key):
    return self._layout_map.pop(key)

  def __len__(self):
    return len(self._layout_map)

  def __iter__(self):
    return iter(self._layout_map)

  @property
  def device_mesh(self):
    return self._device_mesh

  def __repr__(self):
    return (f"LayoutMap({dict((k, v.axes) for k, v in self.items())}, "
            f"strict={self.strict})")
