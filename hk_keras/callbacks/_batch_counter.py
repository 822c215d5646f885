"""Counting training batches for callbacks that act every N batches."""


class BatchCounter:
  """Counts batches from the indices given to `on_train_batch_end`.

  The engine may run several steps per call (steps_per_execution) and then
  reports only the last index, so the count is taken from the difference of
  indices, not from the number of calls. Call `new_epoch()` in
  `on_epoch_begin`.
  """

  def __init__(self, every):
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
      raise ValueError(
          "Expected 'epoch' or a positive number of batches. Received: "
          f"{every!r}")
    self.every = every
    self.total = 0  # batches since training started
    self._since = 0
    self._last = -1

  def new_epoch(self):
    self._last = -1

  def step(self, batch):
    """Counts up to `batch`; True when `every` batches have passed."""
    done = batch - self._last
    self._last = batch
    self.total += done
    self._since += done
    if self._since >= self.every:
      self._since = 0
      return True
    return False
