"""hk_keras's own pickle reader (datasets/_safe_unpickle.py) against Python's
`pickle.loads` on the pickles Keras's dataset files hold, and on hostile
files it must refuse without running anything. `pickle` is imported here only
to write fixtures and to be the oracle."""
import io
import os
import pathlib
import pickle
import re
import struct
import tracemalloc

import numpy as np
import pytest

from hk_keras.datasets import _safe_npz
from hk_keras.datasets._safe_unpickle import UnsafePickleError, loads

RNG = np.random.default_rng(0)
PROTOCOLS = (0, 1, 2, 3, 4, 5)
ENCODINGS = ("bytes", "latin1")


def _assert_same(ours, ref, where="result"):
  """Same types, dtypes, shapes, memory order and values, all the way down."""
  assert type(ours) is type(ref), (where, type(ours), type(ref))
  if isinstance(ref, np.ndarray):
    assert ours.dtype.str == ref.dtype.str, where
    assert ours.shape == ref.shape, where
    assert ours.flags.f_contiguous == ref.flags.f_contiguous, where
    assert ours.flags.c_contiguous == ref.flags.c_contiguous, where
    if ref.dtype == object:
      for i, (a, b) in enumerate(zip(ours.ravel("K"), ref.ravel("K"))):
        _assert_same(a, b, f"{where}[{i}]")
    else:
      np.testing.assert_array_equal(ours, ref)
  elif isinstance(ref, dict):
    assert list(ours) == list(ref), where
    for k in ref:
      _assert_same(ours[k], ref[k], f"{where}[{k!r}]")
  elif isinstance(ref, (list, tuple)):
    assert len(ours) == len(ref), where
    for i, (a, b) in enumerate(zip(ours, ref)):
      _assert_same(a, b, f"{where}[{i}]")
  else:
    assert repr(ours) == repr(ref) and ours == ref, where


def _cifar_style(n=3):
  return {b"batch_label": b"training batch 1 of 5",
          b"labels": RNG.integers(0, 10, n).tolist(),
          b"data": RNG.integers(0, 256, (n, 3072), dtype=np.uint8),
          b"filenames": [f"img_{i}.png".encode() for i in range(n)] + [b""]}


def _arrays():
  f = np.asfortranarray(RNG.normal(size=(3, 4)).astype(np.float32))
  return {
      "float64": RNG.normal(size=(2, 5)), "fortran_f32": f,
      "int64": RNG.integers(-2**40, 2**40, 7), "int8": np.int8([-3, 4]),
      "bool": np.array([True, False, True]), "zero_d": np.array(3.5),
      "zero_d_int": np.array(7, dtype=np.uint16),
      "big_endian": np.arange(4, dtype=">f4"),
      "big_endian_fortran": np.asfortranarray(
          np.arange(6, dtype=">i2").reshape(2, 3)),
      "strided": np.arange(10)[::3], "empty": np.zeros((0, 3)),
      "complex": np.array([1 + 2j]), "unicode": np.array(["ab", "c"]),
      "bytes": np.array([b"xyz"]), "scalar_f32": np.float32(2.5),
      "scalar_i64": np.int64(-5), "scalar_bool": np.bool_(True),
      "ints": [0, 255, 256, 65535, 65536, -1, 2**31 - 1, -2**31, 2**70],
      "floats": [1.25, -0.0, float("inf")], "none": None, "text": "héllo",
      "tuple": (1, (2.0, None), ()), "flags": [True, False],
  }


def _object_array(shape, fortran=False):
  out = np.empty(int(np.prod(shape)), dtype=object)
  for i in range(out.size):
    out[i] = RNG.integers(1, 30, RNG.integers(0, 6)).tolist()
  out = out.reshape(shape)
  return np.asfortranarray(out) if fortran else out


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_python3_pickles_match_pickle_loads(protocol, encoding):
  for value in (_cifar_style(), _arrays(), _object_array((4,)),
                _object_array((2, 3), fortran=True)):
    data = pickle.dumps(value, protocol=protocol)
    _assert_same(loads(data, encoding), pickle.loads(data, encoding=encoding))


