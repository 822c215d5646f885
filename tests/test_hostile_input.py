"""Hostile and broken input (issue 14): files, checkpoint pointers, training
arguments. Each class of problem gives one clear error, never a raw internal
exception, and a hostile file costs no more memory than a good one."""
import copy
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import hk_keras
from hk_keras import layers
from hk_keras.saving import SavingError

from hostile_files import load_in_subprocess
from hostile_files import members
from hostile_files import npy
from hostile_files import npy_header
from hostile_files import npz_bytes_with
from hostile_files import npz_entries
from hostile_files import repack
from hostile_files import write_streamed
from hostile_files import zeros

GiB = 2**30
BOMB = 192 * 2**20  # inflated size of the zip bombs


def _functional():
  hk_keras.utils.set_random_seed(0)
  a = hk_keras.Input((3,), name="a")
  b = hk_keras.Input((2,), name="b")
  h = layers.Dense(4, activation="relu", name="d1")(a)
  h = layers.Concatenate(name="cat")([h, b])
  out = layers.Dense(2, name="d2")(h)
  model = hk_keras.Model([a, b], out, name="net")
  model.compile(optimizer="adam", loss="mse")
  model.fit([np.ones((4, 3)), np.ones((4, 2))], np.ones((4, 2)), epochs=1,
            verbose=0)
  return model


@pytest.fixture(scope="module")
def target():
  """A built model the weights files are loaded into (a refused load
  changes nothing)."""
  return _functional()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
  directory = tmp_path_factory.mktemp("hostile")
  model = _functional()
  path = str(directory / "good.keras")
  model.save(path)
  weights = str(directory / "good.weights.npz")
  model.save_weights(weights)
  return {"dir": directory, "keras": path, "weights": weights,
          "model": model}


def _edit_json(src, dst, member, change):
  data = json.loads(members(src)[member][0])
  new = change(data)
  repack(src, dst, {member: json.dumps(data if new is None else new)
                    .encode()})


def _refused(path, *match, load=None):
  with pytest.raises(SavingError) as info:
    (load or hk_keras.models.load_model)(str(path))
  message = str(info.value)
  assert os.path.basename(str(path)) in message, message
  for m in match:
    assert m in message, message
  return message


# -- malformed JSON members of a .keras file -----------------------------------

def _deep(n):
  return "[" * n + "]" * n


_CONFIG_CASES = {
    "a list": lambda c: [c],
    "a string": lambda c: "model",
    "a number": lambda c: 3,
    "no model": lambda c: {k: v for k, v in c.items() if k != "model"},
    "model a list": lambda c: dict(c, model=[1]),
    "class_name a number": lambda c: _set(c, ["model", "class_name"], 7),
    "layers a dict": lambda c: _set(c, ["model", "config", "layers"], {}),
    "layer config a string": lambda c: _set(
        c, ["model", "config", "layers", 1, "config"], "x"),
    "inbound_nodes a string": lambda c: _set(
        c, ["model", "config", "layers", 1, "inbound_nodes"], "x"),
    "tensor ref short": lambda c: _set(
        c, ["model", "config", "layers", 1, "inbound_nodes", 0, "args", 0],
        {"__tensor__": ["a", 0]}),
    "tensor ref to nothing": lambda c: _set(
        c, ["model", "config", "layers", 1, "inbound_nodes", 0, "args", 0],
        {"__tensor__": ["nope", 0, 0]}),
    "negative call index": lambda c: _set(
        c, ["model", "config", "layers", 1, "inbound_nodes", 0, "args", 0],
        {"__tensor__": ["a", -1, 0]}),
    "units a string": lambda c: _set(
        c, ["model", "config", "layers", 1, "config", "units"], "four"),
    "unknown layer kwarg": lambda c: _set(
        c, ["model", "config", "layers", 1, "config", "bogus"], 1),
    "class named KerasTensor": lambda c: _set(
        c, ["model", "config", "layers", 1, "class_name"], "KerasTensor"),
    "train_state a list": lambda c: dict(c, train_state=[1]),
    "compile_config a string": lambda c: dict(c, compile_config="adam"),
    "unknown optimizer": lambda c: _set(
        c, ["compile_config", "optimizer"], {"__object__": {
            "class_name": "NoSuchOptimizer", "config": {}}}),
    "duplicate layer names": lambda c: _set(
        c, ["model", "config", "layers", 3, "name"], "d1"),
}


def _set(config, keys, value):
  target = config
  for key in keys[:-1]:
    target = target[key]
  target[keys[-1]] = value
  return config


