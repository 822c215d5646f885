"""How data reaches the device: one compile per batch shape, data larger
than the device data budget streamed from the host (docs/performance.md)."""
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"


class _CountCompiles:
  """Counts XLA compilations (every jit program and eager op) in a block."""

  def __enter__(self):
    self.count = 0
    self._listener = lambda event, *_, **__: self._add(event)
    jax.monitoring.register_event_duration_secs_listener(self._listener)
    return self

  def _add(self, event):
    if event == _COMPILE_EVENT:
      self.count += 1

  def __exit__(self, *exc):
    jax.monitoring.unregister_event_duration_listener(self._listener)


class _Batches(hk_keras.utils.PyDataset):

  def __init__(self, x, y, batch_size):
    super().__init__()
    self.x, self.y, self.batch_size = x, y, batch_size

  def __len__(self):
    return len(self.x) // self.batch_size

  def __getitem__(self, i):
    rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
    return self.x[rows], self.y[rows]


def _generator(x, y, batch_size):
  for i in range(len(x) // batch_size):
    yield (x[i * batch_size:(i + 1) * batch_size],
           y[i * batch_size:(i + 1) * batch_size])


def _calls(model, x, y, n):
  """fit (with validation), evaluate and predict on the first n rows, and
  fit/evaluate/predict on generators and a PyDataset of n // 16 batches."""
  xs, ys = x[:n], y[:n]
  val = (x[-(n // 2):], y[-(n // 2):])
  hist = model.fit(xs, ys, batch_size=16, epochs=1, verbose=0,
                   validation_data=val)
  model.evaluate(xs, ys, batch_size=16, verbose=0)
  model.predict(xs, batch_size=16, verbose=0)
  model.fit(_Batches(xs, ys, 16), epochs=1, verbose=0)
  model.evaluate(_generator(xs, ys, 16), verbose=0)
  model.predict(_generator(xs, ys, 16), verbose=0)
  return hist.history


def test_new_dataset_sizes_compile_nothing():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(400, 5)).astype(np.float32)
  y = rng.normal(size=(400, 1)).astype(np.float32)
  model = hk_keras.Sequential([hk_keras.Input((5,)), layers.Dense(4),
                               layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
  # The first calls compile (a size with a partial last batch included).
  with _CountCompiles() as first:
    _calls(model, x, y, 72)
  assert first.count > 0
  # Three new sizes, with and without a partial last batch: nothing new.
  with _CountCompiles() as later:
    for n in (200, 96, 333):
      history = _calls(model, x, y, n)
  assert later.count == 0
  assert np.isfinite(history["val_loss"]).all()


_MEMMAP_SCRIPT = """
import resource, sys
import numpy as np
import hk_keras
from hk_keras import layers
sys.path.insert(0, sys.argv[3])
import test_data_path
path, rows, _, out = sys.argv[1:]
x = np.memmap(path, np.float32, "r", shape=(int(rows), 256))
y = np.load(path + ".y.npy", mmap_mode="r")
model = test_data_path._linear_model()
test_data_path._warm_up(model, x, y)
def vm_data():
  return [int(l.split()[1]) for l in open("/proc/self/status")
          if l.startswith("VmData")][0] * 1024
# The memmap's pages are file-backed, outside this limit on anonymous
# memory (heap, device buffers): a copy of half the data fails.
# (8 MB of headroom: XLA's own allocations need a few MB; with 4 MB, an 8 MB
# memmap aborted.)
limit = vm_data() + x.nbytes // 2
resource.setrlimit(resource.RLIMIT_DATA, (limit, resource.RLIM_INFINITY))
try:
  np.array(x)
  raise AssertionError("the memory limit does not hold")
except MemoryError:
  pass
test_data_path._train(model, x, y)
np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))
"""


def _linear_model():
  hk_keras.config.set_device_data_budget(1 << 20)
  hk_keras.utils.set_random_seed(0)
  model = hk_keras.Sequential([hk_keras.Input((256,)), layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
  return model


def _warm_up(model, x, y):
  """Compiles the steps before the memory limit is set."""
  model.fit(x[:128], y[:128], batch_size=128, epochs=1, verbose=0)
  model.evaluate(x[:512], y[:512], batch_size=512, verbose=0)


def _train(model, x, y):
  model.fit(x, y, batch_size=128, epochs=1, verbose=0)
  return model.evaluate(x, y, batch_size=512, verbose=0)


@pytest.fixture(scope="module")
def memmap_file(tmp_path_factory):
  rows = 16_000  # 16 MB of float32 features
  folder = tmp_path_factory.mktemp("memmap")
  path = str(folder / "x.f32")
  x = np.memmap(path, np.float32, "w+", shape=(rows, 256))
  rng = np.random.default_rng(0)
  for start in range(0, rows, 4000):
    x[start:start + 4000] = rng.normal(size=(4000, 256))
  x.flush()
  np.save(path + ".y.npy", (np.asarray(x[:, :1]) * 2.0).astype(np.float32))
  del x
  return path, rows


def test_memmap_over_the_budget_streams_with_the_same_weights(memmap_file,
                                                              tmp_path):
  # A 16 MB memmap under a 1 MB device data budget, trained in a process
  # whose anonymous memory (RLIMIT_DATA: heap and device buffers, not the
  # memmap's file pages) may grow by at most half the data: it streams from
  # disk in small chunks, never copied whole, and trains to the weights of
  # the same rows held in memory.
  path, rows = memmap_file
  out = str(tmp_path / "w.npy")
  env = dict(os.environ, PYTHONPATH=os.getcwd(), JAX_PLATFORMS="cpu")
  subprocess.run([sys.executable, "-c", textwrap.dedent(_MEMMAP_SCRIPT), path,
                  str(rows), os.path.dirname(__file__), out], check=True,
                 env=env, timeout=600)
  x = np.array(np.memmap(path, np.float32, "r", shape=(rows, 256)))
  y = np.load(path + ".y.npy")
  try:
    model = _linear_model()
    _warm_up(model, x, y)
    _train(model, x, y)
  finally:
    hk_keras.config.set_device_data_budget(None)
  want = np.concatenate([w.ravel() for w in model.get_weights()])
  np.testing.assert_allclose(np.load(out), want, rtol=1e-6, atol=1e-6)


def test_device_data_budget_setting():
  default = hk_keras.config.device_data_budget()
  assert default > 0
  try:
    hk_keras.config.set_device_data_budget(1 << 20)
    assert hk_keras.config.device_data_budget() == 1 << 20
  finally:
    hk_keras.config.set_device_data_budget(None)
  assert hk_keras.config.device_data_budget() == default
  with pytest.raises(ValueError, match="positive number of bytes"):
    hk_keras.config.set_device_data_budget(0)
