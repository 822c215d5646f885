"""Keras 3 layers built on Haiku."""
from ._activation import Activation, ReLU, Softmax
from ._attention import MultiHeadAttention
from ._conv_transpose import Conv2DTranspose
from ._convolution import Conv1D, Conv2D
from ._activity_regularization import ActivityRegularization
from ._dense import Dense
from ._dropout import Dropout
from ._embedding import Embedding
from ._equinox_layer import EquinoxLayer
from ._flax_layer import FlaxLayer
from ._global_pooling import GlobalAveragePooling1D
from ._global_pooling import GlobalAveragePooling2D
from ._global_pooling import GlobalMaxPooling2D
from ._haiku_layer import HaikuLayer
from ._input import Input, InputLayer, KerasTensor
from ._jax_layer import JaxLayer
from ._lambda import Lambda
from ._layer import Layer
from ._merging import Add, Concatenate, Multiply
from ._normalization import BatchNormalization, LayerNormalization
from ._padding_upsampling import UpSampling2D, ZeroPadding2D
from ._pooling import AveragePooling2D, MaxPooling2D
from ._recurrent import GRU, LSTM
from ._recurrent import SimpleRNN
from ._masking import Masking
from ._dot_attention import AdditiveAttention, Attention
from ._group_normalization import GroupNormalization, RMSNormalization
from ._group_normalization import UnitNormalization
from ._grouped_query_attention import GroupQueryAttention
from ._conv_lstm import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from ._rnn import RNN
from ._rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ._rnn_wrappers import Bidirectional, TimeDistributed
from ._rescaling import Rescaling
from ._reshaping import Flatten, Reshape

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
    # Losses from layers.
    "ActivityRegularization",
    # Modules and functions of other JAX libraries.
    "EquinoxLayer", "FlaxLayer", "JaxLayer",
    # Masking, recurrent cells and wrappers.
    "Bidirectional", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "GRUCell", "LSTMCell", "Masking", "RNN", "SimpleRNN",
    "SimpleRNNCell", "StackedRNNCells", "TimeDistributed",
    # Attention and normalization (Keras 3's newer layers).
    "AdditiveAttention", "Attention", "GroupNormalization",
    "GroupQueryAttention",
    "RMSNormalization", "UnitNormalization",
]