@pytest.mark.parametrize("case", sorted(_CONFIG_CASES))
def test_malformed_config_json(saved, tmp_path, case):
  path = tmp_path / "bad.keras"
  _edit_json(saved["keras"], path, "config.json", _CONFIG_CASES[case])
  message = _refused(path, "config.json")
  if case == "class named KerasTensor":
    assert "internal" in message


def test_config_nested_100000_deep(saved, tmp_path):
  path = tmp_path / "deep.keras"
  repack(saved["keras"], path, {"config.json": _deep(100000).encode()})
  _refused(path, "config.json", "nested")
  # Deep but under Python's recursion limit: still refused by the depth limit.
  repack(saved["keras"], path, {"config.json": (
      '{"model": ' + _deep(500) + "}").encode()})
  _refused(path, "config.json", "nested")


def test_config_not_json(saved, tmp_path):
  path = tmp_path / "bad.keras"
  repack(saved["keras"], path, {"config.json": b"{\"model\": \xff"})
  _refused(path, "config.json", "JSON")


_METADATA_CASES = {
    "a list": lambda m: [m],
    "a string": lambda m: "x",
    "a number": lambda m: 1.5,
    "no files": lambda m: {k: v for k, v in m.items() if k != "files"},
    "files a list": lambda m: dict(m, files=[]),
    "file entry a string": lambda m: _set(m, ["files", "config.json"], "x"),
    "unknown member listed": lambda m: _set(m, ["files", "../evil"], {
        "sha256": "0", "bytes": 1}),
    "version a string": lambda m: dict(m, format_version="1"),
    "newer version": lambda m: dict(m, format_version=99),
    "weights a dict": lambda m: dict(m, weights={}),
    "weight shape strings": lambda m: _set(m, ["weights", 0, "shape"], ["a"]),
    "deep": lambda m: json.loads('{"x": ' + _deep(300) + "}"),
}


@pytest.mark.parametrize("case", sorted(_METADATA_CASES))
def test_malformed_metadata_json(saved, tmp_path, case):
  path = tmp_path / "bad.keras"
  data = json.loads(members(saved["keras"])["metadata.json"][0])
  new = _METADATA_CASES[case](copy.deepcopy(data))
  repack(saved["keras"], path,
         {"metadata.json": json.dumps(new).encode()}, fix_sums=False)
  _refused(path, "metadata.json")


def _weights_with(src, dst, entries):
  """A .weights.npz like `src` with entries replaced (whole .npy bytes)."""
  with open(src, "rb") as f:
    original = npz_entries(f.read())
  original.update(entries)
  with open(dst, "wb") as f:
    f.write(npz_bytes_with({k: v for k, v in original.items()
                            if v is not None}))


def _json_npy(value):
  text = value if isinstance(value, str) else json.dumps(value)
  return npy(np.frombuffer(text.encode(), np.uint8))


@pytest.mark.parametrize("name,value", [
    ("__metadata__", [1, 2]),
    ("__metadata__", "text"),
    ("__metadata__", 5),
    ("__metadata__", {"format": "other"}),
    ("__metadata__", {"weights": "x"}),
    ("__metadata__", {"train_state": {"shuffle_seed": "x"}}),
    ("__metadata__", _deep(100000)),
    ("__dtypes__", [1]),
    ("__dtypes__", {"params/d1/kernel": "no_such_dtype"}),
    ("__dtypes__", {"params/d1/kernel": "bfloat16"}),  # wrong width (f4)
    ("__dtypes__", {"missing": "float32"}),
])
def test_malformed_weights_json(saved, target, tmp_path, name, value):
  path = tmp_path / "bad.weights.npz"
  _weights_with(saved["weights"], path, {name: _json_npy(value)})
  _refused(path, name, load=target.load_weights)


def test_weights_entry_that_is_not_an_array_or_has_object_dtype(
    saved, target, tmp_path):
  model = target
  path = tmp_path / "bad.weights.npz"
  header = npy_header((3, 4), "|O")
  _weights_with(saved["weights"], path, {"params/d1/kernel": header + b"x"})
  _refused(path, "params/d1/kernel", "dtype", load=model.load_weights)
  _weights_with(saved["weights"], path,
                {"params/d1/kernel": npy(np.zeros((3, 5), np.float32))})
  _refused(path, "shape", load=model.load_weights)


def test_unknown_weight_entry_and_stray_train_entry(saved, target, tmp_path):
  model = target
  path = tmp_path / "bad.weights.npz"
  _weights_with(saved["weights"], path, {"surprise": npy(np.zeros(3))})
  _refused(path, "surprise", load=model.load_weights)
  _weights_with(saved["weights"], path,
                {"step": npy(np.zeros(3, np.int32))})
  _refused(path, "step", load=model.load_weights)


