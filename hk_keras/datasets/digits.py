"""UCI handwritten digits (8x8), shipped with hk_keras: `load_data()`."""

from ._digits import DIGITS_SHA256, load_data

__all__ = ["DIGITS_SHA256", "load_data"]
