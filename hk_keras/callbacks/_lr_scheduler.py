"""`LearningRateScheduler`: set the learning rate at the start of each epoch."""
import inspect
import numbers

from . import _learning_rate
from ._callback import Callback


def _takes_two(fn):
  try:
    inspect.signature(fn).bind(0, 0.0)
  except TypeError:  # one-argument schedule(epoch) (older Keras form)
    return False
  except ValueError:  # no signature (some builtins): assume (epoch, lr)
    pass
  return True


class LearningRateScheduler(Callback):
  """Calls `schedule(epoch, lr)` at each epoch start and uses its result.

  The new rate is written into the live optimizer state, so the compiled
  train step is reused (no recompilation). The rate in use is logged as
  "learning_rate" at each epoch end, as in Keras 3.

  Args:
    schedule: a function `(epoch, lr) -> new_lr` (epoch counts from 0, lr
      is a Python float); a one-argument `schedule(epoch)` also works.
    verbose: 1 prints each change.

  Raises:
    ValueError: (during fit) if `schedule` returns something other than a
      real number.
    TypeError: (during fit) if the optimizer was built with a schedule of
      its own, which would overwrite the rate at every step.

  >>> def halve_after_ten(epoch, lr):
  ...   return lr if epoch < 10 else lr * 0.5
  >>> model.fit(x, y, epochs=20, callbacks=[
  ...     LearningRateScheduler(halve_after_ten)])  # doctest: +SKIP
  """

  def __init__(self, schedule, verbose=0):
    super().__init__()
    if not callable(schedule):
      raise TypeError(
          "LearningRateScheduler needs a function schedule(epoch, lr). "
          f"Received: schedule={schedule!r}")
    self.schedule = schedule
    self.verbose = verbose
    self._pending = None

  def on_epoch_begin(self, epoch, logs=None):
    lr = _learning_rate.get_learning_rate(self.model)
    new_lr = (self.schedule(epoch, lr) if _takes_two(self.schedule) else
              self.schedule(epoch))
    if isinstance(new_lr, bool) or not isinstance(new_lr, numbers.Real):
      raise ValueError(
          "The schedule of LearningRateScheduler must return a float. "
          f"Received: {new_lr!r} (type {type(new_lr).__name__}) at epoch "
          f"{epoch}.")
    new_lr = float(new_lr)
    if not _learning_rate.set_learning_rate(self.model, new_lr):
      # No train state before the first batch of a generator: apply it then.
      # The hook is set on the instance only while needed, so other epochs
      # keep the batch hooks off.
      self._pending = new_lr
      self.on_train_batch_begin = self._apply_pending
    if self.verbose > 0:
      print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning "
            f"rate to {new_lr}.")

  def _apply_pending(self, batch, logs=None):
    if self._pending is not None and _learning_rate.set_learning_rate(
        self.model, self._pending):
      self._pending = None
      del self.on_train_batch_begin

  def on_epoch_end(self, epoch, logs=None):
    if logs is not None:
      logs["learning_rate"] = _learning_rate.get_learning_rate(self.model)
