"""Keras 3 layers built on Haiku."""
from ._activation import Activation, ReLU, Softmax
from ._attention import MultiHeadAttention
from ._conv_transpose import Conv2DTranspose
from ._convolution import Conv1D, Conv2D
from ._dense import Dense
from ._dropout import Dropout
from ._embedding import Embedding
from ._global_pooling import GlobalAveragePooling1D
from ._global_pooling import GlobalAveragePooling2D
from ._global_pooling import GlobalMaxPooling2D
from ._haiku_layer import HaikuLayer
from ._input import Input, InputLayer, KerasTensor
from ._lambda import Lambda
from ._layer import Layer
from ._merging import Add, Concatenate, Multiply
from ._normalization import BatchNormalization, LayerNormalization
from ._padding_upsampling import UpSampling2D, ZeroPadding2D
from ._pooling import AveragePooling2D, MaxPooling2D
from ._recurrent import GRU, LSTM
from ._rescaling import Rescaling
from ._reshaping import Flatten, Reshape
from . import preprocessing as _preprocessing
from .preprocessing import *  # pylint: disable=wildcard-import

__all__ = [
    "Activation", "Add", "Concatenate", "Dense", "Dropout", "Flatten",
    "HaikuLayer", "Input", "InputLayer", "KerasTensor", "Lambda", "Layer",
    "Multiply", "ReLU", "Rescaling", "Reshape", "Softmax",
    # Convolution, pooling and spatial resizing.
    "AveragePooling2D", "Conv1D", "Conv2D", "Conv2DTranspose",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
    "MaxPooling2D", "UpSampling2D", "ZeroPadding2D",
    # Normalization, embedding, recurrent and attention.
    "BatchNormalization", "Embedding", "GRU", "LSTM", "LayerNormalization",
    "MultiHeadAttention",
]
# Preprocessing layers (hk_keras/layers/preprocessing/).
__all__ += _preprocessing.__all__
