"""Shared pytest setup: Keras (for parity tests) runs on its JAX backend."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

# The suite's time is mostly XLA compiling small programs (tiny shapes, many
# models); LLVM's optimisation passes are most of that and buy nothing at
# these sizes. Level 0 changes code generation only, not the HLO or its
# floating-point semantics (it cut the layer catalogue sweep's CPU time by
# ~40%). Set before JAX starts its backend; a flag given by the caller wins.
_FLAG = "--xla_backend_optimization_level"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = " ".join(
      f for f in (os.environ.get("XLA_FLAGS", ""), _FLAG + "=0") if f)

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
# xdist_group (one worker, one setup), and the groups (and the slow tests)
# are scheduled first, which also starts those long setups early instead of
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


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
  for item in items:
    if item.get_closest_marker("xdist_group") is None:
      group = _shared_setup_group(item)
      if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))
  if hasattr(config, "workerinput"):
    # On xdist workers only (a plain run keeps the file order): the long
    # ones first, so that no worker is left alone with one at the end. The
    # groups of one test each are scheduled in this order too.
    items.sort(key=lambda item: not (item.get_closest_marker("xdist_group")
                                     or item.get_closest_marker("slow")))



class _GroupSuffix:
  """pytest-xdist 3.8 sends an xdist_group's tests to one worker by adding
  "@group" to their node ids, through an attribute that pytest 9 no longer
  reads (`Node._nodeid`); without the suffix the groups are ignored. This
  adds it where it is missing (after xdist's own hook)."""

  @pytest.hookimpl(trylast=True)
  def pytest_collection_modifyitems(self, config, items):
    if not config.getvalue("loadgroup"):
      return
    for item in items:
      names = sorted({str(m.args[0] if m.args else m.kwargs.get("name",
                                                               "default"))
                      for m in item.iter_markers("xdist_group")})
      suffix = "@" + "_".join(names)
      if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
        item._id = type(item._id).parse(item.nodeid + suffix)  # pylint: disable=protected-access


def pytest_configure(config):
  if hasattr(config, "workerinput"):
    config.pluginmanager.register(_GroupSuffix(), "hk_keras_xdist_group_suffix")
