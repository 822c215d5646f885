"""Random draws with Keras 3's signatures, as `keras.random`, on `jax.random`.

`seed=` takes an int (the key Keras's JAX backend uses, so the numbers equal
Keras's), a `SeedGenerator`, a JAX key, or None: inside a layer's `call` the
draw then comes from the model's RNG (fresh each `fit` step).

>>> import hk_keras
>>> hk_keras.random.uniform((2,), seed=0).shape
(2,)

See docs/config.md.
"""
from ._draws import (beta, binomial, categorical, dropout, gamma, normal,
                     randint, shuffle, truncated_normal, uniform)
from ._seed_generator import SeedGenerator

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout",
           "gamma", "normal", "randint", "shuffle", "truncated_normal",
           "uniform"]
