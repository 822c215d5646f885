"""Fuzzing the loader with broken copies of a real `.keras` file (issue 14).

A few hundred seeded cases: random byte flips, truncations, and member
edits (a JSON value replaced or removed, an `.npy` header or entry changed)
written with and without recomputed checksums (as an attacker would). Each
must either raise `SavingError` or load a model identical to the saved one
(same config, same weights). They run in one subprocess whose address
space is limited (RLIMIT_AS) to what the good file needed plus 1 GiB, so an
allocation out of proportion fails the test instead of slipping by.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
CASES = 300

_CHILD = textwrap.dedent(r"""
    import copy, io, json, os, random, resource, sys, time, zipfile
    sys.path.insert(0, os.path.join(sys.argv[1], "tests"))
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import hk_keras
    from hk_keras import layers
    from hk_keras.saving import SavingError
    from hostile_files import members, repack, npz_entries, npz_bytes_with

    work, cases = sys.argv[2], int(sys.argv[3])
    hk_keras.utils.set_random_seed(0)
    a = hk_keras.Input((3,), name="a")
    b = hk_keras.Input((2,), name="b")
    h = layers.Dense(4, activation="relu", name="d1")(a)
    h = layers.BatchNormalization(name="bn")(h)
    h = layers.Concatenate(name="cat")([h, b])
    out = layers.Dense(2, name="d2")(h)
    model = hk_keras.Model([a, b], out, name="net")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit([np.ones((4, 3)), np.ones((4, 2))], np.ones((4, 2)), epochs=1,
              verbose=0)
    good = os.path.join(work, "good.keras")
    model.save(good)

    def fingerprint(m):
      config = hk_keras.saving.serialize_keras_object(m)
      return json.dumps(config, sort_keys=True), [
          np.asarray(w) for w in m.get_weights()]

    ref_config, ref_weights = fingerprint(hk_keras.models.load_model(good))

    def status(key):
      with open("/proc/self/status") as f:
        for line in f:
          if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    limit = status("VmPeak") + 2**30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    raw = open(good, "rb").read()
    items = members(good)
    rng = random.Random(1234)
    ODD = [None, -1, 0, 2**31, 2**62, 1.5, "", "KerasTensor", "../x", [],
           {}, [[[[]]]], {"__tensor__": ["d1", 0, 9]}, True]

    def json_paths(value, path=()):
      yield path
      if isinstance(value, dict):
        for k, v in value.items():
          yield from json_paths(v, path + (k,))
      elif isinstance(value, list):
        for i, v in enumerate(value):
          yield from json_paths(v, path + (i,))

    def edit_json(data):
      doc = json.loads(data)
      paths = list(json_paths(doc))
      path = rng.choice(paths[1:] or paths)
      if not path:
        return json.dumps(rng.choice(ODD)).encode()
      parent = doc
      for key in path[:-1]:
        parent = parent[key]
      if isinstance(parent, dict) and rng.random() < 0.3:
        del parent[path[-1]]
      else:
        parent[path[-1]] = copy.deepcopy(rng.choice(ODD))
      return json.dumps(doc).encode()

    def edit_npz(data):
      entries = npz_entries(data)
      key = rng.choice(sorted(entries))
      what = rng.randrange(4)
      blob = bytearray(entries[key])
      if what == 0 and len(blob) > 12:      # header bytes
        blob[rng.randrange(8, min(len(blob), 80))] = rng.randrange(256)
      elif what == 1:                       # drop the entry
        del entries[key]
        return npz_bytes_with(entries)
      elif what == 2:                       # declare another shape
        text = bytes(blob[:128]).decode("latin1")
        start, end = text.find("(") + 1, text.find(")")
        shape = rng.choice(["2147483647,", "0,", "3, 2**2", "-1,", "4, 4"])
        blob = bytearray((text[:start] + shape + text[end:]).encode(
            "latin1") + bytes(blob[128:]))
      else:                                 # cut the data short
        blob = blob[:max(10, len(blob) - rng.randrange(1, 16))]
      entries[key] = bytes(blob)
      return npz_bytes_with(entries)

    bad, kinds = [], {}
    start = time.time()
    for case in range(cases):
      kind = ("flip", "truncate", "edit", "edit")[case % 4]
      path = os.path.join(work, "case.keras")
      if kind == "flip":
        data = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
          data[rng.randrange(len(data))] ^= rng.randrange(1, 256)
        open(path, "wb").write(bytes(data))
      elif kind == "truncate":
        open(path, "wb").write(raw[:rng.randrange(len(raw))])
      else:
        name = rng.choice(sorted(items))
        data = items[name][0]
        new = edit_json(data) if name.endswith(".json") else edit_npz(data)
        repack(good, path, {name: new}, fix_sums=rng.random() < 0.7)
      try:
        loaded = hk_keras.models.load_model(path)
      except SavingError:
        kinds[kind + ": SavingError"] = kinds.get(kind + ": SavingError",
                                                  0) + 1
        continue
      except BaseException as err:  # pylint: disable=broad-except
        bad.append(f"case {case} ({kind}): {type(err).__name__}: "
                   f"{str(err)[:200]}")
        continue
      config, weights = fingerprint(loaded)
      same = config == ref_config and len(weights) == len(ref_weights) and (
          all(w.shape == r.shape and np.array_equal(w, r)
              for w, r in zip(weights, ref_weights)))
      if not same:
        bad.append(f"case {case} ({kind}): loaded a different model")
      kinds[kind + ": loaded identical"] = kinds.get(
          kind + ": loaded identical", 0) + 1
    print("RESULT" + json.dumps({"bad": bad, "kinds": kinds,
                                 "seconds": time.time() - start}))
""")


@pytest.mark.slow
def test_fuzzed_keras_files_give_saving_error_or_the_same_model(tmp_path):
  env = dict(os.environ, PYTHONPATH=ROOT, KERAS_BACKEND="jax")
  proc = subprocess.run(
      [sys.executable, "-c", _CHILD, ROOT, str(tmp_path), str(CASES)],
      capture_output=True, text=True, timeout=600, env=env, cwd=ROOT,
      check=False)
  lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT")]
  assert lines, f"fuzz child failed (rc {proc.returncode}): " \
      f"{proc.stderr[-4000:]}"
  result = json.loads(lines[0][len("RESULT"):])
  print(result["kinds"], f"{result['seconds']:.1f}s")
  assert not result["bad"], "\n".join(result["bad"][:20])
  assert sum(result["kinds"].values()) == CASES
  # The cases reach past the checksums (edits with recomputed sums).
  assert result["kinds"].get("edit: SavingError", 0) > CASES // 4
