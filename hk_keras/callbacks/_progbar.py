"""`ProgbarLogger`: the Keras progress bar, without a host sync per step."""
import sys
import time

from ._callback import Callback

_MIN_INTERVAL = 0.1  # seconds between redraws in verbose=1 mode


def _fmt(value):
  value = float(value)
  return f"{value:.4e}" if value != 0 and abs(value) < 1e-3 else f"{value:.4f}"


def _per_step(seconds):
  """Time per step as Keras prints it: s, ms or us."""
  if seconds >= 1 or seconds == 0:
    return f"{seconds:.0f}s/step"
  if seconds >= 1e-3:
    return f"{seconds * 1e3:.0f}ms/step"
  return f"{seconds * 1e6:.0f}us/step"


class ProgbarLogger(Callback):
  """Prints progress: verbose=1 a live bar, verbose=2 one line per epoch.

  The bar redraws at most every 0.1 s, and only then reads the step's logs
  from the device, so training is not slowed by a sync per step.
  """

  def __init__(self, verbose=1, stream=None):
    super().__init__()
    self.verbose = verbose
    self.stream = stream or sys.stdout
    self._last_draw = 0.0

  def on_train_begin(self, logs=None):
    self.epochs = self.params.get("epochs", 1)
    self.steps = self.params.get("steps")

  def on_epoch_begin(self, epoch, logs=None):
    self._start = time.time()
    self._seen = 0
    if self.verbose:
      self.stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
      self.stream.flush()

  def on_train_batch_end(self, batch, logs=None):
    self._seen = batch + 1
    if self.verbose != 1:
      return
    now = time.time()
    if now - self._last_draw < _MIN_INTERVAL:
      return
    self._last_draw = now
    self._draw(batch + 1, logs, final=False)

  def _draw(self, seen, logs, final):
    steps = self.steps
    elapsed = time.time() - self._start
    if steps:
      done = int(30 * seen / steps)
      bar = "━" * done + "─" * (30 - done)
      head = f"{seen}/{steps} {bar}"
    else:
      head = f"{seen}/Unknown"
    per_step = elapsed / max(seen, 1)
    timing = (f" {elapsed:.0f}s {_per_step(per_step)}" if final else
              f" {elapsed:.0f}s")
    items = "".join(f" - {k}: {_fmt(v)}" for k, v in (logs or {}).items())
    if self.verbose == 2:
      self.stream.write(f"{seen}/{steps or seen} -{timing}{items}\n")
    else:
      clear = "\x1b[K" if getattr(self.stream, "isatty", lambda: False)() else ""
      end = "\n" if final else ""
      self.stream.write(f"\r{head}{timing}{items}{clear}{end}")
    self.stream.flush()

  def on_epoch_end(self, epoch, logs=None):
    if self.verbose:
      self._draw(self._seen or (self.steps or 0), logs, final=True)
