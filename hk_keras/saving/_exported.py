"""`load_exported(path)`: runs a `model.export(format="jax")` artifact.

Nothing of the model's code is needed: the artifact is StableHLO with the
weights bound in, read with `jax.export.deserialize`.
"""
import json
import os
from typing import Any, Dict

import jax
import jax.numpy as jnp

EXPORT_FILE = "model.jax_export"
SIGNATURE_FILE = "signature.json"


class ExportedModel:
  """A deserialized export: call it like the model's `predict` on a batch.

  Attributes:
    exported: the `jax.export.Exported`.
    signature: the `signature.json` dict (inputs, outputs, platforms).
  """

  def __init__(self, exported, signature: Dict[str, Any]):
    self.exported = exported
    self.signature = signature

  def __call__(self, *inputs):
    """Runs the exported function on arrays of the exported shapes."""
    expected = len(self.exported.in_avals)
    args = jax.tree_util.tree_map(jnp.asarray, inputs)
    got = len(jax.tree_util.tree_leaves(args))
    if got != expected:
      raise ValueError(
          f"The exported model takes {expected} input array(s) "
          f"({[i['name'] for i in self.signature.get('inputs', [])]}), "
          f"received {got}. Pass them positionally, in that order.")
    return self.exported.call(*args)

  def __repr__(self):
    shapes = [tuple(i["symbolic_shape"]) for i in self.signature.get(
        "inputs", [])]
    return f"<ExportedModel inputs={shapes}>"


def load_exported(filepath) -> ExportedModel:
  """Loads a directory written by `model.export(path, format="jax")`.

  Args:
    filepath: the export directory.

  Returns:
    An `ExportedModel`; `model(x)` runs the inference function for any
    batch size.

  Raises:
    ValueError: if the directory holds no jax export.

  >>> served = load_exported("/tmp/served")  # doctest: +SKIP
  >>> served(x).shape  # doctest: +SKIP
  """
  filepath = os.fspath(filepath)
  artifact = os.path.join(filepath, EXPORT_FILE)
  if not os.path.isfile(artifact):
    raise ValueError(
        f"load_exported expects the directory written by model.export(path, "
        f"format='jax'), with a {EXPORT_FILE} file. Received: {filepath!r}, "
        "which has none. (Files saved with model.save are loaded with "
        "hk_keras.saving.load_model.)")
  signature = {}
  sig_path = os.path.join(filepath, SIGNATURE_FILE)
  if os.path.isfile(sig_path):
    with open(sig_path) as f:
      try:
        signature = json.load(f)
      except json.JSONDecodeError as err:
        raise ValueError(f"{sig_path!r} is not valid JSON: {err}") from None
    if not isinstance(signature, dict):
      raise ValueError(f"{sig_path!r} must hold a JSON object, found "
                       f"{type(signature).__name__}.")
  with open(artifact, "rb") as f:
    data = f.read()
  try:
    exported = jax.export.deserialize(bytearray(data))
  except Exception as err:  # pylint: disable=broad-except
    raise ValueError(
        f"{artifact!r} is not a jax.export artifact this JAX "
        f"({jax.__version__}) can read: {err}") from err
  return ExportedModel(exported, signature)
