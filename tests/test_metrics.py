"""Tests for hk_keras.metrics: Keras 3 parity over batches, purity, errors."""

import doctest
import importlib
import json
import os
import pkgutil
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

from absl.testing import parameterized
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hk_keras import metrics as M

keras = pytest.importorskip("keras")

ATOL = 1e-6
N = 6  # Batch size.


def _keras_name(metric):
  """Keras's default name without the `_1`, `_2` it adds to repeated names."""
  return re.sub(r"_\d+$", "", metric.name)


def _theirs(fn, *args, **kwargs):
  """Runs Keras, which may rely on implicit rank promotion."""
  with jax.numpy_rank_promotion("allow"):
    return fn(*args, **kwargs)


# --- Data: three batches of (y_true, y_pred, sample_weight). -----------------


def _batch(kind, rng):
  if kind == "values":
    return (rng.randn(N, 3).astype("f4"),)
  if kind == "regression":
    return rng.randn(N, 3).astype("f4"), rng.randn(N, 3).astype("f4")
  if kind == "regression_seq":
    return rng.randn(N, 2, 3).astype("f4"), rng.randn(N, 2, 3).astype("f4")
  if kind == "regression_col":
    return rng.randn(N).astype("f4"), rng.randn(N, 1).astype("f4")
  if kind == "positive":
    return (3 * rng.rand(N, 3).astype("f4"),
            3 * rng.rand(N, 3).astype("f4") + 0.01)
  if kind == "probs":
    t, p = rng.rand(N, 4).astype("f4"), rng.rand(N, 4).astype("f4")
    return t / t.sum(-1, keepdims=True), p / p.sum(-1, keepdims=True)
  if kind == "binary":
    return rng.randint(0, 2, (N, 1)).astype("f4"), rng.rand(N, 1).astype("f4")
  if kind == "binary_flat":
    return rng.randint(0, 2, (N,)), rng.rand(N).astype("f4")
  if kind == "binary_multi":
    return rng.randint(0, 2, (N, 3)), rng.rand(N, 3).astype("f4")
  if kind == "binary_logits":
    return (rng.randint(0, 2, (N, 1)).astype("f4"),
            3 * rng.randn(N, 1).astype("f4"))
  if kind == "exact":
    return rng.randint(0, 3, (N,)), rng.randint(0, 3, (N,))
  if kind in ("onehot", "sparse", "sparse_col", "onehot_logits",
              "sparse_logits"):
    labels = rng.randint(0, 5, (N,))
    p = rng.rand(N, 5).astype("f4") + 0.05
    p = p / p.sum(-1, keepdims=True)
    if kind.endswith("logits"):
      p = 3 * rng.randn(N, 5).astype("f4")
    if kind.startswith("onehot"):
      return np.eye(5, dtype="f4")[labels], p
    if kind == "sparse_col":
      return labels[:, None], p
    return labels, p
  raise ValueError(kind)


def _batches(kind, weights, seed=0):
  rng = np.random.RandomState(seed)
  out = []
  for i in range(3):
    data = _batch(kind, rng)
    if weights == "per_sample":
      sw = rng.rand(N).astype("f4")
    elif weights == "per_sample_col":
      sw = rng.rand(N, 1).astype("f4")
    elif weights == "mixed":  # Keras accepts a different form per batch.
      sw = [None, rng.rand(N).astype("f4"), rng.rand(N, 1).astype("f4")][i]
    else:
      sw = None
    out.append((data, sw))
  return out


