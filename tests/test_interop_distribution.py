"""Flax and Equinox layers under DataParallel on 2 forced host devices.

JAX fixes its device count at start-up, so the case runs in a subprocess
with XLA_FLAGS=--xla_force_host_platform_device_count=2; it trains the same
model (a Linen MLP, an NNX Linear and an Equinox MLP in one Functional
model) on one device and under DataParallel with each backend, and prints
the largest parameter difference as JSON.
"""
import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_CASE = textwrap.dedent("""
    import json, os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    sys.path.insert(0, {root!r})
    import jax, numpy as np
    import equinox as eqx, flax.linen as nn
    from flax import nnx
    import hk_keras
    from hk_keras import layers
    assert jax.device_count() == 2, jax.devices()

    class Linen(nn.Module):
      @nn.compact
      def __call__(self, x):
        return nn.relu(nn.Dense(6)(x))

    def model():
      hk_keras.utils.set_random_seed(0)
      inputs = hk_keras.Input((4,))
      h = layers.FlaxLayer(Linen(), name="linen")(inputs)
      h = layers.FlaxLayer(nnx.Linear(6, 5, rngs=nnx.Rngs(0)), name="nnx")(h)
      mlp = eqx.nn.MLP(5, 2, width_size=4, depth=1, key=jax.random.PRNGKey(1))
      return hk_keras.Model(inputs, layers.EquinoxLayer(mlp, name="eqx")(h))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    def fit(distribution):
      m = model()
      m.compile("adam", "mse", distribution=distribution)
      m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
      return m.params

    one_device = fit(None)  # the same reference for both backends
    results = {{}}
    for backend in ("pmap", "sharding"):
      runs = [one_device,
              fit(hk_keras.distribution.DataParallel(backend=backend))]
      diffs = jax.tree_util.tree_map(
          lambda a, b: float(np.max(np.abs(np.asarray(a) - np.asarray(b)))),
          runs[0], runs[1])
      results[backend] = max(jax.tree_util.tree_leaves(diffs))
      results[backend + "_names"] = sorted(runs[1])
    print(json.dumps(results))
""")


def test_wrapped_modules_under_data_parallel_match_one_device():
  env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
  env["JAX_PLATFORMS"] = "cpu"
  proc = subprocess.run([sys.executable, "-c", _CASE.format(root=ROOT)],
                        capture_output=True, text=True, env=env, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  results = json.loads(proc.stdout.strip().splitlines()[-1])
  for backend in ("pmap", "sharding"):
    assert results[backend + "_names"] == ["eqx", "linen", "nnx"]
    assert results[backend] < 1e-5, results
