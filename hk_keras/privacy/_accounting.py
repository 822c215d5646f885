"""Privacy accounting with Google's `dp_accounting` (the `privacy` extra).

A DP-SGD run is a composition of segments, each `steps` Poisson-sampled
Gaussian mechanisms with sampling probability `q` and noise multiplier
`sigma`. Epsilon is computed by composing those events in a fresh RDP or
PLD accountant; calibration bisects sigma on the same computation.
"""
import contextlib
import logging
import math
from typing import Iterable, Tuple

_MISSING = (
    "Differentially private training needs Google's dp_accounting library "
    "for the privacy accounting. Install it with `pip install dp-accounting` "
    "(or `pip install hk_keras[privacy]`).")

# Calibration lands in [(1 - CALIBRATION_TOL) * target, target].
CALIBRATION_TOL = 0.005


def _lib():
  try:
    import dp_accounting  # pylint: disable=g-import-not-at-top
  except ImportError as err:
    raise ImportError(_MISSING) from err
  return dp_accounting


def _accountant(kind):
  _lib()
  if kind == "pld":
    from dp_accounting import pld  # pylint: disable=g-import-not-at-top
    return pld.PLDAccountant()
  from dp_accounting import rdp  # pylint: disable=g-import-not-at-top
  return rdp.RdpAccountant()


@contextlib.contextmanager
def _quiet():
  """dp_accounting logs a warning for each fractional RDP order whose
  series does not converge (it drops that order, which is safe)."""
  logger = logging.getLogger("absl")
  level = logger.level
  logger.setLevel(logging.ERROR)
  try:
    yield
  finally:
    logger.setLevel(level)


def epsilon(segments: Iterable[Tuple[float, float, int]], delta: float,
            kind: str = "rdp") -> float:
  """Epsilon at `delta` of the composition of `(q, sigma, steps)` segments
  (0 for no steps, inf for a segment without noise)."""
  with _quiet():
    return _epsilon(segments, delta, kind)


def _epsilon(segments, delta, kind):
  dp = _lib()
  accountant = _accountant(kind)
  any_steps = False
  for q, sigma, steps in segments:
    if steps <= 0 or q <= 0:
      continue
    if sigma <= 0:
      return math.inf
    any_steps = True
    accountant.compose(dp.PoissonSampledDpEvent(
        float(q), dp.GaussianDpEvent(float(sigma))), int(steps))
  if not any_steps:
    return 0.0
  return float(accountant.get_epsilon(float(delta)))


def calibrate_noise(target_epsilon: float, delta: float, q: float,
                    steps: int, kind: str = "rdp", spent=()) -> float:
  """The noise multiplier whose run of `steps` steps at sampling rate `q`,
  after the segments `spent`, reaches epsilon in
  [(1 - CALIBRATION_TOL) * target_epsilon, target_epsilon] at `delta`.

  Raises:
    ValueError: when the budget is already spent, or no noise reaches it.
  """
  cache = {}

  def eps(sigma):
    if sigma not in cache:
      cache[sigma] = epsilon(list(spent) + [(q, sigma, steps)], delta, kind)
    return cache[sigma]

  if epsilon(spent, delta, kind) >= target_epsilon:
    raise ValueError(
        f"target_epsilon={target_epsilon} is already spent by earlier "
        "training of this model: no noise multiplier keeps the run within "
        "it. Raise target_epsilon or start from fresh weights.")
  hi = 1.0
  while eps(hi) > target_epsilon:
    hi *= 2.0
    if hi > 1e6:
      raise ValueError(
          f"No noise multiplier up to 1e6 reaches epsilon {target_epsilon} "
          f"at delta {delta} for {steps} steps at q={q:.4g}.")
  lo = hi / 2.0
  while eps(lo) <= target_epsilon:
    if lo < 1e-3:
      return lo  # almost no noise is needed
    hi, lo = lo, lo / 2.0
  # Invariant: eps(hi) <= target < eps(lo); eps falls as sigma grows.
  for _ in range(100):
    if eps(hi) >= (1 - CALIBRATION_TOL) * target_epsilon:
      break
    mid = 0.5 * (lo + hi)
    if eps(mid) <= target_epsilon:
      hi = mid
    else:
      lo = mid
  return hi
