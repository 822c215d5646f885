"""Helpers that build broken and hostile saved files from a real one.

Shared by tests/test_hostile_input.py and the fuzz test in
tests/integration/test_fuzz_load.py.
"""
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def members(path):
  with zipfile.ZipFile(path) as zf:
    return {info.filename: (zf.read(info), info.compress_type)
            for info in zf.infolist()}


def repack(src, dst, edits=None, fix_sums=True, extra=None):
  """Copies the `.keras` zip `src` to `dst` with members replaced (bytes),
  removed (None) or added (`extra`: name -> (bytes or chunk iterator,
  compression)); with `fix_sums`, metadata.json records the new checksums,
  as an attacker would write it."""
  items = members(src)
  for name, data in (edits or {}).items():
    if data is None:
      items.pop(name, None)
    else:
      items[name] = (data, items.get(name, (None, zipfile.ZIP_STORED))[1])
  if fix_sums and "metadata.json" in items:
    meta = json.loads(items["metadata.json"][0])
    if isinstance(meta, dict) and isinstance(meta.get("files"), dict):
      for name in list(meta["files"]):
        if name in items and isinstance(items[name][0], bytes):
          meta["files"][name] = {
              "sha256": hashlib.sha256(items[name][0]).hexdigest(),
              "bytes": len(items[name][0])}
      items["metadata.json"] = (json.dumps(meta).encode(),
                                items["metadata.json"][1])
  order = [n for n in items if n != "metadata.json"] + (
      ["metadata.json"] if "metadata.json" in items else [])
  with zipfile.ZipFile(dst, "w") as zf:
    for name in order:
      data, compression = items[name]
      zf.writestr(name, data, compress_type=compression)
    for name, (data, compression) in (extra or {}).items():
      write_streamed(zf, name, data, compression)


def write_streamed(zf, name, chunks, compression):
  info = zipfile.ZipInfo(name)
  info.compress_type = compression
  with zf.open(info, "w", force_zip64=True) as f:
    for chunk in ([chunks] if isinstance(chunks, bytes) else chunks):
      f.write(chunk)


def zeros(nbytes, chunk=2**22):
  block = bytes(chunk)
  for _ in range(nbytes // chunk):
    yield block
  if nbytes % chunk:
    yield bytes(nbytes % chunk)


def npy_header(shape, dtype="<f4"):
  header = repr({"descr": dtype, "fortran_order": False,
                 "shape": tuple(shape)}).encode()
  pad = 64 - (10 + len(header) + 1) % 64
  header += b" " * pad + b"\n"
  return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header


def npz_bytes_with(entries):
  """An .npz in memory: name -> bytes of a whole .npy (header + data)."""
  import io  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  with zipfile.ZipFile(buffer, "w") as zf:
    for name, data in entries.items():
      zf.writestr(name + ".npy", data)
  return buffer.getvalue()


def npz_entries(data):
  """name -> whole .npy bytes of an .npz held in `data`."""
  import io  # pylint: disable=g-import-not-at-top
  with zipfile.ZipFile(io.BytesIO(data)) as zf:
    return {n[:-4]: zf.read(n) for n in zf.namelist()}


def npy(array):
  import io  # pylint: disable=g-import-not-at-top
  buffer = io.BytesIO()
  np.save(buffer, array, allow_pickle=False)
  return buffer.getvalue()


# -- loading in a subprocess under an address-space limit ------------------------

_CHILD = textwrap.dedent("""
    import json, os, resource, sys
    margin = int(sys.argv[1])
    os.environ["KERAS_BACKEND"] = "jax"
    import hk_keras
    from hk_keras.saving import SavingError
    def status(key):
      with open("/proc/self/status") as f:
        for line in f:
          if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    def reset_peak():
      with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    # Warm up what every load needs, so peak memory measures the file.
    hk_keras.Sequential([hk_keras.Input((2,)), hk_keras.layers.Dense(2)])
    results = []
    for i, (kind, path) in enumerate(json.loads(sys.argv[2])):
      reset_peak()
      before = status("VmRSS")
      try:
        if kind == "model":
          hk_keras.models.load_model(path)
        else:
          model = hk_keras.models.load_model(kind)
          reset_peak()
          before = status("VmRSS")
          model.load_weights(path)
        outcome = "loaded"
      except SavingError as err:
        outcome = "SavingError: " + str(err)[:300]
      except BaseException as err:  # pylint: disable=broad-except
        outcome = f"{type(err).__name__}: {str(err)[:300]}"
      results.append([outcome, status("VmHWM") - before])
      if i == 0 and margin:
        # After the good file: no more address space than it needed + margin.
        limit = status("VmPeak") + margin
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    print("RESULT" + json.dumps(results))
""")


def load_in_subprocess(jobs, margin, timeout=300):
  """Loads each `(kind, path)` of `jobs` in one fresh process; `kind` is
  "model" (load_model) or the `.keras` file whose model then loads the
  weights file `path`. After the first job (the good file) the address
  space is limited to its VmPeak + `margin` bytes (RLIMIT_AS). Returns
  [(outcome, peak RSS above the RSS before the load)]."""
  env = dict(os.environ, PYTHONPATH=ROOT, KERAS_BACKEND="jax")
  proc = subprocess.run(
      [sys.executable, "-c", _CHILD, str(margin), json.dumps(jobs)],
      capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT,
      check=False)
  line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
  assert line, f"child failed (rc {proc.returncode}): {proc.stderr[-3000:]}"
  return json.loads(line[0][len("RESULT"):])
