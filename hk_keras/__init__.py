"""hk_keras: the Keras 3 API rebuilt on DeepMind's Haiku.

Keras-style `Layer`, `Sequential` and `Model` are thin facades; underneath,
every model is one `hk.transform_with_state` (`model.init`, `model.apply`,
`model.transformed`).
"""
from . import activations
from . import initializers
from . import layers
from . import models
from . import utils
from .layers import Input
from .models import Model, Sequential

__version__ = "0.1.0"

__all__ = ["Input", "Model", "Sequential", "activations", "initializers",
           "layers", "models", "utils"]