# (our factory, keras factory, data kind)
CASES = {
    "Mean": (M.Mean, keras.metrics.Mean, "values"),
    "Sum": (M.Sum, keras.metrics.Sum, "values"),
    "Accuracy": (M.Accuracy, keras.metrics.Accuracy, "exact"),
    "BinaryAccuracy": (M.BinaryAccuracy, keras.metrics.BinaryAccuracy,
                       "binary"),
    "BinaryAccuracy_flat_0.7": (
        lambda: M.BinaryAccuracy(threshold=0.7),
        lambda: keras.metrics.BinaryAccuracy(threshold=0.7), "binary_flat"),
    "CategoricalAccuracy": (M.CategoricalAccuracy,
                            keras.metrics.CategoricalAccuracy, "onehot"),
    "SparseCategoricalAccuracy": (M.SparseCategoricalAccuracy,
                                  keras.metrics.SparseCategoricalAccuracy,
                                  "sparse"),
    "SparseCategoricalAccuracy_col": (M.SparseCategoricalAccuracy,
                                      keras.metrics.SparseCategoricalAccuracy,
                                      "sparse_col"),
    "TopKCategoricalAccuracy": (
        lambda: M.TopKCategoricalAccuracy(k=2),
        lambda: keras.metrics.TopKCategoricalAccuracy(k=2), "onehot"),
    "SparseTopKCategoricalAccuracy": (
        lambda: M.SparseTopKCategoricalAccuracy(k=2),
        lambda: keras.metrics.SparseTopKCategoricalAccuracy(k=2), "sparse"),
    "SparseTopKCategoricalAccuracy_col": (
        M.SparseTopKCategoricalAccuracy,
        keras.metrics.SparseTopKCategoricalAccuracy, "sparse_col"),
    "MeanSquaredError": (M.MeanSquaredError, keras.metrics.MeanSquaredError,
                         "regression"),
    "MeanSquaredError_col": (M.MeanSquaredError,
                             keras.metrics.MeanSquaredError, "regression_col"),
    "MeanSquaredError_seq": (M.MeanSquaredError,
                             keras.metrics.MeanSquaredError, "regression_seq"),
    "MeanAbsoluteError": (M.MeanAbsoluteError, keras.metrics.MeanAbsoluteError,
                          "regression"),
    "MeanAbsolutePercentageError": (
        M.MeanAbsolutePercentageError,
        keras.metrics.MeanAbsolutePercentageError, "regression"),
    "MeanSquaredLogarithmicError": (
        M.MeanSquaredLogarithmicError,
        keras.metrics.MeanSquaredLogarithmicError, "positive"),
    "RootMeanSquaredError": (M.RootMeanSquaredError,
                             keras.metrics.RootMeanSquaredError,
                             "regression"),
    "LogCoshError": (M.LogCoshError, keras.metrics.LogCoshError, "regression"),
    "CosineSimilarity": (M.CosineSimilarity, keras.metrics.CosineSimilarity,
                         "regression"),
    "BinaryCrossentropy": (
        lambda: M.BinaryCrossentropy(label_smoothing=0.1),
        lambda: keras.metrics.BinaryCrossentropy(label_smoothing=0.1),
        "binary"),
    "BinaryCrossentropy_logits": (
        lambda: M.BinaryCrossentropy(from_logits=True),
        lambda: keras.metrics.BinaryCrossentropy(from_logits=True),
        "binary_logits"),
    "CategoricalCrossentropy": (M.CategoricalCrossentropy,
                                keras.metrics.CategoricalCrossentropy,
                                "onehot"),
    "CategoricalCrossentropy_logits": (
        lambda: M.CategoricalCrossentropy(from_logits=True,
                                          label_smoothing=0.1),
        lambda: keras.metrics.CategoricalCrossentropy(from_logits=True,
                                                      label_smoothing=0.1),
        "onehot_logits"),
    "SparseCategoricalCrossentropy": (
        lambda: M.SparseCategoricalCrossentropy(from_logits=True),
        lambda: keras.metrics.SparseCategoricalCrossentropy(from_logits=True),
        "sparse_logits"),
    "KLDivergence": (M.KLDivergence, keras.metrics.KLDivergence, "probs"),
    "Poisson": (M.Poisson, keras.metrics.Poisson, "positive"),
    "Hinge": (M.Hinge, keras.metrics.Hinge, "binary_multi"),
    "SquaredHinge": (M.SquaredHinge, keras.metrics.SquaredHinge,
                     "binary_multi"),
    "CategoricalHinge": (M.CategoricalHinge, keras.metrics.CategoricalHinge,
                         "onehot"),
    "TruePositives": (M.TruePositives, keras.metrics.TruePositives,
                      "binary_flat"),
    "FalsePositives": (M.FalsePositives, keras.metrics.FalsePositives,
                       "binary_multi"),
    "TrueNegatives": (lambda: M.TrueNegatives(thresholds=[0.2, 0.7]),
                      lambda: keras.metrics.TrueNegatives(thresholds=[0.2,
                                                                      0.7]),
                      "binary"),
    "FalseNegatives": (M.FalseNegatives, keras.metrics.FalseNegatives,
                       "binary"),
    "Precision": (M.Precision, keras.metrics.Precision, "binary"),
    "Precision_thresholds": (
        lambda: M.Precision(thresholds=[0.0, 0.5, 1.0]),
        lambda: keras.metrics.Precision(thresholds=[0.0, 0.5, 1.0]),
        "binary_multi"),
    "Precision_top_k": (lambda: M.Precision(top_k=2),
                        lambda: keras.metrics.Precision(top_k=2), "onehot"),
    "Precision_class_id": (lambda: M.Precision(class_id=2),
                           lambda: keras.metrics.Precision(class_id=2),
                           "onehot"),
    "Recall": (M.Recall, keras.metrics.Recall, "binary_flat"),
    "Recall_thresholds": (lambda: M.Recall(thresholds=[0.3, 0.6]),
                          lambda: keras.metrics.Recall(thresholds=[0.3, 0.6]),
                          "binary_multi"),
    "Recall_top_k_class_id": (
        lambda: M.Recall(top_k=2, class_id=1),
        lambda: keras.metrics.Recall(top_k=2, class_id=1), "onehot"),
    "AUC": (M.AUC, keras.metrics.AUC, "binary"),
    "AUC_flat": (M.AUC, keras.metrics.AUC, "binary_flat"),
    "AUC_PR": (lambda: M.AUC(curve="PR"), lambda: keras.metrics.AUC(curve="PR"),
               "binary_multi"),
    "AUC_PR_minoring": (
        lambda: M.AUC(curve="PR", summation_method="minoring",
                      num_thresholds=11),
        lambda: keras.metrics.AUC(curve="PR", summation_method="minoring",
                                  num_thresholds=11), "binary"),
    "AUC_PRGAIN_majoring": (
        lambda: M.AUC(curve="PRGAIN", summation_method="majoring"),
        lambda: keras.metrics.AUC(curve="PRGAIN", summation_method="majoring"),
        "binary"),
    "AUC_thresholds": (lambda: M.AUC(thresholds=[0.1, 0.45, 0.8]),
                       lambda: keras.metrics.AUC(thresholds=[0.1, 0.45, 0.8]),
                       "binary"),
    "AUC_logits": (lambda: M.AUC(from_logits=True),
                   lambda: keras.metrics.AUC(from_logits=True),
                   "binary_logits"),
    "AUC_multi_label": (
        lambda: M.AUC(multi_label=True, num_labels=3,
                      label_weights=[0.2, 1.0, 0.5]),
        lambda: keras.metrics.AUC(multi_label=True, num_labels=3,
                                  label_weights=[0.2, 1.0, 0.5]),
        "binary_multi"),
    "AUC_label_weights": (
        lambda: M.AUC(label_weights=[0.2, 1.0, 0.5], curve="PR"),
        lambda: keras.metrics.AUC(label_weights=[0.2, 1.0, 0.5], curve="PR"),
        "binary_multi"),
}


