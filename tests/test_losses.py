"""Tests for hk_keras.losses: Keras 3 parity, reductions, weights, errors."""

import doctest
import importlib
import json
import os
import pkgutil

os.environ.setdefault("KERAS_BACKEND", "jax")

from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hk_keras import losses as L

keras = pytest.importorskip("keras")

ATOL = 1e-6
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight",
              None)


def ours(fn, *args, **kwargs):
  """Runs our code with implicit rank promotion forbidden."""
  with jax.numpy_rank_promotion("raise"):
    return np.asarray(fn(*args, **kwargs))


def theirs(fn, *args, **kwargs):
  """Runs Keras, which may rely on implicit rank promotion."""
  with jax.numpy_rank_promotion("allow"):
    return np.asarray(fn(*args, **kwargs))


def _data(kind, shape, seed):
  """Random targets and predictions of the kind a loss expects."""
  rng = np.random.RandomState(seed)
  if isinstance(shape[0], tuple):
    true_shape, pred_shape = shape
  else:
    true_shape = pred_shape = shape
  if kind == "regression":
    return (rng.randn(*true_shape).astype("f4"),
            rng.randn(*pred_shape).astype("f4"))
  if kind == "positive":
    return (rng.rand(*true_shape).astype("f4") * 3,
            rng.rand(*pred_shape).astype("f4") * 3 + 0.01)
  if kind == "probs":  # distributions over the last axis.
    t = rng.rand(*true_shape).astype("f4")
    p = rng.rand(*pred_shape).astype("f4")
    return t / t.sum(-1, keepdims=True), p / p.sum(-1, keepdims=True)
  if kind == "binary":
    return ((rng.rand(*true_shape) > 0.5).astype("f4"),
            rng.rand(*pred_shape).astype("f4"))
  if kind == "binary_logits":
    return ((rng.rand(*true_shape) > 0.5).astype("f4"),
            3 * rng.randn(*pred_shape).astype("f4"))
  if kind == "signed":
    return (np.sign(rng.randn(*true_shape)).astype("f4"),
            rng.randn(*pred_shape).astype("f4"))
  if kind == "onehot":
    c = pred_shape[-1]
    labels = rng.randint(0, c, size=pred_shape[:-1])
    p = rng.rand(*pred_shape).astype("f4") + 0.05
    return np.eye(c, dtype="f4")[labels], p / p.sum(-1, keepdims=True)
  if kind == "onehot_logits":
    c = pred_shape[-1]
    labels = rng.randint(0, c, size=pred_shape[:-1])
    return np.eye(c, dtype="f4")[labels], 3 * rng.randn(*pred_shape).astype(
        "f4")
  if kind in ("sparse", "sparse_logits"):
    labels = rng.randint(0, pred_shape[-1], size=true_shape)
    if kind == "sparse":
      p = rng.rand(*pred_shape).astype("f4") + 0.05
      return labels, p / p.sum(-1, keepdims=True)
    return labels, 3 * rng.randn(*pred_shape).astype("f4")
  raise ValueError(kind)


def _weights(values_shape_batch, kind, seed):
  rng = np.random.RandomState(seed + 100)
  if kind is None:
    return None
  if kind == "scalar":
    return np.float32(1.7)
  if kind == "per_sample":
    return rng.rand(values_shape_batch).astype("f4")
  if kind == "per_sample_col":
    return rng.rand(values_shape_batch, 1).astype("f4")
  raise ValueError(kind)


