"""Keras 3 activations as pure `jax.numpy` functions.

Each function takes an array and returns an array of the same shape; they
are safe to use inside `jax.jit` and Haiku transforms. `get` turns a Keras
name into a function and `serialize` does the reverse for configs.

>>> import jax.numpy as jnp
>>> from hk_keras import activations
>>> activations.get("relu")(jnp.array([-1., 2.]))
Array([0., 2.], dtype=float32)
"""

from ._lookup import deserialize, get, register, serialize
from ._rectifiers import elu, leaky_relu, relu, relu6, selu
from ._smooth import (exponential, gelu, hard_sigmoid, hard_silu, hard_swish,
                      linear, mish, sigmoid, silu, softplus, softsign, swish,
                      tanh)
from ._softmax import log_softmax, softmax

__all__ = [
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "register",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]
