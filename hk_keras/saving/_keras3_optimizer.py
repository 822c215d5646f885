"""Compile config and optimizer variables in Keras 3's form.

A Keras 3 optimizer stores its variables under `optimizer/vars/0..n-1` in
creation order: `iteration`, `learning_rate` (unless it is a schedule),
then its slots for the model's trainable variables (`model.
trainable_variables` order, which is hk_keras's `trainable_weights` order):

* Adam: `momentum`, `velocity` per variable (interleaved), then
  `velocity_hat` of every variable if `amsgrad`;
* SGD: `momentum` of every variable if `momentum > 0`;
* RMSprop: `velocity` of every variable, then `momentum` (if
  `momentum > 0`), then `average_gradient` (if `centered`);
* AdamW as Adam; Adamax `momentum`, `norm`; Adagrad `accumulator`; Lion
  `momentum`; Adadelta `accumulated_grad`, `accumulated_delta_var` (per
  variable, interleaved).

hk_keras's Keras optimizers keep the same slots (`momentums`,
`velocities`, `velocity_hats`, `average_gradients`) in their optax state,
with the same update numerics, so the state maps one to one. Other
optimizers, EMA (`use_ema`) and loss-scale optimizers are not mapped: the
weights still load and a warning says the optimizer starts afresh.
"""
from typing import Any, Dict, List, Optional, Tuple

from . import _keras3_config

_SLOT_FIELDS = {"momentum": "momentums", "velocity": "velocities",
                "velocity_hat": "velocity_hats",
                "average_gradient": "average_gradients", "norm": "norms",
                "accumulator": "accumulators",
                "accumulated_grad": "accumulated_grads",
                "accumulated_delta_var": "accumulated_delta_vars"}
_COUNTS = ("count",)


class NotMapped(ValueError):
  """The optimizer has no Keras 3 variable layout hk_keras knows."""


def slot_blocks(class_name: str, config: Dict[str, Any]) -> List[Tuple]:
  """Keras's per-variable slot blocks: each block is a tuple of slot names
  created variable by variable."""
  if config.get("use_ema"):
    raise NotMapped("use_ema=True adds moving averages hk_keras does not map")
  if class_name in ("Adam", "AdamW"):
    blocks = [("momentum", "velocity")]
    if config.get("amsgrad"):
      blocks.append(("velocity_hat",))
    return blocks
  if class_name == "SGD":
    return [("momentum",)] if config.get("momentum", 0) else []
  if class_name == "RMSprop":
    blocks = [("velocity",)]
    if config.get("momentum", 0):
      blocks.append(("momentum",))
    if config.get("centered"):
      blocks.append(("average_gradient",))
    return blocks
  if class_name == "Adamax":
    return [("momentum", "norm")]
  if class_name == "Adagrad":
    return [("accumulator",)]
  if class_name == "Lion":
    return [("momentum",)]
  if class_name == "Adadelta":
    return [("accumulated_grad", "accumulated_delta_var")]
  raise NotMapped(f"the Keras variable layout of {class_name} is not mapped "
                  "(Adam, AdamW, SGD, RMSprop, Adamax, Adagrad, Lion and "
                  "Adadelta are)")


def keras_names(class_name, config, trainable) -> List[Tuple[str, Any]]:
  """`(what, record or None)` of each Keras optimizer variable, in order:
  what is "iteration", "learning_rate" or a slot name."""
  out = [("iteration", None)]
  if not isinstance(config.get("learning_rate"), dict):
    out.append(("learning_rate", None))
  for block in slot_blocks(class_name, config):
    for r in trainable:
      for slot in block:
        out.append((slot, r))
  return out


def _slot_key(key: str, records_by_path) -> Optional[Tuple[str, Any]]:
  parts = key.split("/")
  for i, part in enumerate(parts):
    for slot, field in _SLOT_FIELDS.items():
      if part == field:
        record = records_by_path.get("/".join(parts[i + 1:]))
        if record is not None:
          return slot, record
  return None


def state_mapping(like_keys, trainable) -> Dict[str, Tuple[str, Any]]:
  """`{hk_keras opt_state key: (what, record)}`; raises NotMapped for an
  entry with no Keras counterpart."""
  by_path = {f"{r.module}/{r.name}": r for r in trainable}
  out = {}
  for key in like_keys:
    leaf = key.rsplit("/", 1)[-1]
    if leaf in _COUNTS:
      out[key] = ("iteration", None)
    elif leaf == "learning_rate":
      out[key] = ("learning_rate", None)
    else:
      slot = _slot_key(key, by_path)
      if slot is None:
        raise NotMapped(f"its state entry {key!r} has no Keras counterpart")
      out[key] = slot
  return out


# -- compile config --------------------------------------------------------------

def _object_from_keras(value):
  if value is None or isinstance(value, (str, bool, int, float)):
    return value
  if isinstance(value, list):
    return [_object_from_keras(v) for v in value]
  if isinstance(value, dict) and "class_name" in value:
    return {"__object__": _keras3_config._value_from_keras(  # pylint: disable=protected-access
        value, "compile", "compile")}
  if isinstance(value, dict):
    return {"__dict__": {k: _object_from_keras(v) for k, v in value.items()}}
  return value


def compile_config_from_keras(config: Dict[str, Any]) -> Dict[str, Any]:
  """Keras 3's `compile_config` in hk_keras's form (`_compile_io`)."""
  return {
      "optimizer": _object_from_keras(config.get("optimizer")),
      "loss": _object_from_keras(config.get("loss")),
      "metrics": _object_from_keras(config.get("metrics")),
      "loss_weights": config.get("loss_weights"),
      "weighted_metrics": _object_from_keras(config.get("weighted_metrics")),
      "steps_per_execution": config.get("steps_per_execution", 1),
      "run_eagerly": bool(config.get("run_eagerly", False)),
  }


def _object_to_keras(value, module):
  if isinstance(value, list):
    return [_object_to_keras(v, module) for v in value]
  if isinstance(value, dict) and "__object__" in value:
    obj = _keras3_config._value_to_keras(value["__object__"])  # pylint: disable=protected-access
    if not obj.get("module"):
      obj = {**obj, "module": module}
    obj.setdefault("registered_name", None)
    return obj
  if isinstance(value, dict) and "__dict__" in value:
    return {k: _object_to_keras(v, module)
            for k, v in value["__dict__"].items()}
  if isinstance(value, dict) and "__unsaved__" in value:
    raise NotMapped(value["__unsaved__"])
  return value


def compile_config_to_keras(config: Optional[Dict[str, Any]]):
  if config is None:
    return None
  return {
      "optimizer": _object_to_keras(config.get("optimizer"),
                                    "keras.optimizers"),
      "loss": _object_to_keras(config.get("loss"), "keras.losses"),
      "loss_weights": config.get("loss_weights"),
      "metrics": _object_to_keras(config.get("metrics"), "keras.metrics"),
      "weighted_metrics": _object_to_keras(config.get("weighted_metrics"),
                                           "keras.metrics"),
      "run_eagerly": bool(config.get("run_eagerly", False)),
      "steps_per_execution": config.get("steps_per_execution", 1),
      "jit_compile": True,
  }
