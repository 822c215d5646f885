"""Global settings, as `keras.config`: backend, floatx, epsilon, data format.

>>> import hk_keras
>>> hk_keras.config.backend()
'jax'
>>> hk_keras.config.image_data_format()
'channels_last'

See docs/config.md.
"""
from ._settings import (backend, device_data_budget, dtype_policy,
                        enable_jit_cache, set_device_data_budget,
                        enable_unsafe_deserialization, epsilon, floatx,
                        image_data_format, set_dtype_policy, set_epsilon,
                        set_floatx, set_image_data_format)

__all__ = ["backend", "device_data_budget", "dtype_policy",
           "enable_jit_cache", "enable_unsafe_deserialization", "epsilon",
           "floatx", "image_data_format", "set_device_data_budget",
           "set_dtype_policy", "set_epsilon", "set_floatx",
           "set_image_data_format"]
