"""A `Model` subclass built with the Functional constructor (Keras 3).

`CustomModel(inputs, outputs)`, where `CustomModel(hk_keras.Model)` only
overrides methods such as `train_step`, and `super().__init__(inputs=...,
outputs=...)` inside a subclass's `__init__` both make a Functional model
that has the subclass's methods. Keras 3 rewrites the subclass's bases to
put `Functional` in; here the instance's class becomes a derived class of
the same name, `(Subclass, Functional)`, made once per subclass, so the
user's class itself is left unchanged and `isinstance(model, Subclass)`
holds.
"""
import weakref

_DERIVED = weakref.WeakKeyDictionary()


def functional_init_arguments(args, kwargs) -> bool:
  """Keras 3's test: the arguments are those of `Functional(inputs,
  outputs)`."""
  return (len(args) == 2 or (len(args) == 1 and "outputs" in kwargs)
          or ("inputs" in kwargs and "outputs" in kwargs))


def functional_class_for(cls):
  """The class `(cls, Functional)` a functional-built `cls` instance gets."""
  from ._functional import Functional  # pylint: disable=g-import-not-at-top
  if issubclass(cls, Functional):
    return cls
  derived = _DERIVED.get(cls)
  if derived is None:
    derived = type(cls.__name__, (cls, Functional), {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "_functional_subclass_of": cls,
    })
    _DERIVED[cls] = derived
  return derived


def init_as_functional(model, args, kwargs):
  """Turns `model` (a subclass instance) into its Functional form and runs
  the Functional constructor on it."""
  from ._functional import Functional  # pylint: disable=g-import-not-at-top
  model.__class__ = functional_class_for(type(model))
  Functional.__init__(model, *args, **kwargs)
