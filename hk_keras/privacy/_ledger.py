"""`PrivacyLedger`: the DP-SGD steps a model's weights have seen.

The ledger lives on the model (not on one compile), so recompiling keeps
the count, and it is saved in `.keras` files so a resumed run continues it
exactly. It holds closed segments `(q, sigma, steps)` and at most one open
segment, the running `fit`, whose steps are read from the live train
state's step counter when asked (a host read, at epoch ends only).
"""
from typing import Any, Dict, List, Optional, Tuple

from . import _accounting

_KEY = "_privacy_ledger"


class PrivacyLedger:
  """Segments of DP-SGD steps (see the module docstring)."""

  def __init__(self, segments=(), accountant="rdp", num_examples=None,
               delta=None):
    self.segments: List[Tuple[float, float, int]] = [
        (float(q), float(s), int(n)) for q, s, n in segments]
    self.accountant = accountant
    self.num_examples = num_examples
    self.delta = delta  # the default delta of privacy_spent
    self._open: Optional[Tuple[float, float, Any, int]] = None

  # -- the running fit ---------------------------------------------------------
  def open(self, q, sigma, live, start_step):
    self._open = (float(q), float(sigma), live, int(start_step))

  def close(self):
    self.segments = self.current()
    self._open = None

  def steps_running(self) -> int:
    if self._open is None:
      return 0
    _, _, live, start = self._open
    ts = live.ts
    return 0 if ts is None else int(ts.step) - start

  def current(self) -> List[Tuple[float, float, int]]:
    """All segments, the running one included, adjacent equal (q, sigma)
    merged (so a resumed run composes exactly as an uninterrupted one)."""
    segments = list(self.segments)
    if self._open is not None:
      segments.append((self._open[0], self._open[1], self.steps_running()))
    merged = []
    for q, s, n in segments:
      if n <= 0:
        continue
      if merged and merged[-1][:2] == (q, s):
        merged[-1] = (q, s, merged[-1][2] + n)
      else:
        merged.append((q, s, n))
    return merged

  @property
  def steps(self) -> int:
    return sum(n for _, _, n in self.current())

  def epsilon(self, delta=None, extra=()) -> float:
    return _accounting.epsilon(self.current() + list(extra),
                               self.resolve_delta(delta), self.accountant)

  def resolve_delta(self, delta=None) -> float:
    delta = self.delta if delta is None else delta
    if delta is None:
      delta = 1e-5 if not self.num_examples else min(1e-5,
                                                     1.0 / self.num_examples)
    check_delta(delta, self.num_examples)
    return float(delta)

  # -- saving ------------------------------------------------------------------
  def get_config(self) -> Dict[str, Any]:
    return {"segments": [list(s) for s in self.current()],
            "accountant": self.accountant,
            "num_examples": self.num_examples, "delta": self.delta}

  @classmethod
  def from_config(cls, config) -> "PrivacyLedger":
    segments = config.get("segments", [])
    if not isinstance(segments, list) or not all(
        isinstance(s, list) and len(s) == 3 and _valid_segment(*s)
        for s in segments):
      raise ValueError("The saved privacy ledger is malformed: expected a "
                       "list of [q, noise_multiplier, steps] segments.")
    accountant = config.get("accountant", "rdp")
    if accountant not in ("rdp", "pld"):
      raise ValueError(f"Unknown saved privacy accountant {accountant!r}.")
    return cls(segments, accountant, config.get("num_examples"),
               config.get("delta"))


def _valid_segment(q, sigma, steps) -> bool:
  numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in (q, sigma, steps))
  return numbers and 0 < q <= 1 and sigma >= 0 and steps >= 0 and (
      int(steps) == steps)


def check_delta(delta, num_examples):
  if not 0 < delta < 1:
    raise ValueError(f"delta must be in (0, 1). Received: {delta!r}")
  if num_examples and delta > 1.0 / num_examples:
    raise ValueError(
        f"delta={delta} is larger than 1/N = {1.0 / num_examples:.3g} for "
        f"N={num_examples} training examples: a mechanism may then publish "
        "one example outright and still meet (epsilon, delta). Use "
        f"delta <= {1.0 / num_examples:.3g} (1e-5 or 1/(10 N) are common).")


def get(model, create=False) -> Optional[PrivacyLedger]:
  ledger = model.__dict__.get(_KEY)
  if ledger is None and create:
    ledger = model.__dict__[_KEY] = PrivacyLedger()
  return ledger


def set_ledger(model, ledger: Optional[PrivacyLedger]) -> None:
  model.__dict__[_KEY] = ledger


def privacy_spent(model, delta=None):
  """`Model.privacy_spent`: (epsilon, delta) of the DP-SGD training so far."""
  ledger = get(model)
  if ledger is None:
    raise ValueError(
        "privacy_spent() needs a model trained with DP-SGD: compile with "
        "privacy=hk_keras.privacy.DPSGD(...) and fit first.")
  delta = ledger.resolve_delta(delta)
  return ledger.epsilon(delta), delta
