"""`Callback` base class and the list that dispatches hooks."""


class Callback:
  """Base class for callbacks: override any Keras 3 hook.

  `self.model` is set before training starts. Logs are dicts of Python
  floats at epoch level; at batch level they are read lazily (reading a
  value waits for that step to finish, so only read what you need).

  >>> class PrintLoss(Callback):
  ...   def on_epoch_end(self, epoch, logs=None):
  ...     print(epoch, logs["loss"])
  """

  def __init__(self):
    self.model = None
    self.params = {}

  def set_model(self, model):
    self.model = model

  def set_params(self, params):
    self.params = dict(params)

  def on_train_begin(self, logs=None): pass
  def on_train_end(self, logs=None): pass
  def on_epoch_begin(self, epoch, logs=None): pass
  def on_epoch_end(self, epoch, logs=None): pass
  def on_train_batch_begin(self, batch, logs=None): pass
  def on_train_batch_end(self, batch, logs=None): pass
  def on_test_begin(self, logs=None): pass
  def on_test_end(self, logs=None): pass
  def on_test_batch_begin(self, batch, logs=None): pass
  def on_test_batch_end(self, batch, logs=None): pass
  def on_predict_begin(self, logs=None): pass
  def on_predict_end(self, logs=None): pass
  def on_predict_batch_begin(self, batch, logs=None): pass
  def on_predict_batch_end(self, batch, logs=None): pass


_BATCH_HOOKS = ("on_{}_batch_begin", "on_{}_batch_end")


def _overrides(callback, hook):
  if hook in vars(callback):  # set on the instance (LambdaCallback)
    return True
  return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class CallbackList:
  """Calls hooks on a list of callbacks; skips batch hooks nobody uses.

  Skipping matters for speed: building batch logs needs values from the
  device, and the engine never asks for them when no callback listens.
  """

  def __init__(self, callbacks, model, params):
    self.callbacks = list(callbacks)
    for c in self.callbacks:
      c.set_model(model)
      c.set_params(params)

  def wants_batch_hooks(self, mode: str) -> bool:
    return any(_overrides(c, h.format(mode)) for c in self.callbacks
               for h in _BATCH_HOOKS)

  def _call(self, hook, *args):
    # Keras 3 passes a dict to every hook, empty where it has no values
    # (on_train_begin, on_*_batch_begin, ...); one dict shared by the list.
    indexed = "epoch" in hook or "batch" in hook
    if len(args) == (1 if indexed else 0):
      args = args + ({},)
    elif args[-1] is None:
      args = args[:-1] + ({},)
    for c in self.callbacks:
      getattr(c, hook)(*args)

  def __getattr__(self, hook):
    if hook.startswith("on_"):
      return lambda *args: self._call(hook, *args)
    raise AttributeError(hook)
