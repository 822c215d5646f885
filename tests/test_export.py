"""model.export(format="jax") and saving.load_exported.

The artifact is read back in a fresh process that imports only JAX and
NumPy (never hk_keras) and must give the model's predictions for batch
sizes 1, 7 and 128 (one symbolic batch dimension).
"""
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import hk_keras
from hk_keras import layers

BATCHES = (1, 7, 128)

_READER = r"""
import json, sys
import numpy as np
import jax
path, out = sys.argv[1], sys.argv[2]
with open(path + "/model.jax_export", "rb") as f:
  exported = jax.export.deserialize(bytearray(f.read()))
data = np.load(out + "/inputs.npz")
results = {}
for n in %r:
  args = [data[f"x{i}_{n}"] for i in range(len(exported.in_avals))]
  results[f"y_{n}"] = np.asarray(exported.call(*args))
assert not any(m.startswith("hk_keras") for m in sys.modules), "imported hk_keras"
np.savez(out + "/outputs.npz", **results)
print(json.dumps({"in": [str(a) for a in exported.in_avals]}))
""" % (BATCHES,)


def _mlp():
  hk_keras.utils.set_random_seed(0)
  return hk_keras.Sequential([
      hk_keras.Input((5,)), layers.Dense(8, activation="relu"),
      layers.BatchNormalization(), layers.Dropout(0.5),
      layers.Dense(3, activation="softmax")])


def _two_inputs():
  hk_keras.utils.set_random_seed(1)
  a, b = hk_keras.Input((4,), name="a"), hk_keras.Input((2,), name="b")
  merged = layers.Concatenate()([layers.Dense(3)(a), b])
  return hk_keras.Model([a, b], layers.Dense(1)(merged))


def _inputs(model, n, rng):
  shapes = [(5,)] if isinstance(model, hk_keras.Sequential) else [(4,), (2,)]
  return [rng.normal(size=(n,) + s).astype("float32") for s in shapes]


@pytest.mark.parametrize("make", [_mlp, _two_inputs], ids=["mlp", "two_in"])
def test_export_runs_without_hk_keras_for_any_batch(tmp_path, make):
  model = make()
  x = np.random.default_rng(0).normal(size=(16, 5)).astype("float32")
  if make is _mlp:
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, np.eye(3)[np.arange(16) % 3], epochs=1, verbose=0)
  path = str(tmp_path / "served")
  model.export(path, verbose=False)
  signature = json.load(open(os.path.join(path, "signature.json")))
  assert signature["inputs"][0]["shape"][0] is None
  assert signature["inputs"][0]["symbolic_shape"][0] == "batch"

  rng = np.random.default_rng(1)
  feeds, expected = {}, {}
  for n in BATCHES:
    xs = _inputs(model, n, rng)
    for i, xi in enumerate(xs):
      feeds[f"x{i}_{n}"] = xi
    expected[n] = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
  np.savez(tmp_path / "inputs.npz", **feeds)
  env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
  proc = subprocess.run([sys.executable, "-c", _READER, path, str(tmp_path)],
                        capture_output=True, text=True, env=env,
                        cwd=str(tmp_path), timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  outputs = np.load(tmp_path / "outputs.npz")
  for n in BATCHES:
    np.testing.assert_allclose(outputs[f"y_{n}"], expected[n], atol=1e-6)

  served = hk_keras.saving.load_exported(path)
  xs = _inputs(model, 7, rng)
  np.testing.assert_allclose(np.asarray(served(*xs)),
                             model.predict(xs if len(xs) > 1 else xs[0],
                                           verbose=0), atol=1e-6)


def test_export_errors(tmp_path):
  model = _mlp()
  with pytest.raises(ValueError, match="format='jax'"):
    model.export(str(tmp_path / "a"), format="onnx")
  path = str(tmp_path / "b")
  model.export(path, verbose=False)
  with pytest.raises(ValueError, match="already holds"):
    model.export(path, verbose=False)
  with pytest.raises(ValueError, match="model.export"):
    hk_keras.saving.load_exported(str(tmp_path))
  with pytest.raises(ValueError, match="not been built"):
    hk_keras.Sequential([layers.Dense(2)]).export(str(tmp_path / "c"))
  served = hk_keras.saving.load_exported(path)
  with pytest.raises(ValueError, match="takes 1 input"):
    served(np.zeros((2, 5), "float32"), np.zeros((2, 5), "float32"))


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is not None,
                    reason="checks the error raised without TensorFlow")
def test_tf_saved_model_without_tensorflow_names_the_extra(tmp_path):
  with pytest.raises(ImportError, match=r"hk_keras\[tensorflow\]"):
    _mlp().export(str(tmp_path / "tf"), format="tf_saved_model")
