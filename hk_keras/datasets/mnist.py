"""MNIST in Keras's `mnist.npz` format: `load_data(path=None)`, `download()`."""

from ._mnist import (KERAS_MNIST_SHA256, KERAS_MNIST_URL, MNIST_SHA256,
                     download, load_data)

__all__ = ["KERAS_MNIST_SHA256", "KERAS_MNIST_URL", "MNIST_SHA256",
           "download", "load_data"]