def _keras_results(keras_metric, batches):
  results = []
  for data, sw in batches:
    _theirs(keras_metric.update_state, *data, sample_weight=sw)
    results.append(np.asarray(_theirs(keras_metric.result)))
  return results


# Every case gets (N,) weights; these also get "mixed": no weights, then (N,)
# weights, then (N, 1) weights, one form per batch as Keras allows. (Keras 3
# cannot take (N,) weights for (N, T) values, nor (N, 1) weights for the
# confusion metrics on (N,) data; hk_keras can, see the tests below.)
_MIXED = ("Mean", "Sum", "Accuracy", "BinaryAccuracy",
          "SparseCategoricalAccuracy_col", "TopKCategoricalAccuracy",
          "MeanSquaredError_col", "RootMeanSquaredError",
          "SparseCategoricalCrossentropy", "Precision", "Precision_class_id",
          "AUC", "AUC_multi_label")
_PARITY = ([(case, "per_sample") for case in sorted(CASES)
            if CASES[case][2] != "regression_seq"] +
           [(case, "mixed") for case in _MIXED] +
           [("MeanSquaredError_seq", "per_sample_col")])


@pytest.mark.parametrize("case,weights", _PARITY)
def test_parity_over_batches(case, weights):
  """Pure jitted path, stateful facade and Keras agree after every batch."""
  ours_factory, keras_factory, kind = CASES[case]
  batches = _batches(kind, weights, seed=len(case))
  expected = _keras_results(keras_factory(), batches)

  metric = ours_factory()

  @jax.jit
  def step(state, data, sample_weight):
    state = metric.update(state, *data, sample_weight=sample_weight)
    return state, metric.result(state)

  facade = ours_factory()
  with jax.numpy_rank_promotion("raise"):
    state = metric.init()
    for (data, sw), want in zip(batches, expected):
      state, got = step(state, data, sw)
      facade.update_state(*data, sample_weight=sw)
      chex.assert_trees_all_close(got, want, atol=ATOL, rtol=1e-6)
      chex.assert_trees_all_close(facade.result(), want, atol=ATOL,
                                  rtol=1e-6)
    # Two replicas each seeing part of the data merge to the full state.
    first, _ = step(metric.init(), *batches[0])
    rest = metric.init()
    for data, sw in batches[1:]:
      rest, _ = step(rest, data, sw)
    chex.assert_trees_all_close(metric.merge(first, rest), state, atol=ATOL,
                                rtol=1e-6)
  assert metric.name == _keras_name(keras_factory())


