"""`LiveState`: the one object behind a compiled model's training.

It holds what `compile` configured (`options`), the live `TrainState` that
compiled steps take and return, the trainable mask that state was made for,
the compiled-step cache, a train state restored from a file and waiting for
the next train state, and the epoch a callback asked `fit` to start at.

It is also the single owner of the question "are the layers' stored weights
up to date?": it registers itself as a holder of the layers whose weights it
copies (`layers/_layer.add_holder`). Steps make it *ahead* of the layers; a
read of any of those layers asks it to write its weights back first
(`sync_to_layers`); a write to them (set_weights, loading) makes its copy
*stale*, and the next step starts from fresh copies of the layers. Training
itself never copies or syncs with the host per step.

Other packages (callbacks, saving) use the named methods below, reached with
`hk_keras._engine.live_state(model)`.
"""
from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .. import utils
from .._core import _run_once
from ..layers import _layer
from . import _default_steps
from ._step_cache import StepCache
from ._train_state import TrainState, split_trainable


def _copy(tree):
  return jax.tree_util.tree_map(jnp.copy, tree)


def _first_state(tx, mask, params, state):
  """(params, state, optimizer state): copies of the layers' weights and
  the optimizer's initial slots, made by one program compiled for compile
  time (`_core/_run_once.py`; eagerly, each leaf's copy and each slot's
  zeros compiled a program of its own: a good part of the time to the
  first step).
  Copies: the state is donated to each step, so it must not share buffers
  with the layers nor with itself (optax may reuse one zeros buffer)."""

  def make(params, state):
    trainable, _ = split_trainable(params, mask)
    return _copy(params), _copy(state), _copy(tx.init(trainable))
  return _run_once.run_once(make, params, state)


