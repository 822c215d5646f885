"""Private training engine: pure train/test/predict steps over one train state.

Other packages reach a compiled model's training state only through
`live_state(model)` and the named methods of the `LiveState` it returns.
"""
from ._live_state import LiveState, live_state

__all__ = ["LiveState", "live_state"]
