"""Keras 3 losses as pure `jax.numpy` functions and thin `Loss` classes.

Functions such as `mean_squared_error(y_true, y_pred)` return one loss per
sample; classes such as `MeanSquaredError()` add `sample_weight` and the
reduction. Both are jit-able and differentiable.
"""

from ._crossentropy import BinaryCrossentropy
from ._crossentropy import CategoricalCrossentropy
from ._crossentropy import SparseCategoricalCrossentropy
from ._crossentropy import binary_crossentropy
from ._crossentropy import categorical_crossentropy
from ._crossentropy import sparse_categorical_crossentropy
from ._hinge import CategoricalHinge
from ._hinge import Hinge
from ._hinge import SquaredHinge
from ._hinge import categorical_hinge
from ._hinge import hinge
from ._hinge import squared_hinge
from ._loss import Loss
from ._loss import LossFunctionWrapper
from ._probabilistic import KLDivergence
from ._probabilistic import Poisson
from ._probabilistic import kl_divergence
from ._probabilistic import poisson
from ._reduction import reduce_weighted_values
from ._reduction import squeeze_or_expand_to_same_rank
from ._registry import deserialize
from ._registry import get
from ._registry import resolve_loss
from ._registry import serialize
from ._regression import CosineSimilarity
from ._regression import Huber
from ._regression import LogCosh
from ._regression import MeanAbsoluteError
from ._regression import MeanAbsolutePercentageError
from ._regression import MeanSquaredError
from ._regression import MeanSquaredLogarithmicError
from ._regression import cosine_similarity
from ._regression import huber
from ._regression import log_cosh
from ._regression import mean_absolute_error
from ._regression import mean_absolute_percentage_error
from ._regression import mean_squared_error
from ._regression import mean_squared_logarithmic_error

# Short aliases, as in Keras.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLD",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "binary_crossentropy",
    "categorical_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "kl_divergence",
    "kld",
    "log_cosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "reduce_weighted_values",
    "resolve_loss",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "squeeze_or_expand_to_same_rank",
]
