"""Keras 3 initializers usable as Haiku initializers.

Every initializer is a callable `init(shape, dtype)`, the signature Haiku
uses, so it can be passed straight to `hk.get_parameter`. Random ones draw
their key from `hk.next_rng_key()` unless built with an integer `seed`.

>>> import haiku as hk
>>> import jax
>>> from hk_keras import initializers
>>> def f():
...   return hk.get_parameter("w", (3, 4), init=initializers.get("glorot_uniform"))
>>> hk.transform(f).init(jax.random.PRNGKey(0))["~"]["w"].shape
(3, 4)
"""

from ._base import Initializer, RandomInitializer, compute_fans
from ._constant import Constant, Identity, Ones, Zeros
from ._lookup import deserialize, get, serialize
from ._orthogonal import Orthogonal
from ._random import RandomNormal, RandomUniform, TruncatedNormal
from ._variance_scaling import (GlorotNormal, GlorotUniform, HeNormal,
                                HeUniform, LecunNormal, LecunUniform,
                                VarianceScaling)

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "serialize",
]
