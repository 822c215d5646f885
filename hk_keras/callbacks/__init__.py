"""Callbacks: hooks into fit/evaluate/predict (Keras 3 names)."""
from ._callback import Callback, CallbackList
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping
from ._history import History
from ._lambda_callback import LambdaCallback
from ._lr_scheduler import LearningRateScheduler
from ._progbar import ProgbarLogger
from ._reduce_lr import ReduceLROnPlateau
from ._tensorboard import TensorBoard
from ._terminate_on_nan import TerminateOnNaN

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
