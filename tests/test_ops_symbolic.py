"""hk_keras.ops and Python operators on symbolic tensors (Functional graphs)."""
import copy
import io
import json
import os
import re
import subprocess
import sys
import textwrap
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

import hk_keras
from hk_keras import ops
from hk_keras.ops import _symbolic

ROOT = Path(__file__).resolve().parents[1]


def _graph_model():
  inputs = hk_keras.Input((6,), name="features")
  h = hk_keras.layers.Dense(4, name="proj")(inputs)
  # Operators and ops mixed: shapes inferred abstractly at each node.
  gate = ops.sigmoid(h[:, :2]) * 2.0 - 1
  pooled = ops.mean(h ** 2, axis=-1, keepdims=True) + ops.abs(-h[:, 2:3])
  joined = ops.concatenate([gate, pooled, h.T.T[:, 3:] / 2], axis=-1)
  scaled = ops.where(joined > 0, joined, 0.1 * joined)
  flat = ops.reshape(ops.expand_dims(scaled, 1), (-1, 4))
  outputs = hk_keras.layers.Dense(1, name="head")(flat @ ops.eye(4))
  return hk_keras.Model(inputs, outputs, name="ops_model")


def _numpy_forward(model, x):
  w1, b1, w2, b2 = model.get_weights()
  h = x @ w1 + b1
  gate = 2.0 / (1 + np.exp(-h[:, :2])) - 1
  pooled = np.mean(h ** 2, axis=-1, keepdims=True) + np.abs(h[:, 2:3])
  joined = np.concatenate([gate, pooled, h[:, 3:] / 2], axis=-1)
  scaled = np.where(joined > 0, joined, 0.1 * joined)
  return scaled @ w2 + b2


def test_symbolic_tensor_attributes_and_operator_shapes():
  x = hk_keras.Input((3, 5))
  assert x.shape == (None, 3, 5) and x.dtype == "float32" and x.ndim == 3
  assert x.T.shape == (5, 3, None)
  assert (x @ ops.ones((5, 2))).shape == (None, 3, 2)
  assert x[:, 0].shape == (None, 5)
  assert x[..., 1:4:2].shape == (None, 3, 2)
  assert (x // 2).dtype == "float32"
  assert (x > 0).dtype == "bool"
  assert ops.cast(x, "int32").dtype == "int32"
  assert ops.shape(x) == (None, 3, 5)
  assert ops.reshape(x, (-1, 15)).shape == (None, 15)
  assert ops.sum(x, axis=[1, 2]).shape == (None,)
  values, indices = ops.top_k(x, 2)
  assert values.shape == indices.shape == (None, 3, 2)
  assert indices.dtype == "int32"
  assert [t.shape for t in ops.split(x, [2], axis=1)] == [(None, 2, 5),
                                                         (None, 1, 5)]
  with pytest.raises(TypeError, match="no truth value"):
    bool(x)
  with pytest.raises(ValueError, match="symbolic"):
    ops.convert_to_numpy(x)


def test_model_layers_leave_ops_out_and_summary_shows_op_rows():
  model = _graph_model()
  assert [l.name for l in model.layers] == ["features", "proj", "head"]
  buf = io.StringIO()
  with redirect_stdout(buf):
    model.summary()
  text = buf.getvalue()
  for op, kind in (("get_item", "GetItem"), ("sigmoid", "Sigmoid"),
                   ("mean", "Mean"), ("concatenate", "Concatenate"),
                   ("matmul", "Matmul")):
    assert re.search(rf"{op}(_\d+)? \({kind}\)", text), (op, text)
  assert "Total params: 33" in text


def test_graph_model_computes_what_the_ops_say_and_trains():
  model = _graph_model()
  x = np.random.default_rng(0).normal(size=(8, 6)).astype("float32")
  np.testing.assert_allclose(model.predict(x, verbose=0),
                             _numpy_forward(model, x), atol=1e-5)
  y = np.ones((8, 1), "float32")
  model.compile(optimizer="adam", loss="mse")
  before = model.evaluate(x, y, verbose=0)
  model.fit(x, y, epochs=5, batch_size=8, verbose=0)
  assert model.evaluate(x, y, verbose=0) < before
  np.testing.assert_allclose(model.predict(x, verbose=0),
                             _numpy_forward(model, x), atol=1e-5)


def test_save_and_load_in_a_fresh_process_in_safe_mode(tmp_path):
  model = _graph_model()
  x = np.random.default_rng(1).normal(size=(5, 6)).astype("float32")
  model.compile(optimizer="adam", loss="mse")
  model.fit(x, np.zeros((5, 1), "float32"), epochs=2, verbose=0)
  path = tmp_path / "ops_model.keras"
  model.save(path)
  np.save(tmp_path / "x.npy", x)
  script = textwrap.dedent(f"""
      import numpy as np, hk_keras
      m = hk_keras.saving.load_model({str(path)!r}, safe_mode=True)
      np.save({str(tmp_path / 'y.npy')!r},
              m.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0))
      print([l.name for l in m.layers])
  """)
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-3000:]
  assert "['features', 'proj', 'head']" in done.stdout
  np.testing.assert_allclose(np.load(tmp_path / "y.npy"),
                             model.predict(x, verbose=0), atol=1e-6)


