"""Every callback hook receives the logs Keras 3 passes (issue 19).

A recorder callback logs (hook, sorted keys, values) for each hook on the
same tiny fit / evaluate / predict in hk_keras and in Keras 3 (JAX backend),
from the same initial weights; the two records must match hook by hook.
"""
import keras
import numpy as np
import pytest

import hk_keras

_PLAIN = ("train_begin", "train_end", "test_begin", "test_end",
          "predict_begin", "predict_end")
_INDEXED = ("epoch_begin", "epoch_end", "train_batch_begin",
            "train_batch_end", "test_batch_begin", "test_batch_end",
            "predict_batch_begin", "predict_batch_end")


def _recorder(base):
  """A `base` callback class recording every hook's logs."""
  def plain(hook):
    return lambda self, logs=None: self.record(hook, None, logs)

  def indexed(hook):
    return lambda self, index, logs=None: self.record(hook, index, logs)

  def record(self, hook, index, logs):
    if logs is None:
      self.seen.append((hook, index, None))
      return
    values = {}
    for k in sorted(logs):
      v = logs[k]
      values[k] = (np.asarray(v) if k == "outputs" else float(v))
    self.seen.append((hook, index, values))

  body = {"record": record}
  body.update({"on_" + h: plain(h) for h in _PLAIN})
  body.update({"on_" + h: indexed(h) for h in _INDEXED})
  cls = type("Recorder", (base,), body)

  def init(self):
    base.__init__(self)
    self.seen = []
  cls.__init__ = init
  return cls


def _run(lib, weights, x, y):
  model = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2)])
  model.set_weights(weights)
  model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse",
                metrics=["mae"])
  rec_cls = _recorder(lib.callbacks.Callback)
  fit, ev, pr = rec_cls(), rec_cls(), rec_cls()
  model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
            validation_data=(x, y), callbacks=[fit])
  model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[ev])
  model.predict(x, batch_size=4, verbose=0, callbacks=[pr])
  return fit.seen, ev.seen, pr.seen


@pytest.fixture(scope="module")
def records():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(6, 3)).astype(np.float32)  # a partial last batch
  y = rng.normal(size=(6, 2)).astype(np.float32)
  weights = [rng.normal(size=(3, 2)).astype(np.float32),
             rng.normal(size=(2,)).astype(np.float32)]
  return _run(hk_keras, weights, x, y), _run(keras, weights, x, y)


def _compare(ours, theirs):
  assert [(h, i) for h, i, _ in ours] == [(h, i) for h, i, _ in theirs]
  for (hook, index, a), (_, _, b) in zip(ours, theirs):
    assert a is not None, f"{hook}({index}) received logs=None"
    assert sorted(a) == sorted(b), (hook, index)
    for k in a:
      np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-5,
                                 err_msg=f"{hook}({index}) logs[{k!r}]")


def test_fit_hooks_receive_keras_logs(records):
  (ours, _, _), (theirs, _, _) = records
  _compare(ours, theirs)
  # on_train_end gets the last epoch's logs, validation included.
  assert ours[-1][0] == "train_end" and "val_loss" in ours[-1][2]


def test_evaluate_hooks_receive_keras_logs(records):
  (_, ours, _), (_, theirs, _) = records
  _compare(ours, theirs)


def test_predict_hooks_receive_keras_logs(records):
  (_, _, ours), (_, _, theirs) = records
  _compare(ours, theirs)
  # The last batch's outputs are its real rows only.
  assert ours[-2][2]["outputs"].shape == (2, 2)
