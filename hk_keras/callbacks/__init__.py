"""Callbacks: hooks into fit/evaluate/predict (Keras 3 names)."""
from ._backup_and_restore import BackupAndRestore
from ._callback import Callback, CallbackList
from ._csv_logger import CSVLogger
from ._early_stopping import EarlyStopping
from ._history import History
from ._lambda_callback import LambdaCallback
from ._lr_scheduler import LearningRateScheduler
from ._model_checkpoint import ModelCheckpoint
from ._orbax_checkpoint import OrbaxCheckpoint
from ._privacy_budget import PrivacyBudget
from ._progbar import ProgbarLogger
from ._reduce_lr import ReduceLROnPlateau
from ._tensorboard import TensorBoard
from ._terminate_on_nan import TerminateOnNaN

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "OrbaxCheckpoint",
    "PrivacyBudget",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
]
