"""Utilities with the names of `keras.utils`: seeding, arrays, data, files,
images, plots and the serialization helpers.

>>> import hk_keras
>>> hk_keras.utils.to_categorical([1, 0], num_classes=2).tolist()
[[0.0, 1.0], [1.0, 0.0]]

See docs/utils.md.
"""
from ..backend._session import clear_session, is_keras_tensor
from .._core._registry import (CustomObjectScope, custom_object_scope,
                                get_custom_objects, get_registered_name,
                                get_registered_object,
                                register_keras_serializable)
from ..saving._objects import (deserialize_keras_object,
                               serialize_keras_object)
from ._file import get_file
from ._graph import get_source_inputs
from ._image import array_to_img, img_to_array, load_img, save_img
from ._numerical import (normalize, pack_x_y_sample_weight, pad_sequences,
                         to_categorical, unpack_x_y_sample_weight)
from ._plot import model_to_dot, plot_model
from ._progbar import Progbar
from ._py_dataset import PyDataset, Sequence
from ._random import next_rng_key, set_random_seed
from ._timeseries import split_dataset, timeseries_dataset_from_array

__all__ = ["CustomObjectScope", "Progbar", "PyDataset", "Sequence",
           "array_to_img", "clear_session", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_file",
           "get_registered_name", "get_registered_object",
           "get_source_inputs", "img_to_array", "is_keras_tensor",
           "load_img", "model_to_dot", "next_rng_key", "normalize",
           "pack_x_y_sample_weight", "pad_sequences", "plot_model",
           "register_keras_serializable", "save_img",
           "serialize_keras_object", "set_random_seed", "split_dataset",
           "timeseries_dataset_from_array", "to_categorical",
           "unpack_x_y_sample_weight"]
