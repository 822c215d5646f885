"""Looking metrics up by name, resolving "accuracy", and metric configs."""

import inspect
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

from .. import losses as losses_lib
from ..losses._loss import function_name
from . import _accuracy
from . import _auc
from . import _confusion
from . import _probabilistic
from . import _reduction
from . import _regression
from ._metric import Metric
from ._metric import to_snake_case

METRIC_CLASSES = (
    _reduction.Mean,
    _reduction.Sum,
    _reduction.MeanMetricWrapper,
    _accuracy.Accuracy,
    _accuracy.BinaryAccuracy,
    _accuracy.CategoricalAccuracy,
    _accuracy.SparseCategoricalAccuracy,
    _accuracy.TopKCategoricalAccuracy,
    _accuracy.SparseTopKCategoricalAccuracy,
    _regression.MeanSquaredError,
    _regression.MeanAbsoluteError,
    _regression.MeanAbsolutePercentageError,
    _regression.MeanSquaredLogarithmicError,
    _regression.RootMeanSquaredError,
    _regression.LogCoshError,
    _regression.CosineSimilarity,
    _probabilistic.BinaryCrossentropy,
    _probabilistic.CategoricalCrossentropy,
    _probabilistic.SparseCategoricalCrossentropy,
    _probabilistic.KLDivergence,
    _probabilistic.Poisson,
    _probabilistic.Hinge,
    _probabilistic.SquaredHinge,
    _probabilistic.CategoricalHinge,
    _confusion.TruePositives,
    _confusion.FalsePositives,
    _confusion.TrueNegatives,
    _confusion.FalseNegatives,
    _confusion.Precision,
    _confusion.Recall,
    _auc.AUC,
)

CLASSES_BY_NAME: Dict[str, type] = {c.__name__: c for c in METRIC_CLASSES}
CLASSES_BY_NAME["Metric"] = Metric

# Strings `get` accepts: class names, their snake_case forms, and aliases.
_BY_STRING: Dict[str, type] = {c.__name__: c for c in METRIC_CLASSES}
_BY_STRING.update({to_snake_case(c.__name__): c for c in METRIC_CLASSES})
_BY_STRING.update({
    "acc": _accuracy.Accuracy,
    "mse": _regression.MeanSquaredError,
    "MSE": _regression.MeanSquaredError,
    "mae": _regression.MeanAbsoluteError,
    "MAE": _regression.MeanAbsoluteError,
    "mape": _regression.MeanAbsolutePercentageError,
    "MAPE": _regression.MeanAbsolutePercentageError,
    "msle": _regression.MeanSquaredLogarithmicError,
    "MSLE": _regression.MeanSquaredLogarithmicError,
    "bce": _probabilistic.BinaryCrossentropy,
    "BCE": _probabilistic.BinaryCrossentropy,
    "kld": _probabilistic.KLDivergence,
    "KLD": _probabilistic.KLDivergence,
    "logcosh": _regression.LogCoshError,
})
for _wrapper in ("mean_metric_wrapper", "MeanMetricWrapper"):
  del _BY_STRING[_wrapper]  # Needs a function; not a name on its own.

METRIC_FUNCTIONS = (
    _accuracy.accuracy,
    _accuracy.binary_accuracy,
    _accuracy.categorical_accuracy,
    _accuracy.sparse_categorical_accuracy,
    _accuracy.top_k_categorical_accuracy,
    _accuracy.sparse_top_k_categorical_accuracy,
)
_FUNCTIONS_BY_NAME: Dict[str, Callable] = {
    f.__name__: f for f in METRIC_FUNCTIONS}
_FUNCTIONS_BY_NAME.update(losses_lib._registry.FUNCTIONS_BY_NAME)  # pylint: disable=protected-access

_ACCURACY_NAMES = ("accuracy", "acc")


def valid_names():
  """Every string `get` accepts, sorted."""
  return sorted(_BY_STRING)


def resolve_function(name: Union[str, Callable],
                     custom_objects: Optional[Mapping[str, Any]] = None):
  """Finds a metric function saved by name in a config.

  Raises:
    ValueError: if the name is neither built in nor in `custom_objects`.
  """
  from ..losses._registry import lookup_function  # pylint: disable=g-import-not-at-top
  return lookup_function("metric", _FUNCTIONS_BY_NAME, name, custom_objects)


