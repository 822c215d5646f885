"""`History`: per-epoch logs returned by `fit`."""
from ._callback import Callback


class History(Callback):
  """Records `logs` of every epoch in `history` (a dict of lists).

  >>> history = model.fit(x, y, epochs=3)  # doctest: +SKIP
  >>> history.history["loss"]  # doctest: +SKIP
  """

  def __init__(self):
    super().__init__()
    self.history = {}
    self.epoch = []

  def on_train_begin(self, logs=None):
    self.epoch = []

  def on_epoch_end(self, epoch, logs=None):
    self.epoch.append(epoch)
    for k, v in (logs or {}).items():
      self.history.setdefault(k, []).append(v)
    if self.model is not None:
      self.model.history = self
