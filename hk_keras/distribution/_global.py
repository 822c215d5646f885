"""The global distribution setting (Keras's `set_distribution`)."""
from typing import Optional

from .._core import _settings


def set_distribution(value) -> None:
  """Makes models compiled from now on train on several devices.

  `model.compile(..., distribution=...)` overrides it for one model; a model
  keeps the distribution it was compiled with.

  Args:
    value: a `DataParallel` or `ModelParallel`, or None for one device.

  Raises:
    TypeError: if `value` is none of these.

  >>> set_distribution(DataParallel(backend="pmap"))  # doctest: +SKIP
  """
  from ._data_parallel import DataParallel  # pylint: disable=g-import-not-at-top
  from ._model_parallel import ModelParallel  # pylint: disable=g-import-not-at-top
  if value is not None and not isinstance(value, (DataParallel, ModelParallel)):
    raise TypeError(
        "set_distribution expects a hk_keras.distribution.DataParallel, "
        f"ModelParallel or None. Received: {value!r} of type "
        f"{type(value).__name__}.")
  _settings.set("distribution", value)


def distribution() -> Optional[object]:
  """The distribution set by `set_distribution` (None: one device)."""
  return _settings.get("distribution")
