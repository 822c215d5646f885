"""CIFAR-10 (Keras's source and sha256): `load_data()`."""
from ._cifar import CIFAR10_SHA256, CIFAR10_URL, load_cifar10


def load_data():
  """Loads CIFAR-10 as `keras.datasets.cifar10.load_data()`.

  Downloads Keras's file (sha256 checked) into `~/.keras/datasets` once;
  afterwards reads the cache without network. The pickled batches are read
  by hk_keras's own pickle reader, which rebuilds NumPy arrays and never
  runs code from the file.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: uint8 images `(N, 32, 32, 3)`
    (`(N, 3, 32, 32)` under channels_first) and uint8 labels `(N, 1)`.
  """
  return load_cifar10()


__all__ = ["CIFAR10_SHA256", "CIFAR10_URL", "load_data"]
