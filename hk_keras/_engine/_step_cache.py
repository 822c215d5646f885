"""The compiled forms of a model's steps, each made once and cached.

Each entry wraps the model's `train_step`/`test_step`/`predict_step`
(`_step_wrappers`) and compiles it through the device strategy, keyed by
what changes the compiled program (batch size, steps per call, padding).
Under `compile(jit_compile=False)` or `run_eagerly=True` the same wrapped
steps run without `jax.jit`, op by op, so `print` and `pdb` work inside
`call`, `train_step` and losses.
"""
import jax

from .._core import _context
from . import _keras_steps
from . import _step_wrappers


def _in_loss_scope(step):
  """`step` traced inside a loss scope: `model.losses` inside it are the
  penalties of the step's own applies, never values from an eager call."""
  def run(*args):
    with _context.loss_scope():
      return step(*args)
  return run


# On XLA:CPU, the matmul FLOPs of one train step above which dispatching
# steps one by one beats scanning them (see `scan_pays_off`).
SCAN_MAX_FLOPS = 2e7


class StepCache:
  """Compiled steps of one model for one compile()."""

  def __init__(self, model, live):
    self._model = model
    self._live = live
    self._fns = {}

  def clear(self):
    self._fns = {}

  def _cached(self, key, make):
    fn = self._fns.get(key)
    if fn is None:
      fn = self._fns[key] = make()
    return fn

  def _compile(self, fn, *, donate_state, batch_argnums=(),
               batch_outputs=False):
    if self._live.options.eager:
      return fn
    return self._live.strategy.compile(
        fn, donate_state=donate_state, batch_argnums=batch_argnums,
        batch_outputs=batch_outputs)

  def _jit(self, fn):
    return fn if self._live.options.eager else jax.jit(fn)

  # -- train ------------------------------------------------------------------
  def train_fn(self, batch_size, num_steps, indexed=True, real=None):
    """The compiled train step. Indexed: `fn(ts, chunk, start)`, or with
    `real` true `fn(ts, chunk, start, real_rows)` for a last batch padded to
    `batch_size`. Not indexed: `fn(ts, batch)`, or with `real` true
    `fn(ts, batch, mask)` for a host batch padded to split over replicas."""
    privacy = self._live.options.privacy
    if indexed and privacy is not None and privacy.sampling == "poisson":
      return self._cached(("train_poisson", num_steps, privacy.run),
                          lambda: self._poisson_train_fn(privacy, num_steps))

    def make():
      step = _in_loss_scope(_keras_steps.train_step(self._model))
      batch_argnums = ()
      if num_steps > 1:
        fn = (_step_wrappers.indexed_scan(step, batch_size, num_steps)
              if indexed else _step_wrappers.scan_steps(step))
      elif indexed:
        fn = _step_wrappers.indexed(step, batch_size, masked=bool(real))
      elif real:
        fn, batch_argnums = _step_wrappers.with_row_mask(step), (1, 2)
      else:
        fn, batch_argnums = step, (1,)
      debug = self._live.options.debug
      if debug:
        fn = _step_wrappers.with_checks(fn)
      # Under debug=True the state is not donated, so a step that fails its
      # checks leaves the model with the weights from before that step.
      return self._compile(fn, donate_state=not debug,
                           batch_argnums=batch_argnums)
    return self._cached(
        ("train", batch_size, num_steps, indexed, bool(real)), make)

  def _poisson_train_fn(self, privacy, num_steps):
    """DP-SGD with Poisson sampling: every call samples its own batch of a
    fixed padded shape from all the data (`privacy._poisson`), whatever
    the loop's batch size and offset."""
    from ..privacy import _poisson  # pylint: disable=g-import-not-at-top
    fn = _poisson.sampled_train_fn(
        _in_loss_scope(_keras_steps.train_step(self._model)),
        privacy.run, num_steps)
    debug = self._live.options.debug
    if debug:
      fn = _step_wrappers.with_checks(fn)
    return self._compile(fn, donate_state=not debug)

  def scan_pays_off(self, batch_size, chunk):
    """Whether K steps in one `lax.scan` beat K dispatched steps.

    On XLA:CPU a scan over convolution training steps runs several times
    slower than the same steps dispatched one by one (measured ~5x), and a
    scan over a compute-bound step (the 784-512-512-10 MLP at batch 128:
    0.89x) is slower too, while a dispatch-bound step gains from it. So
    there steps_per_execution scans only steps without convolutions whose
    matmuls are small (`SCAN_MAX_FLOPS`), and batches the dispatch loop
    otherwise; everywhere else the scan wins. Decided once per batch size
    from the step's jaxpr. Eager steps never scan (a scan would compile its
    body).
    """
    def decide():
      if self._live.options.eager:
        return False
      if jax.default_backend() != "cpu":
        return True
      jaxpr = jax.make_jaxpr(_step_wrappers.indexed(
          _keras_steps.train_step(self._model), batch_size))(
              self._live.ts, chunk, 0)
      return (not _step_wrappers.has_primitive(jaxpr, "conv_general_dilated")
              and _step_wrappers.matmul_flops(jaxpr) <= SCAN_MAX_FLOPS)
    return self._cached(("scan_pays_off", batch_size), decide)

  # -- evaluate and predict -----------------------------------------------------
  def eval_fn(self, batch_size):
    return self._cached(("eval", batch_size), lambda: self._compile(
        _step_wrappers.metrics_only(_step_wrappers.indexed_eval(
            _in_loss_scope(_keras_steps.test_step(self._model)),
            batch_size)),
        donate_state=False))

  def predict_fn(self, batch_size):
    return self._cached(("predict", batch_size), lambda: self._compile(
        _step_wrappers.indexed_predict(_keras_steps.predict_step(self._model),
                                       batch_size),
        donate_state=False, batch_outputs=True))

  def predict_streamed_fn(self):
    return self._cached(("predict_streamed",), lambda: self._jit(
        lambda s, x: _keras_steps.predict_step(self._model)(s, x)))

  def host_batch_fn(self, kind, padded):
    """Compiled step for batches placed from the host (generators, *_on_batch):
    `fn(state, batch)`, or `fn(state, batch, mask)` for a padded batch."""
    model = self._model

    def make():
      if kind == "test":
        test_step = _in_loss_scope(_keras_steps.test_step(model))
        fn = ((lambda s, b, m: test_step(s, b, m)) if padded
              else (lambda s, b: test_step(s, b)))
      else:
        predict_step = _keras_steps.predict_step(model)
        fn = ((lambda s, b, m: predict_step(s, b)) if padded
              else predict_step)
      return self._compile(
          fn, donate_state=False, batch_argnums=(1, 2) if padded else (1,),
          batch_outputs=kind == "predict")
    return self._cached((kind + "_host", padded), make)
