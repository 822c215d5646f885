"""Data-parallel training on every device (hk_keras.distribution).

Trains an MLP with BatchNormalization on the UCI digits over all devices
with `DataParallel`, then (with --compare) the same model on one device, and
prints both accuracies and the largest weight difference (float rounding
only: N devices on a global batch compute what one device does).

    python examples/data_parallel.py [--backend pmap|sharding] [--compare]

On a machine without several accelerators the script asks XLA for 4 CPU
devices; the flag must be set before JAX starts, so it is set here, before
the first `import jax`.
"""
import argparse
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import jax  # noqa: E402  (after XLA_FLAGS)
import numpy as np  # noqa: E402

import hk_keras  # noqa: E402
from hk_keras import layers  # noqa: E402


def build_model():
  return hk_keras.Sequential([
      hk_keras.Input((8, 8)),
      layers.Rescaling(1.0 / 16.0),
      layers.Flatten(),
      layers.Dense(128, activation="relu"),
      layers.BatchNormalization(),
      layers.Dense(64, activation="relu"),
      layers.Dense(10, activation="softmax"),
  ], name="digits_mlp")


def train(distribution, args, data):
  (x_train, y_train), (x_test, y_test) = data
  hk_keras.utils.set_random_seed(args.seed)
  model = build_model()
  model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"], distribution=distribution)
  start = time.time()
  model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
            verbose=0)
  seconds = time.time() - start
  _, accuracy = model.evaluate(x_test, y_test, verbose=0)
  return model, accuracy, seconds


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--backend", default="pmap",
                      choices=["pmap", "sharding"])
  parser.add_argument("--epochs", type=int, default=10)
  parser.add_argument("--batch-size", type=int, default=64,
                      help="global batch size, a multiple of the devices")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--compare", action="store_true",
                      help="also train on one device and compare")
  args = parser.parse_args()

  devices = jax.devices()
  if len(devices) < 2:  # e.g. one GPU: use the 4 CPU devices instead
    devices = jax.devices("cpu")
  distribution = hk_keras.distribution.DataParallel(devices=devices,
                                                    backend=args.backend)
  print(f"{distribution} on {[str(d) for d in devices]}")
  data = hk_keras.datasets.digits.load_data()

  model, accuracy, seconds = train(distribution, args, data)
  print(f"{args.backend}: test accuracy {accuracy:.4f} ({seconds:.1f} s)")
  if args.compare:
    single, single_accuracy, single_seconds = train(None, args, data)
    difference = max(float(np.max(np.abs(a - b))) for a, b in
                     zip(model.get_weights(), single.get_weights()))
    print(f"one device: test accuracy {single_accuracy:.4f} "
          f"({single_seconds:.1f} s); largest weight difference "
          f"{difference:.2e}")


if __name__ == "__main__":
  main()
