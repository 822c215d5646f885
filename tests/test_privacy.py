"""DP-SGD (`compile(privacy=...)`), per-example gradients and accounting.

Keras 3 has no differentially private training, so there is no Keras
parity to check; the references are a Python loop of `jax.grad`, the
DP-SGD update written out by hand, and `dp_accounting` called directly.
"""
import os
import tempfile

import dp_accounting
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from dp_accounting import pld
from dp_accounting import rdp

import hk_keras
from hk_keras import layers
from hk_keras.privacy import DPSGD
from hk_keras.privacy import _clipping

_SCCE = hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def _data(n=64, d=4, classes=3, seed=0):
  rs = np.random.RandomState(seed)
  return (rs.randn(n, d).astype(np.float32),
          rs.randint(0, classes, n).astype(np.int32))


def _dense_model(privacy, units=3, d=4, optimizer="sgd", **compile_kw):
  model = hk_keras.Sequential([hk_keras.Input((d,)), layers.Dense(units)])
  model.compile(optimizer=optimizer, loss=_SCCE, privacy=privacy,
                **compile_kw)
  return model


def _rdp_epsilon(q, sigma, steps, delta):
  accountant = rdp.RdpAccountant()
  accountant.compose(dp_accounting.PoissonSampledDpEvent(
      q, dp_accounting.GaussianDpEvent(sigma)), steps)
  return accountant.get_epsilon(delta)


def _flat(tree):
  return jnp.concatenate([jnp.ravel(l) for l in jax.tree_util.tree_leaves(
      tree)])


# -- per-example gradients ---------------------------------------------------------

def _mlp():
  return hk_keras.Sequential([hk_keras.Input((5,)),
                              layers.Dense(4, activation="tanh"),
                              layers.Dense(3)])


