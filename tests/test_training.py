"""Training engine: compile/fit/evaluate/predict with real numbers."""
import chex
import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

from layer_test_utils import keras


def _linear_data(n=256, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 3)).astype(np.float32)
  y = x @ np.array([[1.5], [-2.0], [0.5]], np.float32) + 0.3
  return x, y


def _mlp(dropout=0.0, seed=0):
  hk_keras.utils.set_random_seed(seed)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(8, "relu"),
                               layers.Dropout(dropout), layers.Dense(1)])
  return model


def test_linear_regression_recovers_kernel_and_bias():
  x, y = _linear_data()
  model = hk_keras.Sequential([layers.Dense(1)])
  model.compile(optimizer=hk_keras.optimizers.SGD(learning_rate=0.1),
                loss="mse")
  history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
  kernel, bias = model.get_weights()
  np.testing.assert_allclose(kernel.ravel(), [1.5, -2.0, 0.5], atol=1e-3)
  np.testing.assert_allclose(bias, [0.3], atol=1e-3)
  assert history.history["loss"][-1] < 1e-5 < history.history["loss"][0]
  # The layer object sees the trained weights too.
  np.testing.assert_array_equal(np.asarray(model.layers[0].kernel), kernel)


def test_steps_per_execution_gives_the_same_params():
  x, y = _linear_data(n=192)  # 12 batches: 3 executions of 4
  results = []
  for k in (1, 4):
    model = _mlp()
    model.compile(optimizer="adam", loss="mse", steps_per_execution=k)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    results.append(model.get_weights())
  chex.assert_trees_all_close(results[0], results[1], atol=1e-6)


def test_same_seed_fits_are_bit_identical():
  x, y = _linear_data(n=96)
  weights = []
  for _ in range(2):
    model = _mlp(dropout=0.5, seed=7)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    weights.append(model.get_weights())
  for a, b in zip(*weights):
    np.testing.assert_array_equal(a, b)
  model = _mlp(dropout=0.5, seed=8)
  model.compile(optimizer="adam", loss="mse")
  model.fit(x, y, batch_size=16, epochs=2, verbose=0)
  assert not np.array_equal(model.get_weights()[0], weights[0][0])


def test_predict_returns_every_row_with_a_remainder_batch():
  model = _mlp()
  x = np.random.default_rng(1).normal(size=(37, 3)).astype(np.float32)
  out = model.predict(x, batch_size=16, verbose=0)
  assert out.shape == (37, 1)
  direct, _ = model.apply(model.params, model.state, None, x)
  np.testing.assert_allclose(out, direct, atol=1e-6)


def test_evaluate_with_a_remainder_batch_equals_the_full_loss():
  model = _mlp()
  model.compile(optimizer="sgd", loss="mse")
  x, y = _linear_data(n=37)
  loss = model.evaluate(x, y, batch_size=16, verbose=0)
  pred, _ = model.apply(model.params, model.state, None, x)
  np.testing.assert_allclose(loss, np.mean((np.asarray(pred) - y) ** 2),
                             rtol=1e-5)


def _count_traces(model, counter):
  original = type(model).train_step

  def counting(self, state, data):
    counter["train"] += 1
    return original(self, state, data)
  return counting


