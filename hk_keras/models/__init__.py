"""Models: `Model` (Functional API and subclassing) and `Sequential`."""
from ._cloning import clone_model, model_from_json
from ._functional import Functional
from ._model import Model
from ._sequential import Sequential
from ..saving import load_model

__all__ = ["Model", "Sequential", "Functional", "load_model"]
__all__ += ["clone_model", "model_from_json"]
