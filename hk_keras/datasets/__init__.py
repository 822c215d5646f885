"""Small datasets in Keras's `load_data()` style.

- `digits`: the UCI 8x8 handwritten digits, shipped inside the package
  (works offline).
- `mnist`: MNIST read from a local Keras-format `mnist.npz`, with a checked
  `download()` into the cache.
- `cifar10`, `cifar100`, `fashion_mnist`, `imdb`, `reuters`,
  `boston_housing`, `california_housing`: Keras's loaders, same arguments,
  sources and hashes, through `hk_keras.utils.get_file` (cached files need
  no network).

>>> from hk_keras.datasets import digits
>>> (x_train, y_train), (x_test, y_test) = digits.load_data()
"""

from . import digits, mnist
from . import (boston_housing, california_housing, cifar10, cifar100,
               fashion_mnist, imdb, reuters)

__all__ = ["digits", "mnist"]
__all__ += ["boston_housing", "california_housing", "cifar10", "cifar100",
            "fashion_mnist", "imdb", "reuters"]
