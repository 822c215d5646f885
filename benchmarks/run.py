"""hk_keras `fit`/`evaluate`/`predict` against hand-written JAX loops.

One command, every arm interleaved in the same process (A B A B ..., several
rounds) so machine noise hits all arms alike; medians are reported.

    python benchmarks/run.py                  # all workloads
    python benchmarks/run.py --workloads tiny --rounds 7
    python benchmarks/run.py --batch-size 1024 --workloads mlp,cnn   # GPU

Columns: median steps/s of each arm, the ratios hk_keras / hand-written and
hk_keras / Keras 3 (medians of per-round ratios: arms of one round are paired),
then for each arm measured alone in a fresh process: the time from building
the model to the end of the first call (compile included; imports and JAX's
start excluded) and the peak RSS in MB.

Workloads ending in `_newdata` give every call a dataset of a size not seen
before (fit or evaluate on new data); `mlp_epochs` fits 5 epochs per call on
the same data (the steady state); `mlp_memmap` trains on an `np.memmap` on
disk with a device data budget of a quarter of the data; `mlp_spe10` runs
hk_keras with steps_per_execution=10 against the plain loop (as do
`cnn_spe10` and `tiny_spe10`); every workload with steps_per_execution > 1
also runs hk_keras at steps_per_execution=1 in the same rounds, and the
"vs spe1" column is their paired ratio. When keras>=3 is installed, a
Keras 3 (JAX backend) `fit` column is added.

The hand-written loops split a PRNG key every step, as JAX training loops
usually do; `tiny_nokey` compares with a loop that draws no key at all (what
hk_keras's step compiles to for a model without randomness).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import haiku as hk  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402


# -- workloads: the same math for every arm -------------------------------------

def _data(workload, steps, batch_size, seed=0):
  rng = np.random.default_rng(seed)
  n = steps * batch_size
  if workload in ("mlp", "evaluate", "predict"):
    x = rng.normal(size=(n, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=(n,)).astype(np.int32)
  elif workload == "cnn":
    x = rng.normal(size=(n, 28, 28, 1)).astype(np.float32)
    y = rng.integers(0, 10, size=(n,)).astype(np.int32)
  else:  # tiny
    x = rng.normal(size=(n, 32)).astype(np.float32)
    y = rng.normal(size=(n, 1)).astype(np.float32)
  return x, y


def _hk_keras_model(workload):
  if workload in ("mlp", "evaluate", "predict"):
    return hk_keras.Sequential([
        hk_keras.Input((784,)), layers.Dense(512, activation="relu"),
        layers.Dense(512, activation="relu"), layers.Dense(10)])
  if workload == "cnn":
    return hk_keras.Sequential([
        hk_keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2), layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2), layers.Flatten(), layers.Dropout(0.5),
        layers.Dense(10)])
  return hk_keras.Sequential([hk_keras.Input((32,)),
                              layers.Dense(64, activation="relu"),
                              layers.Dense(1)])


def _haiku_fn(workload):
  """The hand-written Haiku model (same architecture and initialisers)."""
  glorot = hk.initializers.VarianceScaling(1.0, "fan_avg", "uniform")

  def linear(n, name):
    return hk.Linear(n, w_init=glorot, name=name)

  def forward(x, is_training):
    if workload in ("mlp", "evaluate", "predict"):
      x = jax.nn.relu(linear(512, "l1")(x))
      x = jax.nn.relu(linear(512, "l2")(x))
      return linear(10, "l3")(x)
    if workload == "cnn":
      conv = lambda c, name: hk.Conv2D(c, 3, padding="VALID", w_init=glorot,
                                       name=name)
      pool = lambda t: hk.max_pool(t, 2, 2, "VALID")
      x = pool(jax.nn.relu(conv(32, "c1")(x)))
      x = pool(jax.nn.relu(conv(64, "c2")(x)))
      x = hk.Flatten()(x)
      if is_training:
        x = hk.dropout(hk.next_rng_key(), 0.5, x)
      return linear(10, "out")(x)
    return linear(1, "l2")(jax.nn.relu(linear(64, "l1")(x)))
  return hk.transform_with_state(forward)


def _loss(workload, logits, y):
  if workload == "tiny":
    return jnp.mean((logits - y) ** 2)
  return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def _optimizer(workload):
  return optax.sgd(0.01) if workload == "tiny" else optax.adam(1e-3)


# -- arms -------------------------------------------------------------------------

class _Arm:
  """What every arm shares: the data, and which rows each call uses.

  With `new_size`, every call takes a dataset of a size not seen before
  (the first `rows` rows, one batch fewer each call), as a user who fits on
  new data does; `epochs` > 1 is the fit-once-many-epochs steady state.
  """
  new_size = False
  epochs = 1

  def _rows(self):
    calls = getattr(self, "_calls", 0)
    self._calls = calls + 1
    n = len(self.x)
    if self.new_size:
      n -= (calls % (n // self.batch_size // 2)) * self.batch_size
    return n

  def _steps(self, n):
    return self.epochs * (n // self.batch_size)


def _run_keras_style(arm):
  """One round of a Keras-API arm (hk_keras or Keras 3): the same calls.
  Returns the steps it ran."""
  n = arm._rows()
  x, y = arm.x[:n], arm.y[:n]
  if arm.workload == "evaluate":
    arm.model.evaluate(x, y, batch_size=arm.batch_size, verbose=0)
  elif arm.workload == "predict":
    arm.model.predict(x, batch_size=arm.batch_size, verbose=0)
  else:
    arm.model.fit(x, y, batch_size=arm.batch_size, epochs=arm.epochs,
                  verbose=0, shuffle=True)
  return arm._steps(n)


class HkKerasFit(_Arm):
  name = "hk_keras"

  def __init__(self, workload, x, y, batch_size, steps_per_execution=1):
    self.workload, self.x, self.y, self.batch_size = workload, x, y, batch_size
    hk_keras.utils.set_random_seed(0)
    self.model = _hk_keras_model(workload)
    loss = ("mse" if workload == "tiny" else
            hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    self.model.compile(optimizer="sgd" if workload == "tiny" else
                       hk_keras.optimizers.Adam(1e-3), loss=loss,
                       metrics=["accuracy"] if workload == "evaluate" else None,
                       steps_per_execution=steps_per_execution)

  def run(self):
    steps = _run_keras_style(self)
    if self.workload not in ("evaluate", "predict"):
      jax.block_until_ready(self.model._ts)
    return steps


class HandWritten(_Arm):
  """What a JAX user writes: numpy batches, a jitted update, donation."""
  name = "hand-written"

  def __init__(self, workload, x, y, batch_size, scan_steps=1, draw_key=True):
    self.workload, self.x, self.y, self.batch_size = workload, x, y, batch_size
    self.scan_steps = scan_steps
    self.net = _haiku_fn(workload)
    self.tx = _optimizer(workload)
    self.params, self.state = self.net.init(jax.random.PRNGKey(0), x[:1], True)
    self.opt_state = self.tx.init(self.params)
    self.rng = jax.random.PRNGKey(1)
    net, tx = self.net, self.tx

    def update(params, state, opt_state, rng, xb, yb):
      # The usual idiom splits a key every step; draw_key=False is the loop
      # of a user who knows the model draws no randomness.
      if draw_key:
        rng, step_rng = jax.random.split(rng)
      else:
        step_rng = None
      def loss_fn(p):
        logits, new_state = net.apply(p, state, step_rng, xb, True)
        return _loss(workload, logits, yb), new_state
      (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
      updates, opt_state = tx.update(grads, opt_state, params)
      return optax.apply_updates(params, updates), state, opt_state, rng, loss

    self.update = jax.jit(update, donate_argnums=(0, 1, 2, 3))

    def scanned(params, state, opt_state, rng, xs, ys):
      def body(carry, batch):
        *carry, _ = update(*carry, *batch)
        return tuple(carry), None
      carry, _ = jax.lax.scan(body, (params, state, opt_state, rng), (xs, ys))
      return carry
    self.scanned = jax.jit(scanned, donate_argnums=(0, 1, 2, 3))

    def evaluate(params, state, xb, yb):
      logits, _ = net.apply(params, state, None, xb, False)
      return (_loss(workload, logits, yb),
              jnp.mean(jnp.argmax(logits, -1) == yb))
    self.evaluate = jax.jit(evaluate)
    self.predict = jax.jit(lambda p, s, xb: net.apply(p, s, None, xb, False)[0])

  def run(self):
    n = self._rows()
    for _ in range(self.epochs):
      self._run_once(n)
    return self._steps(n)

  def _run_once(self, n):
    b = self.batch_size
    steps = n // b
    if self.workload == "evaluate":
      total = [self.evaluate(self.params, self.state, self.x[i * b:(i + 1) * b],
                             self.y[i * b:(i + 1) * b]) for i in range(steps)]
      jax.block_until_ready(total)
      return
    if self.workload == "predict":
      outs = [self.predict(self.params, self.state, self.x[i * b:(i + 1) * b])
              for i in range(steps)]
      np.concatenate(jax.device_get(outs))
      return
    perm = np.random.default_rng(0).permutation(n)
    if self.scan_steps > 1:
      perm = perm[:n // (b * self.scan_steps) * b * self.scan_steps]
      xs = jax.device_put(self.x[perm].reshape(-1, self.scan_steps, b,
                                               *self.x.shape[1:]))
      ys = jax.device_put(self.y[perm].reshape(-1, self.scan_steps, b,
                                               *self.y.shape[1:]))
      carry = (self.params, self.state, self.opt_state, self.rng)
      for k in range(xs.shape[0]):
        carry = self.scanned(*carry, xs[k], ys[k])
      self.params, self.state, self.opt_state, self.rng = carry
    else:
      for i in range(steps):
        idx = perm[i * b:(i + 1) * b]
        (self.params, self.state, self.opt_state, self.rng,
         _) = self.update(self.params, self.state, self.opt_state, self.rng,
                          self.x[idx], self.y[idx])
    jax.block_until_ready(self.params)


class KerasFit(_Arm):
  name = "keras3"

  def __init__(self, workload, x, y, batch_size, steps_per_execution=1):
    import keras  # pylint: disable=g-import-not-at-top
    self.workload, self.x, self.y, self.batch_size = workload, x, y, batch_size
    kl = keras.layers
    if workload in ("mlp", "evaluate", "predict"):
      model = keras.Sequential([keras.Input((784,)), kl.Dense(512, "relu"),
                                kl.Dense(512, "relu"), kl.Dense(10)])
    elif workload == "cnn":
      model = keras.Sequential([
          keras.Input((28, 28, 1)), kl.Conv2D(32, 3, activation="relu"),
          kl.MaxPooling2D(2), kl.Conv2D(64, 3, activation="relu"),
          kl.MaxPooling2D(2), kl.Flatten(), kl.Dropout(0.5), kl.Dense(10)])
    else:
      model = keras.Sequential([keras.Input((32,)), kl.Dense(64, "relu"),
                                kl.Dense(1)])
    loss = ("mse" if workload == "tiny" else
            keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.compile(optimizer="sgd" if workload == "tiny" else
                  keras.optimizers.Adam(1e-3), loss=loss,
                  metrics=["accuracy"] if workload == "evaluate" else None,
                  steps_per_execution=steps_per_execution)
    self.model = model

  def run(self):
    return _run_keras_style(self)


def _have_keras():
  try:
    import keras  # noqa: F401  pylint: disable=g-import-not-at-top,unused-import
    return True
  except ImportError:
    return False


# -- measurement ----------------------------------------------------------------------

WORKLOADS = {
    # name: (workload, steps per round, batch size default, hk spe,
    #        hand scan, hand-written loop splits a PRNG key per step)
    # and, in VARIANTS, how each call's data differs.
    "mlp": ("mlp", 100, 128, 1, 1, True),
    "mlp_spe10": ("mlp", 100, 128, 10, 1, True),
    "cnn_spe10": ("cnn", 30, 128, 10, 1, True),
    "tiny_spe10": ("tiny", 2000, 32, 10, 1, True),
    "mlp_newdata": ("mlp", 100, 128, 1, 1, True),
    "mlp_epochs": ("mlp", 40, 128, 1, 1, True),
    "mlp_memmap": ("mlp", 400, 128, 1, 1, True),
    "cnn": ("cnn", 30, 128, 1, 1, True),
    "tiny": ("tiny", 2000, 32, 1, 1, True),
    "tiny_nokey": ("tiny", 2000, 32, 1, 1, False),
    "tiny_spe100": ("tiny", 20000, 32, 100, 100, True),
    "tiny_newdata": ("tiny", 2000, 32, 1, 1, True),
    "evaluate": ("evaluate", 100, 128, 1, 1, True),
    "evaluate_newdata": ("evaluate", 100, 128, 1, 1, True),
    "predict": ("predict", 100, 128, 1, 1, True),
}
# name: (a new dataset size each call, epochs per call, memmap on disk)
VARIANTS = {
    "mlp_newdata": (True, 1, False),
    "tiny_newdata": (True, 1, False),
    "evaluate_newdata": (True, 1, False),
    "mlp_epochs": (False, 5, False),
    "mlp_memmap": (False, 1, True),
}
# The device data budget of the memmap arm: a quarter of its data.
MEMMAP_BUDGET = 40 << 20


def _memmap(x, y, key):
  folder = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hk_keras_bench")
  os.makedirs(folder, exist_ok=True)
  out = []
  for name, a in (("x", x), ("y", y)):
    path = os.path.join(folder, f"{key}_{name}_{a.shape[0]}.bin")
    if not os.path.exists(path):
      m = np.memmap(path, a.dtype, "w+", shape=a.shape)
      m[:] = a
      m.flush()
      del m
    out.append(np.memmap(path, a.dtype, "r", shape=a.shape))
  return out


def _make(arm, key, batch_size):
  workload, steps, default_bs, spe, scan, draw_key = WORKLOADS[key]
  if arm == "hk_keras_spe1":  # the same workload at steps_per_execution=1
    arm, spe = "hk_keras", 1
  new_size, epochs, memmap = VARIANTS.get(key, (False, 1, False))
  bs = batch_size or default_bs
  x, y = _data(workload, steps, bs)
  if memmap:
    x, y = _memmap(x, y, key)
  if hasattr(hk_keras.config, "set_device_data_budget"):  # older versions
    hk_keras.config.set_device_data_budget(MEMMAP_BUDGET if memmap else None)
  if arm == "hk_keras":
    runner = HkKerasFit(workload, x, y, bs, spe)
  elif arm == "hand-written":
    runner = HandWritten(workload, x, y, bs, scan, draw_key)
  else:
    runner = KerasFit(workload, x, y, bs, spe)
  runner.new_size, runner.epochs = new_size, epochs
  return runner, steps


def measure(key, rounds, batch_size, with_keras):
  arms = ["hk_keras", "hand-written"] + (["keras3"] if with_keras and not (
      key in ("tiny_spe100", "tiny_nokey")) else [])
  if WORKLOADS[key][3] > 1:  # steps_per_execution > 1: also against spe=1
    arms.append("hk_keras_spe1")
  built, first = {}, {}
  for arm in arms:
    start = time.perf_counter()
    runner, _ = _make(arm, key, batch_size)
    runner.run()  # compile + first round
    first[arm] = time.perf_counter() - start
    built[arm] = runner
  rates = {arm: [] for arm in arms}
  for _ in range(rounds):
    for arm in arms:  # interleaved: A B C A B C ...
      start = time.perf_counter()
      steps = built[arm].run()
      rates[arm].append(steps / (time.perf_counter() - start))
  out = {arm: (statistics.median(r), first[arm]) for arm, r in rates.items()}
  # Ratios pair the arms of the same round, so a slow stretch of the machine
  # (shared cores) cancels out instead of landing on one arm's median.
  for arm in arms[1:]:
    out[("ratio", arm)] = statistics.median(
        a / b for a, b in zip(rates["hk_keras"], rates[arm]))
  return out


def alone(arm, key, batch_size):
  """(time to the first step's end, peak RSS MB) of one arm measured alone
  in a fresh process (modules imported and JAX started first, so neither
  counts): no arm pays another's warm-up, and RSS only grows within one
  process."""
  # VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from the
  # parent's resident size at fork, so it would report the parent's.
  code = (f"import sys; sys.argv=['x']; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r});"
          "import time, jax, run; jax.devices();"
          + ("import keras;" if arm == "keras3" else "") +
          f"t = time.perf_counter(); r, _ = run._make({arm!r}, {key!r}, {batch_size!r});"
          "r.run(); first = time.perf_counter() - t; r.run();"
          "print(first, [l.split()[1] for l in open('/proc/self/status') "
          "if l.startswith('VmHWM')][0])")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=False)
  try:
    first, rss = out.stdout.strip().splitlines()[-1].split()
    return float(first), int(rss) / 1024
  except (ValueError, IndexError):
    return float("nan"), float("nan")


def import_overhead(repeats=5):
  def timed(stmt):
    times = []
    for _ in range(repeats):
      out = subprocess.run(
          [sys.executable, "-c",
           f"import time; t=time.perf_counter(); {stmt}; "
           "print(time.perf_counter()-t)"], capture_output=True, text=True,
          check=True)
      times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)
  base = timed("import haiku, optax, chex")
  ours = timed("import hk_keras")
  return ours - base, base, ours


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--workloads",
                      default="mlp,mlp_spe10,mlp_newdata,mlp_epochs,mlp_memmap,"
                      "cnn,cnn_spe10,tiny,tiny_nokey,tiny_spe10,tiny_spe100,"
                      "tiny_newdata,evaluate,"
                      "evaluate_newdata,predict")
  parser.add_argument("--rounds", type=int, default=5)
  parser.add_argument("--batch-size", type=int, default=None)
  parser.add_argument("--no-keras", action="store_true")
  parser.add_argument("--no-rss", action="store_true")
  args = parser.parse_args()
  with_keras = _have_keras() and not args.no_keras
  print(f"jax {jax.__version__} on {jax.devices()[0].platform} "
        f"({len(jax.devices())} device(s)), {os.cpu_count()} CPU cores, "
        f"{args.rounds} interleaved rounds, medians")
  header = (f"{'workload':<16} {'hk_keras/s':>10} {'hand/s':>10} {'ratio':>6} "
            f"{'keras3/s':>9} {'hk/keras':>8} {'vs spe1':>8} {'1st hk':>9} {'1st hand':>9}"
            f" {'1st keras':>9} {'RSS hk':>8} {'RSS hand':>8} {'RSS keras':>9}")
  print(header)
  for key in args.workloads.split(","):
    res = measure(key, args.rounds, args.batch_size, with_keras)
    hk_rate = res["hk_keras"][0]
    hand_rate = res["hand-written"][0]
    keras_rate = res.get("keras3", (float("nan"),))[0]
    ratio = res[("ratio", "hand-written")]
    vs_keras = res.get(("ratio", "keras3"), float("nan"))
    solo = {arm: ((float("nan"),) * 2 if args.no_rss or (
        arm == "keras3" and "keras3" not in res) else
                  alone(arm, key, args.batch_size))
            for arm in ("hk_keras", "hand-written", "keras3")}
    vs_spe1 = res.get(("ratio", "hk_keras_spe1"), float("nan"))
    print(f"{key:<16} {hk_rate:>10.0f} {hand_rate:>10.0f} "
          f"{ratio:>6.2f} {keras_rate:>9.0f} {vs_keras:>8.2f} {vs_spe1:>8.2f}"
          + "".join(f" {solo[a][0]:>8.2f}s" for a in solo)
          + "".join(f" {solo[a][1]:>8.0f}" for a in solo), flush=True)
  delta, base, ours = import_overhead()
  print(f"import: hk_keras {ours:.2f}s vs haiku+optax+chex {base:.2f}s "
        f"(+{delta:.2f}s)")


if __name__ == "__main__":
  main()
