"""A small Transformer classifier on the digits shipped with hk_keras.

Keras style: `import hk_keras as keras`, `keras.ops` on symbolic tensors
(scaling, indexing, positional embeddings added with `+`, residual sums,
an RMS rescaling), and the existing layers. Each 8x8 digit is read as a sequence of 8
tokens (its rows) of 8 features. Runs offline on CPU in about a minute and
prints the test accuracy (97.5% with the defaults, seed 0).

    python examples/transformer_classifier.py [--epochs 30]
"""
import argparse

import numpy as np

import hk_keras as keras
from hk_keras import layers, ops

SEQUENCE, FEATURES, CLASSES = 8, 8, 10


def transformer_block(x, heads, key_dim, hidden):
  attention = layers.MultiHeadAttention(num_heads=heads, key_dim=key_dim)
  x = layers.LayerNormalization(epsilon=1e-6)(x + attention(x, x))
  h = layers.Dense(hidden, activation="gelu")(x)
  h = layers.Dense(ops.shape(x)[-1])(h)
  return layers.LayerNormalization(epsilon=1e-6)(x + h)


def build_model(width=32, heads=2, blocks=2):
  inputs = keras.Input((SEQUENCE, FEATURES), name="rows")
  x = ops.cast(inputs, "float32") / 16.0           # pixels are 0..16
  x = layers.Dense(width)(x)
  # Row indices 0..7 for every example, as a symbolic int tensor.
  positions = ops.zeros_like(inputs[:, :, 0], dtype="int32") + ops.arange(
      SEQUENCE)
  x = x + layers.Embedding(SEQUENCE, width)(positions)
  for _ in range(blocks):
    x = transformer_block(x, heads, width // heads, 2 * width)
  x = layers.GlobalAveragePooling1D()(x)
  x = x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-6)
  outputs = layers.Dense(CLASSES)(x)
  return keras.Model(inputs, outputs, name="digits_transformer")


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--epochs", type=int, default=30)
  parser.add_argument("--batch-size", type=int, default=64)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()

  keras.utils.set_random_seed(args.seed)
  (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
  model = build_model()
  model.summary()
  model.compile(optimizer=keras.optimizers.Adam(3e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True),
                metrics=["accuracy"])
  model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
            validation_split=0.1, verbose=2)
  _, accuracy = model.evaluate(x_test, y_test, verbose=0)
  print(f"test accuracy: {accuracy:.4f}")
  predictions = np.argmax(model.predict(x_test[:8], verbose=0), axis=-1)
  print("first predictions:", predictions.tolist(), "labels:",
        y_test[:8].tolist())


if __name__ == "__main__":
  main()