# (class name, constructor kwargs, data kind, shapes)
_STD_SHAPES = [(4, 3), ((5,), (5, 1))]
LOSS_CASES = [
    ("MeanSquaredError", {}, "regression",
     _STD_SHAPES + [(2, 3, 5), ((5, 1), (5,)), (6, 1)]),
    ("MeanAbsoluteError", {}, "regression", _STD_SHAPES),
    ("MeanAbsolutePercentageError", {}, "regression", _STD_SHAPES),
    ("MeanSquaredLogarithmicError", {}, "positive", _STD_SHAPES),
    ("Huber", {}, "regression", _STD_SHAPES),
    ("Huber", {"delta": 0.4}, "regression", _STD_SHAPES),
    ("LogCosh", {}, "regression", _STD_SHAPES),
    ("CosineSimilarity", {}, "regression", [(4, 3), (2, 3, 5)]),
    ("KLDivergence", {}, "probs", [(4, 3), ((5,), (5, 1))]),
    ("Poisson", {}, "positive", _STD_SHAPES),
    ("Hinge", {}, "binary", _STD_SHAPES),
    ("Hinge", {}, "signed", [(4, 3)]),
    ("SquaredHinge", {}, "binary", _STD_SHAPES),
    ("CategoricalHinge", {}, "onehot", [(4, 3), (2, 3, 5)]),
    ("BinaryCrossentropy", {}, "binary",
     [(4, 3), (2, 3, 5), ((5,), (5, 1)), (6, 1)]),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "binary", [(4, 3)]),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits",
     [(4, 3), ((5,), (5, 1))]),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
     "binary_logits", [(4, 3)]),
    ("CategoricalCrossentropy", {}, "onehot", [(4, 3), (2, 3, 5)]),
    ("CategoricalCrossentropy", {"label_smoothing": 0.15}, "onehot", [(4, 3)]),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits",
     [(4, 3), (2, 3, 5)]),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1},
     "onehot_logits", [(4, 3)]),
    ("SparseCategoricalCrossentropy", {}, "sparse",
     [((4,), (4, 3)), ((4, 1), (4, 3)), ((2, 3), (2, 3, 5))]),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits",
     [((4,), (4, 3)), ((4, 1), (4, 3)), ((2, 3), (2, 3, 5))]),
]


def _expand_cases():
  for cls_name, kwargs, kind, shapes in LOSS_CASES:
    for shape in shapes:
      yield pytest.param(cls_name, kwargs, kind, shape,
                         id=f"{cls_name}-{kwargs}-{shape}")


@pytest.mark.parametrize("cls_name,kwargs,kind,shape", list(_expand_cases()))
def test_class_parity_with_keras(cls_name, kwargs, kind, shape):
  """Default reduction, with and without weights, matches keras.losses."""
  y_true, y_pred = _data(kind, shape, seed=len(cls_name))
  for weight_kind in (None, "per_sample_col"):
    sw = _weights(np.shape(y_pred)[0], weight_kind, seed=3)
    expected = theirs(getattr(keras.losses, cls_name)(**kwargs), y_true,
                      y_pred, sample_weight=sw)
    got = ours(getattr(L, cls_name)(**kwargs), y_true, y_pred,
               sample_weight=sw)
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-6,
                               err_msg=f"sample_weight={weight_kind}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("cls_name,kwargs,kind,shape", [
    ("MeanSquaredError", {}, "regression", (4, 3)),
    ("MeanSquaredError", {}, "regression", (2, 3, 5)),
    ("MeanSquaredError", {}, "regression", ((5,), (5, 1))),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits", (6, 1)),
    ("SparseCategoricalCrossentropy", {}, "sparse", ((2, 3), (2, 3, 5))),
])
def test_reduction_and_sample_weight_parity(reduction, cls_name, kwargs, kind,
                                            shape):
  """Every reduction x weighting (shared by all losses) matches Keras."""
  y_true, y_pred = _data(kind, shape, seed=5)
  batch = np.shape(y_pred)[0]
  keras_loss = getattr(keras.losses, cls_name)(reduction=reduction, **kwargs)
  ours_loss = getattr(L, cls_name)(reduction=reduction, **kwargs)
  for weight_kind in (None, "scalar", "per_sample", "per_sample_col"):
    if weight_kind == "per_sample" and np.ndim(y_pred) > 2:
      continue  # Keras 3 cannot broadcast (N,) weights on (N, T) losses.
    sw = _weights(batch, weight_kind, seed=3)
    expected = theirs(keras_loss, y_true, y_pred, sample_weight=sw)
    got = ours(ours_loss, y_true, y_pred, sample_weight=sw)
    np.testing.assert_allclose(got, expected, atol=ATOL, rtol=1e-6,
                               err_msg=f"sample_weight={weight_kind}")


