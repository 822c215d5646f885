"""Optional dependencies (extras): imported on use, named when missing."""
import importlib

_MISSING_EXTRA = (
    "{user} needs the optional dependency {package!r}, which is not "
    "installed. Install it with `pip install hk_keras[{extra}]` (or `pip "
    "install {package}`).")


def import_optional(module: str, package: str, extra: str, user: str):
  """Imports `module`; if it is missing, says which extra installs it.

  Args:
    module: the module to import ("orbax.checkpoint").
    package: its pip package ("orbax-checkpoint").
    extra: the hk_keras extra that installs it ("orbax").
    user: what needs it, for the message ("OrbaxCheckpoint").

  Raises:
    ImportError: naming the extra.
  """
  try:
    return importlib.import_module(module)
  except ImportError as err:
    raise ImportError(_MISSING_EXTRA.format(user=user, package=package,
                                            extra=extra)) from err
