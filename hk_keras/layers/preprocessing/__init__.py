"""Keras 3 preprocessing layers (re-exported by `hk_keras.layers`).

Where each layer runs (host or compiled step): see docs/preprocessing.md.
"""
from ._audio import MelSpectrogram, STFTSpectrogram
from ._category_encoding import CategoryEncoding, Discretization
from ._hashing import HashedCrossing, Hashing
from ._image_color import AutoContrast, Equalization, RandomBrightness
from ._image_color import RandomColorJitter, RandomContrast, RandomGrayscale
from ._image_color import RandomHue, RandomInvert, RandomPosterization
from ._image_color import RandomSaturation, RandomSharpness, Solarization
from ._image_geometry import CenterCrop, RandomCrop, RandomFlip
from ._image_geometry import RandomRotation, RandomShear, RandomTranslation
from ._image_geometry import RandomZoom, Resizing
from ._image_mixing import AugMix, CutMix, MixUp, RandAugment, RandomErasing
from ._image_mixing import RandomGaussianBlur
from ._lookup import IntegerLookup, StringLookup
from ._normalization import Normalization
from ._pipeline import Pipeline
from ._text_vectorization import TextVectorization

__all__ = [
    # Numeric and categorical features.
    "CategoryEncoding", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "Normalization", "StringLookup", "TextVectorization",
    # Images.
    "AugMix", "AutoContrast", "CenterCrop", "CutMix", "Equalization",
    "MixUp", "Pipeline", "RandAugment", "RandomBrightness",
    "RandomColorJitter", "RandomContrast", "RandomCrop", "RandomErasing",
    "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPosterization", "RandomRotation",
    "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation",
    "RandomZoom", "Resizing", "Solarization",
    # Audio.
    "MelSpectrogram", "STFTSpectrogram",
]
