"""End-to-end linear regression: fit recovers the true kernel and bias.

    python examples/linear_regression.py
"""
import numpy as np

import hk_keras


def main():
  hk_keras.utils.set_random_seed(0)
  rng = np.random.default_rng(0)
  true_kernel = np.array([[2.0], [-3.0], [0.5]], np.float32)
  true_bias = np.array([1.0], np.float32)
  x = rng.normal(size=(2048, 3)).astype(np.float32)
  y = x @ true_kernel + true_bias + 0.01 * rng.normal(size=(2048, 1)).astype(
      np.float32)

  model = hk_keras.Sequential([hk_keras.Input((3,)),
                               hk_keras.layers.Dense(1)])
  model.compile(optimizer=hk_keras.optimizers.SGD(learning_rate=0.1),
                loss="mse")
  history = model.fit(x, y, batch_size=64, epochs=10, verbose=0)
  kernel, bias = model.get_weights()
  print("loss per epoch:", [round(l, 6) for l in history.history["loss"]])
  print("learned kernel:", kernel.ravel(), "true:", true_kernel.ravel())
  print("learned bias:  ", bias, "true:", true_bias)
  # The pure pair is always there for research code.
  outputs, _ = model.apply(model.params, model.state, None, x[:2])
  print("apply on two rows:", np.asarray(outputs).ravel())


if __name__ == "__main__":
  main()
