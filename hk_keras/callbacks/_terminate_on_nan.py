"""`TerminateOnNaN`: stop training at the first NaN or infinite loss."""
import math

from ._callback import Callback


class TerminateOnNaN(Callback):
  """Stops training when a batch's loss is NaN or infinite.

  It reads the loss of every batch, which waits for that step to finish: a
  host sync per step. For a check inside the compiled step that names the
  offending gradient, use `model.compile(debug=True)` instead.

  Args:
    raise_error: raise a RuntimeError instead of stopping quietly (Keras
      3.9+ argument).

  >>> model.fit(x, y, callbacks=[TerminateOnNaN()])  # doctest: +SKIP
  """

  def __init__(self, raise_error=False):
    super().__init__()
    self.raise_error = raise_error

  def on_train_batch_end(self, batch, logs=None):
    loss = (logs or {}).get("loss")
    if loss is None or math.isfinite(float(loss)):
      return
    if self.raise_error:
      raise RuntimeError(
          f"Loss is {float(loss)} at batch {batch}: training stopped by "
          "TerminateOnNaN(raise_error=True). Try a lower learning rate, "
          "gradient clipping (clipnorm=) or compile(debug=True) to find "
          "where it starts.")
    print(f"Batch {batch}: Invalid loss, terminating training")
    self.model.stop_training = True
