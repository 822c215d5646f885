"""The registry of serializable custom objects, and custom-object scopes.

A saved file names every class and function it needs; loading looks the
names up here (and in `custom_objects`), never in the file's own code. A
registered name is `"package>name"`, as in Keras 3.
"""
import contextlib
import inspect
import threading
from typing import Any, Callable, Dict, Mapping, Optional

# registered name ("Custom>MyLayer") -> object, and id(object) -> name.
_OBJECTS: Dict[str, Any] = {}
_NAMES: Dict[int, str] = {}
_local = threading.local()


def register_keras_serializable(package: str = "Custom",
                                name: Optional[str] = None) -> Callable:
  """Registers a class or function so saved models can name it.

  Use it as a decorator on custom layers, subclassed models, losses,
  metrics, activations and the functions of `Lambda` / `HaikuLayer` layers.
  The object is saved as `"package>name"` and found again by that name when
  the defining code has run (been imported) in the loading process.

  Args:
    package: the namespace of the name (default `"Custom"`).
    name: the name inside the package; defaults to the class or function
      name.

  Returns:
    A decorator that registers its argument and returns it unchanged.

  Raises:
    ValueError: if a class to register has no `get_config` (it could not be
      rebuilt), or `package`/`name` contain `">"`.

  >>> import hk_keras
  >>> @register_keras_serializable(package="Doc")
  ... class Twice(hk_keras.layers.Layer):
  ...   def call(self, inputs):
  ...     return 2 * inputs
  >>> get_registered_name(Twice)
  'Doc>Twice'
  """
  if ">" in str(package) or (name is not None and ">" in name):
    raise ValueError(
        "register_keras_serializable: `package` and `name` must not contain "
        f"'>'. Received: package={package!r}, name={name!r}")

  def decorator(obj):
    key = name or getattr(obj, "__name__", None)
    if not key:
      raise ValueError(
          f"Cannot register {obj!r}: it has no __name__; pass name=.")
    if inspect.isclass(obj) and not hasattr(obj, "get_config"):
      raise ValueError(
          f"Cannot register the class {obj.__name__}: it has no get_config() "
          "method, so it could not be rebuilt when loading. Define "
          "get_config() returning its constructor arguments.")
    registered = f"{package}>{key}"
    _OBJECTS[registered] = obj
    _NAMES[id(obj)] = registered
    if not inspect.isclass(obj):
      # Activations look this attribute up when they are serialized.
      try:
        obj._hk_keras_registered_name = registered  # pylint: disable=protected-access
      except (AttributeError, TypeError):
        pass
    return obj

  return decorator


def get_registered_name(obj: Any) -> str:
  """The name `obj` is saved under: `"package>name"` if registered, else
  its `__name__`."""
  registered = _NAMES.get(id(obj))
  if registered is not None and _OBJECTS.get(registered) is obj:
    return registered
  return getattr(obj, "__name__", type(obj).__name__)


def registered_name_or_none(obj: Any) -> Optional[str]:
  registered = _NAMES.get(id(obj))
  if registered is not None and _OBJECTS.get(registered) is obj:
    return registered
  return None


def get_registered_object(name: str,
                          custom_objects: Optional[Mapping[str, Any]] = None,
                          module_objects: Optional[Mapping[str, Any]] = None
                          ) -> Optional[Any]:
  """Finds a class or function by the name it was saved under.

  Looks in `custom_objects`, then the active `custom_object_scope`s, then
  the registry, then `module_objects`. A registered name may be given in
  full (`"Custom>MyLayer"`) or, when it is unambiguous, without its package.

  Returns:
    The object, or None when the name is unknown.
  """
  if not isinstance(name, str):
    return None
  short = name.split(">", 1)[1] if ">" in name else name
  for mapping in [custom_objects or {}] + list(reversed(_scopes())):
    for key in (name, short):
      if key in mapping:
        return mapping[key]
  if name in _OBJECTS:
    return _OBJECTS[name]
  matches = [obj for key, obj in _OBJECTS.items()
             if key.split(">", 1)[1] == short]
  if len(matches) == 1:
    return matches[0]
  if module_objects and short in module_objects:
    return module_objects[short]
  return None


def lookup_given(name: str,
                 custom_objects: Optional[Mapping[str, Any]] = None):
  """`name` in `custom_objects` or an active scope only (not the registry)."""
  for mapping in [custom_objects or {}] + list(reversed(_scopes())):
    if name in mapping:
      return mapping[name]
  return None


def get_custom_objects() -> Dict[str, Any]:
  """The registry as a dict `{"package>name": object}` (a copy)."""
  return dict(_OBJECTS)


def _scopes():
  stack = getattr(_local, "scopes", None)
  if stack is None:
    stack = _local.scopes = []
  return stack


@contextlib.contextmanager
def custom_object_scope(custom_objects: Optional[Mapping[str, Any]]):
  """Makes `custom_objects` visible to every lookup inside the block.

  Layers rebuilt from config look their activations, initializers and
  functions up by name; inside this scope those names also resolve to the
  given objects (this is how `load_model(custom_objects=...)` reaches them).

  >>> import jax.numpy as jnp
  >>> def cube(x):
  ...   return x ** 3
  >>> with custom_object_scope({"cube": cube}):
  ...   get_registered_object("cube") is cube
  True
  """
  stack = _scopes()
  stack.append(dict(custom_objects or {}))
  try:
    yield
  finally:
    stack.pop()


CustomObjectScope = custom_object_scope
