"""Flax (Linen and NNX) and Equinox modules in one hk_keras model, then out.

Trains a digits classifier whose layers come from three libraries, exports it
for serving with `jax.export` (read back with JAX alone) and checkpoints and
resumes it with Orbax. Needs the extras: pip install hk_keras[flax,equinox,orbax,export]

    python examples/flax_equinox_interop.py [--epochs 10]
"""
import argparse
import os
import shutil
import tempfile

import equinox as eqx
import flax.linen as nn
import jax
import numpy as np
from flax import nnx

import hk_keras
from hk_keras import layers


class LinenBlock(nn.Module):
  """Dense + BatchNorm + Dropout: `training` drives both."""

  @nn.compact
  def __call__(self, x, training):
    x = nn.Dense(64)(x)
    x = nn.BatchNorm(use_running_average=not training)(x)
    return nn.Dropout(0.2, deterministic=not training)(nn.relu(x))


def make_nnx_block():
  return nnx.Linear(64, 32, rngs=nnx.Rngs(0))


def make_eqx_head():
  return eqx.nn.MLP(32, 10, width_size=32, depth=1, key=jax.random.PRNGKey(1))


def build_model():
  inputs = hk_keras.Input((8, 8))
  x = layers.Flatten()(layers.Rescaling(1.0 / 16.0)(inputs))
  x = layers.FlaxLayer(LinenBlock(), name="linen_block")(x)
  x = layers.FlaxLayer(make_nnx_block(), name="nnx_block")(x)
  x = layers.Activation("relu")(x)
  outputs = layers.EquinoxLayer(make_eqx_head(), name="eqx_head")(x)
  model = hk_keras.Model(inputs, outputs, name="interop_digits")
  model.compile("adam", hk_keras.losses.SparseCategoricalCrossentropy(
      from_logits=True), metrics=["accuracy"])
  return model


def main():
  parser = argparse.ArgumentParser(description=__doc__)
  parser.add_argument("--epochs", type=int, default=10)
  args = parser.parse_args()
  (x, y), (x_test, y_test) = hk_keras.datasets.digits.load_data()
  x, x_test = x.astype("float32"), x_test.astype("float32")
  work = tempfile.mkdtemp(prefix="hk_keras_interop_")

  model = build_model()
  print("weights:", {name: sorted(p) for name, p in model.params.items()})
  checkpoint = hk_keras.callbacks.OrbaxCheckpoint(
      os.path.join(work, "ckpt"), max_to_keep=2)
  half = args.epochs // 2
  model.fit(x, y, batch_size=32, epochs=half, verbose=0,
            callbacks=[checkpoint])

  # A new process would do this: rebuild, restore, continue.
  resumed = build_model()
  epoch = hk_keras.callbacks.OrbaxCheckpoint(
      os.path.join(work, "ckpt")).restore(resumed)
  resumed.fit(x, y, batch_size=32, epochs=args.epochs, initial_epoch=epoch,
              verbose=0)
  loss, accuracy = resumed.evaluate(x_test, y_test, verbose=0)
  print(f"resumed at epoch {epoch}; test loss {loss:.3f}, accuracy "
        f"{accuracy:.3f}")

  served_dir = os.path.join(work, "served")
  resumed.export(served_dir)
  with open(os.path.join(served_dir, "model.jax_export"), "rb") as f:
    exported = jax.export.deserialize(bytearray(f.read()))
  logits = np.asarray(exported.call(x_test[:7]))
  same = np.allclose(logits, resumed.predict(x_test[:7], verbose=0),
                     atol=1e-5)
  print(f"exported model on 7 examples matches predict: {same}")
  checkpoint.close()
  shutil.rmtree(work)


if __name__ == "__main__":
  main()
