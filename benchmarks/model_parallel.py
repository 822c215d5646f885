"""Sharded `fit` on 8 forced CPU devices against a hand-written GSPMD loop.

    python benchmarks/model_parallel.py [--rounds 5] [--steps 20]
        [--mesh 2,4] [--layout auto]

Both arms train the same MLP (784-512-512-10, `optax.adam`, batch 256) with the same
layout: the hand-written arm takes hk_keras's resolved layout
(`ModelParallel.tensor_axes`), places params and adam slots with
`NamedSharding`, splits each batch over the batch axis, and runs a
`jax.jit` step with `in_shardings`/`out_shardings` and donation that takes
its batch from the device-resident data (as `fit` does). As in hk_keras's
strategy on CPU devices, each step is waited for before the next is
dispatched (XLA:CPU can deadlock with several multi-device programs in
flight, see hk_keras/_engine/_strategy.py). Arms alternate, A B A B ...;
the median of per-round ratios is reported (steps/s of hk_keras / hand).
"""
import argparse
import os
import statistics
import sys
import time

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402

D = hk_keras.distribution
BATCH = 256


def model():
  hk_keras.utils.set_random_seed(0)
  return hk_keras.Sequential([
      hk_keras.Input((784,)), layers.Dense(512, activation="relu", name="l1"),
      layers.Dense(512, activation="relu", name="l2"), layers.Dense(10, name="l3")])


class Sharded:
  """hk_keras fit under ModelParallel."""

  def __init__(self, dist, x, y):
    self.model = model()
    self.model.compile(optimizer=optax.adam(1e-3),  # the hand arm's
                       loss=hk_keras.losses.SparseCategoricalCrossentropy(
                           from_logits=True), distribution=dist)
    self.x, self.y = x, y

  def run(self):
    self.model.fit(self.x, self.y, batch_size=BATCH, epochs=1, verbose=0,
                   shuffle=False)
    jax.block_until_ready(self.model._ts.params)  # pylint: disable=protected-access


class Hand:
  """jax.jit + NamedSharding, same layout, data on the devices."""

  def __init__(self, dist, x, y):
    m = model()
    m.build((None, 784))
    mesh = dist.device_mesh.backend_mesh
    axes = dist.tensor_axes(m.params)
    shard = {k: {n: NamedSharding(mesh, PartitionSpec(*a))
                 for n, a in v.items()} for k, v in axes.items()}
    rep = NamedSharding(mesh, PartitionSpec())
    split = NamedSharding(mesh, PartitionSpec(dist.batch_dim_name))
    tx = optax.adam(1e-3)
    params = jax.device_put(m.params, shard)
    opt = tx.init(params)
    opt_shard = jax.tree_util.tree_map(
        lambda _: rep, opt)
    opt_shard = (opt_shard[0]._replace(mu=shard, nu=shard), opt_shard[1])
    self.state = (params, jax.device_put(opt, opt_shard))
    self.data = jax.device_put((x, y.astype(np.int32)), rep)
    self.steps = len(x) // BATCH

    def forward(p, x):
      h = jax.nn.relu(x @ p["l1"]["kernel"] + p["l1"]["bias"])
      h = jax.nn.relu(h @ p["l2"]["kernel"] + p["l2"]["bias"])
      return h @ p["l3"]["kernel"] + p["l3"]["bias"]

    def step(state, data, i):
      params, opt = state
      bx = jax.lax.dynamic_slice_in_dim(data[0], i * BATCH, BATCH)
      by = jax.lax.dynamic_slice_in_dim(data[1], i * BATCH, BATCH)
      bx = jax.lax.with_sharding_constraint(bx, split)
      by = jax.lax.with_sharding_constraint(by, split)

      def loss(p):
        return optax.softmax_cross_entropy_with_integer_labels(
            forward(p, bx), by).mean()
      value, grads = jax.value_and_grad(loss)(params)
      updates, opt = tx.update(grads, opt, params)
      return (optax.apply_updates(params, updates), opt), value
    self.step = jax.jit(step, donate_argnums=(0,),
                        in_shardings=((shard, opt_shard), rep, None),
                        out_shardings=((shard, opt_shard), rep))

  def run(self):
    for i in range(self.steps):
      self.state, loss = jax.block_until_ready(
          self.step(self.state, self.data, i))
    del loss


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--mesh", default="2,4")
  parser.add_argument("--layout", default="auto")
  args = parser.parse_args()
  shape = tuple(int(s) for s in args.mesh.split(","))
  names = ["batch", "model"][:len(shape)]
  dist = D.ModelParallel(layout_map=args.layout,
                         device_mesh=D.DeviceMesh(shape, names))
  rng = np.random.default_rng(0)
  n = args.steps * BATCH
  x = rng.normal(size=(n, 784)).astype(np.float32)
  y = rng.integers(0, 10, size=(n,))
  arms = {"hk_keras": Sharded(dist, x, y), "hand": Hand(dist, x, y)}
  for arm in arms.values():
    arm.run()  # compile
  rates = {k: [] for k in arms}
  for _ in range(args.rounds):
    for name, arm in arms.items():
      t = time.perf_counter()
      arm.run()
      rates[name].append(args.steps / (time.perf_counter() - t))
  ratios = [a / b for a, b in zip(rates["hk_keras"], rates["hand"])]
  print(f"mesh {shape} layout {args.layout!r}, {args.steps} steps of "
        f"{BATCH}, {args.rounds} rounds")
  for name, r in rates.items():
    print(f"  {name:9s} {statistics.median(r):8.1f} steps/s")
  print(f"  ratio hk_keras / hand (median of rounds): "
        f"{statistics.median(ratios):.3f}")


if __name__ == "__main__":
  main()
