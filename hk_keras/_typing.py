"""Type aliases shared across hk_keras (Haiku's words for transform concepts)."""
from typing import Any, Mapping, Optional, Sequence, Tuple

import jax

PyTree = Any
Params = Mapping[str, Mapping[str, jax.Array]]
State = Mapping[str, Mapping[str, jax.Array]]
Shape = Tuple[Optional[int], ...]
ShapeLike = Sequence[Optional[int]]
PRNGKey = jax.Array
