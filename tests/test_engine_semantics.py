"""Keras 3 step semantics: override points, eager mode, loss shapes, losses
from layers (regularizers, constraints, add_loss), and the defects of issue
10, each against NumPy or Keras 3 on the same data."""
import os
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import hk_keras
from hk_keras import layers

os.environ.setdefault("KERAS_BACKEND", "jax")


def _data(n=40, d=3, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, d)).astype(np.float32)
  y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)[:d] + 0.3).astype(
      np.float32)
  return x, y


def _linear(seed=3, **dense_kwargs):
  hk_keras.utils.set_random_seed(seed)
  return hk_keras.Sequential([hk_keras.Input((3,)),
                              layers.Dense(1, **dense_kwargs)])


def test_compute_loss_override_adds_l2_and_fit_learns_smaller_weights():
  class Penalised(hk_keras.Sequential):
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                     training=True):
      loss = super().compute_loss(x, y, y_pred, sample_weight, training)
      return loss + 2.0 * jnp.mean(jnp.sum(y_pred ** 2, axis=-1))

  x, y = _data()
  weights = []
  for cls in (hk_keras.Sequential, Penalised):
    hk_keras.utils.set_random_seed(3)
    model = cls([hk_keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=hk_keras.optimizers.SGD(0.05), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0,
                        shuffle=False)
    weights.append(np.sum(model.get_weights()[0] ** 2))
  assert weights[1] < 0.5 * weights[0]


def test_compute_metrics_override_changes_the_logs():
  class Extra(hk_keras.Sequential):
    def compute_metrics(self, x, y, y_pred, sample_weight=None):
      logs = super().compute_metrics(x, y, y_pred, sample_weight)
      logs["max_pred"] = jnp.max(y_pred)
      return logs

  x, y = _data()
  model = Extra([hk_keras.Input((3,)), layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
  history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  assert "max_pred" in history.history
  logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
  np.testing.assert_allclose(logs["max_pred"], np.max(model.predict(
      x[32:], verbose=0)), rtol=1e-5)  # the last batch's value


def test_eager_mode_matches_compiled_training_and_prints_per_batch(capsys):
  class Printing(layers.Layer):
    def call(self, inputs):
      print("call sees", type(inputs).__name__)
      return inputs

  x, y = _data(n=16)
  weights = {}
  for name, kwargs in (("jit", {}), ("no_jit", {"jit_compile": False}),
                       ("eager", {"run_eagerly": True})):
    hk_keras.utils.set_random_seed(5)
    model = hk_keras.Sequential([hk_keras.Input((3,)), Printing(),
                                 layers.Dense(4, activation="relu"),
                                 layers.Dense(1)])
    model.compile(optimizer=hk_keras.optimizers.Adam(0.01), loss="mse",
                  **kwargs)
    capsys.readouterr()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    printed = capsys.readouterr().out.count("call sees")
    weights[name] = model.get_weights()
    assert model.run_eagerly == (name != "jit")
    if name == "jit":
      assert printed <= 2  # traced once per compiled shape
    else:
      assert printed >= 4  # 4 batches: call runs on every batch
  for name in ("no_jit", "eager"):
    for a, b in zip(weights["jit"], weights[name]):
      np.testing.assert_allclose(a, b, atol=1e-6)


def _cube(y_true, y_pred):
  return jnp.mean(jnp.abs(y_true - y_pred) ** 3)  # a scalar


def _per_sample(y_true, y_pred):
  return jnp.mean(jnp.abs(y_true - y_pred) ** 3, axis=-1)


def _per_element(y_true, y_pred):
  return jnp.abs(y_true - y_pred) ** 3


@pytest.mark.parametrize("loss", [_cube, _per_sample, _per_element])
def test_losses_of_any_shape_count_only_real_rows(loss):
  rng = np.random.default_rng(1)
  x = rng.normal(size=(37, 3)).astype(np.float32)
  y = rng.normal(size=(37, 2)).astype(np.float32)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(2)])
  model.compile(optimizer="sgd", loss=loss)
  got = model.evaluate(x, y, batch_size=16, verbose=0)
  err = np.abs(y - model.predict(x, verbose=0)) ** 3
  # Keras: the mean of the batch losses weighted by the batch sizes.
  batches = [err[i:i + 16] for i in range(0, 37, 16)]
  want = sum(b.mean() * len(b) for b in batches) / 37
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_validation_calls_the_test_hooks_in_keras_order():
  import keras  # pylint: disable=g-import-not-at-top

  def record(module):
    events = []

    class Recorder(module.callbacks.Callback):
      pass
    for hook in ("on_epoch_begin", "on_epoch_end", "on_test_begin",
                 "on_test_end", "on_test_batch_begin", "on_test_batch_end"):
      setattr(Recorder, hook,
              lambda self, *a, hook=hook, **k: events.append(hook))
    return Recorder(), events

  x, y = _data(n=16)
  runs = {}
  for module in (hk_keras, keras):
    model = module.Sequential([module.Input((3,)), module.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    cb, events = record(module)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0,
              validation_data=(x[:12], y[:12]), callbacks=[cb])
    runs[module.__name__] = events
  assert runs["hk_keras"] == runs["keras"]
  assert "on_test_batch_end" in runs["hk_keras"]


def test_class_weight_leaves_metrics_unweighted_as_keras():
  import keras  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(2)
  x = rng.normal(size=(48, 4)).astype(np.float32)
  y = (rng.random(48) < 0.25).astype(np.float32)[:, None]
  init = [rng.normal(size=(4, 1)).astype(np.float32) * 0.5,
          np.zeros((1,), np.float32)]
  logs = {}
  for module in (hk_keras, keras):
    model = module.Sequential([module.Input((4,)),
                               module.layers.Dense(1, activation="sigmoid")])
    model.set_weights(init)
    model.compile(optimizer=module.optimizers.SGD(0.1),
                  loss="binary_crossentropy",
                  metrics=[module.metrics.TruePositives(name="tp"),
                           module.metrics.BinaryAccuracy(name="acc")],
                  weighted_metrics=[module.metrics.BinaryAccuracy(
                      name="wacc")])
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0,
                        shuffle=False, class_weight={0: 0.3, 1: 2.5})
    logs[module.__name__] = {k: v[-1] for k, v in history.history.items()}
  assert logs["hk_keras"]["tp"] == int(logs["hk_keras"]["tp"])
  for key in ("loss", "tp", "acc", "wacc"):
    np.testing.assert_allclose(logs["hk_keras"][key], logs["keras"][key],
                               atol=1e-5, err_msg=key)


def test_raw_optax_checkpoint_loads_uncompiled_with_a_warning(tmp_path):
  x, y = _data(n=16)
  model = _linear()
  tx = optax.adam(1e-2)
  model.compile(optimizer=tx, loss="mse")
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  path = str(tmp_path / "raw.keras")
  with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    model.save(path)
  with pytest.warns(UserWarning, match=r"NOT compiled.*'optimizer'"):
    loaded = hk_keras.models.load_model(path)
  assert not loaded.compiled
  for a, b in zip(model.get_weights(), loaded.get_weights()):
    np.testing.assert_array_equal(a, b)
  resumed = hk_keras.models.load_model(path, custom_objects={"optimizer": tx})
  assert resumed.compiled
  resumed.fit(x, y, batch_size=8, epochs=1, verbose=0)
  assert int(resumed._ts.step) == 4  # pylint: disable=protected-access


# -- regularizers and constraints -------------------------------------------------

def test_regularizer_and_constraint_names_and_values_match_keras():
  import keras  # pylint: disable=g-import-not-at-top
  from keras.src import constraints as k_constraints  # pylint: disable=g-import-not-at-top
  from keras.src import regularizers as k_regularizers  # pylint: disable=g-import-not-at-top
  w = np.random.default_rng(3).normal(size=(5, 4)).astype(np.float32) * 2
  for ours, theirs, table in (
      (hk_keras.regularizers, keras.regularizers,
       k_regularizers.ALL_OBJECTS_DICT),
      (hk_keras.constraints, keras.constraints,
       k_constraints.ALL_OBJECTS_DICT)):
    for name in table:
      mine, ref = ours.get(name), theirs.get(name)
      np.testing.assert_allclose(np.asarray(mine(w)),
                                 np.asarray(ref(jnp.asarray(w))),
                                 rtol=1e-5, atol=1e-6, err_msg=name)
      again = ours.deserialize(ours.serialize(mine))
      np.testing.assert_allclose(np.asarray(again(w)),
                                 np.asarray(ref(jnp.asarray(w))),
                                 rtol=1e-5, atol=1e-6, err_msg=name)
  cases = [(hk_keras.regularizers.L1L2(0.01, 0.02), keras.regularizers.L1L2(
      0.01, 0.02)), (hk_keras.regularizers.OrthogonalRegularizer(
          0.1, "columns"), keras.regularizers.OrthogonalRegularizer(
              0.1, "columns")),
           (hk_keras.regularizers.OrthogonalRegularizer(0.1),
            keras.regularizers.OrthogonalRegularizer(0.1)),
           (hk_keras.constraints.MinMaxNorm(0.5, 1.5, 0.7, axis=1),
            keras.constraints.MinMaxNorm(0.5, 1.5, 0.7, axis=1)),
           (hk_keras.constraints.UnitNorm(axis=1),
            keras.constraints.UnitNorm(axis=1))]
  for mine, ref in cases:
    np.testing.assert_allclose(np.asarray(mine(w)), np.asarray(ref(jnp.asarray(w))),
                               rtol=1e-5, atol=1e-6, err_msg=repr(mine))
  with pytest.raises(ValueError, match="Unknown regularizer"):
    hk_keras.regularizers.get("l3")


def test_regularized_constrained_training_matches_keras():
  import keras  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(4)
  x = rng.normal(size=(40, 3)).astype(np.float32)
  y = rng.normal(size=(40, 2)).astype(np.float32)

  def make(module):
    return module.Sequential([
        module.Input((3,)),
        module.layers.Dense(
            4, activation="tanh",
            kernel_regularizer=module.regularizers.L1L2(0.01, 0.02),
            bias_regularizer="l2",
            activity_regularizer=module.regularizers.L1L2(0.005, 0.01),
            kernel_constraint=module.constraints.MaxNorm(0.9)),
        module.layers.ActivityRegularization(l1=0.01, l2=0.0),
        module.layers.Dense(2, kernel_constraint="non_neg")])

  ours, ref = make(hk_keras), make(keras)
  init = [rng.normal(size=w.shape).astype(np.float32) * 0.6
          for w in ref.get_weights()]
  out = {}
  for name, model in (("hk", ours), ("keras", ref)):
    model.set_weights(init)
    model(x[:8])  # the last call's activity losses go into model.losses
    out[name + "_losses"] = sorted(float(v) for v in model.losses)
    model.compile(optimizer=model_sgd(name), loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0,
                        shuffle=False)
    out[name + "_loss"] = history.history["loss"][-1]
    out[name + "_weights"] = model.get_weights()
  np.testing.assert_allclose(out["hk_losses"], out["keras_losses"],
                             atol=1e-5)
  np.testing.assert_allclose(out["hk_loss"], out["keras_loss"], atol=1e-5)
  for a, b in zip(out["hk_weights"], out["keras_weights"]):
    np.testing.assert_allclose(a, b, atol=1e-5)
  # Saved and loaded, the regularizers and constraints are still there.
  config = ours.layers[0].get_config()
  assert config["kernel_regularizer"]["class_name"] == "L1L2"
  clone = hk_keras.Sequential.from_config(ours.get_config())
  assert isinstance(clone.layers[0].kernel_constraint,
                    hk_keras.constraints.MaxNorm)
  assert clone.layers[1].activity_regularizer.l1 == 0.01


def model_sgd(name):
  import keras  # pylint: disable=g-import-not-at-top
  return (hk_keras.optimizers.SGD(0.1) if name == "hk"
          else keras.optimizers.SGD(0.1))


def test_add_loss_in_call_is_added_to_the_training_loss():
  class Penalty(layers.Layer):
    def call(self, inputs):
      self.add_loss(0.5 * jnp.mean(inputs ** 2))
      return inputs

  x, y = _data(n=16)
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(1),
                               Penalty()])
  model.compile(optimizer=hk_keras.optimizers.SGD(0.0), loss="mse")
  logs = model.evaluate(x, y, batch_size=16, verbose=0)
  pred = model.predict(x, verbose=0)
  np.testing.assert_allclose(
      logs, np.mean((pred - y) ** 2) + 0.5 * np.mean(pred ** 2), rtol=1e-5)
  model(x)
  np.testing.assert_allclose(float(sum(model.losses)),
                             0.5 * np.mean(pred ** 2), rtol=1e-5)