def test_no_recompile_across_epochs_or_on_the_last_partial_batch():
  counter = {"train": 0, "test": 0}

  class Counting(hk_keras.Sequential):
    def train_step(self, state, data):
      counter["train"] += 1
      return super().train_step(state, data)

    def test_step(self, state, data, mask=None):
      counter["test"] += 1
      return super().test_step(state, data, mask)

  model = Counting([hk_keras.Input((3,)), layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse")
  x, y = _linear_data(n=50)  # 3 full batches of 16 and one of 2
  model.fit(x, y, batch_size=16, epochs=4, verbose=0,
            validation_data=(x[:21], y[:21]))
  assert counter["train"] == 2  # the full-batch step and the partial one
  assert counter["test"] == 1  # padded and masked: one shape
  model.evaluate(x[:21], y[:21], batch_size=16, verbose=0)
  model.fit(x, y, batch_size=16, epochs=1, verbose=0)
  assert counter["train"] == 2 and counter["test"] == 1


def test_fit_from_a_generator_matches_arrays():
  x, y = _linear_data(n=64)

  def batches():
    for i in range(0, 64, 16):
      yield x[i:i + 16], y[i:i + 16]

  a = _mlp(seed=3)
  a.compile(optimizer="sgd", loss="mse")
  a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
  b = _mlp(seed=3)
  b.compile(optimizer="sgd", loss="mse")
  b.fit(batches(), epochs=1, verbose=0)
  chex.assert_trees_all_close(a.get_weights(), b.get_weights(), atol=1e-6)


def test_validation_split_and_history():
  x, y = _linear_data(n=100)
  model = _mlp()
  model.compile(optimizer="adam", loss="mse")
  history = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0)
  assert sorted(history.history) == ["loss", "val_loss"]
  assert len(history.history["val_loss"]) == 3
  expected = model.evaluate(x[80:], y[80:], verbose=0)
  np.testing.assert_allclose(history.history["val_loss"][-1], expected,
                             rtol=1e-5)


def test_frozen_layers_get_no_updates():
  x, y = _linear_data(n=64)
  model = _mlp()
  model.layers[0].trainable = False
  before = model.get_weights()
  model.compile(optimizer="adam", loss="mse")
  model.fit(x, y, epochs=2, verbose=0)
  after = model.get_weights()
  np.testing.assert_array_equal(before[0], after[0])
  np.testing.assert_array_equal(before[1], after[1])
  assert not np.array_equal(before[2], after[2])


def test_gradient_accumulation_equals_one_step_on_the_joint_batch():
  x, y = _linear_data(n=32)
  a = _mlp(seed=5)
  a.compile(optimizer="sgd", loss="mse", gradient_accumulation_steps=2)
  a.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
  b = _mlp(seed=5)
  b.compile(optimizer="sgd", loss="mse")
  b.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
  chex.assert_trees_all_close(a.get_weights(), b.get_weights(), atol=1e-6)


def _sgd_reference(x, y, kernel, bias, lr, batches):
  """Plain NumPy SGD on mse for a Dense(1) model, batch by batch."""
  for rows in batches:
    xb, yb = x[rows], y[rows]
    err = xb @ kernel + bias - yb
    kernel = kernel - lr * 2.0 * xb.T @ err / err.size
    bias = bias - lr * 2.0 * err.sum(0) / err.size
  return kernel, bias


@pytest.mark.parametrize("chunk_batches", [512, 2])
def test_shuffled_epochs_follow_the_epoch_permutation(monkeypatch,
                                                       chunk_batches):
  # The epoch's rows reach the device in chunks of batches (one chunk, or
  # two of two batches). Both must train on exactly the batches of the
  # epoch's permutation, the 2-row remainder last (padded and masked).
  from hk_keras._engine import _batching  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(_batching, "MAX_CHUNK_BATCHES", chunk_batches)
  x, y = _linear_data(n=50)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(1)])
  kernel, bias = (np.asarray(w, np.float64) for w in model.get_weights())
  model.compile(optimizer=hk_keras.optimizers.SGD(0.1), loss="mse")
  model.fit(x, y, batch_size=16, epochs=3, verbose=0)
  for epoch in range(3):
    perm = np.random.default_rng([model._shuffle_seed, epoch]).permutation(50)
    kernel, bias = _sgd_reference(
        x, y, kernel, bias, 0.1,
        [perm[i:i + 16] for i in range(0, 50, 16)])
  got_kernel, got_bias = model.get_weights()
  np.testing.assert_allclose(got_kernel, kernel, atol=1e-5)
  np.testing.assert_allclose(got_bias, bias, atol=1e-5)


def test_each_step_draws_a_fresh_key_and_only_when_needed():
  x, y = _linear_data(n=16)
  losses = {}
  for rate in (0.0, 0.5):
    model = _mlp(dropout=rate, seed=2)
    model.compile(optimizer=hk_keras.optimizers.SGD(0.0), loss="mse")
    losses[rate] = [model.train_on_batch(x, y) for _ in range(2)]
    # A small step keeps the seed key and uses fold_in(seed key, t),
    # computed only if the model draws randomness.
    fn = model._live.cache.train_fn(16, 1)
    data = jax.device_put((x, y, None))
    hlo = fn.lower(model._ts, data, 0).compile().as_text()
    assert ("threefry" in hlo) == (rate > 0), rate
    seed_key = np.asarray(model._ts.rng)
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(model._ts.rng, seed_key)
  # Same weights (learning rate 0), same batch: only the dropout masks
  # differ between the two steps.
  assert losses[0.0][0] == losses[0.0][1]
  assert losses[0.5][0] != losses[0.5][1]


