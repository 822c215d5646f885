"""Data-parallel cases, run in a subprocess by tests/test_distribution.py.

    python tests/distribution_cases.py BACKENDS GROUPS [DEVICES]

JAX must see several devices, so XLA_FLAGS is set here before JAX starts
(4 CPU devices by default). Each case trains or evaluates the same model on
one device and under `DataParallel(backend=BACKEND)` for each of BACKENDS
(comma-separated, e.g. "pmap,sharding") and records the largest
differences; the last stdout line is a JSON dict {backend: results}, which
the tests check. GROUPS (comma-separated) are "core" (the quick cases) and
"full" (the slower ones). One process runs them all: JAX starts once, and
each one-device reference run is computed once and compared with every
backend (it does not depend on the backend).
"""
import json
import os
import sys

BACKENDS = sys.argv[1].split(",")
GROUPS_RUN = (sys.argv[2] if len(sys.argv) > 2 else "core").split(",")
BACKEND = None  # the backend of the cases now running (set in __main__)
DEVICES = int(sys.argv[3]) if len(sys.argv) > 3 else 4
os.environ["XLA_FLAGS"] = " ".join(
    [f for f in os.environ.get("XLA_FLAGS", "").split()
     if "device_count" not in f] +  # other flags (conftest's) are kept
    [f"--xla_force_host_platform_device_count={DEVICES}"])

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402

RESULTS = {}
# One-device reference runs, computed once for all backends.
_SINGLE = {}


def single(key, run):
  """`run()` the first time `key` is asked for, its cached result after."""
  if key not in _SINGLE:
    _SINGLE[key] = run()
  return _SINGLE[key]


def dist():
  return hk_keras.distribution.DataParallel(backend=BACKEND)


def max_diff(a, b):
  a, b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
  assert len(a) == len(b), (len(a), len(b))
  return max(float(np.max(np.abs(np.asarray(x, np.float64) -
                                 np.asarray(y, np.float64))))
             for x, y in zip(a, b))


def mlp(dropout=0.0):
  hk_keras.utils.set_random_seed(0)
  stack = [hk_keras.Input((6,)), layers.Dense(16, activation="relu"),
           layers.BatchNormalization()]
  if dropout:
    stack.append(layers.Dropout(dropout))
  stack.append(layers.Dense(3, activation="softmax"))
  return hk_keras.Sequential(stack)


def convnet(dropout):
  """The MNIST convnet's shape on 12x12 images."""
  hk_keras.utils.set_random_seed(0)
  stack = [hk_keras.Input((12, 12, 1)),
           layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),
           layers.MaxPooling2D(pool_size=(2, 2)),
           layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
           layers.MaxPooling2D(pool_size=(2, 2)),
           layers.Flatten()]
  if dropout:
    stack.append(layers.Dropout(0.5))
  stack.append(layers.Dense(10, activation="softmax"))
  return hk_keras.Sequential(stack)


def data(n, shape=(6,), classes=3, seed=0):
  rng = np.random.default_rng(seed)
  return (rng.normal(size=(n,) + shape).astype("float32"),
          rng.integers(0, classes, n))


class MaxProbability(hk_keras.metrics.Metric):
  """A metric whose merge is not a sum (replicas' states are gathered)."""

  def init(self):
    return jnp.zeros(())

  def update(self, state, y_true, y_pred, sample_weight=None):
    return jnp.maximum(state, jnp.max(y_pred))

  def result(self, state):
    return state

  def merge(self, a, b):
    return jnp.maximum(a, b)


def compiled(make, distribution, **kwargs):
  model = make()
  kwargs.setdefault("optimizer", "adam")
  kwargs.setdefault("metrics", ["accuracy"])
  model.compile(loss="sparse_categorical_crossentropy",
                distribution=distribution, **kwargs)
  return model


