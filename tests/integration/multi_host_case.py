"""One process of the 2-process test (tests/integration/test_multi_host.py).

    python multi_host_case.py BACKEND OUT_DIR PROCESS_ID PORT   # one of 2
    python multi_host_case.py BACKEND OUT_DIR reference         # 1 device

Each of the two processes has 2 CPU devices and joins the other through
`hk_keras.distribution.initialize` on 127.0.0.1:PORT; together they train
with `DataParallel(backend=BACKEND)` over the 4 devices. The reference run
trains the same model on one device on the same global batches. Each run
saves weights, logs and predictions to OUT_DIR/<run>.npz.
"""
import os
import sys

BACKEND, OUT = sys.argv[1], sys.argv[2]
REFERENCE = sys.argv[3] == "reference"
MODEL_PARALLEL = BACKEND == "model_parallel"
LOCAL_DEVICES = (8 if REFERENCE else 4) if MODEL_PARALLEL else (
    1 if REFERENCE else 2)
os.environ["XLA_FLAGS"] = (
    f"--xla_force_host_platform_device_count={LOCAL_DEVICES}")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402

if not REFERENCE:
  PROCESS = int(sys.argv[3])
  hk_keras.distribution.initialize(f"127.0.0.1:{sys.argv[4]}",
                                   num_processes=2, process_id=PROCESS)
  assert jax.process_count() == 2
  assert len(jax.devices()) == 2 * LOCAL_DEVICES

# Different seeds per process: the engine must start every process from
# process 0's initial weights and shuffle order (the reference uses process
# 0's seed).
hk_keras.utils.set_random_seed(100 if REFERENCE else 100 + PROCESS)
model = hk_keras.Sequential([
    hk_keras.Input((6,)), layers.Dense(16, activation="relu"),
    layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
if MODEL_PARALLEL:
  distribution = hk_keras.distribution.ModelParallel(
      layout_map="auto", min_shard_size=16,
      device_mesh=hk_keras.distribution.DeviceMesh((2, 4), ["batch", "model"]))
else:
  distribution = (None if REFERENCE else
                  hk_keras.distribution.DataParallel(backend=BACKEND))
model.compile("adam", "sparse_categorical_crossentropy",
              metrics=["accuracy"], distribution=distribution)

rng = np.random.default_rng(0)
x = rng.normal(size=(38, 6)).astype("float32")
y = rng.integers(0, 3, 38)

# Arrays: every process passes the same arrays; each computes its devices'
# rows of every global batch (the last one, 6 rows, padded to 8).
arrays = model.fit(x, y, batch_size=8, epochs=2, verbose=1)


def global_batches():
  for start in range(0, 22, 8):
    yield x[start:start + 8], y[start:start + 8]


def my_shard():
  # Each process yields its half of each global batch (the last global
  # batch has 6 rows: 3 per process, padded to 4 for its 2 devices).
  for bx, by in global_batches():
    half = len(bx) // 2
    part = slice(PROCESS * half, (PROCESS + 1) * half)
    yield bx[part], by[part]


generated = model.fit(global_batches() if REFERENCE else my_shard(),
                      epochs=1, verbose=0)
evaluated = model.evaluate(x, y, batch_size=10, verbose=0)
predicted = model.predict(x, batch_size=10, verbose=0)
name = "reference" if REFERENCE else f"process{PROCESS}"
if MODEL_PARALLEL:
  # Params split across the processes: gather them onto every host.
  from jax.experimental import multihost_utils  # noqa: E402
  params = model._ts.params  # pylint: disable=protected-access
  if not REFERENCE:
    params = multihost_utils.process_allgather(params, tiled=True)
  weights = [np.asarray(params[m][n]) for m in sorted(params)
             for n in sorted(params[m])]
else:
  weights = model.get_weights()
np.savez(os.path.join(OUT, name + ".npz"),
         *weights,
         logs=np.array(arrays.history["loss"] + arrays.history["accuracy"] +
                       generated.history["loss"] + list(evaluated)),
         predicted=predicted,
         chief=np.array(hk_keras.distribution.is_chief()))
