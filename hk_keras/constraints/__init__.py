"""Constraints: projections applied to weights after each optimizer update.

>>> import hk_keras
>>> layer = hk_keras.layers.Dense(3, kernel_constraint=hk_keras.constraints.MaxNorm(2.0))

See docs/customizing_fit.md ("Losses from layers").
"""
from .._core._object_lookup import ObjectLookup
from ._constraints import Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_LOOKUP = ObjectLookup("constraint", "hk_keras.constraints", Constraint,
                       (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm))
_NAMES = _LOOKUP.names
get, serialize, deserialize = _LOOKUP.functions('"max_norm", "non_neg", ...')

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
           "deserialize", "get", "serialize"]
