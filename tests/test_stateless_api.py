"""Keras 3's JAX stateless API (issue 19): parity with Keras 3 and the two
train_step forms."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from hk_keras._engine import _keras_steps


def _keras():
  import keras  # pylint: disable=g-import-not-at-top
  return keras


def _bn_model(K):
  inputs = K.Input((5,))
  h = K.layers.Dense(4, activation="relu")(inputs)
  h = K.layers.BatchNormalization()(h)
  return K.Model(inputs, K.layers.Dense(2)(h))


def test_stateless_call_equals_model_call_and_keras():
  keras = _keras()
  ref, ours = _bn_model(keras), _bn_model(hk_keras)
  ours.set_weights(ref.get_weights())
  x = np.random.default_rng(0).normal(size=(6, 5)).astype(np.float32)
  tv, ntv = ours.trainable_variables, ours.non_trainable_variables
  assert [(v.name, v.shape, str(v.dtype)) for v in tv + ntv] == [
      (v.name, tuple(v.shape), str(v.dtype))
      for v in ref.trainable_variables + ref.non_trainable_variables]
  out, same = ours.stateless_call(tv, ntv, x)
  np.testing.assert_allclose(out, ours(x), atol=1e-6)
  np.testing.assert_allclose(out, ref(x), atol=1e-5)
  for a, b in zip(same, ntv):
    np.testing.assert_array_equal(a, b.value)
  # training=True: BatchNormalization's moving statistics move as Keras's.
  out, new = ours.stateless_call([v.value for v in tv], [v.value for v in ntv],
                                 x, training=True)
  ref_out, ref_new = ref.stateless_call(
      [v.value for v in ref.trainable_variables],
      [v.value for v in ref.non_trainable_variables], x, training=True)
  np.testing.assert_allclose(out, ref_out, atol=1e-5)
  for a, b in zip(new, ref_new):
    np.testing.assert_allclose(a, b, atol=1e-6)
  assert not np.allclose(new[0], ntv[0].value)
  with pytest.raises(ValueError, match="corresponding 1:1"):
    ours.stateless_call(tv[:1], ntv, x)


def _guide_model_class(K):
  """The Keras guide's first train_step (JAX), with only `K` changed."""
  class CustomModel(K.Model):
    def __init__(self):
      super().__init__()
      self.hidden = K.layers.Dense(4, activation="relu")
      self.out = K.layers.Dense(1)

    def call(self, x, training=False):
      return self.out(self.hidden(x))

    def compute_loss_and_updates(self, trainable_variables,
                                 non_trainable_variables, metrics_variables,
                                 x, y, sample_weight, training=False):
      y_pred, non_trainable_variables = self.stateless_call(
          trainable_variables, non_trainable_variables, x, training=training)
      loss, (trainable_variables, non_trainable_variables,
             metrics_variables) = self.stateless_compute_loss(
                 trainable_variables, non_trainable_variables,
                 metrics_variables, x=x, y=y, y_pred=y_pred,
                 sample_weight=sample_weight, training=training)
      return loss, (y_pred, non_trainable_variables, metrics_variables)

    def train_step(self, state, data):
      (trainable_variables, non_trainable_variables, optimizer_variables,
       metrics_variables) = state
      x, y, sample_weight = K.utils.unpack_x_y_sample_weight(data)
      grad_fn = jax.value_and_grad(self.compute_loss_and_updates,
                                   has_aux=True)
      (loss, (y_pred, non_trainable_variables, metrics_variables)), grads = (
          grad_fn(trainable_variables, non_trainable_variables,
                  metrics_variables, x, y, sample_weight, training=True))
      trainable_variables, optimizer_variables = (
          self.optimizer.stateless_apply(optimizer_variables, grads,
                                         trainable_variables))
      new_metrics_vars, logs = [], {}
      for metric in self.metrics:
        this = metrics_variables[len(new_metrics_vars):
                                 len(new_metrics_vars) + len(metric.variables)]
        if metric.name == "loss":
          this = metric.stateless_update_state(this, loss,
                                               sample_weight=sample_weight)
        else:
          this = metric.stateless_update_state(this, y, y_pred,
                                               sample_weight=sample_weight)
        logs[metric.name] = metric.stateless_result(this)
        new_metrics_vars += this
      return logs, (trainable_variables, non_trainable_variables,
                    optimizer_variables, new_metrics_vars)
  return CustomModel


