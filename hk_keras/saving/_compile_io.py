"""`compile()` arguments to JSON and back.

The optimizer, losses and metrics are written with their subpackages'
`serialize`; strings stay strings. A per-output dict is tagged
`{"__dict__": {...}}` and a serialized object `{"__object__": {...}}`, so
neither can be mistaken for the other. What cannot be serialized (a raw
optax transform, a lambda loss) is recorded as `{"__unsaved__": reason}`
and must be passed again when loading, through
`custom_objects={"optimizer": ..., "loss": ..., "metrics": ...}`.
"""
import warnings
from typing import Any, Dict, List, Mapping, Optional

from .._core import _registry
from ._archive import SavingError

# Keys of `custom_objects` that stand for whole compile() arguments.
COMPILE_ARGS = ("optimizer", "loss", "metrics")


def _encode(value, serialize, what, unsaved: List[str]):
  if value is None or isinstance(value, (str, bool, int, float)):
    return value
  if isinstance(value, (list, tuple)):
    return [_encode(v, serialize, what, unsaved) for v in value]
  if isinstance(value, dict):
    return {"__dict__": {k: _encode(v, serialize, what, unsaved)
                         for k, v in value.items()}}
  try:
    return {"__object__": serialize(value)}
  except (ValueError, TypeError) as err:
    unsaved.append(f"{what}: {err}")
    return {"__unsaved__": str(err)}


def _decode(value, deserialize, objects):
  if isinstance(value, list):
    return [_decode(v, deserialize, objects) for v in value]
  if isinstance(value, dict) and "__dict__" in value:
    return {k: _decode(v, deserialize, objects)
            for k, v in value["__dict__"].items()}
  if isinstance(value, dict) and "__object__" in value:
    return deserialize(value["__object__"], custom_objects=objects)
  return value


def _has_unsaved(value) -> bool:
  if isinstance(value, list):
    return any(_has_unsaved(v) for v in value)
  if isinstance(value, dict):
    if "__unsaved__" in value:
      return True
    return any(_has_unsaved(v) for v in value.get("__dict__", {}).values())
  return False


def compile_config(model) -> Optional[Dict[str, Any]]:
  """What `compile` was given, JSON-able (None for an uncompiled model).

  Warns once listing what could not be saved (it must be passed again when
  loading).
  """
  if not getattr(model, "compiled", False):
    return None
  from .. import losses  # pylint: disable=g-import-not-at-top
  from .. import metrics  # pylint: disable=g-import-not-at-top
  from .. import optimizers  # pylint: disable=g-import-not-at-top
  from .. import _engine  # pylint: disable=g-import-not-at-top
  options = _engine.live_state(model).options
  objective = options.objective
  saved = options.config
  unsaved: List[str] = []
  optimizer = model.optimizer
  if isinstance(optimizer, optimizers.Optimizer):
    opt = _encode(optimizer, optimizers.serialize, "optimizer", unsaved)
  else:
    reason = ("a raw optax GradientTransformation is a pair of closures and "
              "has no config")
    unsaved.append(f"optimizer: {reason}")
    opt = {"__unsaved__": reason}
  config = {
      "optimizer": opt,
      "loss": _encode(objective.loss_config, losses.serialize, "loss",
                      unsaved),
      "metrics": _encode(objective.metrics_config, metrics.serialize,
                         "metrics", unsaved),
      "loss_weights": objective.loss_weights_config,
      "weighted_metrics": _encode(objective.weighted_metrics_config,
                                  metrics.serialize, "weighted_metrics",
                                  unsaved),
      "steps_per_execution": options.steps_per_execution,
      "gradient_accumulation_steps": saved.get("gradient_accumulation_steps"),
      "debug": options.debug,
      "run_eagerly": options.eager,
      # False only where it mattered: a float16 policy without loss scaling.
      "auto_scale_loss": options.loss_scale is not None,
  }
  if getattr(options, "privacy", None) is not None:
    from ..privacy import _saving  # pylint: disable=g-import-not-at-top
    config["privacy"] = _saving.privacy_config(options.privacy)
  if unsaved:
    warnings.warn(
        "These compile() arguments cannot be saved as config and are left out "
        "of the file: " + "; ".join(unsaved) + ". Pass them again when "
        "loading: load_model(path, custom_objects={'optimizer': ..., 'loss': "
        "..., 'metrics': ...}) (only the ones listed), or "
        "load_model(path, compile=False) and then model.compile(...) with "
        "the same arguments; the optimizer state is restored either way.",
        stacklevel=4)
  return config


