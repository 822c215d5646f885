"""What a layer writes into a saved file: its own variables and its assets.

Keras 3's hooks, with the same defaults: `save_own_variables(store)` writes
the layer's own weights (not its sublayers') into `store` as `"0"`, `"1"`,
... in Keras order (trainable, then non-trainable; for hk_keras the Haiku
params, then state), and `load_own_variables(store)` reads them back.
`save_assets(dir_path)` / `load_assets(dir_path)` write and read files kept
with the layer; by default there are none. A subclass overrides them to
save more (`store["vocabulary"] = ...`) and calls `super()` for the weights;
`model.save`, `load_model`, `save_weights` and `load_weights` call the
overrides of every layer of the model, nested ones included (see
docs/saving_and_loading.md, "Customizing what a layer saves").
"""
from typing import List

import numpy as np


def own_records(layer) -> List:
  """The weight records `layer` created itself, in Keras order."""
  from . import _layer  # pylint: disable=g-import-not-at-top
  records = [r for r in layer.__dict__.get("_weight_records", ())
             if r.layer is layer]
  return _layer.owner_order(layer, records)


class LayerSaving:
  """`save_own_variables` / `load_own_variables` / `save_assets` /
  `load_assets` of `Layer` (mixed in)."""

  def save_own_variables(self, store) -> None:
    """Writes the layer's own weights into `store` as `"0"`, `"1"`, ...

    Override it to write more entries (numeric arrays only: a saved file
    holds no objects) and call `super().save_own_variables(store)`.

    Args:
      store: a dict-like of string keys to arrays, this layer's entry of the
        weights file.
    """
    from . import _layer  # pylint: disable=g-import-not-at-top
    for i, record in enumerate(own_records(self)):
      store[str(i)] = np.asarray(_layer._lookup(record))  # pylint: disable=protected-access

  def load_own_variables(self, store) -> None:
    """Sets the layer's own weights from `store["0"]`, `store["1"]`, ...

    Entries that are not weight indices (written by an override of
    `save_own_variables`) are left to the override that reads them.

    Args:
      store: a dict-like of string keys to arrays, as `save_own_variables`
        wrote it.

    Raises:
      ValueError: when the store holds another number of weights than the
        layer, or a weight of another shape (naming the layer and the key).
    """
    from . import _layer  # pylint: disable=g-import-not-at-top
    records = own_records(self)
    indices = sorted((k for k in store.keys() if str(k).isdigit()), key=int)
    expected = [str(i) for i in range(len(records))]
    if indices != expected:
      missing = [k for k in expected if k not in indices]
      extra = [k for k in indices if k not in expected]
      if not records and not self.built:
        raise ValueError(
            f"Layer {self.name!r} was never built and thus has no weights, "
            f"but the saved store lists {len(indices)} weights for it. Build "
            "the model before loading (model.build(input_shape)).")
      raise ValueError(
          f"Layer {self.name!r} expects {len(records)} weights "
          f"{[r.name for r in records]} (store keys {expected}), but the "
          f"saved store holds {indices}: missing keys {missing}, unexpected "
          f"keys {extra}. The file was written by a layer with other "
          "weights.")
    values = []
    for key, record in zip(expected, records):
      value = np.asarray(store[key])
      if tuple(value.shape) != tuple(record.shape):
        raise ValueError(
            f"Layer {self.name!r}: store key {key!r} (weight "
            f"{record.name!r}) has shape {tuple(value.shape)}, but the layer "
            f"expects {tuple(record.shape)}. The file was written by a layer "
            "of another configuration.")
      values.append(value)
    if records:
      _layer.set_records(self.name, records, values)

  def save_assets(self, dir_path: str) -> None:
    """Writes files kept with the layer into the directory `dir_path`.

    By default there are none. The files go into the `.keras` archive under
    `assets/<layer path>/`.
    """
    del dir_path

  def load_assets(self, dir_path: str) -> None:
    """Reads the files `save_assets` wrote, from the directory `dir_path`
    (a temporary directory, removed after loading). By default: nothing."""
    del dir_path
