"""CIFAR-10 and CIFAR-100 from Keras's sources (python-pickle batches)."""
import os

import numpy as np

from ..config import _settings
from . import _safe_npz
from . import _sources

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_SHA256 = (
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")
CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_SHA256 = (
    "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7")


def _batch(path, label_key="labels"):
  raw = _safe_npz.load_pickle(path)
  d = {(k.decode("utf8") if isinstance(k, bytes) else k): v
       for k, v in raw.items()}
  data = np.asarray(d["data"], np.uint8)
  return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def _layout(x):
  return x if _settings.image_data_format() == "channels_first" else (
      x.transpose(0, 2, 3, 1))


def load_cifar10():
  root = _sources.fetch("cifar-10-batches-py-target", CIFAR10_URL,
                        CIFAR10_SHA256, extract=True)
  folder = os.path.join(root, "cifar-10-batches-py")
  xs, ys = zip(*[_batch(os.path.join(folder, f"data_batch_{i}"))
                 for i in range(1, 6)])
  x_train, y_train = np.concatenate(xs), np.concatenate(
      [np.asarray(y) for y in ys])
  x_test, y_test = _batch(os.path.join(folder, "test_batch"))
  y_train = y_train.reshape(-1, 1).astype(np.uint8)
  y_test = np.asarray(y_test).reshape(-1, 1).astype(np.uint8)
  return (_layout(x_train), y_train), (_layout(x_test), y_test)


def load_cifar100(label_mode="fine"):
  if label_mode not in ("fine", "coarse"):
    raise ValueError('`label_mode` must be one of "fine", "coarse". '
                     f"Received: label_mode={label_mode!r}.")
  root = _sources.fetch("cifar-100-python-target", CIFAR100_URL,
                        CIFAR100_SHA256, extract=True)
  folder = os.path.join(root, "cifar-100-python")
  key = f"{label_mode}_labels"
  x_train, y_train = _batch(os.path.join(folder, "train"), key)
  x_test, y_test = _batch(os.path.join(folder, "test"), key)
  y_train = np.asarray(y_train).reshape(-1, 1).astype(np.uint8)
  y_test = np.asarray(y_test).reshape(-1, 1).astype(np.uint8)
  return (_layout(x_train), y_train), (_layout(x_test), y_test)
