"""keras.io guide "Multi-GPU distributed training with JAX", as a spec.

The guide's flow on 2 forced CPU devices (a subprocess, so that
XLA_FLAGS is set before JAX starts; see distributed_jax_guide_case.py):
a Functional convnet with BatchNormalization and Dropout,
`model.build(one_batch)`, `optimizer.build(model.trainable_variables)`, a
loss on `model.stateless_call`, a jitted step with
`optimizer.stateless_apply`, `Mesh`/`NamedSharding`/`PartitionSpec` from
`jax.sharding` and `mesh_utils.create_device_mesh`, `jax.device_put` of the
variable lists (replicated) and of each batch (split over the batch axis),
then `variable.assign` of the trained values. The guide states that the
replicas stay in sync and that training behaves as on one device: the test
checks replicated results equal to the same steps on one device.
(The guide reads MNIST through tf.data; here an 8x8 generated set.)
"""
import json
import os
import subprocess
import sys
from pathlib import Path

CASE = Path(__file__).with_name("distributed_jax_guide_case.py")


def test_the_guide_on_two_devices():
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)  # the script sets its own
  env["JAX_PLATFORMS"] = "cpu"
  env["PYTHONPATH"] = os.pathsep.join(
      [str(CASE.parent.parent.parent)] +
      [p for p in [env.get("PYTHONPATH")] if p])
  proc = subprocess.run([sys.executable, str(CASE)], capture_output=True,
                        text=True, env=env, timeout=600)
  assert proc.returncode == 0, proc.stderr[-4000:]
  out = json.loads(proc.stdout.strip().splitlines()[-1])
  assert out["devices"] == 2 and out["data_shards"] == 2
  assert out["replicated"] and out["assigned"]
  assert all(l == l for l in out["losses"])  # finite, not NaN
  assert out["max_diff_vs_one_device"] < 1e-4
  # Keras's non-trainable state: BatchNormalization statistics and one
  # seed state (Keras has one per Dropout layer; hk_keras one per model).
  assert out["non_trainable"].count("moving_mean") == 1
  assert out["non_trainable"][-1] == "seed_generator_state"
