"""Keras 3 model files: hk_keras reads what Keras 3 writes and the reverse.

Every Keras model here is written by real Keras 3 (JAX backend) once per
module; predictions must agree to 1e-5 in both directions, optimizer state
must carry over (one more training step gives the same weights), and
crafted or truncated HDF5 files must get clear errors.
"""
import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pytest

import hk_keras
from hk_keras.saving import SavingError

keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

ATOL = 1e-5
_rng = np.random.default_rng(0)


def _randomize(model):
  """Random weights (positive variances), so that parity means something."""
  for w in model.weights:
    value = _rng.normal(size=w.shape).astype("float32") * 0.5
    if "variance" in w.path:
      value = np.abs(value) + 0.5
    w.assign(value)


def _functional():
  """Several inputs and outputs, a nested Sequential, most layer kinds."""
  a = keras.Input((6,), name="a")
  b = keras.Input((4, 5), name="b")
  x = keras.layers.Dense(3, activation="relu", name="d1")(a)
  x = keras.layers.BatchNormalization(name="bn")(x)
  x = keras.layers.Dropout(0.3, name="do")(x)
  s = keras.layers.LSTM(2, name="lstm")(b)
  g = keras.layers.GRU(2, return_sequences=True, name="gru")(b)
  g = keras.layers.LayerNormalization(name="ln")(g)
  m = keras.layers.MultiHeadAttention(2, 3, name="mha")(g, g)
  deepest_in = keras.Input((3,))
  deepest = keras.Model(deepest_in, keras.layers.BatchNormalization(
      name="deep_bn")(deepest_in), name="deepest")  # Functional in Sequential
  inner = keras.Sequential([keras.Input((3,)), deepest,
                            keras.layers.Dense(2, name="in_d")], name="inner")
  y = inner(x)
  out = [keras.layers.Concatenate(name="cat")([y, s]),
         keras.layers.GlobalAveragePooling1D(name="gap")(m),
         keras.layers.Add(name="add")([y, s])]
  xs = [_rng.normal(size=(3, 6)).astype("float32"),
        _rng.normal(size=(3, 4, 5)).astype("float32")]
  return keras.Model([a, b], out), xs


def _sequential():
  model = keras.Sequential([
      keras.Input((8, 8, 2)), keras.layers.Conv2D(3, 3),
      keras.layers.MaxPooling2D(), keras.layers.BatchNormalization(),
      keras.layers.Flatten(), keras.layers.Dense(2)])
  return model, [_rng.normal(size=(2, 8, 8, 2)).astype("float32")]


def _shared_dict():
  """Dict inputs and a layer called twice (two nodes)."""
  a = keras.Input((3,), name="a")
  b = keras.Input((3,), name="b")
  shared = keras.layers.Dense(2, name="shared")
  out = keras.layers.Subtract()([shared(a), shared(b)])
  xs = {"a": _rng.normal(size=(2, 3)).astype("float32"),
        "b": _rng.normal(size=(2, 3)).astype("float32")}
  return keras.Model({"a": a, "b": b}, out), xs


