"""DP-SGD settings and the privacy ledger in `.keras` files.

`compile_config["privacy"]` holds the DPSGD arguments and the noise
multiplier fit used (calibrated or given), so a loaded model trains on with
the same noise; `train_state["privacy_ledger"]` holds the accountant's
segments `[q, noise_multiplier, steps]`, so the count continues exactly.
Both are plain JSON, read with checks (no code runs on load).
"""
from ..saving._archive import SavingError
from . import _dpsgd
from . import _ledger

_NOISE = "calibrated_noise_multiplier"


def privacy_config(privacy):
  config = privacy.get_config()
  config[_NOISE] = privacy.resolved_noise
  return config


def privacy_from_config(config, where):
  try:
    config = dict(config)
    noise = config.pop(_NOISE, None)
    privacy = _dpsgd.DPSGD.from_config(config)
  except (TypeError, ValueError, KeyError) as err:
    raise SavingError(f"{where}: the saved privacy (DPSGD) settings are "
                      f"invalid: {err}") from err
  if noise is not None:
    if not isinstance(noise, (int, float)) or noise < 0:
      raise SavingError(f"{where}: the saved noise multiplier {noise!r} is "
                        "not a number >= 0.")
    privacy.resolved_noise = float(noise)
  return privacy


def ledger_config(model):
  ledger = _ledger.get(model)
  return {} if ledger is None else {"privacy_ledger": ledger.get_config()}


def restore_ledger(model, train_config, where):
  config = train_config.get("privacy_ledger")
  if config is None:
    return
  try:
    _ledger.set_ledger(model, _ledger.PrivacyLedger.from_config(config))
  except (TypeError, ValueError, AttributeError) as err:
    raise SavingError(f"{where}: the saved privacy ledger is invalid: "
                      f"{err}") from err
