"""`BackupAndRestore`: resume an interrupted `fit` where it stopped."""
import json
import os
import shutil

from .. import _engine
from ._batch_counter import BatchCounter
from ._callback import Callback

_POINTER = "latest.json"
_FORMAT = "hk_keras.backup"
_ORBAX_DIR = "orbax"
_BACKENDS = ("npz", "orbax")


class BackupAndRestore(Callback):
  """Backs up the training state; a rerun of the same `fit` resumes from it.

  At each epoch end (or every `save_freq` batches) it writes the weights
  with the train state (optimizer state, rng key, step, shuffle seed) to a
  new file in `backup_dir`, then atomically points `latest.json` at it and
  removes the older file. A kill at any moment leaves a complete backup.
  When `fit` starts and a backup exists, it is loaded and training goes on
  from the epoch after the last completed one: with epoch backups the
  result equals an uninterrupted run.

  Differs from Keras 3: with an int `save_freq`, a run killed mid-epoch
  restarts that epoch from its first batch with the weights of the last
  backup (as Keras does), so it is not exact; `double_checkpoint` is
  accepted and has no effect (the previous backup is always kept until the
  new one is complete).

  Args:
    backup_dir: the directory for backups (one per training job).
    save_freq: "epoch", or an int: also back up every that many batches.
    double_checkpoint: ignored (see above).
    delete_checkpoint: delete the backups when `fit` ends normally (not
      after an exception or a kill).
    backend: "npz" (a `.weights.npz` file per backup) or "orbax" (Orbax
      checkpoints of the train state in `backup_dir/orbax`, saved in the
      background, written by `OrbaxCheckpoint`; needs the `orbax` extra).
      Not in Keras 3.

  Raises:
    ValueError: on a bad save_freq, or (when restoring) an unbuilt model.

  >>> backup = BackupAndRestore(backup_dir="/tmp/backup")
  >>> model.fit(x, y, epochs=10, callbacks=[backup])  # doctest: +SKIP
  >>> # killed at epoch 6? Run the same line again: it continues at epoch 7.
  """

  def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
               delete_checkpoint=True, backend="npz"):
    super().__init__()
    del double_checkpoint
    if not backup_dir:
      raise ValueError("BackupAndRestore needs a backup_dir. Received: "
                       f"backup_dir={backup_dir!r}")
    if backend not in _BACKENDS:
      raise ValueError(f"BackupAndRestore backend must be one of {_BACKENDS}. "
                       f"Received: backend={backend!r}")
    self.backup_dir = os.fspath(backup_dir)
    self.backend = backend
    self._orbax = None
    if backend == "orbax":
      from ._orbax_checkpoint import OrbaxCheckpoint  # pylint: disable=g-import-not-at-top
      # Two kept: replacing a same-step save never leaves none.
      self._orbax = OrbaxCheckpoint(os.path.join(self.backup_dir, _ORBAX_DIR),
                                    max_to_keep=2)
    self.save_freq = save_freq
    self.delete_checkpoint = delete_checkpoint
    self._counter = None
    if save_freq != "epoch":
      self._counter = BatchCounter(save_freq)  # validates the int
      self.on_train_batch_end = self._on_train_batch_end
    self._current_epoch = 0

  # -- restore -------------------------------------------------------------------
  def _latest(self):
    """(file path, epoch) of the last complete backup, or None.

    Raises:
      SavingError: if `latest.json` is malformed or names a file outside
        `backup_dir`.
    """
    from ..saving import _reader  # pylint: disable=g-import-not-at-top
    from ..saving import _schema  # pylint: disable=g-import-not-at-top
    from ..saving import SavingError  # pylint: disable=g-import-not-at-top
    pointer = os.path.join(self.backup_dir, _POINTER)
    if not os.path.exists(pointer):
      return None
    with open(pointer, "rb") as f:
      data = _reader.read_limited(f, 2**16, repr(pointer))
    info = _schema.backup_pointer(
        _reader.parse_json(data, repr(pointer)), _schema.Where(repr(pointer)),
        _FORMAT)
    name = info["file"]
    path = os.path.join(self.backup_dir, name)
    root = os.path.realpath(self.backup_dir)
    if (os.path.basename(name) != name or name in ("", ".", "..") or
        os.path.dirname(os.path.realpath(path)) != root):
      raise SavingError(
          f"{pointer!r} names the backup file {name!r}, which is not a file "
          f"directly inside the backup directory {self.backup_dir!r}. "
          "BackupAndRestore only reads its own files there; the pointer was "
          "edited or crafted. Delete it to start afresh.")
    return path, info["epoch"]

  def on_train_begin(self, logs=None):
    if self._counter is not None:
      self._counter = BatchCounter(self.save_freq)
    if self._orbax is not None:
      self._restore_orbax()
      return
    latest = self._latest()
    if latest is None:
      return
    path, epoch = latest
    if not self.model.built:
      raise ValueError(
          "BackupAndRestore found a backup, but model "
          f"{self.model.name!r} is not built, so it cannot be restored. "
          "Build the model before fit (model.build(input_shape), an Input "
          "layer, or calling it on a batch), as in Keras.")
    self.model.load_weights(path)
    # fit reads this after on_train_begin: it starts at this epoch.
    _engine.live_state(self.model).request_initial_epoch(epoch)
    self._current_epoch = epoch

  def _restore_orbax(self):
    self._orbax.set_model(self.model)
    if not os.path.isdir(self._orbax.directory) or not any(
        d.isdigit() for d in os.listdir(self._orbax.directory)):
      return
    if not self.model.built:
      raise ValueError(
          "BackupAndRestore found a backup, but model "
          f"{self.model.name!r} is not built, so it cannot be restored. "
          "Build the model before fit (model.build(input_shape), an Input "
          "layer, or calling it on a batch), as in Keras.")
    epoch = self._orbax.restore(self.model)
    _engine.live_state(self.model).request_initial_epoch(epoch)
    self._current_epoch = epoch

  # -- back up -------------------------------------------------------------------
  def on_epoch_begin(self, epoch, logs=None):
    self._current_epoch = epoch
    if self._counter is not None:
      self._counter.new_epoch()

  def _on_train_batch_end(self, batch, logs=None):
    if self._counter.step(batch):
      # Mid-epoch: a resume restarts this epoch.
      self._backup(self._current_epoch, f"epoch{self._current_epoch}-batch"
                   f"{batch + 1}")

  def on_epoch_end(self, epoch, logs=None):
    self._backup(epoch + 1, f"epoch{epoch + 1}")

  def _backup(self, resume_epoch, tag):
    if self._orbax is not None:
      self._orbax._save(resume_epoch)  # pylint: disable=protected-access
      return
    os.makedirs(self.backup_dir, exist_ok=True)
    name = f"backup-{tag}.weights.npz"
    self.model.save_weights(os.path.join(self.backup_dir, name))
    _write_atomically(os.path.join(self.backup_dir, _POINTER), json.dumps(
        {"format": _FORMAT, "file": name, "epoch": resume_epoch}))
    self._clean(keep=(name, _POINTER))

  def _clean(self, keep):
    """Removes this callback's older backups and temporary files left by a
    killed write; other files in backup_dir are left alone."""
    for entry in os.listdir(self.backup_dir):
      if entry not in keep and _is_ours(entry):
        _remove(os.path.join(self.backup_dir, entry))

  def on_train_end(self, logs=None):
    if self._orbax is not None:
      self._orbax.close()
      if self.delete_checkpoint:
        shutil.rmtree(self._orbax.directory, ignore_errors=True)
    if self.delete_checkpoint and os.path.isdir(self.backup_dir):
      self._clean(keep=())
      try:
        os.rmdir(self.backup_dir)
      except OSError:
        pass  # holds files of someone else


def _is_ours(entry):
  return (entry.startswith(("backup-", ".backup-", _POINTER + ".")) or
          entry == _POINTER)


def _write_atomically(path, text):
  tmp = f"{path}.{os.getpid()}.tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
    f.flush()
    os.fsync(f.fileno())
  os.replace(tmp, path)


def _remove(path):
  try:
    os.remove(path)
  except OSError:
    pass
