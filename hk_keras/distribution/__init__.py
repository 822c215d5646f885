"""Data-parallel training over several devices and hosts.

>>> import hk_keras
>>> hk_keras.distribution.set_distribution(
...     hk_keras.distribution.DataParallel(backend="sharding"))  # doctest: +SKIP

See docs/distributed_training.md.
"""
from ._data_parallel import DataParallel
from ._global import distribution, set_distribution
from ._multi_host import initialize, is_chief

__all__ = ["DataParallel", "distribution", "initialize", "is_chief",
           "set_distribution"]