def get(identifier: Any) -> Optional[Metric]:
  """Returns a `Metric` for a name, class, instance, config or callable.

  Args:
    identifier: `None`; a Keras name such as `"accuracy"`, `"acc"`,
      `"binary_accuracy"`, `"categorical_accuracy"`,
      `"sparse_categorical_accuracy"`, `"top_k_categorical_accuracy"`,
      `"mse"`, `"mae"`, `"mean_squared_error"`, `"auc"`, `"precision"`,
      `"recall"` or a class name; a `Metric` subclass (instantiated with
      defaults); a `Metric` instance (returned as is); a config dict from
      `serialize`; or any callable `fn(y_true, y_pred)` returning per-sample
      values, wrapped as a `MeanMetricWrapper` named after the function.

  Returns:
    A `Metric` (or `None` for `None`). `"accuracy"` gives exact-match
    `Accuracy`, as `keras.metrics.get` does; use `resolve_metric` to resolve
    it by the shapes of the data, as `Model.compile` does.

  Raises:
    ValueError: for unknown names or identifiers that are not callable.

  Example:
    >>> get("sparse_categorical_accuracy").name
    'sparse_categorical_accuracy'
  """
  if identifier is None:
    return None
  if isinstance(identifier, Metric):
    return identifier
  if isinstance(identifier, dict):
    metric = deserialize(identifier)
    return metric if isinstance(metric, Metric) else get(metric)
  if isinstance(identifier, str):
    if identifier in _BY_STRING:
      return _BY_STRING[identifier]()
    raise ValueError(
        f"Unknown metric identifier: {identifier!r}. Expected one of "
        f"{valid_names()}, a Metric class or instance, or a callable "
        "fn(y_true, y_pred).")
  if inspect.isclass(identifier) and issubclass(identifier, Metric):
    return identifier()
  if callable(identifier):
    name = getattr(identifier, "__name__", None)
    if name == "<lambda>":
      name = None
    return _reduction.MeanMetricWrapper(
        identifier, name=to_snake_case(name) if name else None)
  raise ValueError(
      f"Could not interpret metric identifier: {identifier!r} of type "
      f"{type(identifier).__name__}. Expected a string, a Metric class or "
      "instance, a config dict, or a callable fn(y_true, y_pred).")


def _loss_kind(loss) -> Optional[str]:
  """"binary", "sparse" or "categorical" for crossentropy losses, else None."""
  if loss is None:
    return None
  if isinstance(loss, str):
    try:
      loss = losses_lib.get(loss)
    except ValueError:
      return None
  elif inspect.isclass(loss):
    loss = loss.__name__
    return {"BinaryCrossentropy": "binary",
            "SparseCategoricalCrossentropy": "sparse",
            "CategoricalCrossentropy": "categorical"}.get(loss)
  fn = getattr(loss, "fn", loss)
  if isinstance(loss, losses_lib.BinaryCrossentropy) or (
      fn is losses_lib.binary_crossentropy):
    return "binary"
  if isinstance(loss, losses_lib.SparseCategoricalCrossentropy) or (
      fn is losses_lib.sparse_categorical_crossentropy):
    return "sparse"
  if isinstance(loss, losses_lib.CategoricalCrossentropy) or (
      fn is losses_lib.categorical_crossentropy):
    return "categorical"
  return None


def resolve_accuracy(loss: Any,
                     y_true_shape: Sequence[Optional[int]],
                     y_pred_shape: Sequence[Optional[int]],
                     name: str = "accuracy") -> Metric:
  """Picks the accuracy metric `compile(metrics=["accuracy"])` means.

  Keras 3 decides from the shapes alone: `BinaryAccuracy` when the last
  dimension of `y_pred` is 1; `SparseCategoricalAccuracy` when `y_true` has
  a lower rank than `y_pred`, or a last dimension of 1 against a `y_pred`
  last dimension > 1; `CategoricalAccuracy` otherwise. A crossentropy
  `loss` settles the one case the shapes get wrong: binary crossentropy
  with several outputs (multi-label) gives `BinaryAccuracy`, where Keras 3
  would pick `CategoricalAccuracy`.

  Args:
    loss: the compiled loss (name, class, instance or function) or `None`.
    y_true_shape: shape of the targets (the batch dimension may be `None`).
    y_pred_shape: shape of the model output.
    name: name of the returned metric (what the user wrote: `"accuracy"` or
      `"acc"`), used for the logs.

  Returns:
    A `BinaryAccuracy`, `SparseCategoricalAccuracy` or `CategoricalAccuracy`
    named `name`.

  Example:
    >>> resolve_accuracy("sparse_categorical_crossentropy", (32,), (32, 10))
    <SparseCategoricalAccuracy name=accuracy>
  """
  kind = _loss_kind(loss)
  is_binary, is_sparse = losses_lib._registry._is_binary_or_sparse(  # pylint: disable=protected-access
      y_true_shape, y_pred_shape)
  if is_binary or kind == "binary":
    return _accuracy.BinaryAccuracy(name=name)
  if is_sparse:
    return _accuracy.SparseCategoricalAccuracy(name=name)
  return _accuracy.CategoricalAccuracy(name=name)


