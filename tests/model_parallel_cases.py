"""Model-parallel cases, run in one subprocess by tests/test_model_parallel.py.

    python tests/model_parallel_cases.py OUT_DIR

JAX must see 8 devices, so XLA_FLAGS is set here before JAX starts. A small
transformer block classifier (Embedding, MultiHeadAttention,
LayerNormalization, Dense MLP) trains 5 adam steps on one device and under
`ModelParallel` on meshes (8,), (2, 4), (4, 2) with "fsdp", "auto" and a
hand-written LayoutMap; then strict layouts, checkpoints across meshes and
the sharded summary. The last stdout line is a JSON dict the tests check.
"""
import io
import json
import os
import sys
import warnings

# Compiles are most of the cost: XLA:CPU's backend optimisations take ~35%
# of it and buy nothing for 5 tiny steps (every run here shares the flags).
os.environ["XLA_FLAGS"] = ("--xla_force_host_platform_device_count=8 "
                           "--xla_backend_optimization_level=0")

import jax  # noqa: E402
import numpy as np  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402

D = hk_keras.distribution
OUT = sys.argv[1]
RESULTS = {}
MODELS = {}  # trained models the later cases reuse (compiles are the cost)
MIN = 64  # shard params of >= 64 elements (the tiny model's weights)
RNG = np.random.default_rng(0)
X = RNG.integers(0, 32, (40, 8)).astype("int32")
Y = RNG.integers(0, 8, 40)
AXES = {(8,): ["batch"], (2, 4): ["batch", "model"],
        (4, 2): ["batch", "model"]}


def transformer():
  """Every model gets the same names (the layouts name them)."""
  hk_keras.utils.set_random_seed(0)
  inp = hk_keras.Input((8,), dtype="int32")
  e = layers.Embedding(32, 16, name="embedding")(inp)
  a = layers.MultiHeadAttention(4, 8, name="attention")(e, e)
  h = layers.LayerNormalization(name="norm_1")(a + e)
  f = layers.Dense(32, activation="relu", name="mlp_in")(h)
  f = layers.Dense(16, name="mlp_out")(f)
  h = layers.LayerNormalization(name="norm_2")(h + f)
  h = layers.GlobalAveragePooling1D(name="pool")(h)
  out = layers.Dense(8, activation="softmax", name="head")(h)
  return hk_keras.Model(inp, out)


def mesh(shape):
  return D.DeviceMesh(shape, AXES[shape])


def hand_layout(shape, strict=False):
  """Megatron by hand over "model" (heads split); on the 1-D mesh, the
  attention's model dimension split over "batch" (4 heads do not split
  over 8 devices)."""
  layout_map = D.LayoutMap(mesh(shape), strict=strict, min_shard_size=MIN)
  if len(shape) == 2:
    axis = "model"
    layout_map["attention/(query|key|value)_kernel"] = (None, axis, None)
    layout_map["attention/output_kernel"] = (axis, None, None)
  else:
    axis = "batch"
    layout_map["attention/(query|key|value)_kernel"] = (axis, None, None)
    layout_map["attention/output_kernel"] = (None, None, axis)
  layout_map["mlp_in/kernel"] = (None, axis)
  layout_map["mlp_in/bias"] = (axis,)
  layout_map["mlp_out/kernel"] = (axis, None)
  layout_map["embedding/embeddings"] = (None, axis)
  layout_map["head/kernel"] = (None, axis)
  return layout_map


def distribution(shape, layout):
  if layout == "hand":
    return D.ModelParallel(layout_map=hand_layout(shape))
  return D.ModelParallel(layout_map=layout, device_mesh=mesh(shape),
                         min_shard_size=MIN)


def trained(dist, epochs=1):
  model = transformer()
  model.compile("adam", "sparse_categorical_crossentropy",
                metrics=["accuracy"], distribution=dist)
  history = model.fit(X, Y, batch_size=8, epochs=epochs, verbose=0)
  return model, history.history