FUNCTION_CASES = [
    ("mean_squared_error", {}, "regression"),
    ("mean_absolute_error", {}, "regression"),
    ("mean_absolute_percentage_error", {}, "regression"),
    ("mean_squared_logarithmic_error", {}, "positive"),
    ("huber", {"delta": 0.7}, "regression"),
    ("log_cosh", {}, "regression"),
    ("cosine_similarity", {}, "regression"),
    ("kl_divergence", {}, "probs"),
    ("poisson", {}, "positive"),
    ("hinge", {}, "binary"),
    ("squared_hinge", {}, "signed"),
    ("categorical_hinge", {}, "onehot"),
    ("binary_crossentropy", {"label_smoothing": 0.1}, "binary"),
    ("binary_crossentropy", {"from_logits": True}, "binary_logits"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "onehot"),
    ("categorical_crossentropy", {"from_logits": True}, "onehot_logits"),
    ("sparse_categorical_crossentropy", {}, "sparse"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "sparse_logits"),
]


class FunctionParityTest(chex.TestCase):
  """The pure per-sample functions, with and without jit, against Keras."""

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(
      (f"{name}_{i}", name, kwargs, kind)
      for i, (name, kwargs, kind) in enumerate(FUNCTION_CASES))
  def test_per_sample_values(self, name, kwargs, kind):
    shape = ((3, 4), (3, 4, 5)) if kind.startswith("sparse") else (3, 4, 5)
    y_true, y_pred = _data(kind, shape, seed=7)
    fn = self.variant(lambda t, p: getattr(L, name)(t, p, **kwargs))
    with jax.numpy_rank_promotion("raise"):
      got = fn(y_true, y_pred)
    expected = theirs(getattr(keras.losses, name), y_true, y_pred, **kwargs)
    chex.assert_shape(got, (3, 4))
    chex.assert_trees_all_close(got, expected, atol=ATOL, rtol=1e-6)

  @chex.variants(with_jit=True, without_jit=True)
  def test_loss_class_is_jittable_and_differentiable(self):
    y_true, y_pred = _data("onehot_logits", (4, 3), seed=1)
    sw = np.array([1.0, 0.5, 0.0, 2.0], "f4")
    loss = L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)

    @self.variant
    def value_and_grad(p):
      return jax.value_and_grad(lambda q: loss(y_true, q, sw))(p)

    with jax.numpy_rank_promotion("raise"):
      value, grad = value_and_grad(y_pred)
    expected = theirs(
        keras.losses.CategoricalCrossentropy(from_logits=True,
                                             label_smoothing=0.1),
        y_true, y_pred, sample_weight=sw)
    chex.assert_trees_all_close(value, expected, atol=ATOL)
    chex.assert_tree_all_finite(grad)
    chex.assert_trees_all_close(grad[2], jnp.zeros(3))  # Zero weight row.


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sparse_ignore_class_parity(from_logits, reduction):
  y_true = np.array([0, 1, 2, 0, 1, 2])
  y_pred = _data("sparse_logits" if from_logits else "sparse",
                 ((6,), (6, 3)), seed=2)[1]
  kwargs = dict(from_logits=from_logits, ignore_class=1, reduction=reduction)
  for sw in (None, np.arange(1, 7, dtype="f4")):
    expected = theirs(keras.losses.SparseCategoricalCrossentropy(**kwargs),
                      y_true, y_pred, sample_weight=sw)
    got = ours(L.SparseCategoricalCrossentropy(**kwargs), y_true, y_pred,
               sample_weight=sw)
    np.testing.assert_allclose(got, expected, atol=ATOL)