def _py2_cifar_batch(images, labels, filenames):
  """A batch as Python 2's cPickle wrote CIFAR (protocol 2, `str` opcodes,
  `numpy.core` globals, int dtype flags, LONG_BINPUT past 255 memo slots)."""
  memo = [0]

  def put():
    memo[0] += 1
    i = memo[0]
    return b"q" + bytes([i]) if i < 256 else b"r" + struct.pack("<I", i)

  def s(raw):
    head = (b"U" + bytes([len(raw)]) if len(raw) < 256
            else b"T" + struct.pack("<i", len(raw)))
    return head + raw + put()

  def ints(xs):
    return b"](" + b"".join(b"K" + bytes([x]) for x in xs) + b"e"

  n = images.shape[0]
  array = (b"cnumpy.core.multiarray\n_reconstruct\n" + put() +
           b"cnumpy\nndarray\n" + put() + b"K\x00\x85" + put() + s(b"b") +
           b"\x87" + put() + b"R" + put() +
           b"(K\x01M" + struct.pack("<H", n) + b"M" + struct.pack("<H", 3072) +
           b"\x86" + put() +
           b"cnumpy\ndtype\n" + put() + s(b"u1") + b"K\x00K\x01\x87" +
           put() + b"R" + put() + b"(K\x03" + s(b"|") +
           b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t" + put() + b"b" +
           b"\x89" + s(images.tobytes()) + b"t" + put() + b"b" + put())
  return (b"\x80\x02}" + put() + b"(" + s(b"batch_label") +
          s(b"training batch 1 of 5") + s(b"labels") + ints(labels) +
          s(b"data") + array + s(b"filenames") + b"](" +
          b"".join(s(f) for f in filenames) + b"eu.")


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_python2_cifar_batch_matches_pickle_loads(encoding):
  images = RNG.integers(0, 256, (3, 3072), dtype=np.uint8)
  labels = RNG.integers(0, 10, 300).tolist()
  names = [f"leptodactylus_pentadactylus_s_{i:06d}.png".encode()
           for i in range(300)]  # More memo slots than BINPUT's 256.
  data = _py2_cifar_batch(images, labels, names)
  assert b"r\x00\x01\x00\x00" in data  # LONG_BINPUT was written.
  ref = pickle.loads(data, encoding=encoding)
  _assert_same(loads(data, encoding), ref)
  key = b"data" if encoding == "bytes" else "data"
  np.testing.assert_array_equal(ref[key], images)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_python2_text_pickles_match_pickle_loads(encoding):
  """Protocol 0, as Python 2's cPickle.dump writes by default: STRING
  (quoted, escaped `str`), UNICODE, INT (and its "I01" True), LONG, FLOAT,
  DICT, LIST, PUT/GET."""
  data = (b"(dp0\nS'data'\np1\nS'\\x00\\xff\\n\"q\\''\np2\n"
          b"sS\"labels\"\np3\n(lp4\nI6\naI-9\naI01\naL12345678901234567890L\n"
          b"aF-1.5e-3\naVcaf\\u00e9\np5\nag2\nag5\nas(I1\nI2\ntp6\nNs.")
  ref = pickle.loads(data, encoding=encoding)
  assert ref[b"data" if encoding == "bytes" else "data"] in (
      b"\x00\xff\n\"q'", "\x00\xff\n\"q'")
  _assert_same(loads(data, encoding), ref)


def test_cifar_loader_reads_python2_batches(tmp_path):
  from hk_keras.datasets import _cifar
  images = RNG.integers(0, 256, (2, 3072), dtype=np.uint8)
  path = tmp_path / "data_batch_1"
  path.write_bytes(_py2_cifar_batch(images, [3, 7], [b"a.png", b"b.png"]))
  x, y = _cifar._batch(str(path))
  np.testing.assert_array_equal(x, images.reshape(2, 3, 32, 32))
  assert y == [3, 7]


def _npz_bytes(**arrays):
  buf = io.BytesIO()
  np.savez(buf, **arrays)  # Object arrays: np.save(allow_pickle=True).
  return buf.getvalue()


