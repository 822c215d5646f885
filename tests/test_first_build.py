"""A model's first build: one program, unoptimised, reused by architecture
(hk_keras/_core/_run_once.py; docs/performance.md "Time to the first step")."""
import jax
import jax.numpy as jnp
import numpy as np

import hk_keras
from hk_keras import layers
from hk_keras._core import _run_once
from test_data_path import _CountCompiles


def _mlp(width):
  return hk_keras.Sequential([hk_keras.Input((7,)),
                              layers.Dense(width, activation="relu"),
                              layers.Dense(3)])


def test_first_weights_equal_haikus_eager_init():
  hk_keras.utils.set_random_seed(3)
  model = _mlp(5)
  # The same key the build drew, replayed: set_random_seed(3) then one draw.
  hk_keras.utils.set_random_seed(3)
  rng = hk_keras.utils.next_rng_key()
  with jax.disable_jit():
    params, _ = model.transformed.init(rng, jnp.zeros((1, 7)))
  jax.tree_util.tree_map(np.testing.assert_array_equal, model.params, params)
  assert len(jax.tree_util.tree_leaves(params)) == 4


def test_same_architecture_compiles_its_first_weights_once():
  _mlp(6)  # first build of this architecture: compiles
  with _CountCompiles() as counted:
    again = _mlp(6)
  assert counted.count == 0
  # Reused program, new key: different values, same shapes.
  first = _mlp(6)
  assert not np.array_equal(again.layers[0].get_weights()[0],
                            first.layers[0].get_weights()[0])
  with _CountCompiles() as counted:
    _mlp(9)  # another architecture: its own program
  assert counted.count >= 1


def test_run_once_passes_constants_as_arguments():
  # Two functions with the same jaxpr but different captured arrays share
  # one executable and each gets its own constants' values.
  for value in (1.0, 2.0):
    const = np.full((3,), value, np.float32)
    out = _run_once.run_once(lambda x: x * const, jnp.ones(3))
    np.testing.assert_array_equal(out, const)


class _NeedsConcrete(layers.Layer):
  """Builds from the value of its input (not traceable)."""

  def call(self, x):
    if float(jnp.sum(x)) == 0.0:  # concrete value needed
      return x
    return -x


def test_untraceable_build_falls_back_to_eager():
  model = hk_keras.Sequential([hk_keras.Input((2,)), _NeedsConcrete(),
                               layers.Dense(1)])
  assert [w.shape for w in model.get_weights()] == [(2, 1), (1,)]
