"""What hk_keras exports against the public API contract in ../shared/API.md.

Every backticked `hk_keras.` name, every layer and callback the contract lists
and every `model.<method>` it names must exist. Names of features not built
yet are listed in PENDING with the issue that builds them; the test checks
they are still missing, so it fails (and reminds us to shrink PENDING) as
soon as one lands.
"""
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import hk_keras

API_MD = Path(__file__).parents[1] / ".." / "shared" / "API.md"

# name -> the issue that will add it. Keep in step with the code: the test
# fails when a name here starts to exist.
PENDING = {
}


def _contract():
  if not API_MD.exists():
    pytest.skip(f"API contract not found at {API_MD.resolve()} (it lives in "
                "the shared folder next to the repository checkout)")
  return API_MD.read_text()


def _section(text, title):
  match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
  assert match, f"API.md has no '## {title}' section"
  return match.group(1)


def _names_outside_parentheses(text):
  """'A (x, y), B, C (z).' -> ['A', 'B', 'C']."""
  while re.search(r"\([^()]*\)", text):
    text = re.sub(r"\([^()]*\)", "", text)
  return re.findall(r"\b([A-Z][A-Za-z0-9]+)\b", text)


def contract_names():
  """Fully qualified names (and `Model.<attr>`) the contract promises."""
  text = _contract()
  names = set()
  for code in re.findall(r"`([^`]+)`", text):
    match = re.match(r"(hk_keras(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", code)
    if match:
      names.add(match.group(1))
    for attr in re.findall(r"\bmodel\.([A-Za-z_][A-Za-z0-9_]*)", code):
      names.add(f"Model.{attr}")
  for method in ("train_on_batch", "test_on_batch", "predict_on_batch",
                 "train_step", "test_step"):
    if re.search(rf"`{method}`|`{method}\(", text):
      names.add(f"Model.{method}")
  layer_list = re.search(r"^- Layers \([^)]*\): (.*?)\. Defaults", text,
                         re.M | re.S)
  assert layer_list, "API.md no longer has the '- Layers (...): ...' list"
  for name in _names_outside_parentheses(layer_list.group(1)):
    names.add(f"hk_keras.layers.{name}")
  callbacks = _section(text, "Callbacks").split(":", 1)[1]
  for name in _names_outside_parentheses(callbacks):
    names.add(f"hk_keras.callbacks.{name}")
  return names


def _exists(name):
  """Reachable as users write it, after a plain `import hk_keras`."""
  if name.startswith("Model."):
    return hasattr(hk_keras.Model, name.split(".", 1)[1])
  obj = hk_keras
  for part in name.split(".")[1:]:
    if not hasattr(obj, part):
      return False
    obj = getattr(obj, part)
  return True


def test_contract_parses_to_a_sensible_list():
  names = contract_names()
  for expected in ("hk_keras.Input", "hk_keras.layers.Dense",
                   "hk_keras.layers.MultiHeadAttention",
                   "hk_keras.callbacks.EarlyStopping", "Model.init",
                   "Model.apply", "Model.fit", "hk_keras.utils.set_random_seed"):
    assert expected in names
  assert "hk_keras.layers.Keras" not in names


def test_every_contract_name_exists():
  missing = sorted(n for n in contract_names()
                   if n not in PENDING and not _exists(n))
  assert not missing, (
      f"API.md promises {missing}, which do not exist. Add them, or (for a "
      "feature not built yet) list them in PENDING with their issue.")


def test_pending_names_are_still_missing():
  # One test rather than one per name, so an empty PENDING passes (instead
  # of pytest skipping an empty parametrization).
  landed = sorted(n for n in PENDING if _exists(n))
  assert not landed, (
      f"{landed} exist now: remove them from PENDING in "
      f"{Path(__file__).name} so the contract test checks them.")


def _public_subpackages():
  out = [hk_keras]
  for info in pkgutil.iter_modules(hk_keras.__path__):
    if not info.name.startswith("_"):
      out.append(importlib.import_module(f"hk_keras.{info.name}"))
  return out


@pytest.mark.parametrize("module", _public_subpackages(),
                         ids=lambda m: m.__name__)
def test_all_entries_exist(module):
  exported = getattr(module, "__all__", None)
  assert exported is not None, f"{module.__name__} has no __all__"
  assert len(set(exported)) == len(exported), "duplicates in __all__"
  missing = [n for n in exported if not hasattr(module, n)]
  assert not missing, f"{module.__name__}.__all__ lists missing {missing}"


def test_public_subpackages_are_imported_and_exported_by_hk_keras():
  for module in _public_subpackages()[1:]:
    short = module.__name__.split(".", 1)[1]
    assert getattr(hk_keras, short, None) is module, (
        f"hk_keras/__init__.py does not import {module.__name__}")
    assert short in hk_keras.__all__, f"{short!r} missing in hk_keras.__all__"


def test_layers_all_exports_every_contract_layer():
  layer_names = {n.rsplit(".", 1)[1] for n in contract_names()
                 if n.startswith("hk_keras.layers.") and n not in PENDING}
  assert layer_names <= set(hk_keras.layers.__all__)