class LiveState:
  """The training state of one compiled model (see the module docstring)."""

  def __init__(self, model, options):
    self.model = model
    self.options = options
    self.strategy = options.strategy
    self.ts: Optional[TrainState] = None
    self.mask = None
    self.cache = StepCache(model, self)
    self.quiet_steps = 0  # steps run with no batch hook watching (_loops)
    self.pending = None  # a saved train state for the next train state
    self.requested_initial_epoch: Optional[int] = None
    self.shuffle_seed = options.shuffle_seed
    self._ahead = False  # ts holds newer weights than the layers
    self._stale = True  # layers were written, or share ts's buffers

  # -- named methods for other packages ---------------------------------------
  @property
  def train_state(self) -> Optional[TrainState]:
    """The live train state (None before the first step)."""
    return self.ts

  @property
  def tx(self):
    """The optax transformation `compile` built (gradient accumulation
    included)."""
    return self.options.tx

  def replace_train_state(self, **fields) -> None:
    """Replaces fields of the live train state between steps (e.g. the
    optimizer state with a new learning rate)."""
    self.ts = self.ts._replace(**fields)

  def place(self, tree):
    """Fresh copies of `tree` placed (committed) where the steps run.

    Copies keep donation from freeing arrays the layers hold; placing every
    train state the same way keeps jit's cache key (which includes where
    arguments are committed) stable, so re-fitting never recompiles.
    """
    if isinstance(tree, TrainState):
      return self.strategy.put_train_state(tree)
    return self.strategy.put(_copy(tree))

  def install_saved(self, saved, shuffle_seed=None) -> None:
    """Drops the live train state; the next one starts from `saved` (a
    `saving._weights.SavedTrainState`)."""
    if shuffle_seed is not None:
      self.shuffle_seed = int(shuffle_seed)
    self.ts = None
    self.pending = saved

  def request_initial_epoch(self, epoch: int) -> None:
    """Makes the running `fit` start at `epoch` (read after on_train_begin;
    BackupAndRestore resuming a run)."""
    self.requested_initial_epoch = int(epoch)

  def take_initial_epoch(self, default: int) -> int:
    epoch, self.requested_initial_epoch = self.requested_initial_epoch, None
    return default if epoch is None else epoch

  def optimizer_state_like(self):
    """Shapes of a fresh optimizer state for the current trainable params."""
    trainable, _ = split_trainable(self.model.params,
                                   self.model.trainable_mask())
    return jax.eval_shape(self.options.tx.init, trainable)

  def is_current(self) -> bool:
    """Whether the live train state was made for the current trainable
    flags (its optimizer state then matches)."""
    return self.ts is not None and self.model.trainable_mask() == self.mask

  # -- the train state --------------------------------------------------------
  def ensure(self, x, y, rows=None):
    """Builds the model and objective from one batch and makes the train
    state if there is none (or the trainable flags changed). With `rows`,
    only the first `rows` samples of x and y are looked at (one batch: a
    stateful RNN accepts only its fixed batch size)."""
    if rows is not None:
      head = lambda t: jax.tree_util.tree_map(
          lambda a: a[:rows] if np.ndim(a) else a, t)
      x, y = head(x), head(y)
    model, objective = self.model, self.options.objective
    if not model.built:
      model._build_from_arrays(model._unpack_inputs(  # pylint: disable=protected-access
          jax.tree_util.tree_map(lambda a: a[:1], x)))
    if objective.losses is None:
      rng = jax.random.PRNGKey(0)
      spec = jax.eval_shape(
          lambda p, s, *a: model.apply(p, s, rng, *a, training=False)[0],
          model.params, model.state, *model._unpack_inputs(x))  # pylint: disable=protected-access
      y_pred = jax.tree_util.tree_map(
          lambda s: jnp.zeros(s.shape, s.dtype), spec)
      if y is None and objective.loss_config is not None:
        raise ValueError(
            "The model was compiled with a loss, so fit/evaluate need targets: "
            "pass y (or yield (x, y) batches).")
      objective.build(y, y_pred)
    mask = model.trainable_mask()
    if self.ts is not None and mask != self.mask:
      self.sync_to_layers()
      self.ts = None  # trainable flags changed: new optimizer state
    if self.ts is None:
      params, state = model.params, model.state
      # Laid out by the distribution (params split under ModelParallel);
      # `_first_state` already made fresh copies.
      ts = self.strategy.put_train_state(self.strategy.broadcast(TrainState(
          *_first_state(self.options.tx, mask, params, state),
          utils.next_rng_key(), jnp.zeros((), jnp.int32),
          self._init_metrics(), self.options.loss_scale)), copy=False)
      self.mask = mask
      self.cache.clear()
      for r in model._records:  # pylint: disable=protected-access
        _layer.add_holder(r.owner, self)
      self._stale, self._ahead = False, False
      if self.pending is not None:
        pending, self.pending = self.pending, None
        ts = pending.apply(model, ts)
      self.ts = ts

  def _init_metrics(self):
    """Fresh metric states: the engine's, or one per `model.metrics` entry
    for Keras-form steps (`Model._stateless_metrics_init`)."""
    init = getattr(self.model, "_stateless_metrics_init", None)
    states = init() if init is not None else None
    if states is None:
      return _default_steps.init_metrics(self.options.objective)
    return states

  def reset_metrics(self) -> None:
    if self.ts is not None:
      self.ts = self.ts._replace(metrics=self.strategy.put(
          self._init_metrics()))

  def fresh_metrics(self):
    """A copy of the train state with zeroed metrics (evaluation)."""
    return self.ts._replace(metrics=self.strategy.put(
        self._init_metrics()))

  def refresh(self) -> None:
    """Before a step: if the layers were written or share this state's
    buffers, train on fresh copies of them (never donate shared arrays)."""
    if self._stale:
      fresh = self.place(TrainState(self.model.params, self.model.state,
                                    None, None, None, None))
      self.ts = self.ts._replace(params=fresh.params, state=fresh.state)
      self._stale = False

  def advance(self, ts) -> None:
    """After steps: `ts` is the newest state (ahead of the layers)."""
    self.ts = ts
    self._ahead = True

  def inference_state(self) -> TrainState:
    """A train state with the current weights for predict."""
    if self.ts is not None and not self._stale:
      return self.ts
    return self.strategy.put_train_state(TrainState(
        self.model.params, self.model.state, None, jax.random.PRNGKey(0),
        jnp.zeros((), jnp.int32), None), copy=False)

  # -- agreement with the layers (called by layers/_layer.py) -----------------
  def sync_to_layers(self) -> None:
    """Writes the live train state's weights back into the layers."""
    if not self._ahead or self.ts is None:
      return
    self._ahead = False
    self.model._write_trees(self.ts.params, self.ts.state)  # pylint: disable=protected-access
    # The layers now share the train state's buffers: the next step must not
    # donate them, so it copies first (`refresh`).
    self._stale = True

  def layers_written(self) -> None:
    self._stale = True


def live_state(model) -> Optional[LiveState]:
  """The `LiveState` of a model (made on first use; an uncompiled model's
  one only predicts and keeps a restored train state until compile)."""
  return getattr(model, "_live", None)
