"""hk_keras: the Keras 3 API rebuilt on DeepMind's Haiku.

Keras-style `Layer`, `Sequential` and `Model` are thin facades; underneath,
every model is one `hk.transform_with_state` (`model.init`, `model.apply`,
`model.transformed`), and `fit` runs pure jitted steps over one train state.
"""
from . import activations
from . import backend
from . import callbacks
from . import constraints
from . import config
from . import datasets
from . import distribution
from . import initializers
from . import layers
from . import losses
from . import metrics
from . import mixed_precision
from . import models
from . import ops
from . import optimizers
from . import privacy
from . import regularizers
from . import random
from . import saving
from . import utils
from .layers import Input
from .models import Model, Sequential

__version__ = "0.1.0"

__all__ = ["Input", "Model", "Sequential", "activations", "callbacks",
           "datasets", "distribution", "initializers", "layers", "losses",
           "metrics", "mixed_precision", "models", "optimizers", "saving",
           "utils",
           "constraints", "regularizers"]
__all__ += ["backend", "config", "random"]
__all__ += ["ops"]
__all__ += ["privacy"]