def resolve_metric(identifier: Any,
                   y_true_shape: Sequence[Optional[int]],
                   y_pred_shape: Sequence[Optional[int]],
                   loss: Any = None) -> Metric:
  """Resolves one entry of `compile(metrics=[...])` as Keras 3's compile does.

  `"accuracy"`/`"acc"` go through `resolve_accuracy`; other identifiers
  through `get`. A metric given as a string is named by that string (so
  `"mae"` logs as `"mae"`), as in Keras.

  Args:
    identifier: anything `get` accepts.
    y_true_shape: shape of the targets.
    y_pred_shape: shape of the model output.
    loss: the compiled loss, used to resolve `"accuracy"`.

  Returns:
    A `Metric` instance.

  Raises:
    ValueError: for `None` or unknown identifiers.

  Example:
    >>> resolve_metric("mae", (8, 1), (8, 1)).name
    'mae'
  """
  if identifier is None:
    raise ValueError("Expected a metric, received None.")
  if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
    return resolve_accuracy(loss, y_true_shape, y_pred_shape, name=identifier)
  metric = get(identifier)
  if isinstance(identifier, str):
    metric.name = identifier
  return metric


def serialize(metric: Union[Metric, Callable]) -> Dict[str, Any]:
  """Returns `{"class_name": ..., "config": {...}}`, JSON-able.

  Args:
    metric: a `Metric` instance, or a named metric function.

  Returns:
    The config dict; `deserialize` turns it back into an equal metric (with
    a fresh state: states are arrays, saved with the weights).

  Raises:
    ValueError: for lambdas and nested functions (they cannot be rebuilt).

  Example:
    >>> serialize(get("auc"))["class_name"]
    'AUC'
  """
  if isinstance(metric, Metric):
    return {"class_name": type(metric).__name__,
            "config": metric.get_config()}
  if callable(metric):
    return {"class_name": "function", "config": function_name(metric)}
  raise ValueError(f"Cannot serialize {metric!r}: expected a Metric instance "
                   "or a named metric function.")


def deserialize(config: Dict[str, Any],
                custom_objects: Optional[Mapping[str, Any]] = None):
  """Rebuilds a metric saved by `serialize`.

  Args:
    config: `{"class_name": ..., "config": {...}}`.
    custom_objects: optional `{name: class_or_function}` for metrics and
      functions that are not built in.

  Returns:
    A `Metric`, or the function for `"class_name": "function"`.

  Raises:
    ValueError: if the config is malformed or names an unknown class.
  """
  if not isinstance(config, dict) or "class_name" not in config:
    raise ValueError(
        "A metric config must be a dict with keys 'class_name' and 'config', "
        f"as produced by serialize(). Received: {config!r}")
  class_name = config["class_name"]
  inner = config.get("config", {})
  if class_name == "function":
    return resolve_function(inner, custom_objects)
  cls = (custom_objects or {}).get(class_name) or CLASSES_BY_NAME.get(
      class_name)
  if cls is None:
    raise ValueError(
        f"Unknown metric class {class_name!r}. Built-in classes are "
        f"{sorted(CLASSES_BY_NAME)}; pass custom ones with "
        f"custom_objects={{{class_name!r}: cls}}.")
  if cls is _reduction.MeanMetricWrapper:
    return cls.from_config(inner, custom_objects=custom_objects)
  return cls.from_config(inner)
