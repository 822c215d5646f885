"""What a layer saves of its own, and Keras objects as config dicts.

* `serialize_keras_object` gives Keras 3's dict for optimizers, losses,
  metrics, initializers, regularizers and schedules (compared with
  `keras.saving.serialize_keras_object` itself), and reads Keras 3's dicts.
* `save_own_variables` / `load_own_variables` overrides of nested layers go
  through `.keras`, `.weights.npz` and Keras 3 files; a store that does not
  fit the layer gives an error naming the layer and the key.
* Asset member names that could leave the extraction directory are refused.
"""
import os
import re
import zipfile

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import pytest

import hk_keras
from hk_keras.saving import SavingError

keras = pytest.importorskip("keras")


# -- serialize_keras_object parity ---------------------------------------------------

def _pairs(lib):
  return [
      lib.optimizers.Adam(learning_rate=0.5),
      lib.optimizers.SGD(learning_rate=0.25, momentum=0.9),
      lib.losses.MeanSquaredError(),
      lib.losses.SparseCategoricalCrossentropy(from_logits=True),
      lib.metrics.AUC(num_thresholds=7),
      lib.initializers.GlorotUniform(seed=3),
      lib.regularizers.L2(0.125),
      lib.optimizers.schedules.ExponentialDecay(0.5, 10, 0.75),
      lib.optimizers.Adam(learning_rate=lib.optimizers.schedules.
                          ExponentialDecay(0.5, 10, 0.75)),
  ]


# hk_keras config keys Keras 3.15 lacks (documented in
# docs/differences_from_keras.md).
_HK_ONLY = {"SparseCategoricalCrossentropy": {"axis"}}


def _same(hk, k3, where):
  if isinstance(k3, dict) and "class_name" in k3:
    assert hk["class_name"] == k3["class_name"], where
    assert hk["module"] == "hk_" + k3["module"], where  # keras.x -> hk_keras.x
    assert hk["registered_name"] == k3["registered_name"], where
    extra = set(hk["config"]) - set(k3["config"])
    assert extra <= _HK_ONLY.get(hk["class_name"], set()), (where, extra)
    for key, value in k3["config"].items():
      _same(hk["config"][key], value, f"{where}.{key}")
  elif where.endswith(".name"):  # Keras numbers names per process
    assert re.sub(r"_\d+$", "", hk) == re.sub(r"_\d+$", "", k3), where
  elif isinstance(k3, float):
    assert hk == pytest.approx(k3, rel=1e-6), where
  else:
    assert hk == k3, where


def test_serialize_keras_object_matches_keras3_and_reads_its_dicts():
  for hk_obj, k3_obj in zip(_pairs(hk_keras), _pairs(keras)):
    name = type(k3_obj).__name__
    k3 = keras.saving.serialize_keras_object(k3_obj)
    rebuilt = hk_keras.saving.deserialize_keras_object(k3)  # Keras's dict
    assert type(rebuilt) is type(hk_obj)
    for obj in (hk_obj, rebuilt):
      hk = hk_keras.saving.serialize_keras_object(obj)
      again = hk_keras.saving.deserialize_keras_object(hk)
      assert type(again) is type(hk_obj)
      _same(hk, k3, name)
  relu = keras.saving.serialize_keras_object(keras.activations.relu)
  assert hk_keras.saving.deserialize_keras_object(relu) is (
      hk_keras.activations.relu)
  with pytest.raises(TypeError, match="Cannot serialize"):
    hk_keras.saving.serialize_keras_object(object())


# -- own variables ------------------------------------------------------------------

@hk_keras.saving.register_keras_serializable(package="own_vars")
class CountingDense(hk_keras.layers.Dense):
  """Saves a host-side counter next to its weights."""

  def __init__(self, units, **kwargs):
    super().__init__(units, **kwargs)
    self.seen = np.zeros((), np.int32)

  def save_own_variables(self, store):
    super().save_own_variables(store)
    store["seen"] = self.seen

  def load_own_variables(self, store):
    self.seen = np.asarray(store["seen"])
    super().load_own_variables(store)


@hk_keras.saving.register_keras_serializable(package="own_vars")
class Block(hk_keras.layers.Layer):
  """An own weight and a sublayer that overrides the hooks too."""

  def __init__(self, **kwargs):
    super().__init__(**kwargs)
    self.inner = CountingDense(2)
    self.offset = np.float32(0.0)

  def build(self, input_shape):
    self.scale = self.add_weight(shape=(2,), initializer="ones")

  def call(self, x):
    return self.inner(x) * self.scale + self.offset

  def save_own_variables(self, store):
    super().save_own_variables(store)
    store["offset"] = np.asarray(self.offset)

  def load_own_variables(self, store):
    self.offset = np.float32(store["offset"])
    super().load_own_variables(store)