def _lookup_objects(custom_objects) -> Dict[str, Any]:
  """Names visible to the losses/metrics/optimizers deserializers: the
  registry (full and short names), the active scopes, then custom_objects."""
  objects = {}
  for name, obj in _registry.get_custom_objects().items():
    objects[name] = obj
    objects.setdefault(name.split(">", 1)[1], obj)
  for scope in _registry._scopes():  # pylint: disable=protected-access
    objects.update(scope)
  objects.update({k: v for k, v in (custom_objects or {}).items()
                  if k not in COMPILE_ARGS})
  return objects


def compile_from_config(model, config: Dict[str, Any],
                        custom_objects: Optional[Mapping[str, Any]],
                        where: str) -> None:
  """Compiles `model` as saved; unsaved arguments come from custom_objects.

  Raises:
    SavingError: when an argument was not saved and custom_objects does not
      give it (the message says how to pass it).
  """
  from .. import losses  # pylint: disable=g-import-not-at-top
  from .. import metrics  # pylint: disable=g-import-not-at-top
  from .. import optimizers  # pylint: disable=g-import-not-at-top
  custom_objects = dict(custom_objects or {})
  objects = _lookup_objects(custom_objects)
  args = {}
  missing = []
  for name, deserialize in (("optimizer", optimizers.deserialize),
                            ("loss", losses.deserialize),
                            ("metrics", metrics.deserialize)):
    if name in custom_objects:
      args[name] = custom_objects[name]
    elif _has_unsaved(config.get(name)):
      missing.append(name)
    else:
      args[name] = _decode(config.get(name), deserialize, objects)
  if missing:
    # As Keras 3 when it cannot honour a saved compile config: the model
    # (architecture, weights) loads, uncompiled, and a warning says why.
    warnings.warn(
        f"{where}: the model was compiled with {', '.join(missing)} that "
        "could not be saved as config (for example a raw optax transform or "
        "a lambda loss), so the loaded model is NOT compiled; its "
        "architecture and weights are restored. To resume training with the "
        "saved optimizer state, pass the same object(s) again: "
        f"load_model(path, custom_objects={{{', '.join(repr(m) + ': ...' for m in missing)}}}) "
        "(e.g. custom_objects={'optimizer': tx}), or call model.compile(...) "
        "with an optimizer of the same structure: the saved optimizer state "
        "is applied when training starts.", stacklevel=3)
    return
  weighted = config.get("weighted_metrics")
  if _has_unsaved(weighted):
    weighted = None
  model.compile(
      optimizer=args["optimizer"], loss=args["loss"], metrics=args["metrics"],
      loss_weights=config.get("loss_weights"),
      weighted_metrics=_decode(weighted, metrics.deserialize, objects),
      run_eagerly=config.get("run_eagerly", False),
      steps_per_execution=config.get("steps_per_execution", 1),
      gradient_accumulation_steps=config.get("gradient_accumulation_steps"),
      debug=config.get("debug", False),
      auto_scale_loss=config.get("auto_scale_loss", True),
      **_privacy_args(config, where))


def _privacy_args(config, where):
  if config.get("privacy") is None:
    return {}
  from ..privacy import _saving  # pylint: disable=g-import-not-at-top
  return {"privacy": _saving.privacy_from_config(config["privacy"], where)}
