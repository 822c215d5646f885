"""Keras 3 metrics as pure state machines with a stateful Keras facade.

Every metric exposes pure `init() -> state`, `update(state, ...) -> state`,
`result(state)` and `merge(a, b)` for compiled train steps, plus Keras's
`update_state(...)`, `result()` and `reset_state()` holding the state on the
object.
"""

from ._accuracy import Accuracy
from ._accuracy import BinaryAccuracy
from ._accuracy import CategoricalAccuracy
from ._accuracy import SparseCategoricalAccuracy
from ._accuracy import SparseTopKCategoricalAccuracy
from ._accuracy import TopKCategoricalAccuracy
from ._accuracy import accuracy
from ._accuracy import binary_accuracy
from ._accuracy import categorical_accuracy
from ._accuracy import sparse_categorical_accuracy
from ._accuracy import sparse_top_k_categorical_accuracy
from ._accuracy import top_k_categorical_accuracy
from ._auc import AUC
from ._confusion import FalseNegatives
from ._confusion import FalsePositives
from ._confusion import Precision
from ._confusion import Recall
from ._confusion import TrueNegatives
from ._confusion import TruePositives
from ._confusion import confusion_counts
from ._metric import Metric
from ._metric import MetricState
from ._metric import PureMetric
from ._probabilistic import BinaryCrossentropy
from ._probabilistic import CategoricalCrossentropy
from ._probabilistic import CategoricalHinge
from ._probabilistic import Hinge
from ._probabilistic import KLDivergence
from ._probabilistic import Poisson
from ._probabilistic import SparseCategoricalCrossentropy
from ._probabilistic import SquaredHinge
from ._reduction import Mean
from ._reduction import MeanMetricWrapper
from ._reduction import Sum
from ._registry import deserialize
from ._registry import get
from ._registry import resolve_accuracy
from ._registry import resolve_metric
from ._registry import serialize
from ._regression import CosineSimilarity
from ._regression import LogCoshError
from ._regression import MeanAbsoluteError
from ._regression import MeanAbsolutePercentageError
from ._regression import MeanSquaredError
from ._regression import MeanSquaredLogarithmicError
from ._regression import RootMeanSquaredError

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanMetricWrapper",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Metric",
    "MetricState",
    "Poisson",
    "Precision",
    "PureMetric",
    "Recall",
    "RootMeanSquaredError",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "confusion_counts",
    "deserialize",
    "get",
    "resolve_accuracy",
    "resolve_metric",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
