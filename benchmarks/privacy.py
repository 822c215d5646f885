"""DP-SGD arm of the benchmarks: hk_keras `fit` with `privacy=DPSGD(...)`
against the non-private `fit` step and a hand-written private loop.

    python benchmarks/privacy.py                 # mlp workload, 3 rounds
    python benchmarks/privacy.py --steps 10 --rounds 5

The hand-written loop is what a JAX user writes for DP-SGD: a jitted step
with `jax.vmap(jax.grad(loss))` over the examples (each a batch of one),
clipping to the global L2 norm, the sum, Gaussian noise from a key split
each step, division by the batch size, Adam; numpy batches, donation. The
workload is run.py's mlp (784-512-512-10, batch 128). Arms are interleaved
(A B C A B C ...) and the ratios pair the arms of one round, as in run.py.
"""
import argparse
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  pylint: disable=g-import-not-at-top

import hk_keras  # noqa: E402

CLIP, SIGMA = 1.0, 1.1


class HkKerasFit(run.HkKerasFit):
  """run.py's hk_keras mlp arm, optionally compiled with DP-SGD."""

  def __init__(self, x, y, batch_size, private):
    self.name = "hk_keras_dp" if private else "hk_keras"
    self.workload, self.x, self.y, self.batch_size = "mlp", x, y, batch_size
    hk_keras.utils.set_random_seed(0)
    self.model = run._hk_keras_model("mlp")  # pylint: disable=protected-access
    self.model.compile(
        optimizer=hk_keras.optimizers.Adam(1e-3),
        loss=hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        privacy=hk_keras.privacy.DPSGD(CLIP, SIGMA) if private else None)


class HandWrittenDP:
  """A hand-written DP-SGD loop (see the module docstring)."""
  name = "hand_dp"

  def __init__(self, x, y, batch_size):
    self.x, self.y, self.batch_size = x, y, batch_size
    net = run._haiku_fn("mlp")  # pylint: disable=protected-access
    tx = optax.adam(1e-3)
    self.params, self.state = net.init(jax.random.PRNGKey(0), x[:1], True)
    self.opt_state = tx.init(self.params)
    self.rng = jax.random.PRNGKey(1)

    def update(params, state, opt_state, rng, xb, yb):
      rng, step_rng, noise_rng = jax.random.split(rng, 3)

      def loss_fn(p, xi, yi):
        logits, _ = net.apply(p, state, step_rng, xi[None], True)
        return optax.softmax_cross_entropy_with_integer_labels(
            logits, yi[None]).mean()
      grads = jax.vmap(jax.grad(loss_fn), in_axes=(None, 0, 0))(params, xb,
                                                                 yb)
      leaves, treedef = jax.tree_util.tree_flatten(grads)
      norms = jnp.sqrt(sum(jnp.sum(g.reshape(g.shape[0], -1) ** 2, axis=1)
                           for g in leaves))
      factor = CLIP / jnp.maximum(norms, CLIP)
      keys = jax.random.split(noise_rng, len(leaves))
      noisy = [(jnp.tensordot(factor, g, axes=1) +
                SIGMA * CLIP * jax.random.normal(k, g.shape[1:])) / xb.shape[0]
               for g, k in zip(leaves, keys)]
      grads = jax.tree_util.tree_unflatten(treedef, noisy)
      updates, opt_state = tx.update(grads, opt_state, params)
      return optax.apply_updates(params, updates), state, opt_state, rng

    self.update = jax.jit(update, donate_argnums=(0, 1, 2, 3))

  def run(self):
    b, n = self.batch_size, len(self.x)
    perm = np.random.default_rng(0).permutation(n)
    for i in range(n // b):
      idx = perm[i * b:(i + 1) * b]
      self.params, self.state, self.opt_state, self.rng = self.update(
          self.params, self.state, self.opt_state, self.rng, self.x[idx],
          self.y[idx])
    jax.block_until_ready(self.params)


def measure(steps, rounds, batch_size):
  x, y = run._data("mlp", steps, batch_size)  # pylint: disable=protected-access
  arms = [HkKerasFit(x, y, batch_size, True), HandWrittenDP(x, y, batch_size),
          HkKerasFit(x, y, batch_size, False)]
  first = {}
  for arm in arms:
    start = time.perf_counter()
    arm.run()  # compile + first round
    first[arm.name] = time.perf_counter() - start
  rates = {arm.name: [] for arm in arms}
  for _ in range(rounds):
    for arm in arms:
      start = time.perf_counter()
      arm.run()
      rates[arm.name].append(steps / (time.perf_counter() - start))
  pair = lambda a, b: statistics.median(
      p / q for p, q in zip(rates[a], rates[b]))
  return ({k: statistics.median(v) for k, v in rates.items()}, first,
          pair("hk_keras_dp", "hand_dp"), pair("hk_keras_dp", "hk_keras"))


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--rounds", type=int, default=3)
  parser.add_argument("--batch-size", type=int, default=128)
  args = parser.parse_args()
  rates, first, vs_hand, vs_plain = measure(args.steps, args.rounds,
                                            args.batch_size)
  print(f"jax {jax.__version__} on {jax.devices()[0].platform}, "
        f"{os.cpu_count()} CPU cores, mlp batch {args.batch_size}, "
        f"{args.steps} steps x {args.rounds} interleaved rounds, medians")
  for name, rate in rates.items():
    print(f"{name:<12} {rate:>8.1f} steps/s  (first round {first[name]:.2f}s)")
  print(f"hk_keras DP-SGD / hand-written DP-SGD: {vs_hand:.2f}x")
  print(f"hk_keras DP-SGD / hk_keras non-private: {vs_plain:.3f}x")


if __name__ == "__main__":
  main()
