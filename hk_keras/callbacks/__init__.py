"""Callbacks: hooks into fit/evaluate/predict (Keras 3 names)."""
from ._callback import Callback, CallbackList
from ._history import History
from ._progbar import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