def test_good_files_load_identically(saved, target):
  model = saved["model"]
  loaded = hk_keras.models.load_model(saved["keras"])
  x = [np.linspace(0, 1, 6).reshape(2, 3), np.ones((2, 2))]
  np.testing.assert_array_equal(loaded.predict(x, verbose=0),
                                model.predict(x, verbose=0))
  fresh = target
  fresh.load_weights(saved["weights"])
  np.testing.assert_array_equal(fresh.predict(x, verbose=0),
                                model.predict(x, verbose=0))


# -- size limits ---------------------------------------------------------------

def test_max_bytes_limit_and_override(saved, monkeypatch):
  with pytest.raises(SavingError, match=r"good\.keras.*max_bytes"):
    hk_keras.models.load_model(saved["keras"], max_bytes=200)
  monkeypatch.setenv("HK_KERAS_MAX_LOAD_BYTES", "200")
  with pytest.raises(SavingError, match="HK_KERAS_MAX_LOAD_BYTES"):
    hk_keras.models.load_model(saved["keras"])
  # An explicit argument overrides the environment.
  hk_keras.models.load_model(saved["keras"], max_bytes=2**30)
  with pytest.raises(ValueError, match="max_bytes"):
    hk_keras.models.load_model(saved["keras"], max_bytes=-1)


def test_dense_with_2_31_units_refused_before_allocation(saved, tmp_path):
  path = tmp_path / "huge.keras"
  _edit_json(saved["keras"], path, "config.json", lambda c: _set(
      c, ["model", "config", "layers", 1, "config", "units"], 2**31))
  # 3 x 2**31 float32 = 24 GiB: more than the default limit...
  _refused(path, "config.json", "max_bytes")
  # ...and with the limit raised, the shapes do not match the file.
  with pytest.raises(SavingError, match=r"config\.json.*d1/.*2147483648.*"
                     r"nothing was allocated"):
    hk_keras.models.load_model(str(path), max_bytes=2**40)


def test_compressed_weights_member_refused(saved, tmp_path):
  path = tmp_path / "deflated.keras"
  items = members(saved["keras"])
  with zipfile.ZipFile(path, "w") as zf:
    for name, (data, kind) in items.items():
      zf.writestr(name, data, compress_type=(
          zipfile.ZIP_DEFLATED if name.endswith(".npz") else kind))
  _refused(path, "model.weights.npz", "compressed")


# -- memory: hostile files cost no more than the good one -------------------------

