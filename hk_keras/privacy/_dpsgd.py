"""`DPSGD`: the differentially private SGD settings `compile(privacy=...)`
takes (Abadi et al. 2016, with TF Privacy's option names)."""
import math
from typing import Any, Dict, Optional

SAMPLINGS = ("shuffle", "poisson")
ACCOUNTANTS = ("rdp", "pld")

_BOTH_NOISE = (
    "DPSGD takes either noise_multiplier (the noise is then fixed and the "
    "accountant reports what training spends) or target_epsilon with "
    "target_delta (fit then calibrates the noise), not both. Received: "
    "noise_multiplier={}, target_epsilon={}.")


class DPSGD:
  """Differentially private training for `model.compile(privacy=...)`.

  Each step takes per-example gradients, clips each to global L2 norm
  `l2_norm_clip`, sums them, adds Gaussian noise of standard deviation
  `noise_multiplier * l2_norm_clip` and divides by the expected batch size;
  the optimizer then sees that gradient. The privacy spent is tracked with
  `dp_accounting` (`model.privacy_spent()`, an `"epsilon"` entry in each
  epoch's logs).

  Args:
    l2_norm_clip: the clipping norm C (> 0) of each example's gradient (of
      each microbatch's with `num_microbatches`).
    noise_multiplier: sigma >= 0; the noise std is sigma * C. Give this or
      `target_epsilon`.
    target_epsilon: fit calibrates sigma, before its first step, so that
      the whole run (the dataset size, batch size and epochs of the first
      `fit` call) spends at most this epsilon at `target_delta` (and at
      least 99% of it).
    target_delta: the delta of `target_epsilon`, and the default delta of
      `model.privacy_spent()`. Must be at most 1/N for N training examples.
    num_microbatches: split each batch into this many microbatches and
      clip the gradient of each microbatch's mean loss instead of each
      example's (TF Privacy's option; None: one example per microbatch).
      The batch size must be a multiple of it; "shuffle" sampling only.
    sampling: "shuffle" (fixed-size batches of a shuffled epoch, as fit
      does without privacy; the accountant treats them as Poisson sampled
      with q = batch_size / N, as TF Privacy does) or "poisson" (each
      example joins each step independently with probability
      q = batch_size / N: the sampling the accountant's guarantee assumes).
    accountant: "rdp" (Renyi DP) or "pld" (privacy loss distributions,
      tighter and slower).
  """

  def __init__(self, l2_norm_clip: float, noise_multiplier: Optional[float]
               = None, *, target_epsilon: Optional[float] = None,
               target_delta: Optional[float] = None,
               num_microbatches: Optional[int] = None,
               sampling: str = "shuffle", accountant: str = "rdp"):
    _positive("l2_norm_clip", l2_norm_clip)
    if noise_multiplier is not None and target_epsilon is not None:
      raise ValueError(_BOTH_NOISE.format(noise_multiplier, target_epsilon))
    if noise_multiplier is None and target_epsilon is None:
      raise ValueError(
          "DPSGD needs noise_multiplier=... (e.g. 1.1) or target_epsilon=... "
          "with target_delta=... (e.g. 3.0 and 1e-5).")
    if noise_multiplier is not None and (
        not _is_number(noise_multiplier) or noise_multiplier < 0):
      raise ValueError("noise_multiplier must be a number >= 0. Received: "
                       f"{noise_multiplier!r}")
    if target_epsilon is not None:
      _positive("target_epsilon", target_epsilon)
      if target_delta is None:
        raise ValueError(
            "target_epsilon needs target_delta (e.g. 1e-5, at most 1/N for "
            "N training examples).")
    if target_delta is not None and not 0 < target_delta < 1:
      raise ValueError("target_delta must be in (0, 1). Received: "
                       f"{target_delta!r}")
    if num_microbatches is not None and (
        not isinstance(num_microbatches, int) or num_microbatches < 1):
      raise ValueError("num_microbatches must be a positive int or None. "
                       f"Received: {num_microbatches!r}")
    if sampling not in SAMPLINGS:
      raise ValueError(f"sampling must be one of {SAMPLINGS}. Received: "
                       f"{sampling!r}")
    if sampling == "poisson" and num_microbatches is not None:
      raise ValueError(
          "num_microbatches needs fixed-size batches; Poisson-sampled batches "
          "vary in size. Use sampling='shuffle' or num_microbatches=None.")
    if accountant not in ACCOUNTANTS:
      raise ValueError(f"accountant must be one of {ACCOUNTANTS}. Received: "
                       f"{accountant!r}")
    self.l2_norm_clip = float(l2_norm_clip)
    self.noise_multiplier = (None if noise_multiplier is None else
                             float(noise_multiplier))
    self.target_epsilon = (None if target_epsilon is None else
                           float(target_epsilon))
    self.target_delta = None if target_delta is None else float(target_delta)
    self.num_microbatches = num_microbatches
    self.sampling = sampling
    self.accountant = accountant
    # Set per compiled model (see `for_compile`): the noise multiplier fit
    # uses (given, or calibrated before the first step) and the run's
    # sampling settings (`_poisson.PrivateRun`).
    self.resolved_noise = self.noise_multiplier
    self.run = None

  def get_config(self) -> Dict[str, Any]:
    return {"l2_norm_clip": self.l2_norm_clip,
            "noise_multiplier": self.noise_multiplier,
            "target_epsilon": self.target_epsilon,
            "target_delta": self.target_delta,
            "num_microbatches": self.num_microbatches,
            "sampling": self.sampling, "accountant": self.accountant}

  @classmethod
  def from_config(cls, config: Dict[str, Any]) -> "DPSGD":
    config = dict(config)
    return cls(config.pop("l2_norm_clip"), config.pop("noise_multiplier"),
               **config)

  def __repr__(self):
    args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                     if v is not None)
    return f"DPSGD({args})"


def for_compile(privacy):
  """compile()'s own copy of `privacy` (calibration writes to it), or None.

  Raises:
    TypeError: if `privacy` is not a DPSGD.
  """
  if privacy is None:
    return None
  if not isinstance(privacy, DPSGD):
    raise TypeError(
        "compile(privacy=...) takes an hk_keras.privacy.DPSGD(...). "
        f"Received: {privacy!r} of type {type(privacy).__name__}.")
  copy = DPSGD.from_config(privacy.get_config())
  copy.resolved_noise = privacy.resolved_noise
  return copy


def _is_number(value) -> bool:
  return isinstance(value, (int, float)) and not isinstance(value, bool) and (
      math.isfinite(value))


def _positive(name, value):
  if not _is_number(value) or value <= 0:
    raise ValueError(f"{name} must be a finite number > 0. Received: "
                     f"{value!r}")