def fit_both(name, make, x, y, epochs=1, batch_size=8, **compile_kwargs):
  """Same fit on one device and data parallel; params and logs compared."""
  def run(distribution):
    model = compiled(make, distribution, **compile_kwargs)
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs,
                        verbose=0)
    return model.get_weights(), history.history
  w1, h1 = single(name, lambda: run(None))
  w2, h2 = run(dist())
  RESULTS[name] = {"params": max_diff(w1, w2), "logs": max_diff(h1, h2),
                   "steps": epochs * -(-len(x) // batch_size)}


def case_fit_mlp():
  x, y = data(40)
  fit_both("mlp_bn", mlp, x, y)  # 5 steps of 8 = 2 rows per device
  x, y = data(38)
  fit_both("mlp_bn_remainder", mlp, x, y, epochs=2)  # last batch 6 rows


def case_fit_convnet():
  x, y = data(40, (12, 12, 1), 10)
  fit_both("convnet", lambda: convnet(dropout=False), x, y)
  if BACKEND == "sharding":
    # Dropout draws one mask for the global batch, as on one device.
    fit_both("convnet_dropout", lambda: convnet(dropout=True), x, y)


def case_steps_per_execution():
  x, y = data(56)
  fit_both("steps_per_execution", mlp, x, y, steps_per_execution=3,
           optimizer="sgd")


def case_dropout_reproducible():
  x, y = data(32)
  weights = []
  for _ in range(2):
    model = compiled(lambda: mlp(dropout=0.5), dist())
    model.fit(x, y, batch_size=8, verbose=0)
    weights.append(model.get_weights())
  RESULTS["dropout_repeat"] = max_diff(weights[0], weights[1])


def case_evaluate_predict():
  x, y = data(37)
  metrics = ["accuracy", MaxProbability()]

  def run_single():
    model = compiled(mlp, None, metrics=metrics)
    model.fit(x, y, batch_size=8, verbose=0)
    return model.get_weights(), {
        batch_size: (model.evaluate(x, y, batch_size=batch_size, verbose=0),
                     model.predict(x, batch_size=batch_size, verbose=0))
        for batch_size in (10, 6, 40)}
  weights, reference = single("evaluate_predict", run_single)
  parallel = compiled(mlp, dist(), metrics=metrics)
  parallel.set_weights(weights)
  out = {}
  for batch_size in (10, 6, 40):
    e1, p1 = reference[batch_size]
    e2 = parallel.evaluate(x, y, batch_size=batch_size, verbose=0)
    p2 = parallel.predict(x, batch_size=batch_size, verbose=0)
    out[str(batch_size)] = {"evaluate": max_diff(e1, e2),
                            "predict": max_diff(p1, p2),
                            "rows": int(p2.shape[0])}
  RESULTS["evaluate_predict"] = out


def case_generators():
  x, y = data(22)

  def batches():
    for start in (0, 8, 16):  # 8, 8, then 6 rows (6 does not split over 4)
      yield x[start:start + 8], y[start:start + 8]
  def run(distribution):
    model = compiled(mlp, distribution)
    history = model.fit(batches(), epochs=2, verbose=0)
    evaluated = model.evaluate(batches(), verbose=0)
    predicted = model.predict((b[0] for b in batches()), verbose=0)
    on_batch = model.train_on_batch(x[:6], y[:6])
    tested = model.test_on_batch(x[:6], y[:6])
    return (model.get_weights(), history.history, evaluated, predicted,
            on_batch, tested)
  results = [single("generators", lambda: run(None)), run(dist())]
  RESULTS["generators"] = {
      "params": max_diff(results[0][0], results[1][0]),
      "logs": max_diff(results[0][1:3], results[1][1:3]),
      "predict": max_diff(results[0][3], results[1][3]),
      "rows": int(results[1][3].shape[0]),
      "on_batch": max_diff(results[0][4:], results[1][4:]),
  }


class _Custom(hk_keras.Sequential):
  """A custom train_step written as in docs/customizing_fit.md."""

  def train_step(self, state, data):
    x, y, sample_weight = data
    rng, step_rng = jax.random.split(state.rng)

    def loss_fn(params):
      y_pred, new = self.apply(params, state.state, step_rng, x,
                               training=True)
      return self.compute_loss(x, y, y_pred, sample_weight), (y_pred, new)

    (loss, (y_pred, new)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(state.params)
    state = self.apply_gradients(state, grads)
    state = self.update_metrics(state, loss, y, y_pred, sample_weight)
    state = state._replace(state=new, rng=rng)
    return state, self.metrics_logs(state)


def case_custom_train_step():
  x, y = data(38)

  def make():
    hk_keras.utils.set_random_seed(0)
    return _Custom([hk_keras.Input((6,)), layers.Dense(16, activation="relu"),
                    layers.Dense(3, activation="softmax")])
  fit_both("custom_train_step", make, x, y, epochs=2)


def case_traces():
  x, y = data(38)
  model = compiled(mlp, dist())
  calls = []
  original = model.train_step

  def counted(state, batch):
    calls.append(1)
    return original(state, batch)
  model.train_step = counted
  model.fit(x, y, batch_size=8, epochs=3, verbose=0)
  model.evaluate(x, y, batch_size=10, verbose=0)
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  # One trace for full batches and one for the padded last batch.
  RESULTS["train_traces"] = len(calls)


def case_errors():
  x, y = data(16)
  model = compiled(mlp, dist())
  try:
    model.fit(x, y, batch_size=6, verbose=0)
    RESULTS["uneven_batch_size_error"] = ""
  except ValueError as err:
    RESULTS["uneven_batch_size_error"] = str(err)


def case_global_setting():
  hk_keras.distribution.set_distribution(dist())
  try:
    x, y = data(16)
    model = compiled(mlp, None)
    model.fit(x, y, batch_size=8, verbose=0)
    RESULTS["global_setting"] = {
        "replicas": model._strategy.num_replicas,
        "getter": repr(hk_keras.distribution.distribution())}
  finally:
    hk_keras.distribution.set_distribution(None)


def case_mixed_precision():
  x, y = data(40)
  hk_keras.mixed_precision.set_global_policy("mixed_bfloat16")
  try:
    fit_both("mixed_bfloat16", mlp, x, y, optimizer="sgd")
  finally:
    hk_keras.mixed_precision.set_global_policy("float32")
  # float16 with two rows beyond its range: the steps whose batch holds one
  # overflow and are skipped (whatever the shuffle order); the replicas
  # must skip the same steps as one device.
  wide = x.copy()
  wide[[3, 17], 0] = 1e5
  def loss_scale(distribution):
    model = compiled(mlp, distribution)
    model.fit(wide, y, batch_size=8, epochs=2, verbose=0)
    return float(model._ts.loss_scale.loss_scale)
  hk_keras.mixed_precision.set_global_policy("mixed_float16")
  try:
    scales = [single("float16_loss_scale", lambda: loss_scale(None)),
              loss_scale(dist())]
  finally:
    hk_keras.mixed_precision.set_global_policy("float32")
  RESULTS["float16_loss_scales"] = scales


def case_privacy():
  """DP-SGD: per-example work split over the devices, one noise draw for
  the global batch (the same key as on one device), so the runs agree."""
  def plain():
    hk_keras.utils.set_random_seed(0)
    return hk_keras.Sequential([hk_keras.Input((6,)),
                                layers.Dense(16, activation="relu"),
                                layers.Dense(3, activation="softmax")])
  x, y = data(38)  # a last batch of 6 rows, padded to split over 4 devices
  for sampling in ("shuffle", "poisson"):
    fit_both(f"privacy_{sampling}", plain, x, y, optimizer="sgd",
             privacy=hk_keras.privacy.DPSGD(0.5, 1.1, sampling=sampling))


def case_stateful_lstm():
  """A stateful LSTM over consecutive batches: the states kept between
  batches (Haiku state, one row per sample) equal one device's, and a
  `.keras` save under DataParallel loads them back."""
  import tempfile  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(3)
  x = rng.normal(size=(12, 3, 2)).astype("float32")
  y = rng.normal(size=(12, 1)).astype("float32")

  def make():
    hk_keras.utils.set_random_seed(0)
    return hk_keras.Sequential([
        hk_keras.Input((3, 2), batch_size=DEVICES),
        layers.LSTM(3, stateful=True), layers.Dense(1)])

  out = []
  for distribution in (None, dist()):
    model = make()
    model.compile("sgd", "mse", distribution=distribution)
    history = model.fit(x, y, batch_size=DEVICES, epochs=1, shuffle=False,
                        verbose=0)
    out.append((model, model.get_weights(), history.history))
  (one, w1, h1), (many, w2, h2) = out
  states = [np.asarray(w) for w in many.layers[0].non_trainable_weights]
  path = os.path.join(tempfile.mkdtemp(), "stateful.keras")
  many.save(path)
  loaded = hk_keras.saving.load_model(path)
  RESULTS["stateful_lstm"] = {
      "params": max_diff(w1, w2), "logs": max_diff(h1, h2),
      "state_nonzero": float(np.max(np.abs(states[0]))),
      "state_rows": int(states[0].shape[0]),
      "loaded_states": max_diff(
          states, loaded.layers[0].non_trainable_weights),
      "loaded_predict": max_diff(one.predict(x[:DEVICES], batch_size=DEVICES,
                                             verbose=0),
                                 loaded.predict(x[:DEVICES],
                                                batch_size=DEVICES,
                                                verbose=0))}


GROUPS = {
    "core": [case_fit_mlp, case_evaluate_predict, case_traces, case_errors,
             case_global_setting, case_stateful_lstm],
    "full": [case_fit_convnet, case_steps_per_execution, case_generators,
             case_custom_train_step, case_dropout_reproducible,
             case_mixed_precision, case_privacy],
}

if __name__ == "__main__":
  assert len(jax.devices()) == DEVICES, jax.devices()
  ALL = {}
  for BACKEND in BACKENDS:
    RESULTS = ALL[BACKEND] = {}
    for group in GROUPS_RUN:
      for case in GROUPS[group]:
        case()
  print(json.dumps(ALL))