def test_large_steps_carry_a_split_key():
  hk_keras.utils.set_random_seed(4)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(256),
                               layers.Dense(256), layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse")
  x, y = _linear_data(n=16)
  model.train_on_batch(x, y)
  before = np.asarray(model._ts.rng)
  model.train_on_batch(x, y)
  np.testing.assert_array_equal(
      model._ts.rng, jax.random.split(jax.numpy.asarray(before))[0])


def test_an_error_inside_the_epoch_leaves_a_usable_model():
  # The dispatch loop donates the train state every step; an error raised
  # mid-epoch must leave the model holding the live state, not freed buffers.
  x, y = _linear_data(n=64)
  y[40, 0] = np.nan  # the third batch of 16 (no shuffling)
  model = _mlp()
  model.compile(optimizer="sgd", loss="mse", debug=True)
  with pytest.raises(Exception, match="non-finite value"):
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
  # debug=True keeps the weights from before the failing step: those of
  # two clean SGD steps, as a fresh model trained on the first 32 rows has.
  clean = _mlp()
  clean.compile(optimizer="sgd", loss="mse")
  clean.fit(x[:32], y[:32], batch_size=16, epochs=1, shuffle=False, verbose=0)
  chex.assert_trees_all_close(model.get_weights(), clean.get_weights(),
                              atol=1e-6)
  np.testing.assert_allclose(model.evaluate(x[:32], y[:32], verbose=0),
                             clean.evaluate(x[:32], y[:32], verbose=0),
                             rtol=1e-6)


def test_debug_mode_names_the_non_finite_leaf():
  x, y = _linear_data(n=16)
  y[0, 0] = np.nan
  model = _mlp()
  model.compile(optimizer="sgd", loss="mse", debug=True)
  with pytest.raises(Exception, match="non-finite value.*loss"):
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)


def test_custom_train_step_keeps_fit_features():
  class HalfStep(hk_keras.Model):
    def __init__(self):
      super().__init__()
      self.dense = layers.Dense(1)

    def call(self, inputs, training=False):
      return self.dense(inputs)

    def train_step(self, state, data):
      x, y, sample_weight = data
      def loss_fn(params):
        y_pred, new_state = self.apply(params, state.state, state.rng, x,
                                       training=True)
        return self.compute_loss(x, y, y_pred, sample_weight), (y_pred, new_state)
      (loss, (y_pred, new_state)), grads = jax.value_and_grad(
          loss_fn, has_aux=True)(state.params)
      grads = jax.tree_util.tree_map(lambda g: 0.5 * g, grads)
      state = self.apply_gradients(state, grads)
      state = self.update_metrics(state, loss, y, y_pred, sample_weight)
      return state._replace(state=new_state), self.metrics_logs(state)

  x, y = _linear_data(n=64)
  model = HalfStep()
  model.compile(optimizer="sgd", loss="mse")
  seen = []
  cb = hk_keras.callbacks.Callback()
  cb.on_epoch_end = lambda epoch, logs=None: seen.append(logs["loss"])
  history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[cb])
  assert seen == history.history["loss"] and seen[-1] < seen[0]


def test_train_on_batch_and_test_on_batch():
  x, y = _linear_data(n=16)
  model = _mlp()
  model.compile(optimizer="sgd", loss="mse")
  before = model.test_on_batch(x, y)
  model.train_on_batch(x, y)
  assert model.test_on_batch(x, y) < before
  out = model.predict_on_batch(x)
  assert out.shape == (16, 1)


def test_errors_say_what_to_change():
  x, y = _linear_data(n=16)
  model = _mlp()
  with pytest.raises(RuntimeError, match="compile"):
    model.fit(x, y)
  with pytest.raises(ValueError, match="optimizer|Unknown|valid"):
    model.compile(optimizer="adamm", loss="mse")
  with pytest.raises(ValueError, match="loss|Unknown|valid"):
    model.compile(optimizer="sgd", loss="mean_sqared_error")
  model.compile(optimizer="sgd", loss="mse")
  with pytest.raises(ValueError, match="same number of samples"):
    model.fit(x, y[:10], verbose=0)
  with pytest.raises(ValueError, match="expected shape \\(None, 3\\)"):
    model.fit(np.ones((16, 4), np.float32), y, verbose=0)