def test_imdb_style_npz_matches_np_load(tmp_path):
  ragged = _object_array((9,))
  square = np.empty(2, dtype=object)
  square[:] = [[1, 2, 3], [4, 5, 6]]
  equal = np.array([[1, 2], [3, 4]], dtype=object)  # 2-D, as Keras saves
  path = tmp_path / "imdb.npz"
  path.write_bytes(_npz_bytes(
      x_train=ragged, y_train=RNG.integers(0, 2, 9), x_test=square,
      y_test=np.asfortranarray(RNG.normal(size=(2, 3))), equal=equal,
      fortran_objects=_object_array((2, 2), fortran=True)))
  ours = _safe_npz.load_npz(str(path))
  with np.load(path, allow_pickle=True) as ref:
    assert sorted(ours) == sorted(ref.files)
    for k in ref.files:
      _assert_same(ours[k], ref[k], k)


# -- hostile files -----------------------------------------------------------


class _System:
  """Pickles as `os.system(command)`."""

  def __init__(self, command):
    self.command = command

  def __reduce__(self):
    return (os.system, (self.command,))


def _payloads(marker):
  """Hostile pickles that would create `marker` if unpickled by `pickle`."""
  evil = [pickle.dumps({b"data": _System(f"touch '{marker}'")}, protocol=p)
          for p in PROTOCOLS]  # GLOBAL, or STACK_GLOBAL from protocol 4
  code = f"open({str(marker)!r}, 'w')".encode()
  evil.append(b"\x80\x02cbuiltins\neval\nX" + struct.pack("<I", len(code)) +
              code + b"\x85R.")
  return evil


def test_reduce_payloads_would_run_code_under_pickle(tmp_path):
  """The payloads below are real: `pickle.loads` runs them."""
  for i, data in enumerate(_payloads(tmp_path / "marker")):
    pickle.loads(data)
    assert (tmp_path / "marker").exists(), i
    (tmp_path / "marker").unlink()


def test_reduce_payloads_are_refused_without_running(tmp_path):
  marker = tmp_path / "marker"
  for data, name in zip(_payloads(marker),
                        ["posix.system"] * 6 + ["builtins.eval"]):
    with pytest.raises(UnsafePickleError,
                       match=rf"Refusing.*`{re.escape(name)}`.*run code"):
      loads(data)
  path = tmp_path / "x.npz"
  objects = np.empty(1, dtype=object)
  objects[0] = _System(f"touch '{marker}'")
  path.write_bytes(_npz_bytes(x=objects))
  with pytest.raises(UnsafePickleError, match="posix.system"):
    _safe_npz.load_npz(str(path))
  assert not marker.exists()