def test_sparse_ignore_class_has_finite_gradients():
  loss = L.SparseCategoricalCrossentropy(ignore_class=-1)
  y_true = np.array([0, -1, 2])
  y_pred = np.array([[0.2, 0.3, 0.5], [0.0, 0.0, 0.0], [0.1, 0.1, 0.8]], "f4")
  value, grad = jax.jit(jax.value_and_grad(lambda p: loss(y_true, p)))(y_pred)
  chex.assert_tree_all_finite((value, grad))
  expected = -(np.log(0.2) + np.log(0.8)) / 2  # Mean over the 2 valid rows.
  np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_per_sample_weights_on_sequence_losses_align_on_batch_axis():
  """(N,) weights with (N, T) losses weight samples (Keras 3 raises here)."""
  rng = np.random.RandomState(0)
  y_true, y_pred = rng.randn(4, 3, 2), rng.randn(4, 3, 2)
  sw = np.array([1.0, 0.0, 2.0, 0.5], "f4")
  per_step = ((y_true - y_pred) ** 2).mean(-1)  # (4, 3)
  got = ours(L.MeanSquaredError(), y_true, y_pred, sample_weight=sw)
  np.testing.assert_allclose(got, (per_step * sw[:, None]).mean(), rtol=1e-5)
  got = ours(L.MeanSquaredError(reduction="mean_with_sample_weight"), y_true,
             y_pred, sample_weight=sw)
  np.testing.assert_allclose(
      got, (per_step * sw[:, None]).sum() / (3 * sw.sum()), rtol=1e-5)


def test_default_names_and_configs_match_keras():
  for name in ("MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh",
               "BinaryCrossentropy", "CategoricalCrossentropy",
               "SparseCategoricalCrossentropy", "KLDivergence", "Poisson",
               "Hinge", "SquaredHinge", "CategoricalHinge",
               "CosineSimilarity", "MeanAbsolutePercentageError",
               "MeanSquaredLogarithmicError"):
    ours_config = getattr(L, name)().get_config()
    keras_config = getattr(keras.losses, name)().get_config()
    # Keras leaves some constructor arguments out of its config; ours keeps
    # them so that from_config round-trips.
    for key, value in keras_config.items():
      assert ours_config[key] == value, (name, key)


@pytest.mark.parametrize("identifier,cls_name", [
    ("mse", "MeanSquaredError"), ("MSE", "MeanSquaredError"),
    ("mean_squared_error", "MeanSquaredError"),
    ("MeanSquaredError", "MeanSquaredError"), ("mae", "MeanAbsoluteError"),
    ("mean_absolute_error", "MeanAbsoluteError"),
    ("binary_crossentropy", "BinaryCrossentropy"),
    ("bce", "BinaryCrossentropy"),
    ("categorical_crossentropy", "CategoricalCrossentropy"),
    ("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"),
    ("huber", "Huber"), ("kld", "KLDivergence"),
    ("kl_divergence", "KLDivergence"), ("KLDivergence", "KLDivergence"),
    ("poisson", "Poisson"), ("log_cosh", "LogCosh"), ("mape",
                                                      "MeanAbsolutePercentageError"),
])
def test_get_strings(identifier, cls_name):
  loss = L.get(identifier)
  assert type(loss) is getattr(L, cls_name)
  assert loss.name == getattr(keras.losses, cls_name)().name


def test_get_classes_instances_callables_and_configs():
  assert L.get(None) is None
  assert isinstance(L.get(L.Huber), L.Huber)
  inst = L.CategoricalCrossentropy(from_logits=True)
  assert L.get(inst) is inst
  assert isinstance(L.get(L.mean_squared_error), L.MeanSquaredError)

  def my_l1(y_true, y_pred):
    return jnp.sum(jnp.abs(y_true - y_pred), axis=-1)

  wrapped = L.get(my_l1)
  assert isinstance(wrapped, L.LossFunctionWrapper)
  assert wrapped.name == "my_l1"
  np.testing.assert_allclose(ours(wrapped, np.zeros((2, 3)), np.ones((2, 3))),
                             3.0)
  cfg = {"class_name": "BinaryCrossentropy", "config": {"from_logits": True}}
  assert L.get(cfg).from_logits


def test_get_unknown_names_the_value_and_lists_valid_names():
  with pytest.raises(ValueError, match=r"Unknown loss identifier: 'msee'.*"
                     r"'mean_squared_error'.*'mse'"):
    L.get("msee")
  with pytest.raises(ValueError, match="Could not interpret loss identifier"):
    L.get(42)


