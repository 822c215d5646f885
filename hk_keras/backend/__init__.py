"""The `keras.backend` names: settings, dtypes, sessions (JAX only).

>>> import hk_keras
>>> hk_keras.backend.backend()
'jax'

See docs/config.md.
"""
from ..config._settings import (backend, epsilon, floatx, image_data_format,
                                set_epsilon, set_floatx,
                                set_image_data_format)
from ._dtypes import (is_float_dtype, is_int_dtype, result_type,
                      standardize_dtype)
from ._session import clear_session, get_uid, is_keras_tensor

__all__ = ["backend", "clear_session", "epsilon", "floatx", "get_uid",
           "image_data_format", "is_float_dtype", "is_int_dtype",
           "is_keras_tensor", "result_type", "set_epsilon", "set_floatx",
           "set_image_data_format", "standardize_dtype"]
