"""Differentially private MNIST: TF Privacy's tutorial convnet with DP-SGD.

    python examples/dp_mnist.py --path ../shared/data/mnist.npz [--epochs 3]

The model, optimizer and DP-SGD settings of TF Privacy's Keras tutorial
("Implement Differential Privacy with TensorFlow Privacy"): two strided
convolutions, SGD with learning rate 0.25, l2_norm_clip 1.5,
noise_multiplier 1.3, batch size 250, one example per microbatch.
Prints the test accuracy and the privacy spent (epsilon at delta 1e-5,
RDP accountant). `--target-epsilon 2` calibrates the noise multiplier
for that epsilon over the run instead. `--train-examples` trains on a prefix of the training set
(the accountant then counts that N). `--poisson` samples each batch with
probability q = batch_size / N per example, the sampling the accountant's
guarantee assumes.
"""
import argparse
import time

import numpy as np

import hk_keras
from hk_keras import layers


def build_model():
  return hk_keras.Sequential([
      hk_keras.Input((28, 28, 1)),
      layers.Conv2D(16, 8, strides=2, padding="same", activation="relu"),
      layers.MaxPooling2D(2, 1),
      layers.Conv2D(32, 4, strides=2, padding="valid", activation="relu"),
      layers.MaxPooling2D(2, 1),
      layers.Flatten(),
      layers.Dense(32, activation="relu"),
      layers.Dense(10),
  ], name="dp_mnist_convnet")


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--path", default=None, help="path to mnist.npz")
  parser.add_argument("--epochs", type=int, default=3)
  parser.add_argument("--batch-size", type=int, default=250)
  parser.add_argument("--learning-rate", type=float, default=0.25)
  parser.add_argument("--l2-norm-clip", type=float, default=1.5)
  parser.add_argument("--noise-multiplier", type=float, default=1.3)
  parser.add_argument("--target-epsilon", type=float, default=None,
                      help="calibrate the noise for this epsilon instead")
  parser.add_argument("--train-examples", type=int, default=None)
  parser.add_argument("--poisson", action="store_true")
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  hk_keras.utils.set_random_seed(args.seed)
  (x_train, y_train), (x_test, y_test) = hk_keras.datasets.mnist.load_data(
      args.path)
  if args.train_examples:
    x_train, y_train = (x_train[:args.train_examples],
                        y_train[:args.train_examples])
  x_train = (x_train.astype("float32") / 255)[..., None]
  x_test = (x_test.astype("float32") / 255)[..., None]

  model = build_model()
  model.compile(
      optimizer=hk_keras.optimizers.SGD(learning_rate=args.learning_rate),
      loss=hk_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=["accuracy"],
      privacy=hk_keras.privacy.DPSGD(
          l2_norm_clip=args.l2_norm_clip,
          noise_multiplier=(None if args.target_epsilon else
                            args.noise_multiplier),
          target_epsilon=args.target_epsilon, target_delta=1e-5,
          sampling="poisson" if args.poisson else "shuffle"))
  start = time.time()
  model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
            verbose=2)
  seconds = time.time() - start
  _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
  epsilon, delta = model.privacy_spent()
  print(f"test accuracy: {accuracy:.4f} - epsilon: {epsilon:.3f} at delta "
        f"{delta:g} ({len(x_train)} training examples, {args.epochs} epochs "
        f"in {seconds:.0f} s)")


if __name__ == "__main__":
  main()
