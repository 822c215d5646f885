"""`serialize` / `deserialize` for learning-rate schedules."""

from typing import Any, Dict, Mapping, Optional

from ._base import LearningRateSchedule
from ._smooth_decays import CosineDecay, PolynomialDecay
from ._step_decays import (ExponentialDecay, InverseTimeDecay,
                           PiecewiseConstantDecay)

SCHEDULES: Dict[str, type] = {
    cls.__name__: cls
    for cls in (CosineDecay, ExponentialDecay, InverseTimeDecay,
                PiecewiseConstantDecay, PolynomialDecay)
}


def serialize(schedule: LearningRateSchedule) -> Dict[str, Any]:
  """Returns a JSON-able config dict (Keras 3's layout) for a schedule.

  Raises:
    ValueError: If `schedule` has no `get_config` (e.g. an optax schedule,
      which is a closure).

  >>> serialize(ExponentialDecay(0.1, 10, 0.9))["class_name"]
  'ExponentialDecay'
  """
  if not callable(getattr(schedule, "get_config", None)):
    raise ValueError(
        f"Cannot serialize the learning-rate schedule {schedule!r}: it has "
        "no `get_config()`. Plain functions and optax schedules are closures "
        "without a config; use an hk_keras.optimizers.schedules class, or a "
        "LearningRateSchedule subclass passed back through `custom_objects` "
        "when loading.")
  return {"module": "hk_keras.optimizers.schedules",
          "class_name": type(schedule).__name__,
          "config": schedule.get_config(), "registered_name": None}


def deserialize(config: Dict[str, Any],
                custom_objects: Optional[Mapping[str, Any]] = None
                ) -> LearningRateSchedule:
  """Rebuilds a schedule from `serialize`'s output (or Keras 3's).

  Raises:
    ValueError: If the class name is neither built in nor in
      `custom_objects`; the message lists the built-in names.

  >>> deserialize(serialize(CosineDecay(0.1, 100))).decay_steps
  100
  """
  if not isinstance(config, dict) or not isinstance(
      config.get("class_name"), str):
    raise ValueError(
        "A schedule config must be a dict with a string 'class_name'. "
        f"Received: config={config!r}")
  name = config["class_name"]
  cls = (custom_objects or {}).get(name) or SCHEDULES.get(name)
  if cls is None:
    raise ValueError(
        f"Unknown learning-rate schedule: {name!r}. Built-in schedules are "
        f"{sorted(SCHEDULES)}; pass a custom one in "
        "`custom_objects={name: cls}`.")
  return cls.from_config(dict(config.get("config") or {}))
