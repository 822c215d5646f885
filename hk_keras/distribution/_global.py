"""The global distribution setting (Keras's `set_distribution`)."""
from typing import Optional

from .._core import _settings


def set_distribution(value) -> None:
  """Makes models compiled from now on train data parallel.

  `model.compile(..., distribution=...)` overrides it for one model; a model
  keeps the distribution it was compiled with.

  Args:
    value: a `DataParallel`, or None for one device.

  Raises:
    TypeError: if `value` is not a `DataParallel` or None.

  >>> set_distribution(DataParallel(backend="pmap"))  # doctest: +SKIP
  """
  from ._data_parallel import DataParallel  # pylint: disable=g-import-not-at-top
  if value is not None and not isinstance(value, DataParallel):
    raise TypeError(
        "set_distribution expects a hk_keras.distribution.DataParallel or "
        f"None. Received: {value!r} of type {type(value).__name__}.")
  _settings.set("distribution", value)


def distribution() -> Optional[object]:
  """The distribution set by `set_distribution` (None: one device)."""
  return _settings.get("distribution")
