"""Resuming training after a crash: kill -9 in the middle of a checkpoint write.

A child process trains with ModelCheckpoint or BackupAndRestore and freezes
halfway through writing the checkpoint of one epoch; the test kills it with
SIGKILL there. A second run finds the last complete checkpoint, resumes, and
must end with exactly the weights of a run that was never interrupted.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import chex
import numpy as np
import pytest

import hk_keras
from hk_keras import callbacks, layers

EPOCHS = 5
HANG_AT_EPOCH = 2  # killed while writing the checkpoint of this epoch

_CHILD = textwrap.dedent('''
    import glob
    import os
    import re
    import sys
    import time

    import numpy as np

    import hk_keras
    from hk_keras import callbacks, layers

    mode, work, hang_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    armed = []

    class FreezingFile:
      """Writes half of the first chunk once armed, then waits to be killed."""

      def __init__(self, f):
        self._f = f

      def write(self, data):
        if armed:
          self._f.write(bytes(data)[:max(1, len(data) // 2)])
          self._f.flush()
          open(os.path.join(work, "in_write"), "w").close()
          time.sleep(600)
        return self._f.write(data)

      def __enter__(self):
        self._f.__enter__()
        return self

      def __exit__(self, *exc):
        return self._f.__exit__(*exc)

      def __getattr__(self, name):
        return getattr(self._f, name)

    real_fdopen = os.fdopen
    os.fdopen = lambda *a, **k: FreezingFile(real_fdopen(*a, **k))
    arm = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: armed.append(1) if epoch == hang_at
        else None)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 3)).astype(np.float32)
    y = (x @ np.array([[1.5], [-2.0], [0.5]], np.float32)).astype(np.float32)
    hk_keras.utils.set_random_seed(0)
    model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(8, "relu"),
                                 layers.Dropout(0.3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    fit = dict(epochs=%(epochs)d, batch_size=8, verbose=0)
    ckpt_dir = os.path.join(work, "ckpt")
    if mode == "backup":
      history = model.fit(x, y, **fit, callbacks=[
          arm, callbacks.BackupAndRestore(os.path.join(work, "backup"))])
    else:
      done = sorted(glob.glob(os.path.join(ckpt_dir, "epoch*.keras")),
                    key=lambda p: int(re.findall(r"epoch(\\d+)", p)[-1]))
      start = 0
      if done:  # resume from the last complete checkpoint
        model = hk_keras.models.load_model(done[-1])
        start = int(re.findall(r"epoch(\\d+)", done[-1])[-1])
      history = model.fit(x, y, **fit, initial_epoch=start, callbacks=[
          arm, callbacks.ModelCheckpoint(
              os.path.join(ckpt_dir, "epoch{epoch}.keras"))])
    np.savez(os.path.join(work, "final.npz"), *model.get_weights())
    print("epochs run:", history.epoch)
''') % {"epochs": EPOCHS}


def _run(tmp_path, mode, work, hang_at=-1):
  script = tmp_path / "child.py"
  script.write_text(_CHILD)
  work.mkdir(exist_ok=True)
  # The checkout under test, not whatever hk_keras the interpreter finds.
  repo = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  env = dict(os.environ, PYTHONPATH=os.pathsep.join(
      [repo] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
  return subprocess.Popen(
      [sys.executable, str(script), mode, str(work), str(hang_at)],
      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _finish(proc):
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == 0, out
  return out


def _final_weights(work):
  with np.load(work / "final.npz") as f:
    return [f[f"arr_{i}"] for i in range(len(f.files))]


def _kill_while_writing(tmp_path, mode, work):
  proc = _run(tmp_path, mode, work, hang_at=HANG_AT_EPOCH)
  deadline = time.time() + 300
  while not (work / "in_write").exists():
    assert proc.poll() is None, proc.communicate()[0]
    assert time.time() < deadline, "the child never reached the write"
    time.sleep(0.05)
  os.kill(proc.pid, signal.SIGKILL)
  proc.wait(timeout=60)
  assert proc.returncode == -signal.SIGKILL
  assert not (work / "final.npz").exists()


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
  tmp = tmp_path_factory.mktemp("reference")
  out = _finish(_run(tmp, "backup", tmp / "work"))
  assert f"epochs run: {list(range(EPOCHS))}" in out
  return _final_weights(tmp / "work")


@pytest.mark.slow
def test_backup_and_restore_survives_a_kill_during_its_write(
    tmp_path, uninterrupted):
  work = tmp_path / "work"
  _kill_while_writing(tmp_path, "backup", work)
  backup = work / "backup"
  # The backup of the epoch before the kill is intact; the killed write left
  # only a temporary file.
  assert f"backup-epoch{HANG_AT_EPOCH}.weights.npz" in os.listdir(backup)
  out = _finish(_run(tmp_path, "backup", work))
  assert f"epochs run: {list(range(HANG_AT_EPOCH, EPOCHS))}" in out
  chex.assert_trees_all_equal(_final_weights(work), uninterrupted)
  assert not backup.exists()


@pytest.mark.slow
def test_model_checkpoint_survives_a_kill_during_its_write(
    tmp_path, uninterrupted):
  work = tmp_path / "work"
  _kill_while_writing(tmp_path, "checkpoint", work)
  saved = sorted(n for n in os.listdir(work / "ckpt") if n.endswith(".keras"))
  assert saved == [f"epoch{e}.keras" for e in range(1, HANG_AT_EPOCH + 1)]
  assert any(n.endswith(".tmp") for n in os.listdir(work / "ckpt"))
  out = _finish(_run(tmp_path, "checkpoint", work))
  assert f"epochs run: {list(range(HANG_AT_EPOCH, EPOCHS))}" in out
  chex.assert_trees_all_equal(_final_weights(work), uninterrupted)


# -- in-process: an exception instead of a kill ------------------------------------------
class _Interrupt(Exception):
  pass


def _dropout_model(seed):
  hk_keras.utils.set_random_seed(seed)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(8, "relu"),
                               layers.Dropout(0.3), layers.Dense(1)])
  model.compile(optimizer="adam", loss="mse")
  return model


@pytest.mark.slow
def test_backup_and_restore_resumes_exactly_in_a_new_model(tmp_path):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(40, 3)).astype(np.float32)
  y = x.sum(axis=1, keepdims=True)
  fit = dict(epochs=5, batch_size=8, verbose=0)
  reference = _dropout_model(seed=1)
  reference.fit(x, y, **fit)

  def stop_at_epoch_2(epoch, logs):
    if epoch == 2:
      raise _Interrupt()

  backup_dir = tmp_path / "backup"
  first = _dropout_model(seed=1)
  with pytest.raises(_Interrupt):
    first.fit(x, y, **fit, callbacks=[
        callbacks.BackupAndRestore(backup_dir),
        callbacks.LambdaCallback(on_epoch_end=stop_at_epoch_2)])
  assert sorted(os.listdir(backup_dir)) == ["backup-epoch3.weights.npz",
                                            "latest.json"]
  # Another seed: other initial weights and shuffle seed, all replaced by
  # the backup (weights, optimizer state, rng, step, shuffle seed, epoch).
  second = _dropout_model(seed=99)
  history = second.fit(x, y, **fit,
                       callbacks=[callbacks.BackupAndRestore(backup_dir)])
  assert history.epoch == [3, 4]
  chex.assert_trees_all_equal(second.get_weights(), reference.get_weights())
  assert not backup_dir.exists()  # finished: the backup is deleted
