"""Looking losses up by name, and saving them as JSON-able config."""

import inspect
from typing import Any, Callable, Dict, Mapping, Optional, Union

from . import _crossentropy
from . import _hinge
from . import _probabilistic
from . import _regression
from ._loss import Loss
from ._loss import LossFunctionWrapper
from ._loss import function_name
from ._loss import to_snake_case

LOSS_CLASSES = (
    _regression.MeanSquaredError,
    _regression.MeanAbsoluteError,
    _regression.MeanAbsolutePercentageError,
    _regression.MeanSquaredLogarithmicError,
    _regression.CosineSimilarity,
    _regression.Huber,
    _regression.LogCosh,
    _crossentropy.BinaryCrossentropy,
    _crossentropy.CategoricalCrossentropy,
    _crossentropy.SparseCategoricalCrossentropy,
    _probabilistic.KLDivergence,
    _probabilistic.Poisson,
    _hinge.Hinge,
    _hinge.SquaredHinge,
    _hinge.CategoricalHinge,
)

LOSS_FUNCTIONS = (
    _regression.mean_squared_error,
    _regression.mean_absolute_error,
    _regression.mean_absolute_percentage_error,
    _regression.mean_squared_logarithmic_error,
    _regression.cosine_similarity,
    _regression.huber,
    _regression.log_cosh,
    _crossentropy.binary_crossentropy,
    _crossentropy.categorical_crossentropy,
    _crossentropy.sparse_categorical_crossentropy,
    _probabilistic.kl_divergence,
    _probabilistic.poisson,
    _hinge.hinge,
    _hinge.squared_hinge,
    _hinge.categorical_hinge,
)

# Each function maps to the class that wraps it, so a string always gives a
# `Loss` with the right name and reduction.
_CLASS_OF_FUNCTION = dict(zip(LOSS_FUNCTIONS, LOSS_CLASSES))

FUNCTIONS_BY_NAME: Dict[str, Callable] = {f.__name__: f for f in LOSS_FUNCTIONS}
FUNCTIONS_BY_NAME.update({
    "mse": _regression.mean_squared_error,
    "MSE": _regression.mean_squared_error,
    "mae": _regression.mean_absolute_error,
    "MAE": _regression.mean_absolute_error,
    "mape": _regression.mean_absolute_percentage_error,
    "MAPE": _regression.mean_absolute_percentage_error,
    "msle": _regression.mean_squared_logarithmic_error,
    "MSLE": _regression.mean_squared_logarithmic_error,
    "bce": _crossentropy.binary_crossentropy,
    "BCE": _crossentropy.binary_crossentropy,
    "kld": _probabilistic.kl_divergence,
    "KLD": _probabilistic.kl_divergence,
    "logcosh": _regression.log_cosh,
    "huber_loss": _regression.huber,
})

CLASSES_BY_NAME: Dict[str, type] = {c.__name__: c for c in LOSS_CLASSES}
CLASSES_BY_NAME.update({"Loss": Loss, "LossFunctionWrapper": LossFunctionWrapper})


def valid_names():
  """Every string `get` accepts, sorted."""
  return sorted(set(FUNCTIONS_BY_NAME) | set(CLASSES_BY_NAME) - {
      "Loss", "LossFunctionWrapper"})


def lookup_function(kind: str, table: Mapping[str, Callable],
                    name: Union[str, Callable],
                    custom_objects: Optional[Mapping[str, Any]] = None):
  """Finds a `kind` ("loss", "metric") function saved by name in a config.

  Shared by the loss and metric registries.

  Raises:
    ValueError: if the name is neither built in nor in `custom_objects`.
  """
  if callable(name):
    return name
  if custom_objects and name in custom_objects:
    return custom_objects[name]
  if name in table:
    return table[name]
  raise ValueError(
      f"Unknown {kind} function {name!r} in config. Pass it when loading "
      f"with custom_objects={{{name!r}: fn}}.")


def resolve_function(name: Union[str, Callable],
                     custom_objects: Optional[Mapping[str, Any]] = None):
  """Finds a loss function saved by name (see `lookup_function`)."""
  return lookup_function("loss", FUNCTIONS_BY_NAME, name, custom_objects)


def get(identifier: Any) -> Optional[Loss]:
  """Returns a `Loss` for a name, class, instance, config or callable.

  Args:
    identifier: `None`; a Keras name such as `"mse"`, `"mae"`,
      `"binary_crossentropy"`, `"sparse_categorical_crossentropy"`, `"huber"`,
      `"kld"` or a class name such as `"MeanSquaredError"`; a `Loss` subclass
      (instantiated with defaults); a `Loss` instance (returned as is); a
      config dict from `serialize`; or any callable `loss(y_true, y_pred)`
      returning per-sample losses (wrapped in `LossFunctionWrapper`).

  Returns:
    A `Loss` instance (or `None` for `None`). Unlike `keras.losses.get`,
    function names give the matching class instance rather than the bare
    function, so every result takes `sample_weight` and reduces the same way.

  Raises:
    ValueError: for unknown names or identifiers that are not callable.

  Example:
    >>> get("mse").name
    'mean_squared_error'
  """
  if identifier is None:
    return None
  if isinstance(identifier, Loss):
    return identifier
  if isinstance(identifier, dict):
    loss = deserialize(identifier)
    return loss if isinstance(loss, Loss) else get(loss)
  if isinstance(identifier, str):
    if identifier in CLASSES_BY_NAME and identifier not in (
        "Loss", "LossFunctionWrapper"):
      return CLASSES_BY_NAME[identifier]()
    if identifier in FUNCTIONS_BY_NAME:
      return _CLASS_OF_FUNCTION[FUNCTIONS_BY_NAME[identifier]]()
    raise ValueError(
        f"Unknown loss identifier: {identifier!r}. Expected one of "
        f"{valid_names()}, a Loss class or instance, or a callable "
        "loss(y_true, y_pred).")
  if inspect.isclass(identifier) and issubclass(identifier, Loss):
    return identifier()
  if callable(identifier) and identifier in _CLASS_OF_FUNCTION:
    return _CLASS_OF_FUNCTION[identifier]()
  if callable(identifier):
    name = getattr(identifier, "__name__", None)
    return LossFunctionWrapper(
        identifier, name=to_snake_case(name) if name else None)
  raise ValueError(
      f"Could not interpret loss identifier: {identifier!r} of type "
      f"{type(identifier).__name__}. Expected a string, a Loss class or "
      "instance, a config dict, or a callable loss(y_true, y_pred).")


