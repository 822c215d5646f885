"""Data and model parallelism over several devices and hosts.

>>> import hk_keras
>>> hk_keras.distribution.set_distribution(
...     hk_keras.distribution.DataParallel(backend="sharding"))  # doctest: +SKIP

Model parallelism (params and optimizer state split over a device mesh):

>>> mesh = hk_keras.distribution.DeviceMesh((2, 4), ["batch", "model"])  # doctest: +SKIP
>>> dist = hk_keras.distribution.ModelParallel(layout_map="auto",
...                                            device_mesh=mesh)  # doctest: +SKIP

See docs/distributed_training.md.
"""
from ._data_parallel import DataParallel
from ._device_mesh import DeviceMesh
from ._devices import get_device_count, list_devices
from ._global import distribution, set_distribution
from ._layout_map import LayoutMap
from ._model_parallel import ModelParallel
from ._multi_host import initialize, is_chief
from ._tensor_layout import TensorLayout, distribute_tensor

__all__ = ["DataParallel", "DeviceMesh", "LayoutMap", "ModelParallel",
           "TensorLayout", "distribute_tensor", "distribution",
           "get_device_count", "initialize", "is_chief", "list_devices",
           "set_distribution"]