def test_several_optimizers_by_layer_name_with_multi_transform():
  x, y = _data(n=16)
  model = hk_keras.Sequential([
      hk_keras.Input((3,)), layers.Dense(4, name="body"),
      layers.Dense(1, name="head")])
  before = model.get_weights()
  labels = lambda params: {m: {n: ("frozen" if m == "body" else "train")
                               for n in v} for m, v in params.items()}
  tx = optax.multi_transform({"train": optax.sgd(0.1),
                              "frozen": optax.set_to_zero()}, labels)
  model.compile(optimizer=tx, loss="mse")
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  after = model.get_weights()
  np.testing.assert_array_equal(after[0], before[0])  # body kernel
  assert not np.allclose(after[2], before[2])  # head kernel trained


def test_shared_layers_see_each_models_training():
  # The live state of each model is the one owner of "are the layers
  # stale?": training one model and then the other never loses an update.
  x, y = _data(n=16)
  dense = layers.Dense(1)
  first = hk_keras.Sequential([hk_keras.Input((3,)), dense])
  second = hk_keras.Sequential([hk_keras.Input((3,)), dense])
  for model in (first, second):
    model.compile(optimizer=hk_keras.optimizers.SGD(0.1), loss="mse")
  fit = lambda m: m.fit(x, y, batch_size=8, epochs=1, verbose=0,
                        shuffle=False)
  fit(first)
  for a, b in zip(first.get_weights(), second.get_weights()):
    np.testing.assert_array_equal(a, b)
  fit(second)
  after_second = second.get_weights()
  fit(first)  # must start from the second model's update
  assert int(first._ts.step) == 4  # pylint: disable=protected-access
  reference = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(1)])
  reference.set_weights(after_second)
  reference.compile(optimizer=hk_keras.optimizers.SGD(0.1), loss="mse")
  fit(reference)
  for a, b in zip(dense.get_weights(), reference.get_weights()):
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_settings_reset_restores_every_default():
  from hk_keras._core import _settings  # pylint: disable=g-import-not-at-top
  hk_keras.mixed_precision.set_global_policy("mixed_bfloat16")
  hk_keras.distribution.set_distribution(hk_keras.distribution.DataParallel(
      devices=1))
  assert hk_keras.distribution.distribution() is not None
  _settings.reset()
  assert hk_keras.distribution.distribution() is None
  assert hk_keras.mixed_precision.global_policy().name == "float32"


