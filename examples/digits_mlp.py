"""Train an MLP on the UCI handwritten digits shipped with hk_keras.

The README's main command. Runs offline in well under a minute on 2 CPU
cores and prints the test accuracy (about 97%).

    python examples/digits_mlp.py [--epochs 40]
"""
import argparse
import time

import hk_keras
from hk_keras import layers


def build_model():
  return hk_keras.Sequential([
      hk_keras.Input((8, 8)),
      layers.Rescaling(1.0 / 16.0),  # pixels are integers 0..16
      layers.Flatten(),
      layers.Dense(128, activation="relu"),
      layers.Dropout(0.2),
      layers.Dense(64, activation="relu"),
      layers.Dense(10),
  ], name="digits_mlp")


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--epochs", type=int, default=40)
  parser.add_argument("--batch-size", type=int, default=32)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  hk_keras.utils.set_random_seed(args.seed)
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.digits.load_data()
  print(f"train: {x_train.shape}, test: {x_test.shape}")

  model = build_model()
  model.summary()
  model.compile(
      optimizer=hk_keras.optimizers.Adam(learning_rate=1e-3),
      loss=hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=["accuracy"])
  start = time.time()
  model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
            validation_split=0.1, verbose=2)
  seconds = time.time() - start
  loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
  print(f"test loss: {loss:.4f} - test accuracy: {accuracy:.4f} "
        f"(trained in {seconds:.1f} s)")


if __name__ == "__main__":
  main()
