"""Differentially private training: per-example gradients and DP-SGD.

`model.compile(..., privacy=DPSGD(l2_norm_clip=1.0, noise_multiplier=1.1))`
makes `fit` train with DP-SGD; `model.privacy_spent()` reports (epsilon,
delta); `hk_keras.callbacks.PrivacyBudget(epsilon)` stops training before
a budget is exceeded. See docs/privacy.md.
"""
from ._dpsgd import DPSGD
from ._per_example import per_example_gradients

__all__ = [
    "DPSGD",
    "per_example_gradients",
]