@pytest.mark.parametrize("loss", [
    L.MeanSquaredError(reduction="sum"),
    L.Huber(delta=2.5, name="h"),
    L.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, axis=-1),
    L.CategoricalCrossentropy(label_smoothing=0.2),
    L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=255),
    L.CosineSimilarity(axis=1, reduction=None),
    L.LossFunctionWrapper(L.log_cosh, name="lc", reduction="mean"),
    L.KLDivergence(),
])
def test_serialize_round_trip_is_json(loss):
  config = json.loads(json.dumps(L.serialize(loss)))
  assert config["class_name"] == type(loss).__name__
  rebuilt = L.deserialize(config)
  assert type(rebuilt) is type(loss)
  assert rebuilt.get_config() == loss.get_config()


def test_serialize_functions_and_custom_objects():
  assert L.deserialize(L.serialize(L.huber)) is L.huber

  config = L.serialize(L.LossFunctionWrapper(_module_level_loss))
  with pytest.raises(ValueError, match="custom_objects"):
    L.deserialize(config)
  rebuilt = L.deserialize(config, custom_objects={
      "_module_level_loss": _module_level_loss})
  assert rebuilt.fn is _module_level_loss
  with pytest.raises(ValueError, match="lambdas and nested functions"):
    L.serialize(L.LossFunctionWrapper(lambda t, p: t - p))
  with pytest.raises(ValueError, match="Unknown loss class 'Nope'"):
    L.deserialize({"class_name": "Nope", "config": {}})


def _module_level_loss(y_true, y_pred):
  return jnp.mean(y_true * y_pred, axis=-1)


# --- Bad inputs: each error names the problem and the fix. -------------------


def test_sparse_ce_rejects_one_hot_targets():
  y_pred = np.full((4, 3), 1 / 3, "f4")
  with pytest.raises(
      ValueError,
      match=r"SparseCategoricalCrossentropy expects integer class indices of "
      r"shape \(4,\) or \(4, 1\), got y_true shape \(4, 3\).*use "
      r"CategoricalCrossentropy for one-hot targets"):
    jax.jit(L.SparseCategoricalCrossentropy())(np.eye(3)[[0, 1, 2, 0]], y_pred)


def test_categorical_ce_rejects_integer_labels():
  y_pred = np.full((4, 3), 1 / 3, "f4")
  for labels in (np.array([0, 1, 2, 0]), np.array([[0], [1], [2], [0]])):
    with pytest.raises(
        ValueError,
        match=r"CategoricalCrossentropy expects one-hot targets with the same "
        r"shape as y_pred \(4, 3\), got y_true shape .*use "
        r"SparseCategoricalCrossentropy for integer class indices"):
      L.CategoricalCrossentropy()(labels, y_pred)


def test_mse_rejects_shapes_that_do_not_match():
  with pytest.raises(
      ValueError,
      match=r"MeanSquaredError expects y_true and y_pred of the same \(or "
      r"broadcastable\) shape, got y_true shape \(4, 3\) and y_pred shape "
      r"\(4, 2\).*reshape the targets"):
    L.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 2)))
  with pytest.raises(ValueError, match=r"got y_true shape \(4,\) and y_pred "
                     r"shape \(4, 3\)"):
    L.mean_squared_error(np.zeros(4), np.zeros((4, 3)))


def test_binary_ce_rejects_different_shapes():
  with pytest.raises(ValueError, match=r"BinaryCrossentropy expects y_true "
                     r"and y_pred of the same shape, got y_true shape \(4, 2\)"):
    L.BinaryCrossentropy()(np.zeros((4, 2)), np.full((4, 3), 0.5))


def test_bad_sample_weight_and_reduction():
  with pytest.raises(ValueError, match=r"sample_weight of shape \(4, 3\) does "
                     r"not match the per-sample values of shape \(4,\).*one "
                     r"weight per sample"):
    L.MeanSquaredError()(np.zeros((4, 3)), np.zeros((4, 3)), np.ones((4, 3)))
  with pytest.raises(ValueError, match=r"Invalid value for argument "
                     r"`reduction`.*Received: reduction='avg'"):
    L.MeanSquaredError(reduction="avg")


