"""RandAugment and AugMix in training mode (slow: they compile every
augmentation operation they choose from)."""
import jax
import numpy as np
import pytest

import hk_keras
from hk_keras import layers

pytestmark = pytest.mark.slow

X = np.random.default_rng(1).uniform(0, 255, (8, 6, 5, 3)).astype("float32")


@pytest.mark.parametrize("layer_fn", [
    lambda: layers.RandAugment(num_ops=2),
    lambda: layers.AugMix(num_chains=2, chain_depth=[1, 2]),
], ids=["RandAugment", "AugMix"])
def test_composite_augmentation_in_training(layer_fn):
  model = hk_keras.Sequential([hk_keras.Input(X.shape[1:]), layer_fn()])
  apply = jax.jit(model.apply, static_argnames="training")
  outs = [np.asarray(apply(model.params, model.state, jax.random.PRNGKey(s),
                           X, training=True)[0]) for s in (0, 1)]
  for out in outs:
    assert out.shape == X.shape and np.isfinite(out).all()
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3
  assert not np.allclose(outs[0], outs[1])
  inference = np.asarray(apply(model.params, model.state, None, X,
                               training=False)[0])
  np.testing.assert_array_equal(inference, X)