@pytest.fixture(scope="module")
def bombs(saved):
  """Hostile files, each inflating to 192 MiB or declaring >= 8 GiB."""
  d, good = saved["dir"], saved["keras"]
  files = {}
  files["extra member"] = str(d / "extra.keras")
  repack(good, files["extra member"], extra={
      "junk.bin": (zeros(BOMB), zipfile.ZIP_DEFLATED)})
  files["config bomb"] = str(d / "config_bomb.keras")
  repack(good, files["config bomb"], {"config.json": None}, fix_sums=False,
         extra={"config.json": (zeros(BOMB), zipfile.ZIP_DEFLATED)})
  weights = npz_entries(members(good)["model.weights.npz"][0])
  weights["params/d1/kernel"] = npy_header((2**31,))  # 8 GiB declared
  files["npy header 8 GiB"] = str(d / "header.keras")
  repack(good, files["npy header 8 GiB"],
         {"model.weights.npz": npz_bytes_with(weights)})
  files["units 2**31"] = str(d / "units.keras")
  _edit_json(good, files["units 2**31"], "config.json", lambda c: _set(
      c, ["model", "config", "layers", 1, "config", "units"], 2**31))
  # .weights.npz: a deflated 1 GiB array (compresses to ~1 MB).
  files["compressible array"] = str(d / "bomb.weights.npz")
  with open(saved["weights"], "rb") as f:
    entries = npz_entries(f.read())
  with zipfile.ZipFile(files["compressible array"], "w") as zf:
    for name, data in entries.items():
      if name == "params/d1/kernel":
        write_streamed(zf, name + ".npy",
                       iter([npy_header((BOMB // 4,))] + list(zeros(BOMB))),
                       zipfile.ZIP_DEFLATED)
      else:
        zf.writestr(name + ".npy", data)
  files["weights header 8 GiB"] = str(d / "header.weights.npz")
  entries["params/d1/kernel"] = npy_header((2**31,))
  with open(files["weights header 8 GiB"], "wb") as f:
    f.write(npz_bytes_with(entries))
  return files


def test_hostile_files_bounded_memory(saved, bombs):
  assert os.path.getsize(bombs["compressible array"]) < 2**20
  jobs = [("model", saved["keras"]), (saved["keras"], saved["weights"])]
  names = sorted(bombs)
  for name in names:
    path = bombs[name]
    jobs.append(("model", path) if path.endswith(".keras")
                else (saved["keras"], path))
  margin_as = 512 * 2**20
  results = load_in_subprocess(jobs, margin_as)
  (good_model, peak_model), (good_weights, peak_weights) = results[:2]
  assert good_model == "loaded" and good_weights == "loaded", results[:2]
  baseline = max(peak_model, peak_weights)
  for name, (outcome, peak) in zip(names, results[2:]):
    # A member the format does not name is never read: the file loads.
    allowed = ("SavingError", "loaded") if name == "extra member" else (
        "SavingError",)
    assert outcome.startswith(allowed), (name, outcome)
    # Peak RSS above the good file's, with a small margin for allocator noise.
    assert peak <= baseline + 32 * 2**20, (name, peak, baseline)
  print("peak RSS growth (MiB): good", baseline / 2**20, {
      n: r[1] / 2**20 for n, r in zip(names, results[2:])})


# -- checkpoint pointers stay inside their directory -------------------------------

def _backup_model():
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(1)])
  model.compile(optimizer="sgd", loss="mse")
  return model


@pytest.mark.parametrize("name", ["../outside.weights.npz", "/abs.weights.npz",
                                  "sub/x.weights.npz", "..", ""])
def test_backup_pointer_outside_directory_refused(tmp_path, name):
  model = _backup_model()
  backup = tmp_path / "backup"
  backup.mkdir()
  model.save_weights(str(tmp_path / "outside.weights.npz"))
  (backup / "latest.json").write_text(json.dumps(
      {"format": "hk_keras.backup", "file": name, "epoch": 1}))
  callback = hk_keras.callbacks.BackupAndRestore(str(backup))
  with pytest.raises(SavingError, match=r"latest\.json.*inside the backup"):
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=2, verbose=0,
              callbacks=[callback])


def test_backup_symlink_out_of_directory_refused(tmp_path):
  model = _backup_model()
  backup = tmp_path / "backup"
  backup.mkdir()
  model.save_weights(str(tmp_path / "outside.weights.npz"))
  os.symlink(tmp_path / "outside.weights.npz", backup / "link.weights.npz")
  (backup / "latest.json").write_text(json.dumps(
      {"format": "hk_keras.backup", "file": "link.weights.npz", "epoch": 1}))
  with pytest.raises(SavingError, match="inside the backup"):
    model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=2, verbose=0,
              callbacks=[hk_keras.callbacks.BackupAndRestore(str(backup))])


@pytest.mark.parametrize("text", [
    "[1]", '"x"', "3", "{}", '{"format": "hk_keras.backup"}',
    '{"format": "hk_keras.backup", "file": 3, "epoch": 1}',
    '{"format": "hk_keras.backup", "file": "b.weights.npz", "epoch": "1"}',
    '{"format": "hk_keras.backup", "file": "b.weights.npz", "epoch": -2}',
    "{" * 100000, "not json",
])
def test_malformed_backup_pointer(tmp_path, text):
  backup = tmp_path / "backup"
  backup.mkdir()
  (backup / "latest.json").write_text(text)
  with pytest.raises(SavingError, match=r"latest\.json"):
    _backup_model().fit(np.ones((4, 3)), np.ones((4, 1)), epochs=1,
                        verbose=0, callbacks=[
                            hk_keras.callbacks.BackupAndRestore(str(backup))])


def test_model_checkpoint_log_values_stay_in_directory(tmp_path):
  model = _backup_model()

  class Poison(hk_keras.callbacks.Callback):

    def on_epoch_end(self, epoch, logs=None):
      logs["tag"] = "../../escaped"

  path = str(tmp_path / "ckpt" / "m-{tag}.keras")
  model.fit(np.ones((4, 3)), np.ones((4, 1)), epochs=1, verbose=0,
            callbacks=[Poison(), hk_keras.callbacks.ModelCheckpoint(path)])
  assert os.listdir(tmp_path / "ckpt") == ["m-______escaped.keras"]
  assert sorted(os.listdir(tmp_path)) == ["ckpt"]


# -- stale temporary files --------------------------------------------------------

