"""Steps written against Keras 3's JAX API, run by the engine.

Two forms of `train_step`/`test_step`/`predict_step` overrides work:

* **Keras form** (what a ported Keras 3 JAX script writes):
  `train_step(self, state, data) -> (logs, state)` with Keras's state
  `(trainable_variables, non_trainable_variables, optimizer_variables,
  metrics_variables)` (lists), `test_step(self, state, data) -> (logs,
  state)` with a 3-tuple, `predict_step(self, state, data) -> (outputs,
  non_trainable_variables)` with a 2-tuple; `data` is Keras's packed
  `(x,)`, `(x, y)` or `(x, y, sample_weight)`.
* **hk_keras form**: `train_step(self, state: TrainState, data) -> (state,
  logs)` (see docs/customizing_fit.md).

How they are told apart, once per class and step: a class attribute
`step_form = "keras"` or `"hk_keras"` decides if set. Otherwise the
override's code is read (not run): a step that unpacks or indexes its
`state` argument (`a, b, c, d = state`, `state[0]`) is Keras form; one that
reads TrainState fields (`state.params`, `state._replace`, ...) or passes
`state` on (to `super().train_step`, a helper) is hk_keras form. The default
steps accept both.

The engine runs a Keras-form step through a wrapper of hk_keras form: the
TrainState's dicts are viewed as Keras's lists (`Model._keras_state`, no
copy), the step runs with `model.optimizer` bound to the engine's optax state
(`stateless_apply`), and the returned lists are put back
(`Model._train_state_from_keras`).
"""
# pylint: disable=protected-access
import contextlib
import dis

from .._core import _replica
from .. import utils
from ._train_state import TrainState

_FORMS = ("keras", "hk_keras")
_templates = []  # (model, TrainState) of the Keras-form steps being traced
_FIELDS = frozenset(TrainState._fields) | {"_replace", "_asdict"}
_cache = {}


def _first_arg(fn):
  code = getattr(fn, "__code__", None)
  if code is None or code.co_argcount < 2:
    return None, None
  return code, code.co_varnames[1]


def _evidence(code, name):
  """('keras' | 'hk_keras' | None) from how `code` uses local `name`."""
  found = None
  instructions = list(dis.get_instructions(code))
  for i, ins in enumerate(instructions):
    loads = ins.opname in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE",
                           "LOAD_FAST_CHECK", "LOAD_FAST_LOAD_FAST")
    argval = ins.argval
    if not loads or (argval != name and not (
        isinstance(argval, tuple) and argval and argval[-1] == name)):
      continue
    nxt = instructions[i + 1] if i + 1 < len(instructions) else None
    if nxt is None:
      continue
    if nxt.opname in ("LOAD_ATTR", "LOAD_METHOD") and (
        str(nxt.argval) in _FIELDS):
      return "hk_keras"
    if nxt.opname == "UNPACK_SEQUENCE" or nxt.opname == "UNPACK_EX" or (
        nxt.opname == "LOAD_CONST" and i + 2 < len(instructions) and
        instructions[i + 2].opname in ("BINARY_SUBSCR", "BINARY_OP")):
      found = "keras"
  for const in code.co_consts:  # closures (a loss_fn reading state.params)
    if hasattr(const, "co_code") and name in (const.co_freevars or ()):
      inner = _evidence(const, name)
      if inner == "hk_keras":
        return inner
      found = found or inner
  return found


def is_keras_form(model, kind: str) -> bool:
  """Whether `model`'s `{kind}_step` is written in the Keras form."""
  cls = type(model)
  key = (cls, kind)
  if key in _cache:
    return _cache[key]
  form = getattr(cls, "step_form", None)
  if form is not None and form not in _FORMS:
    raise ValueError(
        f"{cls.__name__}.step_form must be 'keras' or 'hk_keras'; received "
        f"{form!r}.")
  if form is None:
    from ._trainer import Trainer  # pylint: disable=g-import-not-at-top
    fn = getattr(cls, f"{kind}_step")
    if fn is getattr(Trainer, f"{kind}_step"):
      form = "hk_keras"
    else:
      code, name = _first_arg(getattr(fn, "__func__", fn))
      form = (_evidence(code, name) if code is not None else None) or (
          "hk_keras")
  _cache[key] = form == "keras"
  return _cache[key]


@contextlib.contextmanager
def _template(model, ts):
  _templates.append((model, ts))
  try:
    yield
  finally:
    _templates.pop()


def _keras_data(data):
  x, y, sample_weight = data
  return utils.pack_x_y_sample_weight(x, y, sample_weight)


def _flat_logs(logs):
  """Keras's logs with dict values (`compile_metrics`) merged in."""
  if not isinstance(logs, dict):
    raise TypeError(
        "A Keras-form step must return (logs, state) with logs a dict of "
        f"scalars; received logs of type {type(logs).__name__}. (The "
        "hk_keras form returns (state, logs); see docs/customizing_fit.md.)")
  out = {}
  for k, v in logs.items():
    if isinstance(v, dict):
      out.update(v)
    else:
      out[k] = v
  return out


def train_step(model):
  """The model's train step in hk_keras form."""
  if not is_keras_form(model, "train"):
    return model.train_step
  from ..models import _stateless  # pylint: disable=g-import-not-at-top

  def run(ts, data):
    with _stateless.bound(model, model._live, ts), _template(model, ts):
      logs, state = model.train_step(model._keras_state(ts, "train"),
                                     _keras_data(data))
    new = model._train_state_from_keras(ts, state, "train")
    return new._replace(step=ts.step + 1), _flat_logs(logs)
  return run


def test_step(model):
  """The model's test step in hk_keras form `(ts, data, mask=None)`."""
  if not is_keras_form(model, "test"):
    return model.test_step

  def run(ts, data, mask=None):
    with _replica.masked_rows(mask), _template(model, ts):
      logs, state = model.test_step(model._keras_state(ts, "test"),
                                    _keras_data(data))
    return (model._train_state_from_keras(ts, state, "test"),
            _flat_logs(logs))
  return run


def predict_step(model):
  """The model's predict step in hk_keras form `(ts, x) -> y`."""
  if not is_keras_form(model, "predict"):
    return model.predict_step

  def run(ts, x):
    with _template(model, ts):
      outputs, _ = model.predict_step(model._keras_state(ts, "predict"),
                                      (x,))
    return outputs
  return run


def default_step(model, kind, state, data):
  """A default step called with Keras's tuple state (`super().train_step`
  from a Keras-form override): the hk_keras default on the same values,
  returned in the Keras form."""
  from . import _default_steps  # pylint: disable=g-import-not-at-top
  template = next((ts for m, ts in reversed(_templates) if m is model), None)
  if template is None:
    raise RuntimeError(
        f"{kind}_step received a Keras-style tuple state outside fit/"
        "evaluate/predict. Call the default step from a Keras-form override "
        "run by the engine, or use the stateless API directly.")
  ts = model._train_state_from_keras(template, state, kind)
  if kind == "predict":
    x, _, _ = utils.unpack_x_y_sample_weight(data)
    y_pred = _default_steps.default_predict_step(model, ts, x)
    return y_pred, model._keras_state(ts, "predict")[1]
  data = utils.unpack_x_y_sample_weight(data)
  if kind == "train":
    new, logs = _default_steps.default_train_step(model, ts, data)
  else:
    new, logs = _default_steps.default_test_step(model, ts, data)
  return logs, model._keras_state(new, kind)
