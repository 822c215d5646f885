"""Data parallelism (hk_keras.distribution) on 4 CPU devices.

JAX picks its device count when it starts, so the cases run in a
subprocess (tests/distribution_cases.py) with
XLA_FLAGS=--xla_force_host_platform_device_count=4 set before JAX starts;
it compares each data-parallel run with the same run on one device and
reports the largest differences as JSON. One subprocess runs every case for
both backends (JAX and the one-device reference runs once, not per backend
and group); the slow group is left out when no slow test is selected.
Nothing is skipped: a failure to start the subprocess fails the test.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hk_keras

CASES = Path(__file__).with_name("distribution_cases.py")
BACKENDS = ("pmap", "sharding")
ATOL = 1e-5


def _run(backends, groups):
  env = dict(os.environ)
  # The script sets its own device count (and keeps the other flags).
  env["JAX_PLATFORMS"] = "cpu"
  # The checkout under test, not whatever hk_keras the interpreter finds.
  env["PYTHONPATH"] = os.pathsep.join(
      [str(CASES.parent.parent)] + [p for p in [env.get("PYTHONPATH")] if p])
  proc = subprocess.run([sys.executable, str(CASES), ",".join(backends),
                         ",".join(groups)],
                        capture_output=True, text=True, env=env, timeout=900)
  assert proc.returncode == 0, proc.stderr[-4000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def results(request):
  """{backend: {case: result}}, from one subprocess for the whole module."""
  here = request.node.path
  slow = any(item.path == here and item.get_closest_marker("slow")
             for item in request.session.items)
  return _run(BACKENDS, ("core", "full") if slow else ("core",))


@pytest.fixture(params=BACKENDS)
def core(request, results):
  return request.param, results[request.param]


@pytest.fixture(params=BACKENDS)
def full(request, results):
  return request.param, results[request.param]


def test_mlp_with_batchnorm_matches_one_device(core):
  _, r = core
  assert r["mlp_bn"]["steps"] == 5
  assert r["mlp_bn"]["params"] < ATOL
  assert r["mlp_bn"]["logs"] < ATOL


def test_stateful_lstm_matches_one_device_and_saves_its_states(core):
  # Consecutive batches carry the LSTM states (one row per sample, split
  # over the replicas under pmap); a .keras save/load keeps them.
  _, r = core
  s = r["stateful_lstm"]
  assert s["params"] < ATOL and s["logs"] < ATOL
  assert s["state_rows"] == 4 and s["state_nonzero"] > 1e-3
  assert s["loaded_states"] == 0.0 and s["loaded_predict"] < ATOL


def test_padded_last_batch_matches_one_device(core):
  # 38 rows in batches of 8: the last 6 rows are padded to 8 and masked out
  # of the loss, the metrics and the BatchNormalization statistics.
  _, r = core
  assert r["mlp_bn_remainder"]["params"] < ATOL
  assert r["mlp_bn_remainder"]["logs"] < ATOL


def test_evaluate_and_predict_with_remainders(core):
  _, r = core
  for batch_size, got in r["evaluate_predict"].items():
    assert got["rows"] == 37, batch_size
    assert got["evaluate"] < ATOL, batch_size
    assert got["predict"] < ATOL, batch_size


def test_compiles_once_across_epochs(core):
  _, r = core
  assert r["train_traces"] == 2  # full batches + the padded last batch


def test_batch_size_must_split_over_devices(core):
  _, r = core
  assert "batch_size=6" in r["uneven_batch_size_error"]
  assert "multiple of 4" in r["uneven_batch_size_error"]


def test_set_distribution_applies_to_compile(core):
  backend, r = core
  assert r["global_setting"]["replicas"] == 4
  assert backend in r["global_setting"]["getter"]


@pytest.mark.slow
def test_mnist_convnet_shape_matches_one_device(full):
  backend, r = full
  assert r["convnet"]["params"] < ATOL
  if backend == "sharding":
    assert r["convnet_dropout"]["params"] < ATOL


@pytest.mark.slow
def test_steps_per_execution(full):
  _, r = full
  assert r["steps_per_execution"]["params"] < ATOL


@pytest.mark.slow
def test_generators_and_on_batch_with_uneven_batches(full):
  _, r = full
  g = r["generators"]
  assert g["rows"] == 22
  assert max(g["params"], g["logs"], g["predict"], g["on_batch"]) < ATOL


@pytest.mark.slow
def test_custom_train_step_helpers_are_replica_aware(full):
  _, r = full
  assert r["custom_train_step"]["params"] < ATOL


@pytest.mark.slow
def test_dropout_is_reproducible(full):
  _, r = full
  assert r["dropout_repeat"] == 0.0


@pytest.mark.slow
def test_mixed_precision_data_parallel(full):
  _, r = full
  # bfloat16 sums in another order: close, not equal.
  assert r["mixed_bfloat16"]["params"] < 1e-2
  # float16: the same overflowing steps are skipped (same final loss scale,
  # below the initial 2**15).
  single, parallel = r["float16_loss_scales"]
  assert single == parallel < 2.0 ** 15


@pytest.mark.slow
def test_dp_sgd_data_parallel_matches_one_device(full):
  _, r = full
  for sampling in ("shuffle", "poisson"):
    assert r[f"privacy_{sampling}"]["params"] < ATOL
    assert r[f"privacy_{sampling}"]["logs"] < ATOL


def test_data_parallel_arguments():
  with pytest.raises(ValueError, match="backend"):
    hk_keras.distribution.DataParallel(backend="tpu")
  with pytest.raises(ValueError, match="unknown device"):
    hk_keras.distribution.DataParallel(devices=["gpu:7"])
  with pytest.raises(TypeError, match="DataParallel"):
    hk_keras.distribution.set_distribution("pmap")
  dist = hk_keras.distribution.DataParallel(devices=1, backend="sharding")
  assert dist.num_replicas == 1
  assert hk_keras.distribution.distribution() is None
  assert hk_keras.distribution.is_chief()
