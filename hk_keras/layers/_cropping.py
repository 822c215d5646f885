"""`Cropping1D`, `Cropping2D`, `Cropping3D`: trim the spatial axes (Keras 3)."""
from . import _spatial_args as args
from ._layer import Layer


def normalize_pairs(value, rank, owner, arg):
  """int | tuple of `rank` ints | tuple of `rank` (before, after) pairs
  -> tuple of `rank` `(before, after)` pairs of ints >= 0."""
  if rank == 1:
    forms = "an int or a (before, after) pair"
  else:
    forms = (f"an int, a tuple of {rank} ints (the same amount on both sides "
             f"of each axis) or a tuple of {rank} (before, after) pairs")
  message = (f"{owner}: `{arg}` must be {forms}, all >= 0. Received: "
             f"{arg}={value!r}")
  if rank == 1:
    # Keras's 1D layers take an int or one (before, after) pair.
    try:
      if args._is_int(value):  # pylint: disable=protected-access
        amount = args.normalize_tuple(value, 1, arg, owner, allow_zero=True)
        return ((amount[0], amount[0]),)
      return (args.normalize_tuple(value, 2, arg, owner, allow_zero=True),)
    except ValueError:
      raise ValueError(message) from None
  if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
    try:
      amount = args.normalize_tuple(value, rank, arg, owner, allow_zero=True)
    except ValueError:
      raise ValueError(message) from None
    return tuple((a, a) for a in amount)
  if len(value) != rank:
    raise ValueError(message)
  try:
    return tuple(
        (int(p),) * 2 if args._is_int(p) else  # pylint: disable=protected-access
        args.normalize_tuple(p, 2, arg, owner, allow_zero=True)
        for p in value)
  except ValueError:
    raise ValueError(message) from None


class _Cropping(Layer):
  """Shared N-D cropping; subclasses set `_rank`."""

  _rank = 2
  _has_data_format = True

  def __init__(self, cropping, data_format=None, **kwargs):
    super().__init__(**kwargs)
    owner = type(self).__name__
    self.cropping = normalize_pairs(cropping, self._rank, owner, "cropping")
    self.data_format = args.normalize_data_format(data_format, owner)

  def build(self, input_shape):
    args.check_input_rank(self, input_shape, self._rank, self.data_format)
    sizes = args.spatial_shape(input_shape, self.data_format)
    for size, (before, after) in zip(sizes, self.cropping):
      if size is not None and before + after >= size:
        raise ValueError(
            f"Layer {self.name!r} ({type(self).__name__}): cropping "
            f"{self.cropping} removes every cell of an axis of size {size} "
            f"(input shape {args.format_shape(input_shape)}). Crop less.")

  def call(self, inputs):
    first = 2 if self.data_format == "channels_first" else 1
    index = [slice(None)] * inputs.ndim
    for i, (before, after) in enumerate(self.cropping):
      size = inputs.shape[first + i]
      index[first + i] = slice(before, size - after)
    return inputs[tuple(index)]

  def get_config(self):
    config = {**super().get_config(),
              "cropping": [list(p) for p in self.cropping]}
    if self._rank == 1:
      config["cropping"] = config["cropping"][0]
    if self._has_data_format:
      config["data_format"] = self.data_format
    return config


class Cropping1D(_Cropping):
  """Crops steps from the start and end of sequences (Keras 3 `Cropping1D`).

  Args:
    cropping: int (both ends) or `(start, end)` (default `(1, 1)`).

  >>> import hk_keras
  >>> Cropping1D((1, 2))(hk_keras.Input((6, 3))).shape
  (None, 3, 3)
  """

  _rank = 1
  _has_data_format = False

  def __init__(self, cropping=(1, 1), **kwargs):
    super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
  """Crops rows and columns of images (Keras 3 `Cropping2D`).

  Args:
    cropping: int, `(rows, cols)` (both sides) or `((top, bottom), (left,
      right))` (default `((0, 0), (0, 0))`).
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> Cropping2D(((1, 0), (2, 1)))(hk_keras.Input((5, 6, 3))).shape
  (None, 4, 3, 3)
  """

  _rank = 2

  def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
    super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
  """Crops the three spatial axes of volumes (Keras 3 `Cropping3D`).

  Args:
    cropping: int, a tuple of 3 ints or 3 `(before, after)` pairs (default
      `((1, 1), (1, 1), (1, 1))`).
    data_format: "channels_last" (default) or "channels_first".

  >>> import hk_keras
  >>> Cropping3D(1)(hk_keras.Input((4, 5, 6, 2))).shape
  (None, 2, 3, 4, 2)
  """

  _rank = 3

  def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None,
               **kwargs):
    super().__init__(cropping, data_format, **kwargs)
