"""The `Optimizer` base class: Keras 3 arguments in, optax transform out."""

import re
from typing import Any, Callable, Dict, Optional, Union

import jax.numpy as jnp
import optax

from .._core import _naming
from . import schedules
from ._live_learning_rate import LiveLearningRate
from ._stateless import StatelessOptimizer
from ._transforms import keras_clip, keras_weight_decay, unscale_loss

LearningRate = Union[float, Callable[[Any], Any]]

_SCHEDULE_CONFIG_HINT = (
    "A learning-rate schedule given as a plain function (for example an "
    "optax schedule) is a closure and has no config, so the optimizer cannot "
    "be saved as config. Use a float learning rate or an "
    "hk_keras.optimizers.schedules class (or a LearningRateSchedule subclass "
    "with `get_config()`, passed back through `custom_objects` when "
    "loading), or keep the optimizer out of the saved config and pass it "
    "again when loading.")


def _snake_case(name: str) -> str:
  """`"RMSprop"` -> `"rm_sprop"`, `"AdamW"` -> `"adam_w"` (Keras's names)."""
  name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
  return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


class Optimizer(StatelessOptimizer, LiveLearningRate):
  """Base class of the Keras-named optimizers; each builds an optax transform.

  A subclass supplies `_rule(learning_rate, **hyperparameters)`, a factory of
  the optax transform for one Keras update step (returning the updates to add
  to the params, learning rate included), and `_rule_config()`. The base
  class adds Keras's gradient clipping, loss-scale removal and decoupled
  weight decay, and wraps everything in `optax.inject_hyperparams` so that the
  learning rate lives in the optimizer state (see `get_learning_rate` /
  `set_learning_rate`).

  An instance can be used wherever optax expects a transform: `opt.init` and
  `opt.update` are those of `opt.build()`, the genuine
  `optax.GradientTransformationExtraArgs` (built once and cached; changing an
  attribute rebuilds it).

  Args:
    learning_rate: A float, or a schedule: a callable of the step count
      (e.g. an optax schedule), evaluated at the number of updates applied so
      far, as Keras evaluates `LearningRateSchedule`s.
    weight_decay: If set, decoupled weight decay as in Keras 3:
      every param is shrunk by `param * weight_decay * learning_rate` each
      step (applied to all params; Keras's `exclude_from_weight_decay` is not
      supported yet).
    clipnorm: If set, each gradient is rescaled to L2 norm at most this.
    clipvalue: If set, gradients are clipped to `[-clipvalue, clipvalue]`.
    global_clipnorm: If set, all gradients are rescaled together so their
      global L2 norm is at most this.
    use_ema: Must be False (EMA of weights is not supported yet).
    ema_momentum: Kept for config compatibility; unused.
    ema_overwrite_frequency: Kept for config compatibility; unused.
    loss_scale_factor: If set, gradients are divided by it first.
    gradient_accumulation_steps: If an int >= 2, updates are applied every
      that many steps with the mean gradient (via `optax.MultiSteps`; unlike
      Keras, a learning-rate schedule then counts applied updates, not
      batches).
    name: Optional name; defaults to the snake_case class name.

  Raises:
    ValueError: For invalid arguments, with the received value.
  """

  def __init__(self, learning_rate: LearningRate = 0.001,
               weight_decay: Optional[float] = None,
               clipnorm: Optional[float] = None,
               clipvalue: Optional[float] = None,
               global_clipnorm: Optional[float] = None,
               use_ema: bool = False, ema_momentum: float = 0.99,
               ema_overwrite_frequency: Optional[int] = None,
               loss_scale_factor: Optional[float] = None,
               gradient_accumulation_steps: Optional[int] = None,
               name: Optional[str] = None):
    set_clips = [a for a in (clipnorm, clipvalue, global_clipnorm)
                 if a is not None]
    if len(set_clips) > 1:
      raise ValueError(
          "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
          f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
          f"global_clipnorm={global_clipnorm}")
    if use_ema:
      raise ValueError(
          "`use_ema=True` is not supported by hk_keras optimizers yet. "
          "Received: use_ema=True")
    if gradient_accumulation_steps is not None and (
        not isinstance(gradient_accumulation_steps, int)
        or gradient_accumulation_steps < 2):
      raise ValueError(
          "`gradient_accumulation_steps` must be an integer >= 2. Received: "
          f"gradient_accumulation_steps={gradient_accumulation_steps!r}")
    if not callable(learning_rate):
      try:
        learning_rate = float(learning_rate)
      except (TypeError, ValueError) as err:
        raise ValueError(
            "`learning_rate` must be a float or a schedule (a callable of "
            f"the step). Received: learning_rate={learning_rate!r} of type "
            f"{type(learning_rate).__name__}") from err
    self.learning_rate = learning_rate
    self.weight_decay = weight_decay
    self.clipnorm = clipnorm
    self.clipvalue = clipvalue
    self.global_clipnorm = global_clipnorm
    self.use_ema = use_ema
    self.ema_momentum = ema_momentum
    self.ema_overwrite_frequency = ema_overwrite_frequency
    self.loss_scale_factor = loss_scale_factor
    self.gradient_accumulation_steps = gradient_accumulation_steps
    # Made unique as Keras's auto-names (adam, adam_1, ...; the counter is the
    # layers' one, reset by `backend.clear_session()`).
    self.name = name or _naming.unique_name(_snake_case(type(self).__name__))

  def __setattr__(self, key: str, value: Any) -> None:
    # Any change of a hyperparameter invalidates the cached transform.
    if not key.startswith("_"):
      self.__dict__.pop("_transform", None)
    super().__setattr__(key, value)

  # Subclass hooks ---------------------------------------------------------

  @staticmethod
  def _rule(learning_rate: Any, **hyperparameters: Any
            ) -> optax.GradientTransformation:
    raise NotImplementedError

  def _rule_config(self) -> Dict[str, Any]:
    """The optimizer-specific hyperparameters (passed to `_rule`)."""
    return {}

  # Building ---------------------------------------------------------------

  def build(self, var_list=None) -> optax.GradientTransformationExtraArgs:
    """Returns the optax transform that applies this optimizer.

    With `var_list` (Keras 3's `optimizer.build(model.trainable_variables)`)
    it also creates the optimizer state for those variables, which
    `optimizer.variables` and `stateless_apply` use (returns None then).

    The transform is `optax.inject_hyperparams(...)(learning_rate=...)`
    around a chain of: loss-scale removal, clipping, the Keras update rule
    and weight decay. Its updates are added to params with
    `optax.apply_updates`.

    Returns:
      An `optax.GradientTransformationExtraArgs` (cached per configuration).

    >>> import jax.numpy as jnp
    >>> import optax
    >>> from hk_keras.optimizers import SGD
    >>> tx = SGD(learning_rate=0.1).build()
    >>> params = {"w": jnp.ones(2)}
    >>> updates, _ = tx.update({"w": jnp.ones(2)}, tx.init(params), params)
    >>> optax.apply_updates(params, updates)["w"]
    Array([0.9, 0.9], dtype=float32)
    """
    if var_list is not None:
      self._build_state(var_list)
      return None
    cached = self.__dict__.get("_transform")
    if cached is not None:
      return cached
    rule = type(self)._rule
    rule_config = dict(self._rule_config())
    weight_decay = self.weight_decay
    clip = keras_clip(self.clipnorm, self.clipvalue, self.global_clipnorm)
    loss_scale_factor = self.loss_scale_factor

    def keras_step(learning_rate):
      parts = []
      if loss_scale_factor is not None:
        parts.append(unscale_loss(loss_scale_factor))
      parts.append(clip)
      parts.append(rule(learning_rate, **rule_config))
      if weight_decay is not None:
        parts.append(keras_weight_decay(weight_decay, learning_rate))
      return optax.chain(*parts)

    transform = optax.inject_hyperparams(
        keras_step, hyperparam_dtype=jnp.float32)(
            learning_rate=self.learning_rate)
    if self.gradient_accumulation_steps:
      transform = optax.MultiSteps(
          transform, every_k_schedule=self.gradient_accumulation_steps
      ).gradient_transformation()
    self._transform = transform
    return transform

  @property
  def init(self) -> Callable[..., Any]:
    """`init(params) -> opt_state` of the built transform."""
    return self.build().init

  @property
  def update(self) -> Callable[..., Any]:
    """`update(grads, opt_state, params) -> (updates, opt_state)`."""
    return self.build().update

  # Config -----------------------------------------------------------------

  def get_config(self) -> Dict[str, Any]:
    """Returns the constructor arguments as a JSON-able dict.

    Raises:
      ValueError: If the learning rate is a schedule without `get_config`.

    >>> from hk_keras.optimizers import Adam
    >>> Adam().get_config()["learning_rate"]
    0.001
    """
    learning_rate = self.learning_rate
    if callable(learning_rate):
      if not callable(getattr(learning_rate, "get_config", None)):
        raise ValueError(
            f"Cannot serialize {type(self).__name__}: its learning rate "
            f"{learning_rate!r} has no config. {_SCHEDULE_CONFIG_HINT}")
      learning_rate = schedules.serialize(learning_rate)
    return {
        "name": self.name,
        "learning_rate": learning_rate,
        "weight_decay": self.weight_decay,
        "clipnorm": self.clipnorm,
        "global_clipnorm": self.global_clipnorm,
        "clipvalue": self.clipvalue,
        "use_ema": self.use_ema,
        "ema_momentum": self.ema_momentum,
        "ema_overwrite_frequency": self.ema_overwrite_frequency,
        "loss_scale_factor": self.loss_scale_factor,
        "gradient_accumulation_steps": self.gradient_accumulation_steps,
        **self._rule_config(),
    }

  @classmethod
  def from_config(cls, config: Dict[str, Any],
                  custom_objects: Optional[Dict[str, Any]] = None
                  ) -> "Optimizer":
    """Builds an optimizer from `get_config`'s output.

    A saved learning-rate schedule is rebuilt with
    `schedules.deserialize` (built-in schedules, or classes from
    `custom_objects`).

    Raises:
      ValueError: If a saved schedule class is unknown.
    """
    config = dict(config)
    lr = config.get("learning_rate")
    if isinstance(lr, dict):
      config["learning_rate"] = schedules.deserialize(
          lr, custom_objects=custom_objects)
    return cls(**config)

  def __repr__(self) -> str:
    lr = self.learning_rate
    return f"{type(self).__name__}(learning_rate={lr!r}, name={self.name!r})"