def test_keras_form_train_step_trains_like_keras():
  keras = _keras()
  rng = np.random.default_rng(0)
  x = rng.normal(size=(48, 5)).astype(np.float32)
  y = rng.normal(size=(48, 1)).astype(np.float32)
  runs = {}
  for K in (keras, hk_keras):
    model = _guide_model_class(K)()
    model(x[:1])
    if K is keras:
      start = model.get_weights()
    else:
      model.set_weights(start)
    model.compile(optimizer=K.optimizers.Adam(0.01), loss="mse",
                  metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False,
                        verbose=0)
    runs[K.__name__] = (model.get_weights(), history.history)
  assert _keras_steps.is_keras_form(_guide_model_class(hk_keras)(), "train")
  (ref_w, ref_h), (w, h) = runs["keras"], runs["hk_keras"]
  assert not np.allclose(w[0], start[0])
  for a, b in zip(w, ref_w):
    np.testing.assert_allclose(a, b, atol=1e-5)
  assert sorted(h) == sorted(ref_h) == ["loss", "mae"]
  for k in h:
    np.testing.assert_allclose(h[k], ref_h[k], rtol=1e-5)


@pytest.mark.parametrize("name,kwargs", [
    ("Adam", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9})])
def test_stateless_apply_equals_keras_steps(name, kwargs):
  keras = _keras()
  rng = np.random.default_rng(1)
  values = [rng.normal(size=(3, 2)).astype(np.float32),
            rng.normal(size=(2,)).astype(np.float32)]
  grads = [[rng.normal(size=v.shape).astype(np.float32) for v in values]
           for _ in range(2)]
  ref = getattr(keras.optimizers, name)(**kwargs)
  ref_vars = [keras.Variable(v) for v in values]
  ref.build(ref_vars)
  ours = getattr(hk_keras.optimizers, name)(**kwargs)
  ours.build(values)
  r_tv, r_ov = [v.value for v in ref_vars], [v.value for v in ref.variables]
  tv, ov = list(values), [v.value for v in ours.variables]
  for g in grads:  # two steps: momentum/moments take part in the second
    r_tv, r_ov = ref.stateless_apply(r_ov, g, r_tv)
    tv, ov = jax.jit(ours.stateless_apply)(ov, g, tv)
  for a, b in zip(tv, r_tv):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


class _HkForm(hk_keras.Sequential):
  def train_step(self, state, data):
    new, logs = super().train_step(state, data)
    return new._replace(rng=state.rng), logs


class _PassThrough(hk_keras.Sequential):
  def train_step(self, state, data):
    return super().train_step(state, data)


class _KerasSuper(hk_keras.Sequential):
  def train_step(self, state, data):
    trainable, non_trainable, optimizer_variables, metrics = state
    logs, state = super().train_step(
        (trainable, non_trainable, optimizer_variables, metrics), data)
    logs["twice"] = 2 * logs["loss"]
    return logs, state


class _Declared(hk_keras.Sequential):
  step_form = "keras"

  def train_step(self, state, data):
    return self._helper(state, data)


def test_step_forms_are_told_apart():
  assert not _keras_steps.is_keras_form(_HkForm(), "train")
  assert not _keras_steps.is_keras_form(_PassThrough(), "train")
  assert not _keras_steps.is_keras_form(hk_keras.Sequential(), "test")
  assert _keras_steps.is_keras_form(_KerasSuper(), "train")
  assert _keras_steps.is_keras_form(_Declared(), "train")


def test_keras_form_super_train_step_is_the_default_step():
  x = np.random.default_rng(2).normal(size=(32, 3)).astype(np.float32)
  y = x.sum(axis=1, keepdims=True)
  weights = {}
  for cls in (hk_keras.Sequential, _KerasSuper, _HkForm):
    hk_keras.utils.set_random_seed(4)
    model = cls([hk_keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False,
                        verbose=0)
    weights[cls] = (model.get_weights(), history.history)
  for cls in (_KerasSuper, _HkForm):
    for a, b in zip(weights[cls][0], weights[hk_keras.Sequential][0]):
      np.testing.assert_allclose(a, b, atol=1e-6)
  np.testing.assert_allclose(weights[_KerasSuper][1]["twice"],
                             2 * np.asarray(weights[_KerasSuper][1]["loss"]),
                             rtol=1e-6)


def test_variables_behave_like_keras_variables():
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(2)])
  kernel = model.trainable_variables[0]
  assert (kernel.name, kernel.path, kernel.shape) == (
      "kernel", f"{model.layers[0].name}/kernel", (3, 2))
  np.testing.assert_allclose(jnp.sum(kernel * 2), 2 * np.sum(kernel.numpy()))
  kernel.assign(np.ones((3, 2), np.float32))
  np.testing.assert_array_equal(model.layers[0].kernel, np.ones((3, 2)))
  with pytest.raises(ValueError, match="expects shape"):
    kernel.assign(np.ones((2, 2), np.float32))
  traced = jax.jit(lambda vs: vs[0] * 1.0)(model.trainable_variables)
  np.testing.assert_array_equal(traced, np.ones((3, 2)))
  with pytest.raises(RuntimeError, match="cannot be assigned"):
    jax.tree_util.tree_map(lambda v: v, model.trainable_variables)[0].assign(
        np.zeros((3, 2)))