def _catalogue():
  """One output per shared layer kind (one compiled predict for all)."""
  L = keras.layers
  img, seq, vec = (keras.Input((6, 6, 4)), keras.Input((4, 3)),
                   keras.Input((6,)))
  ids = keras.Input((5,), dtype="int32")
  on_img = [L.Conv2DTranspose(2, 3, strides=2), L.DepthwiseConv2D(3),
            L.SeparableConv2D(2, 3), L.GroupNormalization(2),
            L.Conv2D(2, 3, padding="same", dilation_rate=2,
                     data_format="channels_first"),
            L.UpSampling2D(), L.ZeroPadding2D(1), L.Cropping2D(1),
            L.GlobalMaxPooling2D(), L.AveragePooling2D(2)]
  on_seq = [L.RNN([L.SimpleRNNCell(2), L.GRUCell(2)]), L.MaxPooling1D(2),
            L.UpSampling1D(2), L.Masking(0.0),
            L.SpatialDropout1D(0.2), L.Permute((2, 1))]
  on_vec = [L.PReLU(), L.LeakyReLU(0.2), L.Softmax(), L.ReLU(max_value=2.0),
            L.ELU(), L.EinsumDense("ab,bc->ac", output_shape=3,
                                   bias_axes="c"),
            L.Dense(3, kernel_regularizer=keras.regularizers.L2(0.1),
                    kernel_constraint=keras.constraints.MaxNorm(2.0)),
            L.UnitNormalization(), L.Rescaling(0.5, 1.0),
            L.Normalization(mean=[1.0] * 6, variance=[2.0] * 6),
            L.GaussianNoise(0.1), L.ActivityRegularization(0.1),
            L.Identity(), L.Activation("gelu"),
            L.BatchNormalization(center=False, scale=False),
            L.LayerNormalization(center=False, epsilon=1e-5), L.Reshape((2, 3)),
            L.RepeatVector(2)]
  outs = [layer(img) for layer in on_img] + [layer(seq) for layer in on_seq]
  outs += [layer(vec) for layer in on_vec]
  outs.append(L.GroupQueryAttention(4, 2, 2)(seq, seq))
  chain = L.Embedding(7, 3)(ids)
  chain = L.Bidirectional(L.SimpleRNN(2, return_sequences=True),
                          merge_mode="sum")(chain)
  chain = L.TimeDistributed(L.Dense(2))(chain)
  outs.append(L.AveragePooling1D(2)(L.Conv1D(2, 2)(chain)))
  xs = [_rng.normal(size=(2, 6, 6, 4)).astype("float32"),
        _rng.normal(size=(2, 4, 3)).astype("float32"),
        _rng.normal(size=(2, 6)).astype("float32"),
        _rng.integers(0, 7, size=(2, 5)).astype("int32")]
  return keras.Model([img, seq, vec, ids], outs), xs


_BUILDERS = {"functional": _functional, "sequential": _sequential,
             "shared_dict": _shared_dict, "catalogue": _catalogue}


def _args(xs):
  if isinstance(xs, dict):
    return xs
  return xs if len(xs) > 1 else xs[0]


def _as_list(out):
  return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _max_diff(a, b):
  return max(float(np.max(np.abs(np.asarray(x) - np.asarray(y))))
             for x, y in zip(a, b))


@pytest.fixture(scope="module")
def keras_files(tmp_path_factory):
  """{name: (path, inputs, Keras predictions)}, written once."""
  root = tmp_path_factory.mktemp("keras3")
  out = {}
  for name, build in _BUILDERS.items():
    model, xs = build()
    _randomize(model)
    path = str(root / f"{name}.keras")
    model.save(path)
    model.save_weights(str(root / f"{name}.weights.h5"))
    out[name] = (path, xs, _as_list(model.predict(_args(xs), verbose=0)))
  return out


@pytest.fixture(scope="module")
def loaded(keras_files):
  return {name: hk_keras.models.load_model(path)
          for name, (path, _, _) in keras_files.items()}


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_hk_keras_loads_keras3_file_and_predicts_the_same(keras_files, loaded,
                                                          name):
  _, xs, expected = keras_files[name]
  got = _as_list(loaded[name].predict(_args(xs), verbose=0))
  assert len(got) == len(expected)
  for g, e in zip(got, expected):
    assert g.shape == e.shape
  assert _max_diff(got, expected) < ATOL


@pytest.mark.parametrize("name", sorted(_BUILDERS))
def test_keras3_loads_hk_keras_file_and_predicts_the_same(keras_files, loaded,
                                                          name, tmp_path):
  _, xs, _ = keras_files[name]
  model = loaded[name]
  model.set_weights([w * 0.9 for w in model.get_weights()])  # new values
  path = str(tmp_path / "out.keras")
  model.save(path, format="keras3")
  back = keras.models.load_model(path)
  assert _max_diff(_as_list(back.predict(_args(xs), verbose=0)),
                   _as_list(model.predict(_args(xs), verbose=0))) < ATOL


