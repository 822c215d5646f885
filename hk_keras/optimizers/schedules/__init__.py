"""Keras 3 learning-rate schedules: serializable callables of the step.

Pass one as any optimizer's `learning_rate`. Plain optax schedules work too,
but only these (and `LearningRateSchedule` subclasses with `get_config`) can
be saved in an optimizer's config.

>>> from hk_keras import optimizers
>>> sched = optimizers.schedules.ExponentialDecay(0.1, decay_steps=100,
...                                               decay_rate=0.96)
>>> opt = optimizers.SGD(learning_rate=sched)
"""

from ._base import LearningRateSchedule
from ._lookup import deserialize, serialize
from ._smooth_decays import CosineDecay, PolynomialDecay
from ._step_decays import (ExponentialDecay, InverseTimeDecay,
                           PiecewiseConstantDecay)

__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