def _block_model():
  model = hk_keras.Sequential([hk_keras.Input((3,)), Block()])
  block = model.layers[0]
  block.inner.seen = np.array(7, np.int32)
  block.offset = np.float32(0.5)
  block.set_weights([np.array([2.0, 3.0], np.float32)] + [
      np.full(w.shape, 0.25, np.float32) for w in block.get_weights()[1:]])
  return model


@pytest.fixture(scope="module")
def block_model():
  return _block_model()


_X = np.arange(6, dtype=np.float32).reshape(2, 3)


def _check_restored(model, expected):
  block = model.layers[0]
  assert int(block.inner.seen) == 7 and float(block.offset) == 0.5
  np.testing.assert_allclose(model(_X), expected, rtol=1e-6)


def test_own_variables_of_nested_layers_round_trip(block_model, tmp_path):
  expected = np.asarray(block_model(_X))
  path = str(tmp_path / "m.keras")
  block_model.save(path)
  with zipfile.ZipFile(path) as z, z.open("own_variables.npz") as f:
    keys = sorted(np.load(f).files)
  assert keys == ["own_variables/layers/block/inner/vars/0",
                  "own_variables/layers/block/inner/vars/1",
                  "own_variables/layers/block/inner/vars/seen",
                  "own_variables/layers/block/vars/0",
                  "own_variables/layers/block/vars/offset"]
  _check_restored(hk_keras.saving.load_model(path), expected)
  weights = str(tmp_path / "w.weights.npz")
  block_model.save_weights(weights)
  fresh = hk_keras.Sequential([hk_keras.Input((3,)), Block()])
  fresh.load_weights(weights)
  _check_restored(fresh, expected)


def test_store_that_does_not_fit_names_layer_and_key(block_model, tmp_path):
  path = str(tmp_path / "m.weights.npz")
  block_model.save_weights(path)
  data = dict(np.load(path))
  bad = dict(data)
  bad["own_variables/layers/block/vars/0"] = np.ones((5,), np.float32)
  np.savez(str(tmp_path / "shape.weights.npz"), **bad)
  fresh = hk_keras.Sequential([hk_keras.Input((3,)), Block()])
  with pytest.raises(SavingError, match=r"layer 'block.*key '0'.*\(5,\).*"
                     r"\(2,\)"):
    fresh.load_weights(str(tmp_path / "shape.weights.npz"))
  del data["own_variables/layers/block/inner/vars/seen"]
  np.savez(str(tmp_path / "key.weights.npz"), **data)
  with pytest.raises(SavingError, match=r"counting_dense.*no key 'seen'"):
    fresh.load_weights(str(tmp_path / "key.weights.npz"))

  class Texty(hk_keras.layers.Dense):
    def save_own_variables(self, store):
      store["words"] = np.array(["a", "b"])

  model = hk_keras.Sequential([hk_keras.Input((3,)), Texty(2)])
  with pytest.raises(TypeError, match=r"texty.*store\['words'\].*numeric"):
    model.save_weights(str(tmp_path / "t.weights.npz"))


def _keras_tagged_dense():
  # (Keras's file names a layer's group after its class name, so both
  # classes are called TaggedDense.)
  @keras.saving.register_keras_serializable(package="own_k3")
  class TaggedDense(keras.layers.Dense):
    def save_own_variables(self, store):
      super().save_own_variables(store)
      store["tag"] = np.array([4.0, 5.0], np.float32)
  return TaggedDense


def test_keras3_file_with_a_layer_saving_extra_entries(tmp_path):
  @hk_keras.saving.register_keras_serializable(package="own_k3")
  class TaggedDense(hk_keras.layers.Dense):
    tag = None

    def load_own_variables(self, store):
      self.tag = np.asarray(store["tag"])
      super().load_own_variables(store)

  k3 = keras.Sequential([keras.Input((3,)), _keras_tagged_dense()(2)])
  k3.layers[0].set_weights([np.full((3, 2), 0.5, np.float32),
                            np.array([1.0, -1.0], np.float32)])
  path = str(tmp_path / "k3.keras")
  k3.save(path)
  restored = hk_keras.saving.load_model(path)
  np.testing.assert_array_equal(restored.layers[0].tag, [4.0, 5.0])
  np.testing.assert_allclose(restored(_X), k3(_X), atol=1e-6)