def _convnet():
  return hk_keras.Sequential([hk_keras.Input((4, 4, 1)),
                              layers.Conv2D(2, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(3)])


def _lstm():
  return hk_keras.Sequential([hk_keras.Input((4, 2)), layers.LSTM(3),
                              layers.Dense(3)])


@pytest.mark.parametrize("make,shape", [(_mlp, (5,)), (_convnet, (4, 4, 1)),
                                        (_lstm, (4, 2))],
                         ids=["mlp", "convnet", "lstm"])
def test_per_example_gradients_equal_a_loop_of_grad(make, shape):
  model = make()
  model.compile(optimizer="sgd", loss=_SCCE)
  rs = np.random.RandomState(1)
  x = (0.3 * rs.randn(3, *shape)).astype(np.float32)
  y = np.array([0, 2, 1], np.int32)
  got = hk_keras.privacy.per_example_gradients(model, x, y)
  loss = _SCCE

  @jax.jit
  def one(params, xi, yi):
    def f(p):
      y_pred, _ = model.apply(p, model.state, jax.random.PRNGKey(0), xi[None],
                              training=True)
      return loss(yi[None], y_pred)
    return jax.grad(f)(params)
  for i in range(3):
    want = one(model.params, x[i], y[i])
    chex_tree = jax.tree_util.tree_map(lambda g, i=i: g[i], got)
    for a, b in zip(jax.tree_util.tree_leaves(chex_tree),
                    jax.tree_util.tree_leaves(want)):
      np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_per_example_dropout_keys_are_independent():
  model = hk_keras.Sequential([
      hk_keras.Input((16,)), layers.Dropout(0.5),
      layers.Dense(1, use_bias=False, kernel_initializer="ones")])
  model.compile(optimizer="sgd", loss="mse")
  x = np.ones((6, 16), np.float32)
  grads = hk_keras.privacy.per_example_gradients(
      model, x, np.zeros((6, 1), np.float32))
  (kernel,) = [v["kernel"] for v in grads.values()]
  kept = np.asarray(kernel[..., 0]) != 0  # (6, 16)
  # Each example's dropout mask is its own: no two examples share one, and
  # every example keeps about half of its units.
  assert len({tuple(row) for row in kept}) == 6
  assert 0.2 < kept.mean() < 0.8


# -- one DP-SGD step ------------------------------------------------------------------

def test_one_step_without_noise_is_the_mean_of_clipped_gradients():
  x, y = _data(n=8)
  clip = 0.1
  model = _dense_model(DPSGD(clip, 0.0),
                       optimizer=hk_keras.optimizers.SGD(learning_rate=1.0))
  model.build((None, 4))
  before = jax.tree_util.tree_map(np.asarray, model.params)
  weights = model.get_weights()
  grads = hk_keras.privacy.per_example_gradients(model, x, y)
  norms = _clipping.global_norms(grads)
  assert float(jnp.min(norms)) > clip  # clipping is active for every row
  factors = _clipping.clip_factors(norms, clip)
  clipped = jax.tree_util.tree_map(
      lambda g: g * factors.reshape((-1,) + (1,) * (g.ndim - 1)), grads)
  np.testing.assert_array_less(np.asarray(_clipping.global_norms(clipped)),
                               clip + 1e-6)
  model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
  want = jax.tree_util.tree_map(lambda p, g: p - np.mean(g, axis=0), before,
                                clipped)
  for a, b in zip(jax.tree_util.tree_leaves(model.params),
                  jax.tree_util.tree_leaves(want)):
    np.testing.assert_allclose(a, b, atol=1e-6)
  assert model.privacy_spent()[0] == np.inf  # no noise: no privacy
  # num_microbatches=4: the gradient of each pair's mean loss is clipped.
  micro = _dense_model(DPSGD(clip, 0.0, num_microbatches=4),
                       optimizer=hk_keras.optimizers.SGD(learning_rate=1.0))
  micro.build((None, 4))
  micro.set_weights(weights)
  pairs = jax.tree_util.tree_map(
      lambda g: g.reshape((4, 2) + g.shape[1:]).mean(axis=1), grads)
  factors = _clipping.clip_factors(_clipping.global_norms(pairs), clip)
  want = jax.tree_util.tree_map(
      lambda p, g: p - np.mean(
          g * factors.reshape((-1,) + (1,) * (g.ndim - 1)), axis=0),
      before, pairs)
  micro.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
  for a, b in zip(jax.tree_util.tree_leaves(micro.params),
                  jax.tree_util.tree_leaves(want)):  # same order: one Dense
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_noise_std_is_sigma_clip_over_batch_size():
  x, y = _data(n=8)
  sigma, clip, batch = 1.5, 0.5, 8
  model = _dense_model(DPSGD(clip, sigma),
                       optimizer=hk_keras.optimizers.SGD(learning_rate=1.0))
  model._live.ensure(x, y)  # the train state, without a first fit
  ts = model._ts
  data = (jnp.asarray(x), jnp.asarray(y), None)

  @jax.jit
  def updates(keys):
    def one(key):
      new, _ = model.train_step(ts._replace(rng=key), data)
      return _flat(new.params) - _flat(ts.params)
    return jax.vmap(one)(keys)
  deltas = updates(jax.random.split(jax.random.PRNGKey(7), 400))
  noise = deltas - jnp.mean(deltas, axis=0)  # the clipped mean is shared
  std = float(jnp.sqrt(jnp.sum(noise ** 2) / (noise.size - noise.shape[1])))
  assert abs(std / (sigma * clip / batch) - 1) < 0.05


# -- accounting -----------------------------------------------------------------------

def test_epsilon_matches_dp_accounting_and_is_logged():
  x, y = _data(n=64)
  model = _dense_model(DPSGD(1.0, 1.3, target_delta=1e-3))
  history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
  want = [_rdp_epsilon(0.25, 1.3, steps, 1e-3) for steps in (4, 8)]
  np.testing.assert_allclose(history.history["epsilon"], want, rtol=1e-12)
  eps, delta = model.privacy_spent()
  assert (eps, delta) == (pytest.approx(want[-1], rel=1e-12), 1e-3)
  assert model.privacy_spent(1e-4)[0] == pytest.approx(
      _rdp_epsilon(0.25, 1.3, 8, 1e-4), rel=1e-12)


def test_target_epsilon_calibration_lands_within_one_percent_below():
  x, y = _data(n=100)
  model = _dense_model(DPSGD(1.0, target_epsilon=2.0, target_delta=1e-3))
  model.fit(x, y, batch_size=10, epochs=3, verbose=0)
  eps, _ = model.privacy_spent()
  sigma = model._live.options.privacy.resolved_noise
  assert 0.99 * 2.0 <= eps <= 2.0
  assert eps == pytest.approx(_rdp_epsilon(0.1, sigma, 30, 1e-3), rel=1e-12)


class _StopAfter(hk_keras.callbacks.Callback):
  def __init__(self, epoch):
    super().__init__()
    self.epoch = epoch

  def on_epoch_end(self, epoch, logs=None):
    if epoch == self.epoch:
      self.model.stop_training = True


def test_resume_after_save_and_load_continues_the_count():
  x, y = _data(n=48)
  privacy = DPSGD(1.0, 1.1, target_delta=1e-3)
  whole = _dense_model(privacy)
  whole.fit(x, y, batch_size=12, epochs=4, verbose=0)
  first = _dense_model(privacy)
  first.fit(x, y, batch_size=12, epochs=4, verbose=0,
            callbacks=[_StopAfter(1)])
  path = os.path.join(tempfile.mkdtemp(), "dp.keras")
  first.save(path)
  resumed = hk_keras.models.load_model(path)
  history = resumed.fit(x, y, batch_size=12, epochs=4, initial_epoch=2,
                        verbose=0)
  assert int(resumed._ts.step) == int(whole._ts.step) == 16
  assert resumed.privacy_spent() == whole.privacy_spent()
  assert history.history["epsilon"][-1] == whole.privacy_spent()[0]
  assert resumed.privacy_spent()[0] == _rdp_epsilon(0.25, 1.1, 16, 1e-3)


def test_privacy_budget_stops_before_the_budget_is_exceeded():
  x, y = _data(n=64)
  model = _dense_model(DPSGD(1.0, 0.8, target_delta=1e-3))
  budget = hk_keras.callbacks.PrivacyBudget(3.0)
  model.fit(x, y, batch_size=16, epochs=50, verbose=0, callbacks=[budget])
  eps, _ = model.privacy_spent()
  steps = int(model._ts.step)
  assert 0 < steps < 200 and eps <= 3.0
  assert _rdp_epsilon(0.25, 0.8, steps + 1, 1e-3) > 3.0  # stopped in time
  with pytest.raises(ValueError, match="would exceed the budget"):
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[
        hk_keras.callbacks.PrivacyBudget(3.0)])