class PureInterfaceTest(chex.TestCase):
  """init/update/result/merge are pure functions of explicit state."""

  @chex.variants(with_jit=True, without_jit=True)
  @parameterized.named_parameters(
      ("sparse_accuracy", "SparseCategoricalAccuracy"),
      ("mse", "MeanSquaredError_col"),
      ("precision", "Precision_top_k"),
      ("auc", "AUC"),
  )
  def test_update_and_result(self, case):
    ours_factory, keras_factory, kind = CASES[case]
    batches = _batches(kind, "per_sample", seed=1)
    metric = ours_factory()
    update = self.variant(metric.update)
    result = self.variant(metric.result)
    state = metric.init()
    initial = jax.tree_util.tree_map(np.asarray, state)
    with jax.numpy_rank_promotion("raise"):
      for data, sw in batches:
        state = update(state, *data, sample_weight=sw)
      got = result(state)
    chex.assert_trees_all_close(got, _keras_results(keras_factory(),
                                                    batches)[-1], atol=ATOL)
    # Nothing was written back anywhere: the initial state is unchanged and
    # the object holds no state of its own.
    chex.assert_trees_all_close(metric.init(), initial)
    assert metric._state is None  # pylint: disable=protected-access

  def test_update_compiles_once_across_batches(self):
    metric = M.SparseCategoricalAccuracy()

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(state, y_true, y_pred, sw):
      return metric.update(state, y_true, y_pred, sample_weight=sw)

    state = metric.init()
    for (data, sw) in _batches("sparse", "per_sample", seed=2):
      state = step(state, *data, sw)
    assert metric.result(state).shape == ()

  def test_as_pure_is_a_named_tuple_of_functions(self):
    metric = M.Mean()
    pure = metric.as_pure()
    assert isinstance(pure, M.PureMetric)
    state = pure.update(pure.init(), jnp.array([1.0, 3.0]))
    state = pure.merge(state, pure.update(pure.init(), jnp.array([5.0])))
    np.testing.assert_allclose(pure.result(state), 3.0)


def test_weights_of_shape_n_1_on_rank_1_data():
  """(N, 1) weights mean one weight per sample for (N,) data everywhere."""
  rng = np.random.RandomState(0)
  y_true, y_pred = rng.randint(0, 2, (N,)), rng.rand(N).astype("f4")
  sw = rng.rand(N).astype("f4")
  for factory in (M.Recall, M.AUC, M.BinaryAccuracy,
                  lambda: M.Precision(thresholds=[0.0, 0.5, 1.0])):
    by_row, by_col = factory(), factory()
    by_row.update_state(y_true, y_pred, sample_weight=sw)
    by_col.update_state(y_true, y_pred, sample_weight=sw[:, None])
    np.testing.assert_allclose(by_col.result(), by_row.result(), atol=ATOL)


def test_stateful_facade_reset_and_call():
  metric = M.BinaryAccuracy()
  assert float(metric([[1], [0]], [[0.9], [0.8]])) == 0.5
  metric.update_state([[1]], [[0.9]])
  np.testing.assert_allclose(metric.result(), 2 / 3, rtol=1e-6)
  metric.reset_state()
  np.testing.assert_allclose(metric.result(), 0.0)
  metric.state = metric.update(metric.init(), [[0]], [[0.1]])
  np.testing.assert_allclose(metric.result(), 1.0)