def test_recompiling_after_fit_keeps_the_trained_weights():
  x, y = _data(n=16)
  model = _linear()
  model.compile(optimizer=hk_keras.optimizers.SGD(0.1), loss="mse")
  model.fit(x, y, batch_size=8, epochs=1, verbose=0)
  trained = [np.asarray(w) for w in jax.tree_util.tree_leaves(
      model._ts.params)]  # pylint: disable=protected-access
  model.compile(optimizer="adam", loss="mae")
  for a, b in zip(sorted(trained, key=np.size),
                  sorted(model.get_weights(), key=np.size)):
    np.testing.assert_array_equal(a, b)


def test_every_regularized_layer_gives_keras_model_losses():
  import keras  # pylint: disable=g-import-not-at-top
  l1l2 = lambda m: m.regularizers.L1L2(0.01, 0.02)
  cases = {
      "Dense": (lambda m: m.layers.Dense(
          3, kernel_regularizer=l1l2(m), bias_regularizer="l2",
          activity_regularizer="l1"), (4,)),
      "Conv2D": (lambda m: m.layers.Conv2D(
          2, 3, kernel_regularizer=l1l2(m), bias_regularizer="l2",
          activity_regularizer="l1"), (5, 5, 2)),
      "Conv2DTranspose": (lambda m: m.layers.Conv2DTranspose(
          2, 3, kernel_regularizer=l1l2(m), bias_regularizer="l2"), (4, 4, 2)),
      "Embedding": (lambda m: m.layers.Embedding(
          10, 3, embeddings_regularizer=l1l2(m), activity_regularizer="l2"),
                    None),
      "LSTM": (lambda m: m.layers.LSTM(
          3, kernel_regularizer=l1l2(m), recurrent_regularizer="l2",
          bias_regularizer="l1"), (4, 2)),
      "GRU": (lambda m: m.layers.GRU(
          3, kernel_regularizer=l1l2(m), recurrent_regularizer="l2",
          bias_regularizer="l1"), (4, 2)),
      "BatchNormalization": (lambda m: m.layers.BatchNormalization(
          beta_regularizer="l2", gamma_regularizer=l1l2(m)), (3,)),
      "LayerNormalization": (lambda m: m.layers.LayerNormalization(
          beta_regularizer="l2", gamma_regularizer=l1l2(m)), (3,)),
      "MultiHeadAttention": (lambda m: m.layers.MultiHeadAttention(
          2, 2, kernel_regularizer=l1l2(m), bias_regularizer="l2"), (4, 3)),
  }
  rng = np.random.default_rng(0)
  for name, (make, shape) in cases.items():
    if shape is None:
      x = np.arange(10, dtype=np.int32).reshape(2, 5)
    else:
      x = rng.normal(size=(2,) + shape).astype(np.float32)
    totals, weights = {}, None
    for module in (hk_keras, keras):
      if name == "MultiHeadAttention":
        inp = module.Input(shape)
        model = module.Model(inp, make(module)(inp, inp))
      elif shape is None:
        model = module.Sequential([module.Input((5,), dtype="int32"),
                                   make(module)])
      else:
        model = module.Sequential([module.Input(shape), make(module)])
      if weights is None:
        weights = [rng.normal(size=w.shape).astype(np.float32)
                   for w in model.get_weights()]
      model.set_weights(weights)
      model(x)
      totals[module.__name__] = float(sum(np.asarray(v)
                                          for v in model.losses))
    assert totals["hk_keras"] > 0, name
    np.testing.assert_allclose(totals["hk_keras"], totals["keras"],
                               rtol=1e-5, err_msg=name)


def test_depthwise_and_separable_regularizers_reach_their_kernels():
  """`depthwise_*`/`pointwise_*` arguments (merged after the regularizer
  work) penalise the weights Keras applies them to: the same model.losses."""
  import keras
  x = np.random.default_rng(0).normal(size=(2, 5, 5, 2)).astype("float32")
  for make in (lambda lib: lib.layers.DepthwiseConv2D(
      3, depthwise_regularizer=lib.regularizers.L2(0.1)),
               lambda lib: lib.layers.SeparableConv2D(
                   2, 3, depthwise_regularizer=lib.regularizers.L1(0.1),
                   pointwise_regularizer=lib.regularizers.L2(0.2)),
               lambda lib: lib.layers.PReLU(
                   alpha_initializer="ones",
                   alpha_regularizer=lib.regularizers.L2(0.3))):
    ref = keras.Sequential([keras.Input((5, 5, 2)), make(keras)])
    ours = hk_keras.Sequential([hk_keras.Input((5, 5, 2)), make(hk_keras)])
    ours.set_weights(ref.get_weights())
    ref(x)
    expected = float(sum(np.asarray(v) for v in ref.losses))
    assert expected > 0
    np.testing.assert_allclose(float(sum(ours.losses)), expected, rtol=1e-5)