def test_hk_keras_native_functional_written_for_keras3(tmp_path):
  a = hk_keras.Input((4,), name="x1")
  b = hk_keras.Input((2, 3), name="x2")
  inner = hk_keras.Sequential([hk_keras.Input((4,)),
                               hk_keras.layers.Dense(3, activation="tanh")])
  h = inner(a)
  r = hk_keras.layers.GlobalAveragePooling1D()(
      hk_keras.layers.Conv1D(3, 1)(b))
  out1 = hk_keras.layers.Multiply()([h, r])
  out2 = hk_keras.layers.Dense(1)(hk_keras.layers.Concatenate()([h, r]))
  model = hk_keras.Model([a, b], [out1, out2])
  xs = [_rng.normal(size=(2, 4)).astype("float32"),
        _rng.normal(size=(2, 2, 3)).astype("float32")]
  path = str(tmp_path / "native.keras")
  model.save(path, format="keras3")
  back = keras.models.load_model(path)
  assert _max_diff(_as_list(back.predict(xs, verbose=0)),
                   _as_list(model.predict(xs, verbose=0))) < ATOL
  # and hk_keras reads its own Keras 3 file back
  again = hk_keras.models.load_model(path)
  assert _max_diff(_as_list(again.predict(xs, verbose=0)),
                   _as_list(model.predict(xs, verbose=0))) < ATOL


def test_weights_h5_both_directions(keras_files, tmp_path):
  path, xs, expected = keras_files["functional"]
  model = hk_keras.models.load_model(path, compile=False)
  model.set_weights([np.zeros_like(w) for w in model.get_weights()])
  model.load_weights(path.replace(".keras", ".weights.h5"))
  assert _max_diff(_as_list(model.predict(_args(xs), verbose=0)),
                   expected) < ATOL
  model.set_weights([np.zeros_like(w) for w in model.get_weights()])
  model.load_weights(path)  # the weights of a Keras 3 .keras file, as Keras
  assert _max_diff(_as_list(model.predict(_args(xs), verbose=0)),
                   expected) < ATOL
  model.set_weights([w + 0.25 for w in model.get_weights()])
  out = str(tmp_path / "hk.weights.h5")
  model.save_weights(out)
  kmodel = keras.models.load_model(path)
  kmodel.load_weights(out)
  for k, h in zip(kmodel.get_weights(), model.get_weights()):
    np.testing.assert_allclose(k, h, atol=ATOL)


def _opt_model(optimizer):
  i = keras.Input((4,))
  h = keras.layers.Dense(3, activation="tanh")(i)
  h = keras.layers.BatchNormalization()(h)
  model = keras.Model(i, keras.layers.Dense(2)(h))
  model.compile(optimizer=optimizer, loss="mse")
  return model


@pytest.mark.parametrize("optimizer", [
    lambda: keras.optimizers.Adam(0.05),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.5,
                                             centered=True),
    lambda: keras.optimizers.SGD(0.1, momentum=0.9)])
def test_compile_config_and_optimizer_state_carry_over(optimizer, tmp_path):
  x = _rng.normal(size=(8, 4)).astype("float32")
  y = _rng.normal(size=(8, 2)).astype("float32")
  kmodel = _opt_model(optimizer())
  first = isinstance(kmodel.optimizer, keras.optimizers.Adam)
  kmodel.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
  path = str(tmp_path / "k.keras")
  kmodel.save(path)
  model = hk_keras.models.load_model(path)
  assert type(model.optimizer).__name__ == type(kmodel.optimizer).__name__
  assert model.optimizer.get_config()["learning_rate"] == pytest.approx(
      float(kmodel.optimizer.learning_rate))
  # One more step in each: the same weights only if the state carried over.
  kmodel.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
  model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
  assert _max_diff(kmodel.get_weights(), model.get_weights()) < ATOL
  if first:  # a fresh optimizer state would have stepped elsewhere
    fresh = hk_keras.models.load_model(path, compile=False)
    fresh.compile(optimizer=hk_keras.optimizers.Adam(0.05), loss="mse")
    fresh.set_weights(hk_keras.models.load_model(path).get_weights())
    fresh.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert _max_diff(kmodel.get_weights(), fresh.get_weights()) > 1e-3
  if not first:
    return  # (the variable layouts differ only in the slot lists)
  # The reverse: Keras resumes from hk_keras's optimizer state.
  out = str(tmp_path / "hk.keras")
  model.save(out, format="keras3")
  kback = keras.models.load_model(out)
  assert int(kback.optimizer.iterations) == int(kmodel.optimizer.iterations)
  kmodel.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
  kback.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
  assert _max_diff(kmodel.get_weights(), kback.get_weights()) < ATOL


