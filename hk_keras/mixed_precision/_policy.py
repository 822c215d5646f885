"""Dtype policies (Keras's `DTypePolicy`) on top of `jmp.Policy`."""
from typing import Optional, Union

import jax.numpy as jnp
import jmp

from .._core import _settings
from ..config import _settings as _config

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_INITIAL_LOSS_SCALE = 2.0 ** 15  # Keras's LossScaleOptimizer default.

_BAD_NAME = (
    "Unknown dtype policy {name!r}. Use 'mixed_bfloat16' (TPUs, recent "
    "GPUs and CPUs), 'mixed_float16' (GPUs; adds dynamic loss scaling), "
    "'float32', or another floating dtype name such as 'bfloat16'.")


class Policy:
  """Which dtypes a layer uses: `variable_dtype` for its weights (what the
  optimizer updates) and `compute_dtype` for its computation.

  "mixed_float16" and "mixed_bfloat16" keep float32 variables and compute in
  half precision; a dtype name ("float32", "bfloat16", ...) uses it for
  both. The `jmp.Policy` equivalent is `policy.jmp_policy`, usable with
  Haiku's `hk.mixed_precision.set_policy` for raw Haiku modules.

  Args:
    name: the policy name.

  Raises:
    ValueError: on an unknown name.

  >>> p = Policy("mixed_bfloat16")
  >>> (p.variable_dtype, p.compute_dtype)
  ('float32', 'bfloat16')
  """

  def __init__(self, name: str = "float32"):
    if isinstance(name, Policy):
      name = name.name
    if not isinstance(name, str):
      try:
        name = jnp.dtype(name).name
      except TypeError:
        raise ValueError(_BAD_NAME.format(name=name)) from None
    if name in _MIXED:
      compute, variable = _MIXED[name], "float32"
    else:
      try:
        dtype = jnp.dtype(name)
      except TypeError:
        raise ValueError(_BAD_NAME.format(name=name)) from None
      name = compute = variable = dtype.name
    self._name = name
    self._compute = compute
    self._variable = variable

  @property
  def name(self) -> str:
    return self._name

  @property
  def compute_dtype(self) -> str:
    """The dtype layers compute in (inputs and kernels are cast to it)."""
    return self._compute

  @property
  def variable_dtype(self) -> str:
    """The dtype of the weights."""
    return self._variable

  @property
  def is_mixed(self) -> bool:
    return self._compute != self._variable

  @property
  def jmp_policy(self) -> jmp.Policy:
    """The same policy as a `jmp.Policy` (params, compute, output)."""
    return jmp.Policy(param_dtype=jnp.dtype(self._variable),
                      compute_dtype=jnp.dtype(self._compute),
                      output_dtype=jnp.dtype(self._compute))

  def get_config(self):
    return {"name": self._name}

  @classmethod
  def from_config(cls, config):
    return cls(**config)

  def __eq__(self, other):
    return isinstance(other, Policy) and other.name == self.name

  def __hash__(self):
    return hash(self._name)

  def __repr__(self):
    return f'<Policy "{self._name}">'


DTypePolicy = Policy  # Keras 3's name.



def set_global_policy(policy: Union[str, Policy, None]) -> None:
  """Sets the policy of layers created from now on (Keras semantics).

  Layers read the global policy when they are constructed, so set it before
  building the model. `None` restores "float32".

  Args:
    policy: "mixed_bfloat16", "mixed_float16", "float32" (or another
      floating dtype name), a `Policy`, or None.

  Raises:
    ValueError: on an unknown policy name.

  >>> set_global_policy("mixed_bfloat16")
  >>> global_policy().compute_dtype
  'bfloat16'
  >>> set_global_policy("float32")
  """
  _settings.set("dtype_policy", None if policy is None else Policy(policy))


def global_policy() -> Policy:
  """The global policy: `hk_keras.config.floatx()` ("float32") unless
  `set_global_policy` changed it."""
  return _settings.get("dtype_policy") or Policy(_config.floatx())


def resolve(dtype) -> Policy:
  """A layer's `dtype=` argument -> its policy (None: the global policy)."""
  if dtype is None:
    return global_policy()
  if isinstance(dtype, dict) and "config" in dtype:  # Keras's serialized form
    return Policy(dtype["config"].get("name", "float32"))
  return Policy(dtype)


def initial_loss_scale(policy: Optional[Policy], auto_scale_loss: bool = True):
  """The loss scale a train state starts with: `jmp.DynamicLossScale` for a
  float16 compute dtype (bfloat16 has float32's range and needs none), else
  None."""
  if not auto_scale_loss or policy is None:
    return None
  if jnp.dtype(policy.compute_dtype) != jnp.float16:
    return None
  return jmp.DynamicLossScale(jnp.asarray(_INITIAL_LOSS_SCALE, jnp.float32))