def serialize(loss: Union[Loss, Callable]) -> Dict[str, Any]:
  """Returns `{"class_name": ..., "config": {...}}`, JSON-able.

  Args:
    loss: a `Loss` instance, or a named loss function.

  Returns:
    The config dict; `deserialize` turns it back into an equal loss. A plain
    function is saved as `{"class_name": "function", "config": name}`.

  Raises:
    ValueError: for lambdas and nested functions (they cannot be rebuilt).

  Example:
    >>> serialize(get("mae"))["class_name"]
    'MeanAbsoluteError'
  """
  if isinstance(loss, Loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
  if callable(loss):
    return {"class_name": "function", "config": function_name(loss)}
  raise ValueError(f"Cannot serialize {loss!r}: expected a Loss instance or "
                   "a named loss function.")


def deserialize(config: Dict[str, Any],
                custom_objects: Optional[Mapping[str, Any]] = None):
  """Rebuilds a loss saved by `serialize`.

  Args:
    config: `{"class_name": ..., "config": {...}}`.
    custom_objects: optional `{name: class_or_function}` for losses that are
      not built in.

  Returns:
    A `Loss` instance, or the function for `"class_name": "function"`.

  Raises:
    ValueError: if the config is malformed or names an unknown class.
  """
  if not isinstance(config, dict) or "class_name" not in config:
    raise ValueError(
        "A loss config must be a dict with keys 'class_name' and 'config', "
        f"as produced by serialize(). Received: {config!r}")
  class_name = config["class_name"]
  inner = config.get("config", {})
  if class_name == "function":
    return resolve_function(inner, custom_objects)
  cls = (custom_objects or {}).get(class_name) or CLASSES_BY_NAME.get(
      class_name)
  if cls is None:
    raise ValueError(
        f"Unknown loss class {class_name!r}. Built-in classes are "
        f"{sorted(CLASSES_BY_NAME)}; pass custom ones with "
        f"custom_objects={{{class_name!r}: cls}}.")
  if issubclass(cls, LossFunctionWrapper) and cls is LossFunctionWrapper:
    return cls.from_config(inner, custom_objects=custom_objects)
  return cls.from_config(inner)


def _is_binary_or_sparse(y_true_shape, y_pred_shape):
  """Keras 3's shape rule for "crossentropy" and "accuracy" shortcuts."""
  y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
  is_binary = bool(y_pred_shape) and y_pred_shape[-1] == 1
  is_sparse = len(y_true_shape) < len(y_pred_shape) or (
      bool(y_true_shape) and bool(y_pred_shape) and y_true_shape[-1] == 1 and
      (y_pred_shape[-1] or 0) > 1)
  return is_binary, is_sparse


def resolve_loss(identifier: Any, y_true_shape, y_pred_shape) -> Optional[Loss]:
  """Resolves `compile(loss=...)` for one output as Keras 3's compile does.

  `"crossentropy"`/`"ce"` become binary crossentropy when the last dimension
  of `y_pred` is 1, sparse categorical crossentropy when `y_true` has a lower
  rank than `y_pred` (or a last dimension of 1 against several classes), and
  categorical crossentropy otherwise. Other identifiers go through `get`; a
  function name such as `"mse"` names the loss, as in Keras.

  Args:
    identifier: anything `get` accepts, or `"crossentropy"`/`"ce"`.
    y_true_shape: shape of the targets (batch dimension may be `None`).
    y_pred_shape: shape of the model output.

  Returns:
    A `Loss`, or `None` for `None` (an output without a loss).

  Example:
    >>> resolve_loss("ce", (None,), (None, 10)).name
    'ce'
  """
  if identifier is None:
    return None
  if isinstance(identifier, str) and identifier.lower() in ("crossentropy",
                                                            "ce"):
    is_binary, is_sparse = _is_binary_or_sparse(y_true_shape, y_pred_shape)
    if is_binary:
      cls = _crossentropy.BinaryCrossentropy
    elif is_sparse:
      cls = _crossentropy.SparseCategoricalCrossentropy
    else:
      cls = _crossentropy.CategoricalCrossentropy
    return cls(name=identifier)
  loss = get(identifier)
  if isinstance(identifier, str) and identifier in FUNCTIONS_BY_NAME:
    loss.name = identifier
  return loss