def test_base_loss_subclass():

  class MeanCube(L.Loss):

    def call(self, y_true, y_pred):
      return jnp.mean(jnp.abs(y_true - y_pred) ** 3, axis=-1)

  loss = MeanCube()
  assert loss.name == "mean_cube"
  np.testing.assert_allclose(ours(loss, np.zeros((2, 3)), np.ones((2, 3))), 1.0)
  with pytest.raises(NotImplementedError, match="must implement"):
    L.Loss()(np.zeros(2), np.zeros(2))


def test_docstring_examples_run():
  for info in pkgutil.iter_modules(L.__path__):
    module = importlib.import_module(f"{L.__name__}.{info.name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, info.name


@pytest.mark.parametrize("identifier", ["crossentropy", "ce", "CE", "mse",
                                        "mae", "binary_crossentropy",
                                        "MeanSquaredError"])
@pytest.mark.parametrize("y_true_shape,y_pred_shape", [
    ((None,), (None, 10)), ((None, 1), (None, 10)), ((None, 10), (None, 10)),
    ((None, 1), (None, 1)), ((None,), (None, 1)),
])
def test_resolve_loss_matches_keras_compile(identifier, y_true_shape,
                                            y_pred_shape):
  from keras.src.trainers import compile_utils  # pylint: disable=g-import-not-at-top
  expected = compile_utils.get_loss(identifier, keras.KerasTensor(y_true_shape),
                                    keras.KerasTensor(y_pred_shape))
  got = L.resolve_loss(identifier, y_true_shape, y_pred_shape)
  expected_fn = getattr(expected, "fn", None)
  expected_name = (expected_fn.__name__ if expected_fn is not None else
                   type(expected).__name__)
  got_fn_name = getattr(got, "fn").__name__
  assert got_fn_name == expected_name or type(got).__name__ == expected_name
  assert got.name == expected.name
  assert L.resolve_loss(None, y_true_shape, y_pred_shape) is None


def test_gradients_are_finite_for_every_loss():
  """Clipping and the stable formulas keep gradients finite at the edges."""
  edge_probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], "f4")
  onehot = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "f4")
  cases = [
      (L.BinaryCrossentropy(), onehot, edge_probs),
      (L.BinaryCrossentropy(from_logits=True), onehot, 50 * edge_probs),
      (L.CategoricalCrossentropy(), onehot, edge_probs + 1e-3),
      (L.CategoricalCrossentropy(from_logits=True), onehot, 90 * edge_probs),
      (L.SparseCategoricalCrossentropy(), np.array([0, 2]), edge_probs + 1e-3),
      (L.KLDivergence(), onehot, edge_probs),
      (L.Poisson(), onehot, edge_probs + 1e-3),
      (L.Huber(), onehot, edge_probs),
      (L.LogCosh(), onehot, 30 * edge_probs),
      (L.MeanSquaredLogarithmicError(), onehot, edge_probs),
      (L.MeanAbsolutePercentageError(), onehot, edge_probs),
      (L.Hinge(), onehot, edge_probs),
      (L.CategoricalHinge(), onehot, edge_probs),
  ]
  for loss, y_true, y_pred in cases:
    grad = jax.grad(lambda p, loss=loss, y_true=y_true: loss(y_true, p))(
        jnp.asarray(y_pred))
    chex.assert_tree_all_finite(grad)


def test_dtype_policy_names_and_bfloat16_outputs():
  assert L.MeanSquaredError().dtype == "float32"
  assert L.MeanSquaredError(dtype="mixed_bfloat16").dtype == "bfloat16"
  with pytest.raises(ValueError, match=r"Invalid dtype 'foo'"):
    L.Loss(dtype="foo")
  # bfloat16 model outputs are scored in float32 by default.
  y_pred = jnp.asarray([[0.2, 0.7]], jnp.bfloat16)
  value = L.BinaryCrossentropy()(np.array([[0.0, 1.0]]), y_pred)
  assert value.dtype == jnp.float32
  assert isinstance(L.get({"class_name": "function", "config": "mse"}),
                    L.MeanSquaredError)
