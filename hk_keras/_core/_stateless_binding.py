"""Which optimizer a Keras-form step's `stateless_apply` is bound to.

While the engine traces a train step written against Keras 3's JAX API, the
model's compiled optimizer is *bound*: `optimizer.stateless_apply(...)` then
reads its Keras-ordered lists through the model's mapping onto the Haiku
params and the engine's optax state (see `models/_stateless.py`). The
binding lives only during that trace (a thread-local stack, read at trace
time).
"""
import contextlib
import threading

_local = threading.local()


def _stack():
  stack = getattr(_local, "stack", None)
  if stack is None:
    stack = _local.stack = []
  return stack


@contextlib.contextmanager
def bind(optimizer, binding):
  """`binding.stateless_apply(ov, grads, tv)` serves `optimizer` inside."""
  _stack().append((optimizer, binding))
  try:
    yield binding
  finally:
    _stack().pop()


def binding_of(optimizer):
  """The innermost binding of `optimizer`, or None."""
  for bound, binding in reversed(_stack()):
    if bound is optimizer:
      return binding
  return None


def current():
  """The innermost binding of any optimizer, or None."""
  stack = _stack()
  return stack[-1][1] if stack else None
