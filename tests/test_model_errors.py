"""User mistakes get a clear error naming the problem and the fix."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import hk_keras
from hk_keras import layers


def _x(*shape):
  return np.zeros(shape, np.float32)


def _built():
  return hk_keras.Sequential([hk_keras.Input((4,)), layers.Dense(2)])


def test_wrong_input_shape_for_a_built_model():
  model = _built()
  with pytest.raises(ValueError, match=r"expected shape \(None, 4\), received "
                     r"shape \(3, 5\)"):
    model(_x(3, 5))
  with pytest.raises(ValueError, match=r"expected shape \(None, 4\), received "
                     r"shape \(4,\).*first axis is the batch"):
    model(_x(4))
  with pytest.raises(ValueError, match=r"expected shape \(None, 4\)"):
    model.apply(model.params, model.state, None, _x(3, 5))


def test_wrong_number_of_inputs():
  a, b = hk_keras.Input((2,)), hk_keras.Input((2,))
  model = hk_keras.Model([a, b], layers.Add()([a, b]))
  with pytest.raises(ValueError, match="expects 2 input.*received 1"):
    model(_x(3, 2))
  with pytest.raises(TypeError, match="one input structure"):
    model(_x(3, 2), _x(3, 2))


def test_wrong_rank_for_a_layer():
  with pytest.raises(ValueError, match=r"rank >= 2.*received shape \(4,\).*"
                     r"Add a batch axis"):
    hk_keras.Sequential([layers.Dense(2)])(_x(4))
  with pytest.raises(ValueError, match="rank >= 2"):
    layers.Dense(2)(_x(4))


@pytest.mark.parametrize("shape", [(-1, 3), (0,), (2.5,), (True,)])
def test_invalid_input_shape_entries(shape):
  with pytest.raises(ValueError, match=r"positive ints or None.*Received: "
                     r"shape="):
    hk_keras.Input(shape)


@pytest.mark.parametrize("shape", [3.5, "abc", None])
def test_input_shape_not_a_tuple(shape):
  with pytest.raises(ValueError, match=r"must be a tuple.*e\.g\. shape=\(784,\)"):
    hk_keras.Input(shape)


def test_input_int_shape_is_a_one_tuple():
  assert hk_keras.Input(3).shape == (None, 3)


def test_invalid_input_dtype():
  with pytest.raises(ValueError, match="not a valid dtype"):
    hk_keras.Input((3,), dtype="float33")


def test_unknown_activation_lists_valid_names():
  with pytest.raises(ValueError, match=r"Unknown activation: 'relux'.*'relu'.*"
                     r"'sigmoid'"):
    layers.Dense(2, activation="relux")


def test_unknown_initializer_lists_valid_names():
  with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot_unifrom'"
                     r".*'glorot_uniform'.*'he_normal'"):
    layers.Dense(2, kernel_initializer="glorot_unifrom")


def test_set_weights_wrong_count():
  model = _built()
  with pytest.raises(ValueError, match=r"expects a list of 2 arrays.*kernel.*"
                     r"bias.*received 1"):
    model.set_weights([np.zeros((4, 2))])


def test_set_weights_wrong_shape_names_the_weight():
  model = _built()
  name = model.layers[0].name
  with pytest.raises(ValueError, match=rf"'{name}/kernel'.*expects shape "
                     r"\(4, 2\), received \(4, 3\)"):
    model.set_weights([np.zeros((4, 3)), np.zeros(2)])
  # Nothing was written.
  assert model.get_weights()[0].shape == (4, 2)


def test_duplicate_layer_names_in_one_model():
  with pytest.raises(ValueError, match="Two different layers are named 'dup'.*"
                     "unique name"):
    hk_keras.Sequential([hk_keras.Input((2,)), layers.Dense(2, name="dup"),
                         layers.Dense(2, name="dup")])
  x = hk_keras.Input((2,))
  with pytest.raises(ValueError, match="named 'twin'"):
    hk_keras.Model(x, layers.Dense(1, name="twin")(
        layers.Dense(2, name="twin")(x)))


def test_invalid_layer_name():
  with pytest.raises(ValueError, match="Invalid layer name 'my layer'"):
    layers.Dense(2, name="my layer")


def test_weights_before_build():
  model = hk_keras.Sequential([layers.Dense(2)], name="lazy")
  for action in (model.summary, lambda: model.params, lambda: model.state,
                 model.get_weights, model.count_params, model.trainable_mask):
    with pytest.raises(ValueError, match=r"'lazy' has not been built yet.*"
                       r"model\.build\(input_shape\)"):
      action()
  with pytest.raises(ValueError, match="not built yet"):
    layers.Dense(2).count_params()


@pytest.mark.parametrize("op", [
    jnp.sin, lambda t: jnp.add(t, 1.0), jnp.asarray, jnp.sum,
    lambda t: jnp.concatenate([t, t], -1)])
def test_jnp_ops_on_symbolic_tensors(op):
  x = hk_keras.Input((3,))
  with pytest.raises(ValueError, match=r"hold no data.*hk_keras\.ops.*"
                     r"hk_keras\.layers\.Lambda"):
    op(x)


def test_numpy_functions_on_symbolic_tensors():
  x = hk_keras.Input((3,))
  with pytest.raises(TypeError, match=r"hold no data.*hk_keras\.ops"):
    np.sin(x)


@pytest.mark.parametrize("op", [lambda t: t + 1, lambda t: 2 * t,
                                lambda t: t @ t.T, lambda t: t[0]])
def test_python_operators_on_symbolic_tensors_build_op_nodes(op):
  x = hk_keras.Input((3,))
  out = op(x)
  assert isinstance(out, type(x)) and type(out.node.layer).__name__ == (
      "OpLayer")


def test_graph_disconnected():
  a, b = hk_keras.Input((2,)), hk_keras.Input((2,), name="other_input")
  with pytest.raises(ValueError, match="Graph disconnected.*'other_input'.*"
                     "Add it to `inputs`"):
    hk_keras.Model(a, layers.Add()([a, b]))


def test_setting_params_with_the_wrong_structure():
  model = _built()
  with pytest.raises(ValueError, match="missing entry"):
    model.params = {}
  bad = jax.tree_util.tree_map(lambda p: jnp.zeros(p.shape + (1,)),
                               model.params)
  with pytest.raises(ValueError, match="expects shape"):
    model.params = bad


def test_unexpected_layer_keyword():
  with pytest.raises(TypeError, match=r"unexpected keyword argument.*'unit'"):
    layers.Dense(2, unit=3)
