"""Logs: device values read only when asked, in Keras's order."""
import jax



class LazyLogs(dict):
  """Batch logs that read device values only when a callback asks."""

  def __init__(self, device_logs):
    super().__init__()
    self._device = device_logs

  def _fill(self):
    if self._device is not None:
      super().update(ordered(self._device, ["loss"]))
      self._device = None

  def __getitem__(self, k):
    self._fill()
    return super().__getitem__(k)

  def get(self, k, default=None):
    self._fill()
    return super().get(k, default)

  def items(self):
    self._fill()
    return super().items()

  def keys(self):
    self._fill()
    return super().keys()

  def __iter__(self):
    self._fill()
    return super().__iter__()

  def __len__(self):
    self._fill()
    return super().__len__()


def ordered(logs, names):
  """Host floats in Keras's order ("loss", then metrics as compiled); jit
  returns dicts with sorted keys."""
  logs = {k: float(v) for k, v in jax.device_get(logs).items()}
  order = [n for n in names if n in logs] + sorted(set(logs) - set(names))
  return {k: logs[k] for k in order}


def host_logs(strategy, objective, logs):
  """Device logs of a step -> host floats in Keras's order."""
  names = ["loss"] + [m.log_name for m in objective.metrics or []]
  return ordered(strategy.fetch(logs), names)


def format_logs(logs, return_dict):
  """What evaluate/train_on_batch return: a dict, one scalar or a list."""
  if return_dict:
    return dict(logs)
  values = list(logs.values())
  return values[0] if len(values) == 1 else values
