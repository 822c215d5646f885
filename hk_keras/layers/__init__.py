"""Keras 3 layers built on Haiku."""
from ._activation import Activation, ReLU, Softmax
from ._dense import Dense
from ._dropout import Dropout
from ._haiku_layer import HaikuLayer
from ._input import Input, InputLayer, KerasTensor
from ._lambda import Lambda
from ._layer import Layer
from ._merging import Add, Concatenate, Multiply
from ._rescaling import Rescaling
from ._reshaping import Flatten, Reshape

__all__ = [
    "Activation", "Add", "Concatenate", "Dense", "Dropout", "Flatten",
    "HaikuLayer", "Input", "InputLayer", "KerasTensor", "Lambda", "Layer",
    "Multiply", "ReLU", "Rescaling", "Reshape", "Softmax",
]
