"""What `fit` does first under DP-SGD: refuse what would break the
guarantee, fix the run's sampling rate, calibrate the noise for a target
epsilon, and add the callback that keeps the privacy ledger."""
import math

import numpy as np

from .. import callbacks as callbacks_lib
from .._engine import _data
from . import _accounting
from . import _ledger
from . import _poisson

_WEIGHTED = (
    "DP-SGD bounds each example's influence by clipping its gradient to "
    "l2_norm_clip; {} would scale examples after that bound and break the "
    "privacy guarantee. Remove {}, or rebalance by resampling the data "
    "(under Poisson sampling, e.g., repeat rare examples).")

_NOT_ARRAYS = (
    "DP-SGD in fit needs array data (x and y as NumPy/JAX arrays): the "
    "accountant needs the dataset size N and the sampling rate "
    "q = batch_size / N, which a generator or dataset does not state.")

_BATCH_NORM = (
    "Layer {!r} (BatchNormalization) normalizes with the statistics of the "
    "whole batch in training, which mixes examples: under DP-SGD each "
    "example's gradient must depend on that example alone. Freeze it "
    "(layer.trainable = False uses its moving statistics), or use "
    "LayerNormalization or GroupNormalization instead.")


def _walk(layer, seen):
  if id(layer) in seen:
    return
  seen.add(id(layer))
  yield layer
  for sub in getattr(layer, "layers", []) or []:
    yield from _walk(sub, seen)


def check_layers(model):
  """Refuses layers that mix examples in training mode."""
  from ..layers import BatchNormalization  # pylint: disable=g-import-not-at-top
  for layer in _walk(model, set()):
    if isinstance(layer, BatchNormalization) and layer.trainable:
      raise ValueError(_BATCH_NORM.format(layer.name))


def _num_train(x, validation_split, validation_data):
  n = _data.ArrayData(x).num_samples
  if validation_split and validation_data is None:
    n = int(math.floor(n * (1.0 - validation_split)))
  return n


def prepare(model, x, batch_size, epochs, callbacks, validation_split,
            validation_data, class_weight, sample_weight, initial_epoch,
            steps_per_epoch):
  """Checks and settings of one private `fit` call; returns its callbacks
  with the ledger's callback first (so every other callback, and the
  history, sees the epoch's "epsilon")."""
  live = model._live  # pylint: disable=protected-access
  dp = live.options.privacy
  if sample_weight is not None:
    raise ValueError(_WEIGHTED.format("sample_weight", "sample_weight"))
  if class_weight is not None:
    raise ValueError(_WEIGHTED.format("class_weight", "class_weight"))
  if x is None or not _data.is_array_data(x):
    raise ValueError(_NOT_ARRAYS)
  check_layers(model)
  n = _num_train(x, validation_split, validation_data)
  batch_size = batch_size or 32
  q = _poisson.check_rate(batch_size / n)
  steps = math.ceil(n / batch_size)
  if steps_per_epoch:
    steps = min(steps, steps_per_epoch)
  _check_microbatches(dp, n, batch_size, steps, live.strategy.num_replicas)
  ledger = _ledger.get(model, create=True)
  ledger.close()  # a fit that raised left its segment open
  ledger.accountant, ledger.num_examples = dp.accountant, n
  if dp.target_delta is not None:
    _ledger.check_delta(dp.target_delta, n)
    ledger.delta = dp.target_delta
  if dp.resolved_noise is None:
    if dp.noise_multiplier is not None:
      dp.resolved_noise = dp.noise_multiplier
    else:
      dp.resolved_noise = _accounting.calibrate_noise(
          dp.target_epsilon, dp.target_delta, q,
          steps * max(epochs - initial_epoch, 0), dp.accountant,
          spent=ledger.current())
  run = _poisson.PrivateRun(
      n, batch_size, q, q * n,
      _poisson.max_batch_size(n, q, live.strategy.num_replicas))
  if run != dp.run:
    dp.run = run
    live.cache.clear()  # the steps bake in the sampling rate
  return [_LedgerCallback(ledger, q, dp.resolved_noise, live)] + list(
      callbacks or [])


def _check_microbatches(dp, n, batch_size, steps, replicas):
  m = dp.num_microbatches
  if m is None:
    return
  if m % replicas or batch_size % m:
    raise ValueError(
        f"num_microbatches={m} must divide batch_size={batch_size} and be a "
        f"multiple of the {replicas} device(s).")
  if steps * batch_size > n:
    raise ValueError(
        f"num_microbatches needs every batch full, but N={n} is not a "
        f"multiple of batch_size={batch_size}: pass "
        f"steps_per_epoch={n // batch_size} or trim the data to "
        f"{n // batch_size * batch_size} examples.")


def refuse_train_on_batch():
  raise ValueError(
      "train_on_batch does not run DP-SGD accounting (the dataset size and "
      "sampling rate are unknown there). Use fit(x, y, batch_size=...) for "
      "a model compiled with privacy=DPSGD(...).")


class _LedgerCallback(callbacks_lib.Callback):
  """Opens the ledger's segment when training starts, logs "epsilon" at
  each epoch's end, closes the segment at the end of fit."""

  def __init__(self, ledger, q, sigma, live):
    super().__init__()
    self._ledger, self._q, self._sigma, self._live = ledger, q, sigma, live

  def on_epoch_begin(self, epoch, logs=None):
    if self._ledger._open is None:  # pylint: disable=protected-access
      # After on_train_begin: a callback may have restored a checkpoint.
      self._ledger.open(self._q, self._sigma, self._live,
                        int(np.asarray(self._live.ts.step)))

  def on_epoch_end(self, epoch, logs=None):
    if logs is not None:
      logs["epsilon"] = self._ledger.epsilon()

  def on_train_end(self, logs=None):
    self._ledger.close()