@pytest.mark.parametrize("data, match", [
    # Opcodes that build arbitrary objects are refused by name.
    (b"\x80\x02N)\x81.", "NEWOBJ"),
    (b"\x80\x02(X\x02\x00\x00\x00lsios\nsystem\n.", "INST"),
    (b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.", "`os.system`"),
    # A global may only be called, and only as NumPy's pickles do.
    (pickle.dumps(np.ndarray, protocol=2), "`numpy.ndarray` as a value"),
    (b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00"
     b"rot13\x86R.", "something other than latin1"),
    (b"\x80\x02]]b.", "calls __setstate__"),
    (b"\x80\x02cnumpy\ndtype\nX\x02\x00\x00\x00f8\x85R]b.",
     "BUILD at byte 25: the state of a NumPy dtype must be a tuple"),
    (b"\x80\x02]]R.", "calls a list"),
    # Not a pickle at all (say, an HTML error page saved as the file).
    (b"<html><body>Not found</body></html>", "not a pickle"),
])
def test_code_and_unknown_opcodes_are_refused(data, match):
  with pytest.raises(UnsafePickleError, match=match):
    loads(data)


@pytest.mark.parametrize("data", [
    b"\x80\x03B\xff\xff\xff\xffabc.",  # BINBYTES of 4 GiB
    b"\x80\x04\x8e" + struct.pack("<Q", 2**62) + b"abc.",  # BINBYTES8
    b"\x80\x04\x8d" + struct.pack("<Q", 2**40) + b"abc.",  # BINUNICODE8
    b"\x80\x05\x96" + struct.pack("<Q", 2**40) + b"abc.",  # BYTEARRAY8
    b"\x80\x04\x95" + struct.pack("<Q", 2**40) + b"N.",  # FRAME
    b"\x80\x02T\xff\xff\xff\x7fabc.",  # BINSTRING of 2 GiB
])
def test_forged_lengths_are_refused_without_allocating(data):
  tracemalloc.start()
  try:
    with pytest.raises(UnsafePickleError, match="remain|longer than the rest"):
      loads(data)
    peak = tracemalloc.get_traced_memory()[1]
  finally:
    tracemalloc.stop()
  assert peak < 1 << 20


def test_forged_array_sizes_are_refused():
  good = pickle.dumps(np.arange(4, dtype=np.int32), protocol=3)
  shape = b"K\x04\x85"  # TUPLE1 of 4: the array's shape
  assert good.count(shape) == 1
  for forged in (b"J\xff\xff\xff\x7f\x85", b"J\xff\xff\xff\x7fK\x40\x86"):
    with pytest.raises(UnsafePickleError, match="needs .* bytes, got 16"):
      loads(good.replace(shape, forged))


def test_truncated_files_are_refused():
  data = pickle.dumps(_cifar_style(), protocol=2)
  for cut in (1, 2, 10, 60, len(data) // 2, len(data) - 1):
    with pytest.raises(UnsafePickleError, match="truncated"):
      loads(data[:cut])


@pytest.mark.parametrize("data, match", [
    (b"\x80\x02" + b"]" * 150 + b"a" * 149 + b".", "nested more than 100"),
    (b"\x80\x02)" + b"\x85" * 150 + b".", "nested more than 100"),
    (b"\x80\x02}" + b"K\x01}" * 150 + b"s" * 150 + b".",
     "nested more than 100"),
    (b"\x80\x02" + b"(" * 150 + b"N.", "MARKs are nested"),
])
def test_deep_nesting_is_refused(data, match):
  with pytest.raises(UnsafePickleError, match=match):
    loads(data)


@pytest.mark.parametrize("item", [b"N", b"K\x01", b"M\x01\x01",
                                  b"J\x01\x00\x00\x00"])
def test_huge_stacks_are_refused(monkeypatch, item):
  from hk_keras.datasets import _safe_unpickle
  monkeypatch.setattr(_safe_unpickle, "MAX_STACK", 1000)  # 2**20 by default
  ok = b"\x80\x02](" + item * 999 + b"e."
  assert loads(ok) == pickle.loads(ok)
  for n in (1001, 5000):
    with pytest.raises(UnsafePickleError, match="more than 1000 items"):
      loads(b"\x80\x02" + item * n + b".")


def test_nesting_under_the_cap_is_read():
  value = []
  for _ in range(60):
    value = [value, (1,)]
  data = pickle.dumps(value, protocol=4)
  _assert_same(loads(data), pickle.loads(data))


def test_hk_keras_never_imports_pickle():
  root = pathlib.Path(__file__).resolve().parents[1] / "hk_keras"
  pattern = re.compile(
      r"^\s*(import|from)\s+(pickle|_pickle|cPickle|pickletools|dill|"
      r"cloudpickle|joblib|shelve|marshal)\b", re.M)
  offenders = [str(p) for p in root.rglob("*.py")
               if pattern.search(p.read_text(encoding="utf-8"))]
  assert not offenders
  assert (root / "datasets" / "_safe_unpickle.py").exists()


def test_corrupted_bytes_give_only_clear_errors():
  """Random byte flips in real pickles: the reader returns a value or raises
  UnsafePickleError, never anything else, and never runs what they name."""
  rng = np.random.default_rng(7)
  sources = [pickle.dumps(v, protocol=p) for p in PROTOCOLS
             for v in (_cifar_style(2), _object_array((3,)), _arrays())]
  for _ in range(400):
    data = bytearray(sources[rng.integers(len(sources))])
    for at in rng.integers(0, len(data), rng.integers(1, 4)):
      data[at] = rng.integers(0, 256)
    try:
      loads(bytes(data))
    except UnsafePickleError:
      pass
