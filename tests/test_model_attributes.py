"""Model and layer attributes Keras code reads, against Keras 3."""
import json

import keras
import numpy as np
import pytest

import hk_keras


def _graph(lib):
  a = lib.Input((3,), name="a")
  b = lib.Input((2,), name="b")
  h = lib.layers.Dense(4, activation="relu", name="h")(a)
  cat = lib.layers.Concatenate(name="cat")([h, b])
  out1 = lib.layers.Dense(2, name="out1")(cat)
  out2 = lib.layers.Dense(1, name="out2")(h)
  return lib.Model([a, b], [out1, out2], name="two")


@pytest.fixture(scope="module")
def models():
  ours, ref = _graph(hk_keras), _graph(keras)
  ours.set_weights(ref.get_weights())
  return ours, ref


def _data():
  rng = np.random.default_rng(0)
  return [rng.normal(size=(6, 3)).astype("float32"),
          rng.normal(size=(6, 2)).astype("float32")]


def test_symbolic_attributes_match_keras(models):
  ours, ref = models
  assert ours.input_shape == ref.input_shape
  assert ours.output_shape == ref.output_shape
  assert [t.shape for t in ours.inputs] == [tuple(t.shape) for t in ref.inputs]
  assert [t.shape for t in ours.outputs] == [tuple(t.shape)
                                             for t in ref.outputs]
  assert isinstance(ours.input, list) and len(ours.input) == 2
  for name in ("h", "cat", "out1"):
    ol, rl = ours.get_layer(name), ref.get_layer(name)
    assert ol.output.shape == tuple(rl.output.shape)
    o_in = ol.input if isinstance(ol.input, list) else [ol.input]
    r_in = rl.input if isinstance(rl.input, list) else [rl.input]
    assert [t.shape for t in o_in] == [tuple(t.shape) for t in r_in]
  assert ours.get_layer("a").output is ours.inputs[0]
  assert hk_keras.utils.get_source_inputs(ours.outputs[0]) == ours.inputs
  with pytest.raises(AttributeError, match="never been called"):
    hk_keras.layers.Dense(2).output


def test_sequential_and_subclassed_attributes():
  seq = hk_keras.Sequential([hk_keras.Input((5,)), hk_keras.layers.Dense(3),
                             hk_keras.layers.Dense(2)])
  kseq = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3),
                           keras.layers.Dense(2)])
  assert seq.input_shape == kseq.input_shape
  assert seq.output_shape == kseq.output_shape
  assert seq.layers[1].output is seq.output
  assert seq.get_build_config() == kseq.get_build_config()
  x = np.ones((2, 5), np.float32)
  before = np.asarray(seq(x))
  seq.add(hk_keras.layers.Dense(1))
  assert seq.output_shape == (None, 1)
  assert seq(x).shape == (2, 1) and before.shape == (2, 2)
  built = hk_keras.Sequential([hk_keras.layers.Dense(2)])
  built.build_from_config({"input_shape": (None, 4)})
  assert built.built and built.input_shape == (None, 4)
  with pytest.raises(ValueError, match="input_shape"):
    built.build_from_config({"shape": 3})

  class Sub(hk_keras.Model):
    def __init__(self):
      super().__init__()
      self.d = hk_keras.layers.Dense(2)

    def call(self, inputs):
      return self.d(inputs)

  sub = Sub()
  sub(x)
  with pytest.raises(AttributeError, match="subclassed"):
    sub.inputs
  assert sub.get_build_config() == {"input_shape": (None, 5)}
  assert sub.input_shape == (None, 5)

  class KeepsShape(hk_keras.Model):
    def __init__(self):
      super().__init__()
      self.input_shape = (7,)  # user code may own the attribute

    def call(self, inputs):
      return inputs

  assert KeepsShape().input_shape == (7,)


def test_metrics_names_follow_evaluate_order(models):
  ours, ref = models
  ours.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse"]])
  ref.compile("sgd", ["mse", "mae"], metrics=[["mae"], ["mse"]])
  assert ours.metrics_names[0] == "loss"
  x, y = _data(), [np.zeros((6, 2), np.float32), np.zeros((6, 1), np.float32)]
  values = ours.evaluate(x, y, verbose=0)
  ref_logs = ref.evaluate(x, y, verbose=0, return_dict=True)
  assert set(ours.metrics_names) <= set(ref_logs)
  for name, value in zip(ours.metrics_names, values):
    np.testing.assert_allclose(value, ref_logs[name], rtol=1e-5, atol=1e-6)
  assert len(ours.metrics) == len(ours.metrics_names) - 1
  assert hk_keras.Sequential().metrics_names == []


def test_compile_config_round_trip(models):
  ours, _ = models
  ours.compile(optimizer=hk_keras.optimizers.Adam(1e-3), loss="mse",
               metrics=["mae"])
  config = ours.get_compile_config()
  json.dumps(config)
  clone = hk_keras.models.clone_model(ours)
  assert not clone.compiled
  clone.compile_from_config(config)
  assert clone.compiled and clone.get_compile_config() == config
  with pytest.raises(ValueError, match="get_compile_config"):
    clone.compile_from_config("adam")


def test_to_json_round_trip_and_keras_layout(models):
  ours, ref = models
  text = ours.to_json()
  entry = json.loads(text)
  assert {"class_name", "config", "module"} <= set(entry)
  assert set(json.loads(ref.to_json())) >= {"class_name", "config", "module"}
  rebuilt = hk_keras.models.model_from_json(text)
  assert [l.name for l in rebuilt.layers] == [l.name for l in ours.layers]
  rebuilt.set_weights(ref.get_weights())
  x = _data()
  for a, b in zip(rebuilt.predict(x, verbose=0), ref.predict(x, verbose=0)):
    np.testing.assert_allclose(a, b, atol=1e-5)
  with pytest.raises(ValueError, match="to_json"):
    hk_keras.models.model_from_json("not json")


def test_clone_model(models):
  ours, ref = models
  clone = hk_keras.models.clone_model(ours)
  assert [l.name for l in clone.layers] == [l.name for l in ours.layers]
  assert clone.count_params() == ours.count_params() == ref.count_params()
  assert not all(np.array_equal(a, b) for a, b in zip(clone.get_weights(),
                                                      ours.get_weights()))
  clone.set_weights(ours.get_weights())
  x = _data()
  for a, b in zip(clone.predict(x, verbose=0), ours.predict(x, verbose=0)):
    np.testing.assert_allclose(a, b, atol=1e-6)
  shared = hk_keras.models.clone_model(ours, clone_function=lambda l: l)
  for a, b in zip(shared.predict(x, verbose=0), ours.predict(x, verbose=0)):
    np.testing.assert_allclose(a, b, atol=1e-6)
  new_inputs = [hk_keras.Input((3,)), hk_keras.Input((2,))]
  on_new = hk_keras.models.clone_model(ours, input_tensors=new_inputs)
  assert on_new.inputs == new_inputs
  seq = hk_keras.Sequential([hk_keras.Input((4,)), hk_keras.layers.Dense(2)])
  seq_clone = hk_keras.models.clone_model(seq)
  assert seq_clone.count_params() == 10 and seq_clone.input_shape == (None, 4)
  with pytest.raises(ValueError, match="input_tensors"):
    hk_keras.models.clone_model(ours, input_tensors=[new_inputs[0]])