# -- errors ------------------------------------------------------------------------

def _edit_config(src, dst, edit):
  with zipfile.ZipFile(src) as z:
    members = {n: z.read(n) for n in z.namelist()}
  config = json.loads(members["config.json"])
  edit(config)
  members["config.json"] = json.dumps(config).encode()
  with zipfile.ZipFile(dst, "w") as z:
    for n, data in members.items():
      z.writestr(n, data)


def test_unmappable_layer_is_named(keras_files, tmp_path):
  path = keras_files["sequential"][0]
  dst = str(tmp_path / "unknown.keras")

  def rename(config):
    config["config"]["layers"][2]["class_name"] = "FancyKerasOnlyLayer"
  _edit_config(path, dst, rename)
  with pytest.raises(SavingError, match="FancyKerasOnlyLayer"):
    hk_keras.models.load_model(dst)

  def gate(config):
    layer = config["config"]["layers"][-1]
    layer["config"]["quantization_config"] = {"mode": "int8"}
    layer["config"]["name"] = "qdense"
  dst2 = str(tmp_path / "quantized.keras")
  _edit_config(path, dst2, gate)
  with pytest.raises(SavingError, match="'qdense'.*quantization_config"):
    hk_keras.models.load_model(dst2)

  def huge(config):  # refused before anything is allocated
    config["config"]["layers"][-1]["config"]["units"] = 2**31
  dst3 = str(tmp_path / "huge.keras")
  _edit_config(path, dst3, huge)
  with pytest.raises(SavingError, match="load limit"):
    hk_keras.models.load_model(dst3)


def test_lambda_needs_safe_mode_off_and_the_function(tmp_path):
  i = keras.Input((3,))
  model = keras.Model(i, keras.layers.Lambda(lambda t: t * 2.0,
                                             name="double")(i))
  path = str(tmp_path / "lambda.keras")
  model.save(path)
  with pytest.raises(SavingError, match="safe_mode"):
    hk_keras.models.load_model(path)
  loaded = hk_keras.models.load_model(
      path, safe_mode=False, custom_objects={"double": lambda t: t * 2.0})
  x = np.ones((2, 3), "float32")
  np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), 2 * x)


def _small_model():
  return hk_keras.Sequential([hk_keras.Input((3,)),
                              hk_keras.layers.Dense(2, name="dense")])


def _crafted(path, fill):
  with h5py.File(path, "w") as f:
    f.create_group("vars").attrs["name"] = "sequential"
    group = f.create_group("layers/dense/vars")
    group.attrs["name"] = "dense"
    fill(f, group)


