"""Small datasets in Keras's `load_data()` style.

- `digits`: the UCI 8x8 handwritten digits, shipped inside the package
  (works offline).
- `mnist`: MNIST read from a local Keras-format `mnist.npz`, with a checked
  `download()` into the cache.

>>> from hk_keras.datasets import digits
>>> (x_train, y_train), (x_test, y_test) = digits.load_data()
"""

from . import digits, mnist

__all__ = ["digits", "mnist"]
