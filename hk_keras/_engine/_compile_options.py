"""`CompileOptions`: what `compile()` was given, checked and resolved."""
from typing import Any, Dict

import jax
import numpy as np

from .. import optimizers as optimizers_lib
from .. import utils
from . import _strategy
from ._objective import Objective


class CompileOptions:
  """Checked compile() arguments: the optax transformation, the objective
  (losses and metrics), the execution flags, the device strategy and the
  JSON-able config that saving writes.

  Raises:
    ValueError/TypeError: on unknown names or bad arguments.
  """

  def __init__(self, model, optimizer="rmsprop", loss=None, metrics=None,
               loss_weights=None, weighted_metrics=None,
               steps_per_execution=1, jit_compile=True, run_eagerly=False,
               gradient_accumulation_steps=None, debug=False,
               auto_scale_loss=True, distribution=None, privacy=None,
               **kwargs):
    if kwargs:
      raise TypeError(f"compile() got unexpected arguments {sorted(kwargs)}.")
    if not isinstance(steps_per_execution, int) or isinstance(
        steps_per_execution, bool) or steps_per_execution < 1:
      raise ValueError(
          "steps_per_execution must be a positive int. Received: "
          f"{steps_per_execution!r}")
    if jit_compile not in (True, False, "auto"):
      raise ValueError("jit_compile must be True, False or 'auto'. Received: "
                       f"{jit_compile!r}")
    self.optimizer = optimizers_lib.get(optimizer)
    tx = self.optimizer.build() if hasattr(self.optimizer, "build") else (
        self.optimizer)
    if gradient_accumulation_steps:
      if int(gradient_accumulation_steps) < 1:
        raise ValueError("gradient_accumulation_steps must be >= 1.")
      import optax  # pylint: disable=g-import-not-at-top
      tx = optax.MultiSteps(
          tx, every_k_schedule=int(gradient_accumulation_steps)
      ).gradient_transformation()
    self.tx = tx
    self.objective = Objective(loss, loss_weights, metrics,
                               model._output_names(),  # pylint: disable=protected-access
                               weighted_metrics=weighted_metrics)
    self.steps_per_execution = steps_per_execution
    self.debug = bool(debug)
    # Keras: run_eagerly=True or jit_compile=False run the steps unjitted.
    self.eager = bool(run_eagerly) or jit_compile is False
    self.strategy = _strategy.get_strategy(distribution)
    from .. import privacy as privacy_lib  # pylint: disable=g-import-not-at-top
    self.privacy = privacy_lib._dpsgd.for_compile(privacy)  # pylint: disable=protected-access
    if self.eager and self.strategy.num_replicas > 1:
      raise ValueError(
          "run_eagerly=True / jit_compile=False run the steps on one device; "
          f"this model's distribution has {self.strategy.num_replicas} "
          "devices. Debug on one device (no distribution), then compile "
          "with jit.")
    seed = _seed_from(utils.next_rng_key())
    self.shuffle_seed = int(self.strategy.broadcast(np.int32(seed)))
    from .. import mixed_precision  # pylint: disable=g-import-not-at-top
    self.loss_scale = mixed_precision.initial_loss_scale(
        getattr(model, "dtype_policy", None), auto_scale_loss)
    self.config: Dict[str, Any] = {
        "optimizer": optimizer if isinstance(optimizer, str) else None,
        "loss": loss if isinstance(loss, (str, list, dict)) else None,
        "metrics": metrics, "loss_weights": loss_weights,
        "weighted_metrics": weighted_metrics,
        "steps_per_execution": steps_per_execution,
        "gradient_accumulation_steps": gradient_accumulation_steps,
        "debug": bool(debug), "run_eagerly": bool(run_eagerly),
        "jit_compile": jit_compile}

  @classmethod
  def uncompiled(cls, model) -> "CompileOptions":
    """Options of a model that was never compiled (predict only)."""
    options = cls.__new__(cls)
    options.optimizer = options.tx = options.objective = None
    options.steps_per_execution = 1
    options.debug = options.eager = False
    options.strategy = _strategy.get_strategy()
    options.shuffle_seed = None
    options.loss_scale = None
    options.privacy = None
    options.config = {}
    return options


def _seed_from(key) -> int:
  """A NumPy shuffle seed from a PRNG key's own bits (a fresh split of the
  global stream): reading them compiles nothing, where drawing with
  `jax.random.randint` compiled a program (~0.15 s of the first step)."""
  if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  return int(np.asarray(key).ravel()[-1]) % (2**31 - 1)
