"""`optimizer.learning_rate` reads and writes the live value (Keras 3).

Keras code changes the rate of a model being trained through its optimizer,
`self.model.optimizer.learning_rate = new` in a callback, and reads it back
with `float(self.model.optimizer.learning_rate)`. The rate an hk_keras model
trains with lives in its optimizer state (injected by
`optax.inject_hyperparams`); once `compile` attaches the optimizer to a
model, the attribute reads and writes that state (no recompilation), and
before the first step it is the value given to the constructor.
"""
import weakref


class LiveLearningRate:
  """Mixin of `Optimizer`: the `learning_rate` property."""

  _model_ref = None

  def _attach_model(self, model):
    """Called by `compile`: this optimizer now trains `model`."""
    self._model_ref = weakref.ref(model)

  def _attached_model(self):
    return None if self._model_ref is None else self._model_ref()

  @property
  def learning_rate(self):
    """The learning rate (a float or a schedule); the current value of the
    model being trained once training has started."""
    value = self.__dict__.get("_learning_rate")
    model = self._attached_model()
    if model is not None and not callable(value):
      from ..callbacks import _learning_rate  # pylint: disable=g-import-not-at-top
      live = getattr(model, "_live", None)
      if live is not None and live.train_state is not None:
        return _learning_rate.get_learning_rate(model)
    return value

  @learning_rate.setter
  def learning_rate(self, value):
    model = self._attached_model()
    if model is not None and not callable(value):
      if callable(self.__dict__.get("_learning_rate")):
        raise ValueError(
            "This optimizer follows a learning rate schedule; a float cannot "
            "replace it during training. Compile with a float learning rate "
            "to set it from a callback, or change the schedule.")
      from ..callbacks import _learning_rate  # pylint: disable=g-import-not-at-top
      value = float(value)
      _learning_rate.set_learning_rate(model, value)
    self.__dict__["_learning_rate"] = value