@pytest.mark.parametrize("kind,match", [
    ("object", "dtype"), ("external_link", "ExternalLink"),
    ("soft_link", "SoftLink"), ("absurd_shape", "shape"),
    ("external_storage", "external"), ("too_many", "3 weights in the file"),
])
def test_crafted_h5_is_refused_clearly(tmp_path, kind, match):
  path = str(tmp_path / "bad.weights.h5")

  def fill(f, group):
    if kind == "object":
      group.create_dataset("0", data=np.array([b"x"] * 6, dtype=object),
                           dtype=h5py.string_dtype())
      group.create_dataset("1", data=np.zeros(2, "float32"))
    elif kind == "external_link":
      group["0"] = h5py.ExternalLink("/etc/passwd", "/x")
      group.create_dataset("1", data=np.zeros(2, "float32"))
    elif kind == "soft_link":
      group.create_dataset("1", data=np.zeros(2, "float32"))
      group["0"] = h5py.SoftLink("/layers/dense/vars/1")
    elif kind == "absurd_shape":
      group.create_dataset("0", shape=(2**40,), dtype="float32",
                           chunks=(1024,))
      group.create_dataset("1", data=np.zeros(2, "float32"))
    elif kind == "external_storage":
      raw = str(tmp_path / "raw.bin")
      np.zeros(6, "float32").tofile(raw)
      group.create_dataset("0", shape=(3, 2), dtype="float32",
                           external=[(raw, 0, 24)])
      group.create_dataset("1", data=np.zeros(2, "float32"))
    elif kind == "too_many":
      for i in range(3):
        group.create_dataset(str(i), data=np.zeros(2, "float32"))
  _crafted(path, fill)
  model = _small_model()
  before = model.get_weights()
  with pytest.raises(SavingError, match=match):
    model.load_weights(path)
  for b, a in zip(before, model.get_weights()):
    np.testing.assert_array_equal(a, b)


def test_truncated_h5_and_keras_file(keras_files, tmp_path):
  path = keras_files["sequential"][0].replace(".keras", ".weights.h5")
  data = open(path, "rb").read()
  cut = str(tmp_path / "cut.weights.h5")
  with open(cut, "wb") as f:
    f.write(data[:len(data) // 2])
  model = hk_keras.models.load_model(keras_files["sequential"][0])
  with pytest.raises(SavingError, match="truncated|corrupt"):
    model.load_weights(cut)
  # A .keras zip whose HDF5 member is cut short.
  src = keras_files["sequential"][0]
  with zipfile.ZipFile(src) as z:
    members = {n: z.read(n) for n in z.namelist()}
  members["model.weights.h5"] = members["model.weights.h5"][:300]
  dst = str(tmp_path / "cut.keras")
  with zipfile.ZipFile(dst, "w") as z:
    for n, blob in members.items():
      z.writestr(n, blob)
  with pytest.raises(SavingError, match="truncated|corrupt|HDF5"):
    hk_keras.models.load_model(dst)
  # One whose HDF5 member is far larger than the architecture implies.
  members["model.weights.h5"] = b"\0" * (8 * 2**20)
  with zipfile.ZipFile(dst, "w") as z:
    for n, blob in members.items():
      z.writestr(n, blob)
  with pytest.raises(SavingError, match="architecture in config.json implies"):
    hk_keras.models.load_model(dst)


def test_string_input_feeds_host_layers(tmp_path):
  vocab = ["a", "b", "c"]

  def body():
    return [hk_keras.layers.StringLookup(vocabulary=vocab),
            hk_keras.layers.Embedding(5, 2), hk_keras.layers.Flatten(),
            hk_keras.layers.Dense(1)]
  with_input = hk_keras.Sequential(
      [hk_keras.Input(shape=(1,), dtype="string")] + body())
  plain = hk_keras.Sequential(body())
  x = np.array([["a"], ["c"], ["zzz"]])
  plain.predict(x, verbose=0)
  with_input.predict(x, verbose=0)
  with_input.set_weights(plain.get_weights())
  np.testing.assert_allclose(with_input.predict(x, verbose=0),
                             plain.predict(x, verbose=0), atol=1e-6)
  with_input.compile("sgd", "mse")
  with_input.fit(x, np.ones((3, 1), "float32"), verbose=0)
  path = str(tmp_path / "strings.keras")
  with_input.save(path)
  back = hk_keras.models.load_model(path)
  np.testing.assert_allclose(back.predict(x, verbose=0),
                             with_input.predict(x, verbose=0), atol=1e-6)
  assert hk_keras.Input((1,), dtype="string").dtype == "string"
