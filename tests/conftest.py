"""Shared pytest setup: Keras (for parity tests) runs on its JAX backend."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
  """Every test starts from the same global seed."""
  import hk_keras
  hk_keras.utils.set_random_seed(1234)
  yield
  from hk_keras._core import _settings  # pylint: disable=g-import-not-at-top
  _settings.reset()  # no global setting leaks into the next test


# -- pytest-xdist (`pytest -n 2` on CI) ----------------------------------------
# A module-scoped fixture (a layer sweep, a multi-device subprocess) is set up
# again on every worker that runs one of its tests, and `--dist load` splits
# modules between workers. So the tests of such a module are put in one
# xdist_group (one worker, one setup), and the groups are scheduled first
# (largest first), which also starts those long setups early instead of
# leaving one worker alone with them at the end (setup.cfg's addopts turns
# on `--dist loadgroup`; without -n it changes nothing).

def _shared_setup_group(item):
  """The id of the module (or class) whose once-per-module (class) fixture,
  defined in the test tree, the item uses; else None."""
  info = getattr(item, "_fixtureinfo", None)
  if info is None:
    return None
  for defs in info.name2fixturedefs.values():
    fixturedef = defs[-1]
    if not getattr(fixturedef, "baseid", ""):
      continue  # pytest's own and plugins' fixtures
    if fixturedef.scope == "module":
      return item.nodeid.split("::")[0]
    if fixturedef.scope == "class" and item.cls is not None:
      return "::".join(item.nodeid.split("::")[:2])
  return None


def pytest_collection_modifyitems(config, items):
  del config
  for item in items:
    if item.get_closest_marker("xdist_group") is None:
      group = _shared_setup_group(item)
      if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))

