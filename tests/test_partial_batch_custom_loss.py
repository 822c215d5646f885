"""A custom `compute_loss` sees only the real rows of a last partial batch.

hk_keras pads a last partial batch to one compiled shape and masks the
padded rows; code written by hand in an overridden `compute_loss` cannot
know about that mask, so for such a model the last partial batch of `fit`
and `evaluate` runs unpadded, as in Keras 3. Checked against Keras 3 on
copied weights: 10 rows in batches of 4 (a last batch of 2), both
`compute_loss` signatures (with `training`, and Keras's older one).
"""
import numpy as np
import pytest

import hk_keras

keras = pytest.importorskip("keras")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 3)).astype("float32")
Y = RNG.normal(size=(10, 1)).astype("float32")


def _model(lib, signature):
  ops = lib.ops

  class Model(lib.Model):
    if signature == "keras3":
      def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                       training=True):
        return (ops.mean(ops.abs(y - y_pred))
                + 0.1 * ops.mean(ops.square(y_pred)))
    else:  # the older signature, without `training`
      def compute_loss(self, x=None, y=None, y_pred=None,
                       sample_weight=None):
        return ops.mean(ops.abs(y - y_pred) * 2.0)

  inputs = lib.Input((3,))
  model = Model(inputs, lib.layers.Dense(1)(inputs))
  model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse",
                metrics=["mae"])
  return model


@pytest.mark.parametrize("signature", ["keras3", "older"])
def test_evaluate_and_fit_match_keras_on_a_partial_last_batch(signature):
  theirs, ours = _model(keras, signature), _model(hk_keras, signature)
  ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
  expected = theirs.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
  got = ours.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
  assert got.keys() == expected.keys()
  for k in expected:
    np.testing.assert_allclose(got[k], expected[k], rtol=1e-5, err_msg=k)
  fit = dict(batch_size=4, epochs=2, verbose=0, shuffle=False,
             validation_data=(X, Y))
  expected = theirs.fit(X, Y, **fit).history
  got = ours.fit(X, Y, **fit).history
  assert got.keys() == expected.keys()
  for k in expected:
    np.testing.assert_allclose(got[k], expected[k], rtol=1e-5, err_msg=k)
  for a, b in zip(ours.get_weights(), theirs.get_weights()):
    np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


def test_a_padded_last_batch_would_differ():
  # The case above is not trivially equal: on a padded batch of 4 (the two
  # real rows repeated), the hand-written mean is not the mean of the 2
  # real rows.
  model = _model(hk_keras, "keras3")
  loss = lambda x, y: model.evaluate(x, y, batch_size=4, verbose=0,
                                     return_dict=True)["loss"]
  padded = np.concatenate([X[8:], X[8:9], X[8:9]])
  padded_y = np.concatenate([Y[8:], Y[8:9], Y[8:9]])
  assert abs(loss(padded, padded_y) - loss(X[8:], Y[8:])) > 1e-3


def _keras_form_model(lib):
  ops = lib.ops

  class Model(lib.Model):
    def test_step(self, state, data):  # Keras's form: it sees no mask
      trainable, non_trainable, metrics = state
      x, y = data
      y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                  training=False)
      logs = {"by_hand": ops.mean(ops.abs(y - y_pred)),
              "rows": ops.cast(ops.shape(y)[0], "float32")}
      return logs, (trainable, non_trainable, metrics)

  inputs = lib.Input((3,))
  model = Model(inputs, lib.layers.Dense(1)(inputs))
  model.compile(optimizer="sgd", loss="mae")
  return model


def test_keras_form_test_step_sees_only_real_rows():
  theirs, ours = _keras_form_model(keras), _keras_form_model(hk_keras)
  ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
  expected = theirs.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
  got = ours.evaluate(X, Y, batch_size=4, verbose=0, return_dict=True)
  assert expected["rows"] == 2  # Keras's logs: those of the last batch
  assert got.keys() == expected.keys()
  for k in expected:
    np.testing.assert_allclose(got[k], expected[k], rtol=1e-5, err_msg=k)
