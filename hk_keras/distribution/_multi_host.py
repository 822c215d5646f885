"""Several processes (hosts) training one model together."""
from typing import Optional

import jax


def initialize(coordinator_address: Optional[str] = None,
               num_processes: Optional[int] = None,
               process_id: Optional[int] = None, **kwargs) -> None:
  """Connects this process to the others (wraps `jax.distributed.initialize`).

  Call it first in every process, before anything touches a device. With no
  arguments JAX reads the cluster from the environment (SLURM, TPU pods,
  `JAX_COORDINATOR_ADDRESS` / `JAX_NUM_PROCESSES` / `JAX_PROCESS_ID`, ...).
  Afterwards `jax.devices()` lists every process's devices and a
  `DataParallel` spans them all.

  Args:
    coordinator_address: "host:port" of process 0's coordinator service.
    num_processes: how many processes take part.
    process_id: this process's index in [0, num_processes).
    **kwargs: passed on to `jax.distributed.initialize` (e.g.
      `local_device_ids`).

  >>> initialize("10.0.0.1:1234", num_processes=2, process_id=0)  # doctest: +SKIP
  """
  jax.distributed.initialize(coordinator_address=coordinator_address,
                             num_processes=num_processes,
                             process_id=process_id, **kwargs)


def is_chief() -> bool:
  """True in process 0, the one that should write checkpoints and logs.

  Always True with a single process. Callbacks that write files check it.

  >>> is_chief()
  True
  """
  return jax.process_index() == 0
