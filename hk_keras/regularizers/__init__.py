"""Regularizers: penalties on weights and activations added to the loss.

>>> import hk_keras
>>> layer = hk_keras.layers.Dense(3, kernel_regularizer=hk_keras.regularizers.L2(1e-4))

See docs/customizing_fit.md ("Losses from layers").
"""
from .._core._object_lookup import ObjectLookup
from ._regularizers import L1, L1L2, L2, OrthogonalRegularizer, Regularizer

_LOOKUP = ObjectLookup("regularizer", "hk_keras.regularizers", Regularizer,
                       (Regularizer, L1, L2, L1L2, OrthogonalRegularizer))
_NAMES = _LOOKUP.names
get, serialize, deserialize = _LOOKUP.functions('"l1", "l2", "l1l2", ...')

__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer",
           "deserialize", "get", "serialize"]