def test_auc_multi_label_infers_num_labels_on_facade_only():
  y_true, y_pred = _batch("binary_multi", np.random.RandomState(0))
  facade = M.AUC(multi_label=True)
  facade.update_state(y_true, y_pred)
  expected = keras.metrics.AUC(multi_label=True)
  _theirs(expected.update_state, y_true, y_pred)
  np.testing.assert_allclose(facade.result(), expected.result(), atol=ATOL)
  with pytest.raises(ValueError, match=r"needs `num_labels`.*"
                     r"AUC\(multi_label=True, num_labels=\.\.\.\)"):
    M.AUC(multi_label=True).init()


def test_sparse_ce_metric_ignore_class():
  """With weights: as Keras. Without: ignored entries still leave the mean
  (Keras 3 counts them as zeros when no sample_weight is given)."""
  y_true = np.array([0, 1, 2, 0, 1, 2])
  y_pred = _batch("sparse", np.random.RandomState(0))[1]
  sw = np.arange(1, 7, dtype="f4")
  ours = M.SparseCategoricalCrossentropy(ignore_class=1)
  theirs = keras.metrics.SparseCategoricalCrossentropy(ignore_class=1)
  ours.update_state(y_true, y_pred, sample_weight=sw)
  _theirs(theirs.update_state, y_true, y_pred, sample_weight=sw)
  np.testing.assert_allclose(ours.result(), theirs.result(), atol=ATOL)
  unweighted = M.SparseCategoricalCrossentropy(ignore_class=1)
  unweighted.update_state(y_true, y_pred)
  ones = M.SparseCategoricalCrossentropy(ignore_class=1)
  ones.update_state(y_true, y_pred, sample_weight=np.ones(6, "f4"))
  np.testing.assert_allclose(unweighted.result(), ones.result(), atol=ATOL)


def test_mean_metric_wrapper_with_a_custom_function():
  def abs_error(y_true, y_pred):
    return jnp.abs(y_true - y_pred)

  batches = _batches("regression", "per_sample", seed=4)
  ours = M.MeanMetricWrapper(abs_error, name="abs_error")
  theirs = keras.metrics.MeanMetricWrapper(abs_error)
  for data, sw in batches:
    ours.update_state(*data, sample_weight=sw)
    _theirs(theirs.update_state, *data, sample_weight=sw)
  np.testing.assert_allclose(ours.result(), theirs.result(), atol=ATOL)
  assert M.MeanMetricWrapper(abs_error).name == "mean_metric_wrapper"
  wrapped = M.get(abs_error)
  assert isinstance(wrapped, M.MeanMetricWrapper)
  assert wrapped.name == "abs_error"


def test_default_names_and_configs_match_keras():
  for name in sorted({n.split("_")[0] for n in CASES}):
    if name in ("Mean", "Sum"):
      continue
    ours, theirs = getattr(M, name)(), getattr(keras.metrics, name)()
    assert ours.name == _keras_name(theirs), name
    ours_config = ours.get_config()
    for key, value in theirs.get_config().items():
      if key not in ("fn", "name"):
        assert ours_config[key] == value, (name, key)


# --- get / resolve / serialize. ----------------------------------------------


@pytest.mark.parametrize("identifier", [
    "accuracy", "binary_accuracy", "categorical_accuracy",
    "sparse_categorical_accuracy", "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "mse", "mae", "mape", "msle",
    "mean_squared_error", "mean_absolute_error", "auc", "precision", "recall",
    "AUC", "Precision", "SparseCategoricalAccuracy", "binary_crossentropy",
    "bce", "root_mean_squared_error", "true_positives", "kl_divergence",
])
def test_get_strings_as_keras(identifier):
  ours, theirs = M.get(identifier), keras.metrics.get(identifier)
  assert type(ours).__name__ == type(theirs).__name__
  assert ours.name == _keras_name(theirs)