def max_diff(a, b):
  a, b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
  assert len(a) == len(b), (len(a), len(b))
  return max(float(np.max(np.abs(np.asarray(x, np.float64) -
                                 np.asarray(y, np.float64))))
             for x, y in zip(a, b))


def shards(model):
  """Per param: global shape, one device's shard shape, and the shard
  shapes of its optimizer slots (leaves of opt_state shaped like it)."""
  ts = model._ts
  out = {}
  slots = {}
  for path, leaf in jax.tree_util.tree_flatten_with_path(ts.opt_state)[0]:
    keys = [getattr(k, "key", None) for k in path]
    if len(keys) >= 2 and keys[-2] in ts.params and keys[-1] in ts.params[
        keys[-2]] and leaf.shape == ts.params[keys[-2]][keys[-1]].shape:
      slots.setdefault(f"{keys[-2]}/{keys[-1]}", []).append(
          [list(s.data.shape) for s in leaf.addressable_shards])
  for module, leaves in ts.params.items():
    for name, p in leaves.items():
      path = f"{module}/{name}"
      out[path] = {"shape": list(p.shape),
                   "shards": [list(s.data.shape) for s in p.addressable_shards],
                   "devices": len(p.addressable_shards),
                   "slots": slots.get(path, [])}
  return out


def case_parity():
  reference, ref_logs = trained(None)
  MODELS["reference"] = reference
  RESULTS["parity"] = {}
  for shape in AXES:
    for layout in ("fsdp", "auto", "hand"):
      model, logs = trained(distribution(shape, layout))
      MODELS[(shape, layout)] = model
      RESULTS["parity"][f"{shape}/{layout}"] = {
          "params": max_diff(reference.get_weights(), model.get_weights()),
          "logs": max_diff(ref_logs, logs),
          "shards": shards(model)}


def case_data_parallel_mesh():
  model, _ = trained(D.DataParallel(device_mesh=D.DeviceMesh((8,), ["batch"])))
  RESULTS["data_parallel_mesh"] = max_diff(MODELS["reference"].get_weights(),
                                           model.get_weights())


def case_strict():
  layout_map = hand_layout((2, 4), strict=True)
  del layout_map["embedding/embeddings"]
  try:
    trained(D.ModelParallel(layout_map=layout_map))
    RESULTS["strict_error"] = ""
  except ValueError as err:
    RESULTS["strict_error"] = str(err)


def case_checkpoints():
  model = MODELS[((2, 4), "auto")]
  path = os.path.join(OUT, "model.keras")
  model.save(path)
  expected = model.predict(X, batch_size=8, verbose=0)
  out = {}
  for name, dist in (("mesh_8", distribution((8,), "fsdp")),
                     ("one_device", None),
                     ("mesh_2x4", distribution((2, 4), "auto"))):
    loaded = hk_keras.models.load_model(path)
    loaded.compile("adam", "sparse_categorical_crossentropy",
                   metrics=["accuracy"], distribution=dist)
    out[name] = max_diff(expected, loaded.predict(X, batch_size=8, verbose=0))
    if name == "mesh_2x4":
      # Resume on the same mesh: the next epoch equals the uninterrupted one.
      loaded.fit(X, Y, batch_size=8, epochs=1, verbose=0)
      model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
      out["resume"] = max_diff(model.get_weights(), loaded.get_weights())
  RESULTS["checkpoints"] = out


def case_summary():
  model = MODELS[((2, 4), "hand")]
  lines = []
  model.summary(show_sharding=True, print_fn=lines.append)
  RESULTS["summary"] = "\n".join(lines)


if __name__ == "__main__":
  assert len(jax.devices()) == 8, jax.devices()
  warnings.simplefilter("ignore")
  for case in (case_parity, case_data_parallel_mesh, case_strict,
               case_checkpoints, case_summary):
    case()
  print(json.dumps(RESULTS))
