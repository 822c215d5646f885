"""A SIGKILL while OrbaxCheckpoint saves in the background leaves the
previous checkpoint loadable (Orbax finalises a step by renaming it)."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import hk_keras
from hk_keras import layers

pytestmark = pytest.mark.slow

_KILLED = textwrap.dedent("""
    import os, signal, sys, time
    import numpy as np
    sys.path.insert(0, {root!r})
    import hk_keras
    from hk_keras import layers
    hk_keras.utils.set_random_seed(0)
    model = hk_keras.Sequential([hk_keras.Input((64,)), layers.Dense(512),
                                 layers.Dense(512), layers.Dense(1)])
    model.compile("adam", "mse")

    class Kill(hk_keras.callbacks.Callback):
      def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:  # the second save was just started in the background
          # Kill once it has visibly begun (its temporary directory, or the
          # finished step, exists), so the test never races Orbax's start.
          deadline = time.monotonic() + 60
          while time.monotonic() < deadline and not any(
              e.startswith("2") for e in os.listdir({directory!r})):
            time.sleep(0.001)
          os.kill(os.getpid(), signal.SIGKILL)

    x = np.ones((16, 64), "float32")
    ckpt = hk_keras.callbacks.OrbaxCheckpoint({directory!r}, max_to_keep=3)
    model.fit(x, np.ones((16, 1), "float32"), batch_size=16, epochs=3,
              verbose=0, callbacks=[ckpt, Kill()])
""")


def test_sigkill_during_async_save_leaves_a_loadable_checkpoint(tmp_path):
  directory = str(tmp_path / "killed")
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  proc = subprocess.run(
      [sys.executable, "-c", _KILLED.format(root=root, directory=directory)],
      capture_output=True, text=True, timeout=300)
  assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
  hk_keras.utils.set_random_seed(0)
  model = hk_keras.Sequential([hk_keras.Input((64,)), layers.Dense(512),
                               layers.Dense(512), layers.Dense(1)])
  model.compile("adam", "mse")
  entries = os.listdir(directory)
  complete = sorted(int(d) for d in entries if d.isdigit())
  epoch = hk_keras.callbacks.OrbaxCheckpoint(directory).restore(model)
  if "2" in entries:  # the background save finished before the kill
    assert epoch == 2
  else:  # killed mid-save: Orbax's temporary directory is left, ignored
    assert any(e.startswith("2.") for e in entries), entries
    assert complete == [1] and epoch == 1