def test_get_other_identifiers():
  assert M.get(None) is None
  assert isinstance(M.get("acc"), M.Accuracy)
  assert isinstance(M.get(M.AUC), M.AUC)
  inst = M.Precision(thresholds=0.3)
  assert M.get(inst) is inst
  assert M.get({"class_name": "BinaryAccuracy",
                "config": {"threshold": 0.2}}).threshold == 0.2
  with pytest.raises(ValueError, match=r"Unknown metric identifier: "
                     r"'accuracyy'.*'accuracy'.*'sparse_categorical_accuracy'"):
    M.get("accuracyy")
  with pytest.raises(ValueError, match="Could not interpret metric"):
    M.get(3)


@pytest.mark.parametrize("loss,y_true_shape,y_pred_shape", [
    ("sparse_categorical_crossentropy", (None,), (None, 10)),
    ("sparse_categorical_crossentropy", (None, 1), (None, 10)),
    ("categorical_crossentropy", (None, 10), (None, 10)),
    ("binary_crossentropy", (None, 1), (None, 1)),
    ("binary_crossentropy", (None,), (None, 1)),
    ("mse", (None, 1), (None, 1)),
    (None, (None, 3), (None, 3)),
    (None, (None, 5, 1), (None, 5, 7)),
])
def test_resolve_accuracy_matches_keras_compile(loss, y_true_shape,
                                                y_pred_shape):
  from keras.src.trainers import compile_utils  # pylint: disable=g-import-not-at-top
  true_spec = keras.KerasTensor(y_true_shape)
  pred_spec = keras.KerasTensor(y_pred_shape)
  for name in ("accuracy", "acc"):
    expected = compile_utils.get_metric(name, true_spec, pred_spec)
    got = M.resolve_accuracy(loss, y_true_shape, y_pred_shape, name=name)
    assert type(got).__name__ == type(expected).__name__
    assert got.name == expected.name == name
    got = M.resolve_metric(name, y_true_shape, y_pred_shape, loss=loss)
    assert type(got).__name__ == type(expected).__name__


def test_resolve_accuracy_uses_binary_for_multi_label_bce():
  for loss in ("binary_crossentropy", M.BinaryCrossentropy,
               keras_free_bce()):
    got = M.resolve_accuracy(loss, (None, 4), (None, 4))
    assert isinstance(got, M.BinaryAccuracy)
  assert isinstance(M.resolve_accuracy(None, (None, 4), (None, 4)),
                    M.CategoricalAccuracy)


def keras_free_bce():
  from hk_keras import losses  # pylint: disable=g-import-not-at-top
  return losses.BinaryCrossentropy(from_logits=True)


def test_resolve_metric_names_string_metrics_like_compile():
  assert M.resolve_metric("mae", (8, 1), (8, 1)).name == "mae"
  assert isinstance(M.resolve_metric("mae", (8, 1), (8, 1)),
                    M.MeanAbsoluteError)
  auc = M.AUC(name="my_auc")
  assert M.resolve_metric(auc, (8,), (8,)).name == "my_auc"
  with pytest.raises(ValueError, match="Expected a metric, received None"):
    M.resolve_metric(None, (8,), (8,))


@pytest.mark.parametrize("metric", [
    M.Mean(name="m"), M.Sum(), M.Accuracy(), M.BinaryAccuracy(threshold=0.3),
    M.SparseTopKCategoricalAccuracy(k=3, from_sorted_ids=True),
    M.TopKCategoricalAccuracy(k=2), M.RootMeanSquaredError(),
    M.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
    M.SparseCategoricalCrossentropy(ignore_class=0),
    M.Precision(thresholds=[0.2, 0.4], top_k=2, class_id=1),
    M.Recall(), M.TruePositives(thresholds=0.3),
    M.AUC(curve="PR", summation_method="minoring", num_thresholds=50),
    M.AUC(thresholds=[0.2, 0.5], multi_label=True, num_labels=2,
          label_weights=[1.0, 2.0]),
    M.MeanMetricWrapper(M.binary_accuracy, name="w", threshold=0.2),
])
def test_serialize_round_trip_is_json(metric):
  config = json.loads(json.dumps(M.serialize(metric)))
  assert config["class_name"] == type(metric).__name__
  rebuilt = M.deserialize(config)
  assert type(rebuilt) is type(metric)
  assert rebuilt.get_config() == metric.get_config()


