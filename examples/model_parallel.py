"""Model parallelism: a transformer classifier with params split over a mesh.

Trains a small transformer block classifier (Embedding, MultiHeadAttention,
LayerNormalization, a Dense MLP) on synthetic token sequences under
`ModelParallel` on a (2, 4) mesh ("batch" x "model"): "auto" splits the
attention heads, the MLP (Megatron column/row pairs) and the embedding over
"model" and every big param over "batch" as well (FSDP). It prints the
per-param layouts and per-device memory, saves a checkpoint, reloads it on
one device and checks the predictions agree.

    python examples/model_parallel.py [--layout auto|fsdp] [--mesh 2,4]

Without 8 devices the script asks XLA for 8 CPU devices (the flag must be set
before JAX starts).
"""
import argparse
import os
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax  # noqa: E402  (after XLA_FLAGS)
import numpy as np  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402

VOCAB, LENGTH, CLASSES = 64, 16, 4


def transformer(dim=32, heads=4, mlp=128):
  inputs = hk_keras.Input((LENGTH,), dtype="int32")
  x = layers.Embedding(VOCAB, dim, name="embedding")(inputs)
  a = layers.MultiHeadAttention(heads, dim // heads, name="attention")(x, x)
  x = layers.LayerNormalization(name="norm_1")(x + a)
  h = layers.Dense(mlp, activation="gelu", name="mlp_in")(x)
  x = layers.LayerNormalization(name="norm_2")(
      x + layers.Dense(dim, name="mlp_out")(h))
  x = layers.GlobalAveragePooling1D()(x)
  outputs = layers.Dense(CLASSES, activation="softmax", name="head")(x)
  return hk_keras.Model(inputs, outputs, name="transformer")


def data(n, seed=0):
  """The class is which quarter of the vocabulary appears most."""
  rng = np.random.default_rng(seed)
  x = rng.integers(0, VOCAB, (n, LENGTH)).astype("int32")
  y = np.argmax(np.stack([np.sum(x // (VOCAB // CLASSES) == c, axis=1)
                          for c in range(CLASSES)], axis=1), axis=1)
  return x, y


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--layout", default="auto", choices=["auto", "fsdp"])
  parser.add_argument("--mesh", default="2,4")
  parser.add_argument("--epochs", type=int, default=3)
  args = parser.parse_args()
  shape = tuple(int(s) for s in args.mesh.split(","))
  dist = hk_keras.distribution
  mesh = dist.DeviceMesh(shape, ["batch", "model"][:len(shape)],
                         devices=dist.list_devices()[:int(np.prod(shape))])
  strategy = dist.ModelParallel(layout_map=args.layout, device_mesh=mesh,
                                min_shard_size=1024)
  hk_keras.utils.set_random_seed(0)
  model = transformer()
  model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"], distribution=strategy)
  (x, y), (x_test, y_test) = data(2048), data(512, seed=1)
  model.fit(x, y, batch_size=64, epochs=args.epochs, verbose=2)
  print("test [loss, accuracy]:", model.evaluate(x_test, y_test, verbose=0))
  model.summary(show_sharding=True)

  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "transformer.keras")
    model.save(path)  # each shard is copied to the host; no device gathers
    single = hk_keras.models.load_model(path)  # now on one device
    diff = np.max(np.abs(single.predict(x_test, verbose=0) -
                         model.predict(x_test, verbose=0)))
  print(f"{len(jax.devices())} devices, mesh {shape}; one-device reload "
        f"predicts the same (max difference {diff:.2e})")


if __name__ == "__main__":
  main()
