"""Which way a monitored quantity improves: the shared `mode` logic.

EarlyStopping, ModelCheckpoint and ReduceLROnPlateau watch one value of the
epoch logs ("val_loss", "accuracy", ...) and need to know whether lower or
higher is better. `mode="auto"` decides from the compiled metric, then from
the name, and otherwise asks the user to say.
"""
import operator
import warnings

from .. import _engine

_MODES = ("auto", "min", "max")

# Compiled metric classes whose value is better when higher.
_HIGHER_IS_BETTER = ("Accuracy", "AUC", "Precision", "Recall", "TruePositives",
                     "TrueNegatives", "CosineSimilarity", "F1Score",
                     "FBetaScore", "IoU", "R2Score")
# Names (without "val_") that say it by themselves.
_UP_WORDS = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")
_DOWN_WORDS = ("loss", "error", "crossentropy", "hinge", "divergence", "mae",
               "mse", "mape", "msle", "logcosh", "poisson")

_UNKNOWN_DIRECTION = (
    "{cls} received monitor={monitor!r}, but cannot tell whether it should "
    "be minimized or maximized. Pass mode='min' to watch for the lowest "
    "value or mode='max' for the highest.")


def check_mode(mode, cls):
  if mode not in _MODES:
    raise ValueError(
        f"{cls} mode must be one of {_MODES}. Received: mode={mode!r}")


def _compiled_metric(model, name):
  live = _engine.live_state(model)
  objective = None if live is None else live.options.objective
  for compiled in getattr(objective, "metrics", None) or []:
    if compiled.log_name == name:
      return compiled.metric
  return None


def higher_is_better(monitor, mode, model, cls):
  """True if larger values of `monitor` are improvements.

  Raises:
    ValueError: if mode is "auto" and the direction cannot be told.
  """
  if mode != "auto":
    return mode == "max"
  name = monitor[4:] if monitor.startswith("val_") else monitor
  if name == "loss":
    return False
  metric = _compiled_metric(model, name)
  if metric is not None:
    direction = getattr(metric, "_direction", None)
    if direction in ("up", "down"):
      return direction == "up"
    kind = type(metric).__name__
    return any(word in kind for word in _HIGHER_IS_BETTER)
  lowered = name.lower()
  if any(word in lowered for word in _DOWN_WORDS):
    return False
  if any(word in lowered for word in _UP_WORDS):
    return True
  raise ValueError(_UNKNOWN_DIRECTION.format(cls=cls, monitor=monitor))


def comparison(higher):
  """`op(a, b)`: True when a is better than b."""
  return operator.gt if higher else operator.lt


def warn_missing(cls, monitor, logs):
  warnings.warn(
      f"{cls} is conditioned on {monitor!r}, which is not in the logs. "
      f"Available: {', '.join(sorted(logs or {}))}.", stacklevel=3)
