"""`Progbar`: Keras's progress bar for custom loops (`keras.utils.Progbar`)."""
import sys
import time
from typing import Iterable, Optional, Sequence, Tuple

import numpy as np

from ..callbacks._progbar import _fmt, _per_step


class Progbar:
  """Displays a progress bar with running averages, as `keras.utils.Progbar`.

  Values passed to `update` are averaged over the steps since the start,
  weighted by how many steps each update covered, except stateful ones,
  which are shown as given; the final update (`finalize`) shows every value
  as given, as Keras does.

  Args:
    target: the total number of steps, or None if unknown.
    width: the bar's width in characters.
    verbose: 0 silent, 1 a live bar, 2 one line when the target is reached.
    interval: minimum seconds between redraws.
    stateful_metrics: names whose values are shown as given, not averaged
      (then every other name is averaged).
    stateless_metrics: alternatively, the only names that are averaged.
    unit_name: the unit in the time per unit ("step").

  >>> bar = Progbar(2, verbose=0)
  >>> bar.update(1, [("loss", 1.0)])
  >>> bar.update(2, [("loss", 3.0)], finalize=False)
  >>> bar.average("loss")
  2.0
  """

  def __init__(self, target: Optional[int], width: int = 20,
               verbose: int = 1, interval: float = 0.05,
               stateful_metrics: Optional[Iterable[str]] = None,
               stateless_metrics: Optional[Iterable[str]] = None,
               unit_name: str = "step", stream=None):
    if stateful_metrics is not None and stateless_metrics is not None:
      raise ValueError(
          "Progbar: pass only one of `stateful_metrics` (shown as given) and "
          "`stateless_metrics` (averaged); the other names get the opposite "
          "treatment.")
    self.target = target
    self.width = width
    self.verbose = verbose
    self.interval = interval
    self.unit_name = unit_name
    self.stateful_metrics = set(stateful_metrics or ())
    self.stateless_metrics = (None if stateless_metrics is None else
                              set(stateless_metrics))
    self.stream = stream or sys.stdout
    self._values = {}
    self._names = []
    self._seen_so_far = 0
    self._start = time.time()
    self._last_update = 0.0

  def update(self, current: int,
             values: Optional[Sequence[Tuple[str, float]]] = None,
             finalize: Optional[bool] = None) -> None:
    """Moves the bar to step `current` and records `values`.

    Args:
      current: the index of the current step.
      values: `(name, value)` pairs.
      finalize: whether this is the last update; default `current >=
        target`.
    """
    if finalize is None:
      finalize = self.target is not None and current >= self.target
    for name, value in values or ():
      if name not in self._names:
        self._names.append(name)
      value = np.asarray(value, np.float64)
      if self.stateless_metrics is not None:
        averaged = name in self.stateless_metrics
      else:
        averaged = name not in self.stateful_metrics
      if not averaged or finalize:
        self._values[name] = [value, 1]
      else:
        base = max(current - self._seen_so_far, 1)
        total, count = self._values.get(name, [0.0, 0])
        self._values[name] = [total + value * base, count + base]
    self._seen_so_far = current
    now = time.time()
    if self.verbose == 1:
      if not finalize and now - self._last_update < self.interval:
        return
      self._draw(current, now, finalize)
    elif self.verbose == 2 and finalize:
      self._draw(current, now, finalize)
    self._last_update = now

  def add(self, n: int, values=None) -> None:
    """Advances by `n` steps."""
    self.update(self._seen_so_far + n, values)

  def average(self, name: str) -> float:
    """The value shown for `name` (the running average unless stateful)."""
    total, count = self._values[name]
    return float(np.mean(total / max(count, 1)))

  def _draw(self, current, now, finalize):
    elapsed = now - self._start
    if self.target is not None:
      done = int(self.width * min(current, self.target) / max(self.target, 1))
      head = (f"{current}/{self.target} " + "━" * done +
              "─" * (self.width - done))
    else:
      head = f"{current}/Unknown"
    per_unit = elapsed / max(current, 1)
    timing = f" {elapsed:.0f}s"
    if finalize:
      timing += " " + _per_step(per_unit).replace("step", self.unit_name)
    items = "".join(f" - {n}: {_fmt(self.average(n))}" for n in self._names)
    line = f"{head}{timing}{items}"
    if self.verbose == 2:
      self.stream.write(line + "\n")
    else:
      self.stream.write("\r" + line + ("\n" if finalize else ""))
    self.stream.flush()
