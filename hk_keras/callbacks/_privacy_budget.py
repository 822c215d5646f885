"""`PrivacyBudget`: stop DP-SGD training before it spends a budget."""
from ._callback import Callback


class PrivacyBudget(Callback):
  """Stops `fit` before the privacy spent would exceed `epsilon`.

  At the start of each epoch it computes (with the model's accountant) how
  many more DP-SGD steps stay within `epsilon` at `delta`; after each batch
  it stops training if the next execution (`steps_per_execution` steps)
  would go past that. So the model never trains past the budget:
  `model.privacy_spent(delta)[0] <= epsilon` when fit returns.

  Args:
    epsilon: the budget (> 0).
    delta: the delta it is measured at (default: the DPSGD's target_delta,
      else min(1e-5, 1/N)).

  Raises:
    ValueError (when training starts): if the model is not compiled with
      DP-SGD, or its first step would already exceed the budget.
  """

  def __init__(self, epsilon: float, delta=None):
    super().__init__()
    if not isinstance(epsilon, (int, float)) or epsilon <= 0:
      raise ValueError(f"PrivacyBudget needs epsilon > 0. Received: "
                       f"{epsilon!r}")
    self.epsilon = float(epsilon)
    self.delta = delta
    self._limit = None  # total DP-SGD steps allowed
    self._epoch_start = 0
    self.stopped_at_step = None

  def _ledger(self):
    from ..privacy import _ledger  # pylint: disable=g-import-not-at-top
    ledger = _ledger.get(self.model)
    dp = self.model._live.options.privacy  # pylint: disable=protected-access
    if ledger is None or dp is None:
      raise ValueError("PrivacyBudget needs a model compiled with "
                       "privacy=hk_keras.privacy.DPSGD(...).")
    return ledger, dp

  def _allowed_steps(self, upper):
    """The most total steps (<= upper) within the budget (bisection; epsilon
    grows with the steps)."""
    ledger, dp = self._ledger()
    done = ledger.steps
    q, sigma = dp.run.q, dp.resolved_noise

    def within(total):
      return ledger.epsilon(self.delta, extra=[(q, sigma, total - done)]) <= (
          self.epsilon)
    if within(upper):
      return upper
    lo, hi = done, upper  # within(lo) holds (or nothing is allowed)
    if not within(lo):
      return done - 1
    while hi - lo > 1:
      mid = (lo + hi) // 2
      lo, hi = (mid, hi) if within(mid) else (lo, mid)
    return lo

  def _spe(self):
    return max(int(getattr(self.model, "steps_per_execution", 1)), 1)

  def on_epoch_begin(self, epoch, logs=None):
    ledger, _ = self._ledger()
    # One host read per epoch; batch ends then count without the device.
    self._epoch_start = ledger.steps
    steps = int(self.params.get("steps") or 1)
    self._limit = self._allowed_steps(self._epoch_start + steps + self._spe())
    if self._limit < self._epoch_start + self._spe():
      # Only reached at the first epoch of a fit: later epochs start only if
      # the previous batch end allowed their first execution.
      raise ValueError(
          f"PrivacyBudget(epsilon={self.epsilon}): the next DP-SGD step "
          f"would exceed the budget (spent so far: "
          f"{ledger.epsilon(self.delta):.4g}). Raise the budget or the "
          "noise_multiplier, or stop training this model.")

  def on_train_batch_end(self, batch, logs=None):
    done = self._epoch_start + batch + 1
    if done + self._spe() > self._limit:
      self.stopped_at_step = done
      self.model.stop_training = True