# -- Poisson sampling, steps_per_execution, frozen layers, PLD ----------------------

def test_poisson_sampling_with_spe_frozen_layers_and_pld():
  x, y = _data(n=40)
  model = hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(5),
                               layers.Dense(3)])
  model.layers[0].trainable = False
  model.compile(optimizer="sgd", loss=_SCCE, steps_per_execution=2,
                metrics=["accuracy"],
                privacy=DPSGD(1.0, 1.2, sampling="poisson", accountant="pld",
                              target_delta=1e-3))
  model.build((None, 4))
  frozen = np.asarray(model.layers[0].kernel)
  trained = np.asarray(model.layers[1].kernel)
  history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  steps = int(model._ts.step)
  assert steps == 5  # ceil(40 / 8) Poisson-sampled steps per epoch
  np.testing.assert_array_equal(model.layers[0].kernel, frozen)
  assert not np.allclose(model.layers[1].kernel, trained)
  accountant = pld.PLDAccountant()
  accountant.compose(dp_accounting.PoissonSampledDpEvent(
      0.2, dp_accounting.GaussianDpEvent(1.2)), 5)
  assert history.history["epsilon"][-1] == pytest.approx(
      accountant.get_epsilon(1e-3), rel=1e-9)
  # One compiled form per execution size, shared by every batch offset.
  keys = sorted(k for k in model._live.cache._fns if k[0] == "train_poisson")
  assert [k[:2] for k in keys] == [("train_poisson", 1), ("train_poisson", 2)]
  assert len({k[2] for k in keys}) == 1  # one fit call's sampling run
  assert 0.0 <= history.history["accuracy"][-1] <= 1.0


def test_poisson_batches_follow_the_sampling_rate():
  from hk_keras.privacy import _poisson
  keys = jax.random.split(jax.random.PRNGKey(3), 400)
  index, count = jax.vmap(lambda k: _poisson.sample(k, 200, 0.05, 40))(keys)
  counts = np.asarray(count)
  assert abs(counts.mean() - 10) < 0.5 and abs(counts.var() - 9.5) < 2.0
  rows = np.asarray(index)[0][:counts[0]]
  assert len(set(rows.tolist())) == counts[0]  # distinct rows, no repeats
  assert _poisson.max_batch_size(200, 0.05) >= 30


# -- refusals -------------------------------------------------------------------------

def test_refusals_name_the_problem():
  x, y = _data(n=32)
  with pytest.raises(ValueError, match="not both"):
    DPSGD(1.0, 1.1, target_epsilon=1.0, target_delta=1e-5)
  model = _dense_model(DPSGD(1.0, 1.1))
  with pytest.raises(ValueError, match="sample_weight"):
    model.fit(x, y, sample_weight=np.ones(32), verbose=0)
  with pytest.raises(ValueError, match="class_weight"):
    model.fit(x, y, class_weight={0: 1.0, 1: 2.0, 2: 1.0}, verbose=0)
  with pytest.raises(ValueError, match="train_on_batch"):
    model.train_on_batch(x, y)
  big_delta = _dense_model(DPSGD(1.0, 1.1, target_delta=0.1))
  with pytest.raises(ValueError, match="larger than 1/N"):
    big_delta.fit(x, y, verbose=0)
  bn = hk_keras.Sequential([hk_keras.Input((4,)),
                            layers.BatchNormalization(), layers.Dense(3)])
  bn.compile(optimizer="sgd", loss=_SCCE, privacy=DPSGD(1.0, 1.1))
  with pytest.raises(ValueError, match="BatchNormalization"):
    bn.fit(x, y, verbose=0)
  with pytest.raises(TypeError, match="DPSGD"):
    _dense_model({"l2_norm_clip": 1.0})