# -- assets ---------------------------------------------------------------------------

@hk_keras.saving.register_keras_serializable(package="own_vars")
class Vocab(hk_keras.layers.Dense):
  def __init__(self, vocab="", **kwargs):
    super().__init__(**kwargs)
    self.vocab = vocab

  def save_assets(self, dir_path):
    os.makedirs(os.path.join(dir_path, "sub"))
    with open(os.path.join(dir_path, "sub", "vocab.txt"), "w") as f:
      f.write(self.vocab)

  def load_assets(self, dir_path):
    with open(os.path.join(dir_path, "sub", "vocab.txt")) as f:
      self.vocab = f.read()


@pytest.mark.parametrize("name", ["assets/../evil.txt",
                                  "assets//etc/evil.txt",
                                  "assets/layers/vocab/..\\evil.txt"])
def test_asset_names_leaving_the_directory_are_refused(tmp_path, name):
  model = hk_keras.Sequential([hk_keras.Input((3,)), Vocab("x y", units=2)])
  path = str(tmp_path / "a.keras")
  model.save(path)
  with zipfile.ZipFile(path) as z:
    assert "assets/layers/vocab/sub/vocab.txt" in z.namelist()
  restored = hk_keras.saving.load_model(path,
                                        custom_objects={"Vocab": Vocab})
  assert restored.layers[0].vocab == "x y"
  with zipfile.ZipFile(path, "a") as z:
    z.writestr(name, b"owned")
  with pytest.raises(SavingError, match="could write outside"):
    hk_keras.saving.load_model(path, custom_objects={"Vocab": Vocab})
  assert not os.path.exists(tmp_path / "evil.txt")


def test_changed_or_unlisted_assets_are_refused(tmp_path):
  from hostile_files import repack  # pylint: disable=g-import-not-at-top
  model = hk_keras.Sequential([hk_keras.Input((3,)), Vocab("x y", units=2)])
  path = str(tmp_path / "a.keras")
  model.save(path)
  member = "assets/layers/vocab/sub/vocab.txt"
  repack(path, str(tmp_path / "changed.keras"), {member: b"x z"},
         fix_sums=False)
  repack(path, str(tmp_path / "unlisted.keras"),
         extra={"assets/layers/vocab/more.txt": (b"?", zipfile.ZIP_STORED)})
  for name, match in (("changed", "checksum"), ("unlisted", "not listed")):
    with pytest.raises(SavingError, match=match):
      hk_keras.saving.load_model(str(tmp_path / f"{name}.keras"))


def test_keras3_format_keeps_assets(tmp_path):
  """hk_keras writing a Keras 3 file calls the same hooks."""
  model = hk_keras.Sequential([hk_keras.Input((3,)), Vocab("p q", units=2)])
  path = str(tmp_path / "k3.keras")
  model.save(path, format="keras3")
  restored = hk_keras.saving.load_model(path,
                                        custom_objects={"Vocab": Vocab})
  assert restored.layers[0].vocab == "p q"
  np.testing.assert_allclose(restored(_X), model(_X), rtol=1e-6)


@pytest.mark.parametrize("make_ours,make_theirs", [
    (lambda: hk_keras.layers.Dense(3), lambda: keras.layers.Dense(3)),
    (lambda: hk_keras.layers.BatchNormalization(),
     lambda: keras.layers.BatchNormalization()),
])
def test_default_store_matches_keras3(make_ours, make_theirs):
  # The default save_own_variables writes what Keras 3's writes (keys "0",
  # "1", ... in Keras's weight order), and a Keras store loads into ours.
  x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
  theirs = make_theirs()
  theirs(x)  # build
  for v in theirs.weights:  # non-default values, so the order shows
    v.assign(np.random.default_rng(len(v.path)).normal(
        size=v.shape).astype("float32"))
  k3_store = {}
  theirs.save_own_variables(k3_store)
  ours = make_ours()
  hk_keras.Sequential([hk_keras.Input((5,)), ours])
  ours.load_own_variables(k3_store)
  our_store = {}
  ours.save_own_variables(our_store)
  assert sorted(our_store) == sorted(k3_store)
  for key, value in k3_store.items():
    np.testing.assert_array_equal(our_store[key], np.asarray(value))
  np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(theirs(x)),
                             atol=1e-5)
