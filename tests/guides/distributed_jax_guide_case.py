"""The keras.io guide "Multi-GPU distributed training with JAX", run on 2
forced CPU devices (started by test_guide_distributed_jax.py).

Prints one JSON line: the epoch losses, whether the trained variables came
back replicated, the largest difference from the same steps on one device,
and whether `assign` wrote the state back into the model.
"""
import json
import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.experimental import mesh_utils  # noqa: E402
from jax.sharding import Mesh  # noqa: E402
from jax.sharding import NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

import hk_keras as keras  # noqa: E402


def get_model():
  # A small convnet with batch normalization and dropout (the guide's shape
  # of model, at 8x8 and fewer filters).
  inputs = keras.Input(shape=(8, 8, 1))
  x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
  x = keras.layers.Conv2D(filters=4, kernel_size=3, padding="same",
                          use_bias=False)(x)
  x = keras.layers.BatchNormalization(scale=False, center=True)(x)
  x = keras.layers.ReLU()(x)
  x = keras.layers.GlobalAveragePooling2D()(x)
  x = keras.layers.Dense(16, activation="relu")(x)
  x = keras.layers.Dropout(0.5)(x)
  outputs = keras.layers.Dense(10)(x)
  return keras.Model(inputs, outputs)


def get_datasets(batch_size):
  rng = np.random.default_rng(0)
  x = rng.integers(0, 256, size=(64, 8, 8, 1)).astype("float32")
  y = rng.integers(0, 10, size=(64,))
  return [(x[i:i + batch_size], y[i:i + batch_size])
          for i in range(0, len(x), batch_size)]


def main():
  num_epochs, batch_size = 2, 16
  train_data = get_datasets(batch_size)
  keras.utils.set_random_seed(0)
  model = get_model()
  optimizer = keras.optimizers.Adam(1e-2)
  loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  one_batch, _ = train_data[0]
  model.build(one_batch)
  optimizer.build(model.trainable_variables)

  def compute_loss(trainable_variables, non_trainable_variables, x, y):
    y_pred, updated_non_trainable_variables = model.stateless_call(
        trainable_variables, non_trainable_variables, x, training=True)
    return loss(y, y_pred), updated_non_trainable_variables

  compute_gradients = jax.value_and_grad(compute_loss, has_aux=True)

  @jax.jit
  def train_step(train_state, x, y):
    trainable_variables, non_trainable_variables, optimizer_variables = (
        train_state)
    (loss_value, non_trainable_variables), grads = compute_gradients(
        trainable_variables, non_trainable_variables, x, y)
    trainable_variables, optimizer_variables = optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables)
    return loss_value, (trainable_variables, non_trainable_variables,
                        optimizer_variables)

  def get_replicated_train_state(devices):
    var_mesh = Mesh(devices, axis_names=("_"))
    var_replication = NamedSharding(var_mesh, P())
    trainable_variables = jax.device_put(model.trainable_variables,
                                         var_replication)
    non_trainable_variables = jax.device_put(model.non_trainable_variables,
                                             var_replication)
    optimizer_variables = jax.device_put(optimizer.variables, var_replication)
    return trainable_variables, non_trainable_variables, optimizer_variables

  num_devices = len(jax.local_devices())
  devices = mesh_utils.create_device_mesh((num_devices,))
  data_mesh = Mesh(devices, axis_names=("batch",))
  data_sharding = NamedSharding(data_mesh, P("batch",))

  # The same steps on one device, from the same initial state.
  single = ([v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in optimizer.variables])
  train_state = get_replicated_train_state(devices)
  epoch_losses, sharded_x = [], None
  for _ in range(num_epochs):
    for x, y in train_data:
      sharded_x = jax.device_put(x, data_sharding)
      loss_value, train_state = train_step(train_state, sharded_x, y)
      _, single = train_step(single, x, y)
    epoch_losses.append(float(loss_value))

  trainable_variables, non_trainable_variables, _ = train_state
  replicated = all(v.sharding.is_fully_replicated
                   for v in jax.tree_util.tree_leaves(trainable_variables))
  diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
             for a, b in zip(jax.tree_util.tree_leaves(train_state),
                             jax.tree_util.tree_leaves(single)))
  for variable, value in zip(model.trainable_variables, trainable_variables):
    variable.assign(value)
  for variable, value in zip(model.non_trainable_variables,
                             non_trainable_variables):
    variable.assign(value)
  assigned = all(np.array_equal(np.asarray(v.value), np.asarray(value))
                 for v, value in zip(model.trainable_variables,
                                     trainable_variables))
  print(json.dumps({
      "devices": num_devices, "losses": epoch_losses,
      "data_shards": len(sharded_x.sharding.device_set),
      "replicated": replicated, "max_diff_vs_one_device": diff,
      "assigned": assigned,
      "non_trainable": [v.path.split("/")[-1]
                        for v in model.non_trainable_variables]}))


if __name__ == "__main__":
  main()
