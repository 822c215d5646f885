"""Two processes on one machine train one model together (multi-host).

Each process has 2 CPU devices and joins the other with
`hk_keras.distribution.initialize` over 127.0.0.1 (JAX's CPU collectives are
gloo in this JAX version); their params must end identical, and equal to
one process training on the same global batches. Under "model_parallel"
each process has 4 devices of a (2, 4) ModelParallel mesh, and the
reference is one process with 8 devices on the same mesh shape.
"""
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CASE = Path(__file__).with_name("multi_host_case.py")


def _free_port():
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def _env():
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  env["JAX_PLATFORMS"] = "cpu"
  # The checkout under test, not whatever hk_keras the interpreter finds.
  repo = os.path.dirname(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))))
  env["PYTHONPATH"] = os.pathsep.join(
      [repo] + [p for p in [os.environ.get("PYTHONPATH")] if p])
  return env


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pmap", "sharding", "model_parallel"])
def test_two_processes_train_like_one(backend, tmp_path):
  port = str(_free_port())
  procs = [subprocess.Popen(
      [sys.executable, str(CASE), backend, str(tmp_path), str(i), port],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
           for i in range(2)]
  reference = subprocess.run(
      [sys.executable, str(CASE), backend, str(tmp_path), "reference"],
      capture_output=True, text=True, env=_env(), timeout=600)
  assert reference.returncode == 0, reference.stderr[-3000:]
  outputs = []
  for p in procs:
    try:
      out, err = p.communicate(timeout=600)
    finally:
      p.kill()
    assert p.returncode == 0, err[-3000:]
    outputs.append(out)
  runs = [np.load(tmp_path / f"{n}.npz")
          for n in ("process0", "process1", "reference")]
  weights = [[r[k] for k in r.files if k.startswith("arr_")] for r in runs]
  for a, b in zip(weights[0], weights[1]):
    np.testing.assert_array_equal(a, b)  # the processes agree exactly
  assert len(weights[0]) == len(weights[2]) > 0
  for a, b in zip(weights[0], weights[2]):
    np.testing.assert_allclose(a, b, atol=1e-5)
  for key in ("logs", "predicted"):
    np.testing.assert_allclose(runs[0][key], runs[2][key], atol=1e-5)
    np.testing.assert_allclose(runs[1][key], runs[2][key], atol=1e-5)
  assert runs[1]["predicted"].shape == (38, 3)
  assert bool(runs[0]["chief"]) and not bool(runs[1]["chief"])
  # Only process 0 prints the progress bar.
  assert "loss" in outputs[0] and "loss" not in outputs[1]
