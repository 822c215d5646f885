"""`model.export(format="tf_saved_model")` without TensorFlow (issue 17).

TensorFlow is not installed here, so the SavedModel itself is not written
in CI (the error naming the extra is tested in test_export.py). What hk_keras
hands to `jax2tf.convert` and `tf.function` is checked instead: a function
of the flat input leaves that equals the model, one polymorphic shape string
per leaf with the batch named, and TensorSpec shapes with None there.
"""
import jax
import numpy as np

import hk_keras
from hk_keras.models import _export


def test_tf_conversion_plan_for_dict_inputs():
  hk_keras.utils.set_random_seed(1)
  a, b = hk_keras.Input((4,), name="a"), hk_keras.Input((2, 3), name="b")
  merged = hk_keras.layers.Concatenate()([
      hk_keras.layers.Dense(3)(a), hk_keras.layers.Flatten()(b)])
  model = hk_keras.Model({"a": a, "b": b}, hk_keras.layers.Dense(1)(merged))
  serve, arg_specs = _export._serving_function(model, None)  # pylint: disable=protected-access
  flat_serve, polymorphic, specs = _export.tf_conversion_plan(serve,
                                                              arg_specs)
  assert polymorphic == ["(batch, 4)", "(batch, 2, 3)"]
  assert specs == [([None, 4], np.dtype("float32")),
                   ([None, 2, 3], np.dtype("float32"))]
  rng = np.random.default_rng(0)
  x = {"a": rng.normal(size=(3, 4)).astype("float32"),
       "b": rng.normal(size=(3, 2, 3)).astype("float32")}
  got = jax.jit(flat_serve)(x["a"], x["b"])
  np.testing.assert_allclose(np.asarray(got), model.predict(x, verbose=0),
                             atol=1e-6)
