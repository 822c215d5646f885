"""`get`/`serialize`/`deserialize` for small families of config objects
(regularizers, constraints): a name table, Keras 3's config layout, and the
custom-object registry."""
import inspect
from typing import Any, Dict, Mapping, Optional

from . import _naming
from . import _registry


class ConfigObject:
  """Base of small config objects: `get_config`, `from_config`, repr."""

  def get_config(self):
    return {}

  @classmethod
  def from_config(cls, config):
    return cls(**config)

  def __repr__(self):
    args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
    return f"{type(self).__name__}({args})"


class ObjectLookup:
  """Lookup of one family (`what`: "regularizer", "constraint")."""

  def __init__(self, what: str, module: str, base: type, classes):
    """Names are the class names and their snake_case forms, as Keras."""
    self.what = what
    self.module = module
    self.base = base
    self.names: Dict[str, type] = {cls.__name__: cls for cls in classes}
    self.names.update({_naming.to_snake_case(cls.__name__): cls
                       for cls in classes})

  def _class(self, name: str, custom_objects: Optional[Mapping[str, Any]]):
    if custom_objects and name in custom_objects:
      return custom_objects[name]
    if name in self.names:
      return self.names[name]
    found = _registry.get_registered_object(name)
    if found is not None:
      return found
    raise ValueError(
        f"Unknown {self.what}: {name!r}. Valid names are: "
        f"{sorted(self.names)}. For a custom {self.what} pass "
        f"`custom_objects={{name: cls}}` or register it with "
        "hk_keras.saving.register_keras_serializable.")

  def get(self, identifier, custom_objects=None):
    if identifier is None:
      return None
    if isinstance(identifier, dict):
      return self.deserialize(identifier, custom_objects)
    obj = (self._class(identifier, custom_objects)
           if isinstance(identifier, str) else identifier)
    if inspect.isclass(obj):
      obj = obj()
    if callable(obj):
      return obj
    raise ValueError(
        f"Could not interpret {self.what} identifier: expected None, a name, "
        f"a config dict, a {self.base.__name__} or a callable. Received: "
        f"{identifier!r} of type {type(identifier).__name__}.")

  def serialize(self, obj) -> Dict[str, Any]:
    if not isinstance(obj, self.base) or not hasattr(obj, "get_config"):
      raise ValueError(
          f"Cannot serialize the {self.what} {obj!r}: only "
          f"{self.module}.{self.base.__name__} instances have a config. "
          f"Subclass {self.base.__name__} (implementing get_config) and "
          "pass it back with `custom_objects` when loading.")
    cls = type(obj)
    registered = _registry.get_registered_name(cls)
    return {"module": self.module if cls in self.names.values() else None,
            "class_name": cls.__name__, "config": obj.get_config(),
            "registered_name": registered if registered != cls.__name__
                               else None}

  def deserialize(self, config, custom_objects=None):
    if isinstance(config, str):
      return self.get(config, custom_objects)
    if not isinstance(config, dict) or not isinstance(
        config.get("class_name"), str):
      raise ValueError(
          f"A {self.what} config must be a dict with a string 'class_name' "
          f"(and optional 'config'). Received: config={config!r}")
    name = config.get("registered_name") or config["class_name"]
    cls = self._class(name, custom_objects)
    kwargs = dict(config.get("config") or {})
    if hasattr(cls, "from_config"):
      return cls.from_config(kwargs)
    return cls(**kwargs)

  def functions(self, examples: str):
    """The family's public `get`, `serialize` and `deserialize`."""
    what, base = self.what, self.base.__name__

    def get(identifier, custom_objects=None):
      return self.get(identifier, custom_objects)
    get.__doc__ = (
        f"A {what} from None, a name ({examples}), a config dict, a class "
        f"or a callable.\n\n  Raises:\n    ValueError: for unknown names or "
        "identifiers that are not callable.\n  ")

    def serialize(obj):
      return self.serialize(obj)
    serialize.__doc__ = f"A JSON-able config (Keras 3's layout) of a {base}."

    def deserialize(config, custom_objects=None):
      return self.deserialize(config, custom_objects)
    deserialize.__doc__ = f"Rebuilds a {what} from `serialize`'s output."
    return get, serialize, deserialize
