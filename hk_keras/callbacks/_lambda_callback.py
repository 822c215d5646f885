"""`LambdaCallback`: a callback made of plain functions."""
from ._callback import Callback

_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))
# Keras's shorter names for the training batch hooks.
_ALIASES = {"on_batch_begin": "on_train_batch_begin",
            "on_batch_end": "on_train_batch_end"}


class LambdaCallback(Callback):
  """Builds a callback from functions given for the hooks you need.

  Each function takes the hook's arguments: `(epoch, logs)` for epoch
  hooks, `(batch, logs)` for batch hooks and `(logs)` for begin/end hooks.
  Batch hooks you leave out cost nothing (no host sync).

  Args:
    on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
    on_train_batch_begin, on_train_batch_end: functions for those hooks.
    **kwargs: any other hook by name (on_test_begin, on_predict_batch_end,
      ... and Keras's on_batch_begin / on_batch_end for the training batch
      hooks).

  Raises:
    ValueError: for an unknown hook name. TypeError: for a non-callable.

  >>> import json
  >>> log = open("log.jsonl", "w")  # doctest: +SKIP
  >>> LambdaCallback(
  ...     on_epoch_end=lambda epoch, logs: log.write(
  ...         json.dumps({"epoch": epoch, "loss": logs["loss"]}) + "\\n"),
  ...     on_train_end=lambda logs: log.close())  # doctest: +SKIP
  """

  def __init__(self, on_epoch_begin=None, on_epoch_end=None,
               on_train_begin=None, on_train_end=None,
               on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
    super().__init__()
    hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                 on_train_begin=on_train_begin, on_train_end=on_train_end,
                 on_train_batch_begin=on_train_batch_begin,
                 on_train_batch_end=on_train_batch_end)
    for name, fn in kwargs.items():
      hook = _ALIASES.get(name, name)
      if hook not in _HOOKS:
        raise ValueError(
            f"LambdaCallback got an unknown hook {name!r}. Hooks are: "
            f"{', '.join(_HOOKS)}.")
      hooks[hook] = fn
    for name, fn in hooks.items():
      if fn is None:
        continue
      if not callable(fn):
        raise TypeError(
            f"LambdaCallback {name} must be a function. Received: {fn!r}")
      # An instance attribute: CallbackList sees it as an override, so only
      # the hooks given here are dispatched.
      setattr(self, name, _bind(fn, _takes_index(name)))


def _takes_index(hook):
  return hook.startswith("on_epoch_") or "_batch_" in hook


def _bind(fn, indexed):
  # The engine may omit logs; user functions always get them (as in Keras).
  if indexed:
    return lambda index, logs=None: fn(index, logs)
  return lambda logs=None: fn(logs)