def _op_entries(config):
  return [e for e in config["config"]["layers"]
          if e["class_name"] == "OpLayer"]


def test_hostile_configs_are_refused():
  # The .keras archive checksums its config; an attacker can rewrite those
  # too, so what matters is what rebuilding a config accepts.
  inputs = hk_keras.Input((3,))
  model = hk_keras.Model(inputs, ops.exp(inputs) + 1.0)
  saved = json.loads(json.dumps(
      hk_keras.saving.serialize_keras_object(model)))
  rebuilt = hk_keras.saving.deserialize_keras_object(saved, safe_mode=True)
  assert rebuilt.predict(np.zeros((1, 3), "float32"),
                         verbose=0).tolist() == [[2.0, 2.0, 2.0]]

  def load(edit):
    config = copy.deepcopy(saved)
    edit(config)
    return hk_keras.saving.deserialize_keras_object(config, safe_mode=True)

  def unknown_op(config):
    _op_entries(config)[0]["config"]["op"] = "os.system"
  with pytest.raises(ValueError, match="'os.system', which is not an "
                     "hk_keras.ops function"):
    load(unknown_op)

  def callable_argument(config):
    _op_entries(config)[-1]["config"]["arguments"] = {"__tuple__": [
        [{"__input__": 0}, {"__function__": "builtins.eval"}],
        {"__dict__": {}}]}
  with pytest.raises(ValueError, match="not registered"):
    load(callable_argument)

  def code_tag(config):
    _op_entries(config)[0]["config"]["arguments"] = {"__code__": "import os"}
  with pytest.raises(ValueError, match="expected one of the tags"):
    load(code_tag)


def test_function_arguments_are_not_saved_as_code(tmp_path):
  inputs = hk_keras.Input((3,))
  outputs = ops.vectorized_map(lambda row: row * 2, inputs)
  model = hk_keras.Model(inputs, outputs)
  np.testing.assert_allclose(model.predict(np.ones((2, 3), "float32"),
                                           verbose=0), 2.0)
  with pytest.raises(TypeError, match="never saves code"):
    model.save(tmp_path / "f.keras")


def test_unknown_op_name_is_refused_when_building_a_node():
  with pytest.raises(ValueError, match="not an hk_keras.ops function"):
    _symbolic.OpLayer("eval", ((), {}))


def test_every_public_op_is_registered_for_loading():
  names = set(_symbolic.registered_ops())
  for name in ops.__all__:
    fn = getattr(ops, name)
    if name in ("image", "linalg", "nn", "numpy"):
      continue
    if hasattr(fn, "op_name"):
      assert fn.op_name in names
