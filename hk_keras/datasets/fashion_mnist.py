"""Fashion-MNIST (Keras's source): `load_data()`."""
from ._remote import FASHION_FILES, load_fashion_mnist


def load_data():
  """Loads Fashion-MNIST as `keras.datasets.fashion_mnist.load_data()`.

  Returns:
    `(x_train, y_train), (x_test, y_test)`: uint8 images `(N, 28, 28)` and
    uint8 labels `(N,)`.
  """
  return load_fashion_mnist()


__all__ = ["FASHION_FILES", "load_data"]
