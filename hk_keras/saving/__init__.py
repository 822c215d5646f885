"""Saving and loading models: one `.keras` zip of JSON config and `.npz` arrays.

`model.save("m.keras")` writes the architecture (JSON config), weights,
Haiku state, compile arguments and the live train state (optimizer state,
RNG key, step, shuffle seed); `load_model` rebuilds the model and resumes
`fit` exactly. No code and no pickle is ever stored: custom classes and
functions are found by registered name (`register_keras_serializable`) or
`custom_objects`. Loading is safe on untrusted files: everything is
checked before it is inflated or allocated, memory stays in proportion to
the model (at most `max_bytes`), and every bad file raises `SavingError`.
See docs/saving_and_loading.md.
"""
from ._archive import SavingError
from ._exported import load_exported
from ._model_io import load_model
from ._model_io import load_weights
from ._model_io import save_model
from ._model_io import save_weights
from .._core._registry import CustomObjectScope
from .._core._registry import custom_object_scope
from .._core._registry import get_custom_objects
from .._core._registry import get_registered_name
from .._core._registry import get_registered_object
from .._core._registry import register_keras_serializable
from ._objects import deserialize_keras_object
from ._objects import serialize_keras_object

__all__ = [
    "CustomObjectScope",
    "SavingError",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_exported",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]