def test_stale_temporaries_removed_on_next_save(tmp_path):
  model = _backup_model()
  dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True)
  dead_pid = int(dead.stdout)
  stale = tmp_path / f".m.keras.{dead_pid}.abc123.tmp"
  live = tmp_path / f".m.keras.{os.getppid()}.def456.tmp"  # a live process
  other = tmp_path / f".other.keras.{dead_pid}.x.tmp"
  legacy = tmp_path / ".m.keras.zq3k1_ab.tmp"
  for p in (stale, live, other, legacy):
    p.write_bytes(b"partial")
  os.utime(legacy, (0, 0))  # written long ago by an older hk_keras
  model.save(str(tmp_path / "m.keras"))
  left = sorted(os.listdir(tmp_path))
  assert left == sorted(["m.keras", live.name, other.name]), left


# -- training input ----------------------------------------------------------------

@pytest.fixture(scope="module")
def classifier():
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(4)])
  model.compile(optimizer="sgd", loss=hk_keras.losses.
                SparseCategoricalCrossentropy(from_logits=True))
  return model


X = np.linspace(0, 1, 24, dtype=np.float32).reshape(8, 3)
Y = np.array([0, 1, 2, 3, 0, 1, 2, 3])


@pytest.mark.parametrize("kwargs,match", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": -4}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"), ({"batch_size": True}, "batch_size"),
    ({"batch_size": "8"}, "batch_size"), ({"epochs": -1}, "epochs"),
    ({"epochs": 1.5}, "epochs"), ({"initial_epoch": -1}, "initial_epoch"),
    ({"validation_batch_size": 0}, "validation_batch_size"),
    ({"steps_per_epoch": 0}, "steps_per_epoch"),
])
def test_bad_fit_arguments(classifier, kwargs, match):
  with pytest.raises(ValueError, match=rf"fit\(\).*{match}.*Received"):
    classifier.fit(X, Y, verbose=0, **kwargs)


@pytest.mark.parametrize("method", ["evaluate", "predict"])
@pytest.mark.parametrize("batch_size", [0, -1, 1.0])
def test_bad_batch_size_evaluate_predict(classifier, method, batch_size):
  args = (X, Y) if method == "evaluate" else (X,)
  with pytest.raises(ValueError, match=rf"{method}\(\).*batch_size"):
    getattr(classifier, method)(*args, batch_size=batch_size, verbose=0)


def test_zero_epochs_is_allowed_and_trains_nothing(classifier):
  before = classifier.get_weights()
  history = classifier.fit(X, Y, epochs=0, verbose=0)
  assert history.history == {}
  for a, b in zip(before, classifier.get_weights()):
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_empty_dataset_refused(classifier, method):
  args = (X[:0], Y[:0]) if method != "predict" else (X[:0],)
  with pytest.raises(ValueError, match=rf"{method}\(\).*0 samples"):
    getattr(classifier, method)(*args, verbose=0)
  if method == "fit":
    with pytest.raises(ValueError, match=r"validation_data.*0 samples"):
      classifier.fit(X, Y, validation_data=(X[:0], Y[:0]), verbose=0)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict"])
def test_int64_beyond_int32_refused(classifier, method):
  big = np.full((8, 3), 2**40, np.int64)
  args = (big, Y) if method != "predict" else (big,)
  with pytest.raises(ValueError, match=r"int64.*int32.*jax_enable_x64"):
    getattr(classifier, method)(*args, verbose=0)
  # Within range, int64 data is accepted (converted to int32).
  small = np.full((8, 3), 7, np.int64)
  getattr(classifier, method)(*((small, Y) if method != "predict"
                                else (small,)), verbose=0)


def test_out_of_range_sparse_labels_nan_loss_and_debug_raises():
  loss = hk_keras.losses.sparse_categorical_crossentropy(
      np.array([0, 4, -1, 2]), np.zeros((4, 4), np.float32), from_logits=True)
  loss = np.asarray(loss)
  np.testing.assert_allclose(loss[[0, 3]], np.log(4.0), rtol=1e-6)
  assert np.isnan(loss[1]) and np.isnan(loss[2])
  # ignore_class rows still give 0, not NaN.
  ignored = hk_keras.losses.sparse_categorical_crossentropy(
      np.array([0, -1]), np.zeros((2, 4), np.float32), from_logits=True,
      ignore_class=-1)
  np.testing.assert_allclose(np.asarray(ignored), [np.log(4.0), 0.0],
                             rtol=1e-6)
  bad = np.array([0, 1, 2, 3, 0, 1, 2, 9])
  model = hk_keras.Sequential([hk_keras.Input((3,)), layers.Dense(4)])
  model.compile(optimizer="sgd", loss=hk_keras.losses.
                SparseCategoricalCrossentropy(from_logits=True), debug=True)
  with pytest.raises(Exception, match=r"non-finite.*sparse class labels"):
    model.fit(X, bad, epochs=1, verbose=0)
