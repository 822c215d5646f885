"""`ModelIO`: the saving methods of `Model` (save, save_weights,
load_weights, from_config); the file formats live in `hk_keras.saving`."""
from typing import Optional

from .._core import _registry
from ..saving import _graph
from ..saving import _model_io
from ..saving import _serialization


class ModelIO:
  """`save`, `save_weights`, `load_weights` and config of `Model`."""

  def save(self, filepath, overwrite: bool = True, **kwargs) -> None:
    """Saves the model to one `.keras` file (see `hk_keras.saving`).

    Architecture, weights, Haiku state, compile arguments and the live train
    state (optimizer state, RNG key, step, shuffle seed) go into one zip,
    written atomically. Safe to call from a callback at epoch end.

    Args:
      filepath: a path ending in `.keras`.
      overwrite: if False and the file exists, raise `FileExistsError`.
      format: "keras" (default: hk_keras's format, which resumes `fit`
        exactly) or "keras3" (a file Keras 3 loads: config, HDF5 weights,
        compile config and optimizer variables; see
        docs/bringing_keras3_models.md).

    >>> import hk_keras, tempfile, os
    >>> model = hk_keras.Sequential([hk_keras.Input((3,)),
    ...                              hk_keras.layers.Dense(2)])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> hk_keras.models.load_model(path).count_params()
    8
    """
    kwargs.pop("zipped", None)
    file_format = kwargs.pop("format", "keras")
    if kwargs:
      raise TypeError(f"save() got unexpected arguments {sorted(kwargs)}.")
    if file_format == "keras3":
      from ..saving import _keras3_io  # pylint: disable=g-import-not-at-top
      _keras3_io.save_model(self, filepath, overwrite=overwrite)
      return
    if file_format not in ("keras", None):
      raise ValueError(f"save(format={file_format!r}): expected 'keras' "
                       "(hk_keras's format) or 'keras3' (Keras 3's).")
    _model_io.save_model(self, filepath, overwrite=overwrite)

  def save_weights(self, filepath, overwrite: bool = True) -> None:
    """Saves the weights (and train state, if any) to a `.weights.npz`, or
    in Keras 3's format to a `.weights.h5`."""
    _model_io.save_weights(self, filepath, overwrite=overwrite)

  def load_weights(self, filepath, skip_mismatch: bool = False,
                   max_bytes: Optional[int] = None) -> None:
    """Loads weights from a `.weights.npz`, `.keras` or Keras 3 `.weights.h5`.

    Args:
      filepath: the file.
      skip_mismatch: must be False (hk_keras loads all weights or raises).
      max_bytes: the most bytes the load may read (see
        `hk_keras.saving.load_weights`).

    Raises:
      ValueError: for a corrupt file or weights of another architecture.
    """
    if skip_mismatch:
      raise ValueError("load_weights(skip_mismatch=True) is not supported: "
                       "hk_keras loads all weights or raises.")
    _model_io.load_weights(self, filepath, max_bytes=max_bytes)

  @classmethod
  def from_config(cls, config, custom_objects=None):
    """Rebuilds a model from `get_config()` (Functional graphs included)."""
    from ._sequential import Sequential  # pylint: disable=g-import-not-at-top
    with _registry.custom_object_scope(custom_objects), \
        _serialization.load_context():
      if _graph.is_functional_config(config):
        return _graph.functional_from_config(cls, config)
      if issubclass(cls, Sequential) and _graph.is_sequential_config(config):
        return _graph.sequential_from_config(cls, config)
      return cls(**config)
