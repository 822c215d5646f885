"""Keras's classic MNIST convnet, on a local copy of Keras's `mnist.npz`.

    python examples/mnist_convnet.py --path /path/to/mnist.npz [--epochs 15]

Without --path the file is looked up in $HK_KERAS_HOME/datasets or
~/.keras/datasets (`hk_keras.datasets.mnist.download()` fetches it on a
machine with network access). Same model, optimizer and schedule as the
Keras example "Simple MNIST convnet".
"""
import argparse
import time

import numpy as np

import hk_keras
from hk_keras import layers


def build_model():
  return hk_keras.Sequential([
      hk_keras.Input((28, 28, 1)),
      layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
      layers.MaxPooling2D(pool_size=(2, 2)),
      layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
      layers.MaxPooling2D(pool_size=(2, 2)),
      layers.Flatten(),
      layers.Dropout(0.5),
      layers.Dense(10, activation="softmax"),
  ], name="mnist_convnet")


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--path", default=None, help="path to mnist.npz")
  parser.add_argument("--epochs", type=int, default=15)
  parser.add_argument("--batch-size", type=int, default=128)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  hk_keras.utils.set_random_seed(args.seed)
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.mnist.load_data(
      args.path)
  x_train = (x_train.astype("float32") / 255)[..., None]
  x_test = (x_test.astype("float32") / 255)[..., None]
  y_train = np.eye(10, dtype="float32")[y_train]
  y_test = np.eye(10, dtype="float32")[y_test]

  model = build_model()
  model.summary()
  model.compile(loss="categorical_crossentropy", optimizer="adam",
                metrics=["accuracy"])
  start = time.time()
  model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
            validation_split=0.1)
  seconds = time.time() - start
  loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
  print(f"test loss: {loss:.4f} - test accuracy: {accuracy:.4f} "
        f"({args.epochs} epochs in {seconds:.0f} s)")


if __name__ == "__main__":
  main()
