"""Model parallelism (hk_keras.distribution.ModelParallel) on 8 CPU devices.

All multi-device cases run in ONE subprocess (tests/model_parallel_cases.py,
XLA_FLAGS=--xla_force_host_platform_device_count=8 set before JAX starts):
JAX's start and compiles are the cost, so they are paid once. The Keras 3
names are compared with Keras 3 here, on this process's devices.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import hk_keras

D = hk_keras.distribution
CASES = Path(__file__).with_name("model_parallel_cases.py")
ATOL = 1e-5
CONFIGS = [f"{s}/{l}" for s in ("(8,)", "(2, 4)", "(4, 2)")
           for l in ("fsdp", "auto", "hand")]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)  # the script sets its own
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONPATH"] = os.pathsep.join(
      [str(CASES.parent.parent)] + [p for p in [env.get("PYTHONPATH")] if p])
  out = tmp_path_factory.mktemp("model_parallel")
  proc = subprocess.run([sys.executable, str(CASES), str(out)],
                        capture_output=True, text=True, env=env, timeout=900)
  assert proc.returncode == 0, proc.stderr[-4000:]
  return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("config", CONFIGS)
def test_training_equals_one_device(results, config):
  got = results["parity"][config]
  assert got["params"] < ATOL
  assert got["logs"] < ATOL


# (config, param, the shard one device holds)
EXPECTED_SHARDS = [
    ("(8,)/fsdp", "embedding/embeddings", [4, 16]),
    ("(8,)/fsdp", "mlp_in/kernel", [16, 4]),
    ("(8,)/fsdp", "attention/query_kernel", [2, 4, 8]),
    ("(8,)/fsdp", "attention/query_bias", [4, 8]),  # 32 < 64 elements
    ("(2, 4)/auto", "mlp_in/kernel", [8, 8]),  # column parallel + fsdp
    ("(2, 4)/auto", "mlp_out/kernel", [8, 8]),  # row parallel + fsdp
    ("(2, 4)/auto", "embedding/embeddings", [8, 8]),
    ("(2, 4)/auto", "attention/query_kernel", [8, 1, 8]),  # one head each
    ("(2, 4)/auto", "attention/output_kernel", [1, 8, 8]),
    ("(4, 2)/auto", "mlp_in/kernel", [4, 16]),
    ("(4, 2)/fsdp", "mlp_in/kernel", [16, 8]),
    ("(2, 4)/hand", "mlp_in/kernel", [16, 8]),
    ("(2, 4)/hand", "mlp_in/bias", [8]),
    ("(2, 4)/hand", "mlp_out/kernel", [8, 16]),
    ("(8,)/hand", "attention/output_kernel", [4, 8, 2]),
]


@pytest.mark.parametrize("config,path,shard", EXPECTED_SHARDS)
def test_each_device_holds_its_fraction(results, config, path, shard):
  got = results["parity"][config]["shards"][path]
  assert got["devices"] == 8
  assert all(s == shard for s in got["shards"]), got
  # Adam's two slots are laid out like their param.
  assert len(got["slots"]) == 2
  for slot in got["slots"]:
    assert slot == got["shards"]


def test_optimizer_slots_follow_every_param(results):
  for config in CONFIGS:
    for path, got in results["parity"][config]["shards"].items():
      assert [s for slot in got["slots"] for s in slot] == (
          got["shards"] * 2), (config, path)


def test_data_parallel_takes_a_device_mesh(results):
  assert results["data_parallel_mesh"] < ATOL


def test_strict_layout_map_names_unmatched_params(results):
  err = results["strict_error"]
  assert "embedding/embeddings" in err and "strict=True" in err
  assert "mlp_in" not in err


def test_checkpoints_move_between_meshes(results):
  got = results["checkpoints"]
  assert got["mesh_8"] < ATOL  # saved on (2, 4), loaded on (8,)
  assert got["one_device"] < ATOL
  assert got["mesh_2x4"] == 0.0
  assert got["resume"] == 0.0  # the same mesh resumes exactly


def test_summary_shows_layouts_and_per_device_bytes(results):
  text = results["summary"]
  line = next(l for l in text.splitlines() if "mlp_in/kernel" in l)
  assert "(-, model)" in line and "512.00 B" in line  # 16 x 8 floats
  params = next(l for l in text.splitlines() if "Params per device" in l)
  assert "unsplit: 15.41 KB" in params
  assert "Optimizer state per device" in text


# -- the Keras 3 names, compared with Keras 3 on this process's devices ------

@pytest.fixture(scope="module")
def kd():
  keras = pytest.importorskip("keras")
  return keras.distribution


def test_devices_match_keras(kd):
  assert D.list_devices() == kd.list_devices()
  assert D.list_devices("cpu") == kd.list_devices("cpu")
  assert D.get_device_count() == kd.get_device_count() == jax.device_count()


def test_device_mesh_and_tensor_layout_match_keras(kd):
  n = D.get_device_count()
  ours, theirs = D.DeviceMesh((n,), ["batch"]), kd.DeviceMesh((n,), ["batch"])
  assert ours.shape == theirs.shape and ours.axis_names == theirs.axis_names
  assert ours.devices.tolist() == theirs.devices.tolist()
  assert ours.backend_mesh.axis_names == theirs.backend_mesh.axis_names
  assert list(ours.backend_mesh.devices.flat) == list(
      theirs.backend_mesh.devices.flat)
  for cls, bad in ((D.DeviceMesh, ((n,), ["a", "b"])),
                   (kd.DeviceMesh, ((n,), ["a", "b"]))):
    with pytest.raises(ValueError, match="same size"):
      cls(*bad)
  layout = D.TensorLayout((None, "batch"), ours)
  assert layout.axes == kd.TensorLayout((None, "batch"), theirs).axes
  assert layout.backend_layout.spec == kd.TensorLayout(
      (None, "batch"), theirs).backend_layout.spec
  with pytest.raises(ValueError, match="Invalid axis names"):
    D.TensorLayout(("model",), ours)


def test_layout_map_lookup_matches_keras(kd):
  n = D.get_device_count()
  maps = [D.LayoutMap(D.DeviceMesh((n,), ["model"])),
          kd.LayoutMap(kd.DeviceMesh((n,), ["model"]))]
  for m in maps:
    m["dense.*/kernel"] = (None, "model")
    m["dense.*/bias"] = ("model",)
    m["dense_1/kernel"] = ("model", None)  # exact key wins
    m[".*attention.*/query.*"] = (None, "model", None)
    m["conv.*"] = ("model",)
    m[".*conv2d.*"] = (None,)
  for key in ("dense/kernel", "dense_1/kernel", "dense_7/bias",
              "multi_head_attention/query_kernel", "embedding/embeddings",
              "xdense/kernel"):
    ours, theirs = maps[0][key], maps[1][key]
    assert (ours is None) == (theirs is None), key
    if ours is not None:
      assert ours.axes == theirs.axes, key
      assert ours.device_mesh.shape == (n,)
  for m in maps:  # two regexes match: an error naming both
    with pytest.raises(ValueError, match="multiple layout"):
      m["conv2d/kernel"]  # pylint: disable=pointless-statement
    with pytest.raises(ValueError, match="already exist"):
      m["conv.*"] = ("model",)
  assert len(maps[0]) == len(maps[1]) == 6


def test_distribute_tensor_matches_keras(kd):
  n = D.get_device_count()
  x = np.arange(2.0 * n * 3).reshape(2 * n, 3).astype("float32")
  ours = D.distribute_tensor(x, D.TensorLayout(
      ("batch", None), D.DeviceMesh((n,), ["batch"])))
  theirs = kd.distribute_tensor(x, kd.TensorLayout(
      ("batch", None), kd.DeviceMesh((n,), ["batch"])))
  np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
  assert ours.sharding.is_equivalent_to(theirs.sharding, 2)
  assert D.distribute_tensor(ours, ours.sharding) is ours
  inside = jax.jit(lambda a: D.distribute_tensor(a * 2, ours.sharding))(ours)
  np.testing.assert_array_equal(np.asarray(inside), 2 * x)


def test_model_parallel_arguments():
  mesh = D.DeviceMesh((D.get_device_count(),), ["batch"])
  with pytest.raises(ValueError, match="layout_map"):
    D.ModelParallel()
  with pytest.raises(ValueError, match="'fsdp' or 'auto'"):
    D.ModelParallel(layout_map="zero3", device_mesh=mesh)
  with pytest.raises(ValueError, match="no axis of the mesh"):
    D.ModelParallel(layout_map="fsdp", device_mesh=mesh,
                    batch_dim_name="data")
  layout_map = D.LayoutMap(mesh)
  layout_map["d/kernel"] = ("batch", None, None)
  with pytest.raises(ValueError, match="rank-2"):
    D.ModelParallel(layout_map=layout_map).tensor_axes(
        {"d": {"kernel": np.zeros((2, 2))}})
  with pytest.raises(ValueError, match="not both"):
    D.DataParallel(devices=1, device_mesh=mesh)
  dist = D.ModelParallel(layout_map="auto", device_mesh=mesh)
  assert dist.num_model_replicas == mesh.shape[0]
  D.set_distribution(dist)
  try:
    assert D.distribution() is dist
  finally:
    D.set_distribution(None)
