"""Keras 3 optimizers built as optax gradient transformations.

Each class takes Keras 3's arguments and defaults and reproduces Keras 3's
update numerics; `opt.build()` (or simply `opt.init` / `opt.update`) gives
the `optax.GradientTransformation`. The learning rate is injected into the
optimizer state, where `get_learning_rate` / `set_learning_rate` read and
change it without recompiling. Any optax transform is accepted wherever an
optimizer is expected.

>>> import jax.numpy as jnp
>>> import optax
>>> from hk_keras import optimizers
>>> opt = optimizers.get("adam")
>>> params = {"w": jnp.ones(3)}
>>> state = opt.init(params)
>>> updates, state = opt.update({"w": jnp.ones(3)}, state, params)
>>> params = optax.apply_updates(params, updates)
"""

from . import schedules
from ._adadelta import Adadelta
from ._adagrad import Adagrad
from ._adam import Adam, AdamW
from ._adamax import Adamax
from ._base import Optimizer
from ._learning_rate import get_learning_rate, set_learning_rate
from ._lion import Lion
from ._lookup import (OPTIMIZERS, as_gradient_transformation, deserialize,
                      get, serialize)
from ._nadam import Nadam
from ._rmsprop import RMSprop
from ._sgd import SGD
from ._transforms import keras_clip, keras_weight_decay

__all__ = [
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Lion",
    "Nadam",
    "OPTIMIZERS",
    "Optimizer",
    "RMSprop",
    "SGD",
    "as_gradient_transformation",
    "deserialize",
    "get",
    "get_learning_rate",
    "keras_clip",
    "keras_weight_decay",
    "schedules",
    "serialize",
    "set_learning_rate",
]
