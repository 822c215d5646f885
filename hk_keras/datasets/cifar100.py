"""CIFAR-100 (Keras's source and sha256): `load_data(label_mode="fine")`."""
from ._cifar import CIFAR100_SHA256, CIFAR100_URL, load_cifar100


def load_data(label_mode="fine"):
  """Loads CIFAR-100 as `keras.datasets.cifar100.load_data()`.

  Args:
    label_mode: "fine" (100 classes) or "coarse" (20 superclasses).

  Returns:
    `(x_train, y_train), (x_test, y_test)` as for CIFAR-10.

  Raises:
    ValueError: on another `label_mode`.
  """
  return load_cifar100(label_mode)


__all__ = ["CIFAR100_SHA256", "CIFAR100_URL", "load_data"]
