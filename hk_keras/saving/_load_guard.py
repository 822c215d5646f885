"""The first build of a model, and the check a file load puts before it.

A model builds by running Haiku's `init` on dummy inputs, which allocates
every weight. When a model is rebuilt from a file, the architecture comes
from the file too: a config asking for `Dense(units=2**31)` must be refused
before that allocation. So while `load_model` rebuilds, a check is active:
the build first computes the weights' shapes abstractly (`jax.eval_shape`,
nothing allocated, no dummy input created), hands them to the check, which
compares them with the arrays the file holds and the byte limit, and only
then creates the weights (zeros: the file's values replace them).
"""
import contextlib
import threading
from typing import Callable, Optional

import jax
import jax.numpy as jnp

from .._core import _run_once

_local = threading.local()


def _check() -> Optional[Callable]:
  return getattr(_local, "check", None)


@contextlib.contextmanager
def checking(check: Callable):
  """Inside, every first build calls `check(model, params, state)` with
  `jax.ShapeDtypeStruct` trees before allocating anything."""
  outer = _check()
  _local.check = check
  try:
    yield
  finally:
    _local.check = outer


def initial_weights(model, specs):
  """`(params, state)` of `model`'s first build for inputs like `specs`.

  Args:
    model: the model being built.
    specs: a tuple of `jax.ShapeDtypeStruct` structures, one per positional
      input of `model.init`.
  """
  from .. import utils  # pylint: disable=g-import-not-at-top
  rng = utils.next_rng_key()
  check = _check()
  if check is None:
    return _init(model, rng, specs)
  params, state = jax.eval_shape(model.transformed.init, rng, *specs)
  check(model, params, state)
  zeros = lambda s: jnp.zeros(s.shape, s.dtype)
  return (jax.tree_util.tree_map(zeros, params),
          jax.tree_util.tree_map(zeros, state))


# What stops a compiled init: a layer whose build or call needs concrete
# values (Python control flow on an array, `np.asarray` of an input).
_NEEDS_EAGER = (jax.errors.ConcretizationTypeError,
                jax.errors.TracerArrayConversionError,
                jax.errors.TracerIntegerConversionError,
                jax.errors.TracerBoolConversionError)


def _init(model, rng, specs):
  """Runs `model.transformed.init` as one compiled program (see
  `_core/_run_once.py`); the forward pass it traces is dropped by XLA,
  only the weights are returned. A model that cannot be traced (a layer
  needing concrete values while it builds) is initialised eagerly."""
  zeros = lambda: jax.tree_util.tree_map(
      lambda s: jnp.zeros(s.shape, s.dtype), specs)
  try:
    return _run_once.run_once(
        lambda rng: model.transformed.init(rng, *zeros()), rng)
  except _NEEDS_EAGER:
    return model.transformed.init(rng, *zeros())
