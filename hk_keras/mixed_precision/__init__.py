"""Mixed precision: float32 variables, float16/bfloat16 computation.

>>> import hk_keras
>>> hk_keras.mixed_precision.set_global_policy("mixed_bfloat16")
>>> hk_keras.layers.Dense(4).compute_dtype
'bfloat16'
>>> hk_keras.mixed_precision.set_global_policy("float32")

See docs/mixed_precision.md.
"""
from ._policy import DTypePolicy, Policy, global_policy, set_global_policy
from ._policy import initial_loss_scale  # engine use

__all__ = ["DTypePolicy", "Policy", "global_policy", "set_global_policy"]
