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
from ._spectral_normalization import SpectralNormalization
from ._rescaling import Rescaling
from ._reshaping import Flatten, Reshape
from ._activation import ELU, LeakyReLU, PReLU
from ._adaptive_pooling import AdaptiveAveragePooling1D
from ._adaptive_pooling import AdaptiveAveragePooling2D
from ._adaptive_pooling import AdaptiveAveragePooling3D
from ._adaptive_pooling import AdaptiveMaxPooling1D
from ._adaptive_pooling import AdaptiveMaxPooling2D
from ._adaptive_pooling import AdaptiveMaxPooling3D
from ._conv_depthwise import DepthwiseConv1D, DepthwiseConv2D
from ._conv_depthwise import SeparableConv1D, SeparableConv2D
from ._conv_depthwise import SeparableConvolution1D, SeparableConvolution2D
from ._conv_transpose import Conv1DTranspose, Conv3DTranspose
from ._conv_transpose import Convolution1DTranspose
from ._conv_transpose import Convolution2DTranspose
from ._conv_transpose import Convolution3DTranspose
from ._convolution import Conv3D, Convolution1D, Convolution2D, Convolution3D
from ._cropping import Cropping1D, Cropping2D, Cropping3D
from ._einsum_dense import EinsumDense
from ._global_pooling import GlobalAveragePooling3D
from ._global_pooling import GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D
from ._global_pooling import GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D
from ._global_pooling import GlobalMaxPooling1D, GlobalMaxPooling3D
from ._identity import Identity
from ._merging import Average, Dot, Maximum, Minimum, Subtract
from ._merging_functions import add, average, concatenate, dot
from ._merging_functions import maximum, minimum, multiply, subtract
from ._noise import AlphaDropout, GaussianDropout, GaussianNoise
from ._noise import SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from ._pooling_1d3d import AveragePooling1D, AveragePooling3D
from ._pooling_1d3d import AvgPool1D, AvgPool2D, AvgPool3D
from ._pooling_1d3d import MaxPool1D, MaxPool2D, MaxPool3D
from ._pooling_1d3d import MaxPooling1D, MaxPooling3D
from ._reshaping import Permute, RepeatVector
from ._resizing_1d3d import UpSampling1D, UpSampling3D
from ._resizing_1d3d import ZeroPadding1D, ZeroPadding3D
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
    "RMSNormalization", "SpectralNormalization", "UnitNormalization",
    # Issue 12 (layers_a): core, activations, convolution, pooling,
    # regularization, reshaping and merging.
    "ELU", "EinsumDense", "Identity", "LeakyReLU", "PReLU",
    "Conv1DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D",
    "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose",
    "Convolution3D", "Convolution3DTranspose", "DepthwiseConv1D",
    "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    "SeparableConvolution1D", "SeparableConvolution2D",
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D", "AveragePooling1D", "AveragePooling3D",
    "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAveragePooling3D",
    "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
    "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D",
    "MaxPool3D", "MaxPooling1D", "MaxPooling3D",
    "AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "Permute", "RepeatVector",
    "UpSampling1D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding3D",
    "Average", "Dot", "Maximum", "Minimum", "Subtract", "add", "average",
    "concatenate", "dot", "maximum", "minimum", "multiply", "subtract",
]
# Preprocessing layers (hk_keras/layers/preprocessing/).
__all__ += _preprocessing.__all__