@pytest.mark.skipif(keras is None, reason="keras 3 not installed")
def test_one_sgd_step_matches_keras():
  x, y = _linear_data(n=16)
  ours = _mlp()
  ours.compile(optimizer=hk_keras.optimizers.SGD(learning_rate=0.1),
               loss="mse")
  theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, "relu"),
                             keras.layers.Dense(1)])
  theirs.set_weights(ours.get_weights())
  theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
  sw = np.linspace(0.5, 2.0, 16).astype(np.float32)
  loss_ours = ours.train_on_batch(x, y, sample_weight=sw)
  loss_theirs = theirs.train_on_batch(x, y, sample_weight=sw)
  np.testing.assert_allclose(loss_ours, loss_theirs, atol=1e-6, rtol=1e-6)
  for a, b in zip(ours.get_weights(), theirs.get_weights()):
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.skipif(keras is None, reason="keras 3 not installed")
def test_class_weight_matches_keras():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(16, 3)).astype(np.float32)
  y = rng.integers(0, 3, size=(16,)).astype(np.int32)
  class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
  hk_keras.utils.set_random_seed(0)
  ours = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(3)])
  ours.compile(optimizer=hk_keras.optimizers.SGD(learning_rate=0.1),
               loss="sparse_categorical_crossentropy")
  theirs = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3)])
  theirs.set_weights(ours.get_weights())
  theirs.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                 loss="sparse_categorical_crossentropy")
  unweighted = ours.test_on_batch(x, y)
  loss_ours = ours.train_on_batch(x, y, class_weight=class_weight)
  loss_theirs = theirs.train_on_batch(x, y, class_weight=class_weight)
  assert abs(loss_ours - unweighted) > 1e-3  # the weights change the loss
  np.testing.assert_allclose(loss_ours, loss_theirs, atol=1e-6, rtol=1e-6)
  for a, b in zip(ours.get_weights(), theirs.get_weights()):
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_steps_per_execution_with_convolutions_never_scans_on_cpu():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(64, 6, 6, 1)).astype(np.float32)
  y = rng.integers(0, 3, size=(64,)).astype(np.int32)
  weights = []
  for k in (1, 4):
    hk_keras.utils.set_random_seed(0)
    model = hk_keras.Sequential([hk_keras.Input((6, 6, 1)),
                                 layers.Conv2D(2, 3), layers.Flatten(),
                                 layers.Dense(3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  steps_per_execution=k)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    weights.append(model.get_weights())
  if jax.default_backend() == "cpu":
    assert model._live.cache._fns[("scan_pays_off", 16)] is False
  chex.assert_trees_all_close(weights[0], weights[1], atol=1e-6)


class _WatchesBatches(hk_keras.callbacks.Callback):
  """A batch hook: every step is dispatched on its own."""

  def on_train_batch_end(self, batch, logs=None):
    pass


def test_unwatched_dispatch_bound_steps_fuse_after_the_first_epochs():
  # docs/performance.md "The dispatch loop": once a model has run
  # FUSE_AFTER_STEPS steps that no callback watched, later epochs scan
  # FUSED_STEPS steps per dispatch; the weights are those of one dispatch
  # per step.
  from hk_keras._engine import _loops  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(0)
  n = _loops.FUSE_AFTER_STEPS + 40  # one unfused epoch, then fused ones
  x = rng.normal(size=(n, 3)).astype(np.float32)
  y = rng.normal(size=(n, 1)).astype(np.float32)
  weights, fused = [], []
  for callbacks in ([], [_WatchesBatches()]):
    hk_keras.utils.set_random_seed(0)
    model = hk_keras.Sequential([hk_keras.Input((3,)),
                                 layers.Dense(4, activation="relu"),
                                 layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, batch_size=1, epochs=3, verbose=0,
                        callbacks=callbacks, shuffle=True)
    keys = model._live.cache._fns  # pylint: disable=protected-access
    fused.append(("train", 1, _loops.FUSED_STEPS, True, False) in keys)
    weights.append((model.get_weights(), history.history["loss"]))
  assert fused == [True, False]
  for ours, unfused in zip(weights[0][0], weights[1][0]):
    np.testing.assert_array_equal(ours, unfused)
  np.testing.assert_array_equal(weights[0][1], weights[1][1])
