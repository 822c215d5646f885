"""`OrbaxCheckpoint`: the train state as orbax-checkpoint checkpoints."""
import os

from .._core._optional import import_optional
from . import _monitor
from ._batch_counter import BatchCounter
from ._callback import Callback

_FORMAT = "hk_keras.orbax"


def _ocp():
  return import_optional("orbax.checkpoint", "orbax-checkpoint", "orbax",
                         "OrbaxCheckpoint")


class OrbaxCheckpoint(Callback):
  """Saves the whole train state with `orbax.checkpoint` during `fit`.

  Each checkpoint is an Orbax step directory (`directory/<step>`) holding
  the item `train_state`, a plain pytree `{"params", "state", "opt_state",
  "rng", "step"}` (NumPy arrays; `params`/`state` are the model's Haiku
  dicts), and the JSON item `meta` (epoch, shuffle seed, the model config
  and compile arguments, so `hk_keras.models.load_model(directory)` rebuilds
  and resumes the model). Any Orbax user
  reads it with `ocp.CheckpointManager(directory).restore(step)`. Orbax
  writes each step to a temporary directory and renames it when complete,
  so a kill during a save leaves the earlier checkpoints readable;
  `save_on_background` saves asynchronously while training goes on.

  `restore()` loads the latest (or a given) checkpoint into the model,
  optimizer state, RNG and step included, and returns the epoch to pass to
  `fit(initial_epoch=...)`: the continued run equals an uninterrupted one
  bit for bit (with epoch checkpoints).

  Args:
    directory: the checkpoint directory.
    monitor: the log compared when `save_best_only` is set.
    verbose: 1 prints a line per save.
    save_best_only: save only when `monitor` improves.
    mode: "auto", "min" or "max" for `monitor`.
    save_freq: "epoch", or an int: save every that many batches.
    initial_value_threshold: with `save_best_only`, the value to beat.
    max_to_keep: how many recent checkpoints to keep (None keeps all).
    save_on_background: save asynchronously (Orbax's async checkpointing).
    save_weights_only: store `params` and `state` only.

  Raises:
    ImportError: if orbax-checkpoint is not installed (the `orbax` extra).

  >>> ckpt = OrbaxCheckpoint("/tmp/ckpt", max_to_keep=2)  # doctest: +SKIP
  >>> model.fit(x, y, epochs=4, callbacks=[ckpt])  # doctest: +SKIP
  >>> epoch = OrbaxCheckpoint("/tmp/ckpt").restore(model)  # doctest: +SKIP
  """

  def __init__(self, directory, monitor="val_loss", verbose=0,
               save_best_only=False, mode="auto", save_freq="epoch",
               initial_value_threshold=None, max_to_keep=1,
               save_on_background=True, save_weights_only=False):
    super().__init__()
    self._ocp = _ocp()
    if not directory:
      raise ValueError("OrbaxCheckpoint needs a directory. Received: "
                       f"directory={directory!r}")
    _monitor.check_mode(mode, "OrbaxCheckpoint")
    if max_to_keep is not None and (not isinstance(max_to_keep, int)
                                    or max_to_keep < 1):
      raise ValueError("OrbaxCheckpoint max_to_keep must be a positive int or "
                       f"None. Received: max_to_keep={max_to_keep!r}")
    self.directory = os.path.abspath(os.fspath(directory))
    self.monitor = monitor
    self.verbose = verbose
    self.save_best_only = save_best_only
    self.mode = mode
    self.save_freq = save_freq
    self.best = initial_value_threshold
    self.max_to_keep = max_to_keep
    self.save_on_background = save_on_background
    self.save_weights_only = save_weights_only
    self._counter = None
    if save_freq != "epoch":
      self._counter = BatchCounter(save_freq)  # validates the int
      self.on_train_batch_end = self._on_train_batch_end
    self._manager = None
    self._epoch = 0

  # -- the manager --------------------------------------------------------------
  def _get_manager(self):
    if self._manager is None:
      ocp = self._ocp
      options = ocp.CheckpointManagerOptions(
          max_to_keep=self.max_to_keep,
          enable_async_checkpointing=self.save_on_background, create=True)
      self._manager = ocp.CheckpointManager(
          self.directory, options=options,
          item_names=("train_state", "meta"))
    return self._manager

  def wait_until_finished(self):
    """Blocks until a background save is complete."""
    if self._manager is not None:
      self._manager.wait_until_finished()

  def close(self):
    if self._manager is not None:
      self._manager.wait_until_finished()
      self._manager.close()
      self._manager = None

  # -- saving ---------------------------------------------------------------------
  def on_epoch_begin(self, epoch, logs=None):
    self._epoch = epoch
    if self._counter is not None:
      self._counter.new_epoch()

  def _on_train_batch_end(self, batch, logs=None):
    if self._counter.step(batch):
      self._maybe_save(self._epoch, logs)

  def on_epoch_end(self, epoch, logs=None):
    if self._counter is None:
      self._maybe_save(epoch + 1, logs)

  def _maybe_save(self, resume_epoch, logs):
    if self.save_best_only:
      current = (logs or {}).get(self.monitor)
      if current is None:
        _monitor.warn_missing("OrbaxCheckpoint", self.monitor, logs)
        return
      higher = _monitor.higher_is_better(self.monitor, self.mode, self.model,
                                         "OrbaxCheckpoint")
      current = float(current)
      if self.best is not None and not _monitor.comparison(higher)(
          current, self.best):
        return
      self.best = current
    self._save(resume_epoch)

  def _save(self, resume_epoch):
    ocp = self._ocp
    model = self.model
    tree, step, order = train_state_tree(model, self.save_weights_only)
    meta = {"format": _FORMAT, "epoch": int(resume_epoch),
            "step": step, "order": order, "weights_only": bool(self.save_weights_only),
            "shuffle_seed": _shuffle_seed(model),
            **self._architecture(model)}
    manager = self._get_manager()
    # Orbax numbers checkpoints: by the optimizer step, or (weights only)
    # one after the latest. A save at an existing number replaces it.
    latest = manager.latest_step()
    number = step if step is not None else (
        0 if latest is None else latest + 1)
    if number in manager.all_steps():
      manager.wait_until_finished()
      manager.delete(number)
    manager.save(number, args=ocp.args.Composite(
        train_state=ocp.args.StandardSave(tree), meta=ocp.args.JsonSave(meta)),
                 force=True)
    if self.verbose:
      print(f"OrbaxCheckpoint: saving step {number} (epoch {resume_epoch}) "
            f"to {self.directory}")

  def _architecture(self, model):
    """The config `load_model(directory)` rebuilds from (made once)."""
    if getattr(self, "_arch_for", None) is not model:
      from ..saving import _orbax_io  # pylint: disable=g-import-not-at-top
      self._arch, self._arch_for = _orbax_io.architecture(model), model
    return self._arch

  def on_train_end(self, logs=None):
    self.wait_until_finished()

  # -- restoring ------------------------------------------------------------------
  def restore(self, model=None, step=None) -> int:
    """Loads a checkpoint into `model` (default: this callback's model).

    Args:
      model: a built, compiled model like the one saved.
      step: the Orbax step to restore; default the latest.

    Returns:
      The epoch to continue from: `fit(..., initial_epoch=returned)`.

    Raises:
      ValueError: if there is no checkpoint, or the model is not built.
    """
    from ..saving import _orbax_io  # pylint: disable=g-import-not-at-top
    model = model if model is not None else self.model
    if model is None or not model.built:
      raise ValueError(
          "OrbaxCheckpoint.restore needs a built model (build it with "
          "model.build(input_shape) or an Input layer, and compile it to "
          "restore the optimizer state).")
    manager = self._get_manager()
    manager.wait_until_finished()
    step = manager.latest_step() if step is None else step
    if step is None:
      raise ValueError(f"No Orbax checkpoint found in {self.directory!r}.")
    ocp = self._ocp
    meta = manager.restore(step, args=ocp.args.Composite(
        meta=ocp.args.JsonRestore()))["meta"]
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
      raise ValueError(f"Step {step} in {self.directory!r} was not written by "
                       "hk_keras.callbacks.OrbaxCheckpoint.")
    restored = manager.restore(step, args=ocp.args.Composite(
        train_state=ocp.args.StandardRestore()))
    _orbax_io.install_tree(model, restored["train_state"], meta.get("order"),
                           meta.get("shuffle_seed"),
                           where=f"{self.directory}/{step}")
    return int(meta["epoch"])


def _shuffle_seed(model):
  """The seed of `fit`'s shuffling, which a resumed run must reuse."""
  from .. import _engine  # pylint: disable=g-import-not-at-top
  live = _engine.live_state(model)
  seed = getattr(live, "shuffle_seed", None)
  return None if seed is None else int(seed)


def train_state_tree(model, weights_only=False):
  """The plain pytree an Orbax checkpoint stores, the step (or None) and
  the weight paths in creation order."""
  from ..saving import _orbax_io  # pylint: disable=g-import-not-at-top
  return _orbax_io.state_tree(model, weights_only)