def test_serialize_custom_function_needs_custom_objects():
  config = M.serialize(M.MeanMetricWrapper(_module_level_metric))
  with pytest.raises(ValueError, match="custom_objects"):
    M.deserialize(config)
  rebuilt = M.deserialize(config, custom_objects={
      "_module_level_metric": _module_level_metric})
  assert rebuilt.fn is _module_level_metric
  with pytest.raises(ValueError, match="lambdas and nested functions"):
    M.serialize(M.MeanMetricWrapper(lambda t, p: t))


def _module_level_metric(y_true, y_pred):
  return jnp.abs(y_true - y_pred)


# --- Bad inputs. --------------------------------------------------------------


def test_sparse_accuracy_rejects_one_hot_targets():
  with pytest.raises(ValueError, match=r"sparse_categorical_accuracy expects "
                     r"integer class indices of shape \(6,\) or \(6, 1\), got "
                     r"y_true shape \(6, 5\).*use categorical_accuracy for "
                     r"one-hot targets"):
    M.SparseCategoricalAccuracy().update_state(*_batch("onehot",
                                                       np.random.RandomState()))


def test_categorical_accuracy_rejects_integer_labels():
  with pytest.raises(ValueError, match=r"categorical_accuracy expects one-hot "
                     r"targets with the same shape as y_pred \(6, 5\), got "
                     r"y_true shape \(6,\); use sparse_categorical_accuracy"):
    jax.jit(M.CategoricalAccuracy().update)(
        M.CategoricalAccuracy().init(),
        *_batch("sparse", np.random.RandomState()))


def test_bad_sample_weight_and_arguments():
  with pytest.raises(ValueError, match=r"sample_weight of shape \(6, 3\) "
                     r"cannot be broadcast to the per-sample values of shape "
                     r"\(6,\).*one weight per sample"):
    M.MeanSquaredError().update_state(np.zeros((6, 2)), np.zeros((6, 2)),
                                      sample_weight=np.ones((6, 3)))
  with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
    M.Precision(thresholds=[0.5, 1.5])
  with pytest.raises(ValueError, match="Invalid AUC curve value"):
    M.AUC(curve="ROCC")
  with pytest.raises(ValueError, match="must be an integer > 1"):
    M.AUC(num_thresholds=1)
  with pytest.raises(ValueError, match="class_id is provided"):
    M.Precision(class_id=1).update_state(np.zeros(3), np.zeros(3))


def test_custom_metric_subclass():

  class Maximum(M.Metric):

    def init(self):
      return jnp.array(-jnp.inf)

    def update(self, state, values, sample_weight=None):
      return jnp.maximum(state, jnp.max(values))

    def result(self, state):
      return state

    def merge(self, a, b):
      return jnp.maximum(a, b)

  metric = Maximum()
  assert metric.name == "maximum"
  metric.update_state(jnp.array([1.0, 5.0]))
  metric.update_state(jnp.array([2.0]))
  assert float(metric.result()) == 5.0
  assert float(metric.result(jnp.array(7.0))) == 7.0


def test_docstring_examples_run():
  for info in pkgutil.iter_modules(M.__path__):
    module = importlib.import_module(f"{M.__name__}.{info.name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, info.name


def test_dtypes_and_function_configs():
  assert M.Mean(dtype="mixed_bfloat16").dtype == "bfloat16"
  assert M.Mean().init()["total"].dtype == jnp.float32
  wrapped = M.get({"class_name": "function", "config": "binary_accuracy"})
  assert isinstance(wrapped, M.MeanMetricWrapper)
  assert wrapped.name == "binary_accuracy"
  config = M.Precision(thresholds=np.array([0.2, 0.4])).get_config()
  assert config["thresholds"] == [0.2, 0.4]
  json.dumps(config)


@pytest.mark.parametrize("case", ["Mean", "Precision", "AUC",
                                  "TruePositives", "AUC_multi_label"])
def test_state_can_be_donated(case):
  """No two leaves of a fresh state share a buffer (jit donation needs it)."""
  metric = CASES[case][0]()
  leaves = jax.tree_util.tree_leaves(metric.init())
  assert len({id(leaf) for leaf in leaves}) == len(leaves)
  data, sw = _batches(CASES[case][2], "per_sample")[0]
  update = jax.jit(lambda s, d, w: metric.update(s, *d, sample_weight=w),
                   donate_argnums=0)
  state = update(metric.init(), data, sw)
  state = update(state, data, sw)
  chex.assert_tree_all_finite(state)
