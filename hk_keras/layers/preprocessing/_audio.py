"""`MelSpectrogram` and `STFTSpectrogram` (Keras 3 numerics, compiled)."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from ._image_base import standardize_data_format
from .._layer import Layer
from . import _base


def _signal():
  # Imported on first use: scipy.signal costs ~0.7 s, most of what
  # `import hk_keras` would otherwise take.
  import scipy.signal  # pylint: disable=g-import-not-at-top
  return scipy.signal

_MEL_BREAK_HZ = 700.0
_MEL_Q = 1127.0
_EPSILON = 1e-7


def _hertz_to_mel(f):
  return _MEL_Q * np.log(1.0 + f / _MEL_BREAK_HZ)


def mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sampling_rate,
                      lower_edge_hertz, upper_edge_hertz):
  """HTK-style triangular filters `[num_spectrogram_bins, num_mel_bins]`
  (the DC bin excluded), as Keras's `linear_to_mel_weight_matrix`."""
  freqs = np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins,
                      dtype=np.float32)[1:]
  bins_mel = _hertz_to_mel(freqs)[:, None]
  edges = np.linspace(_hertz_to_mel(np.float32(lower_edge_hertz)),
                      _hertz_to_mel(np.float32(upper_edge_hertz)),
                      num_mel_bins + 2, dtype=np.float32)
  lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
  lower_slopes = (bins_mel - lower) / (center - lower)
  upper_slopes = (upper - bins_mel) / (upper - center)
  weights = np.maximum(0.0, np.minimum(lower_slopes, upper_slopes))
  return np.pad(weights, [[1, 0], [0, 0]]).astype(np.float32)


def stft(x, sequence_length, sequence_stride, fft_length, window="hann",
         center=True):
  """Real and imaginary STFT parts `(..., frames, fft_length // 2 + 1)`,
  framed like `keras.ops.stft` (reflect-padded, window centered in the
  FFT frame)."""
  if center:
    pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
    x = jnp.pad(x, pad, mode="reflect")
  l_pad = (fft_length - sequence_length) // 2
  r_pad = fft_length - sequence_length - l_pad
  if window is None:
    win = np.ones(fft_length, np.float32)
  else:
    win = (_signal().get_window(window, sequence_length)
           if isinstance(window, str) else np.asarray(window))
    win = np.pad(win.astype(np.float32), [l_pad, r_pad])
  num_frames = 1 + (x.shape[-1] - fft_length) // sequence_stride
  idx = (np.arange(num_frames)[:, None] * sequence_stride
         + np.arange(fft_length)[None, :])
  frames = x[..., idx]
  frames = frames * jnp.asarray(win, x.dtype).reshape(
      (1,) * (frames.ndim - 1) + (fft_length,))
  spec = jnp.fft.rfft(frames, n=fft_length, axis=-1)
  return jnp.real(spec), jnp.imag(spec)


class MelSpectrogram(_base.JitWhenEager, Layer):
  """Raw audio `(..., samples)` to a Mel spectrogram `(..., mels, frames)`.

  Runs inside the compiled step. Arguments as Keras 3.
  """

  def __init__(self, fft_length=2048, sequence_stride=512,
               sequence_length=None, window="hann", sampling_rate=16000,
               num_mel_bins=128, min_freq=20.0, max_freq=None,
               power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
               ref_power=1.0, **kwargs):
    super().__init__(**kwargs)
    if window is not None and window not in ("hann", "hamming"):
      raise ValueError(
          "If a string is passed to `window`, it must be one of `\"hann\"`, "
          f"`\"hamming\"`. Received: window={window!r}")
    self.fft_length = int(fft_length)
    self.sequence_stride = int(sequence_stride)
    self.sequence_length = int(sequence_length or fft_length)
    if self.sequence_length > self.fft_length:
      raise ValueError(
          "`fft_length` must equal or larger than `sequence_length`. "
          f"Received: sequence_length={self.sequence_length}, "
          f"fft_length={self.fft_length}")
    self.window = window
    self.sampling_rate = sampling_rate
    self.num_mel_bins = int(num_mel_bins)
    self.min_freq = min_freq
    self.max_freq = max_freq if max_freq is not None else sampling_rate / 2.0
    self.power_to_db = bool(power_to_db)
    self.top_db = top_db
    self.mag_exp = mag_exp
    self.min_power = min_power
    self.ref_power = ref_power

  def call(self, inputs):
    x = jnp.asarray(inputs, jnp.float32)
    real, imag = stft(x, self.sequence_length, self.sequence_stride,
                      self.fft_length, self.window)
    spec = jnp.sqrt(real ** 2 + imag ** 2) ** self.mag_exp
    matrix = mel_weight_matrix(self.num_mel_bins, spec.shape[-1],
                               self.sampling_rate, self.min_freq,
                               self.max_freq)
    out = jnp.tensordot(spec, jnp.asarray(matrix), axes=1)
    if self.power_to_db:
      out = 10.0 * jnp.log10(jnp.maximum(out, self.min_power))
      out = out - 10.0 * jnp.log10(jnp.maximum(abs(self.ref_power),
                                               self.min_power))
      out = jnp.maximum(out, jnp.max(out) - self.top_db)
    return jnp.swapaxes(out, -1, -2).astype(self.compute_dtype)

  def get_config(self):
    return {**super().get_config(), "fft_length": self.fft_length,
            "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length, "window": self.window,
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq,
            "max_freq": self.max_freq, "power_to_db": self.power_to_db,
            "top_db": self.top_db, "mag_exp": self.mag_exp,
            "min_power": self.min_power, "ref_power": self.ref_power}


def stft_kernel(side, frame_length, num_bins, window, scaling, periodic):
  """Keras's `STFT` initializer: DFT rows times the window, `(T, 1, F)`."""
  win = None
  scale = 1.0
  if window is not None:
    win = (_signal().get_window(window, frame_length, periodic)
           if isinstance(window, str) else np.asarray(window, np.float64))
    win = win.reshape(frame_length, 1, 1)
    if scaling == "density":
      scale = np.sqrt(np.sum(np.square(win)))
    elif scaling == "spectrum":
      scale = np.sum(np.abs(win))
  fft_length = (num_bins - 1) * 2
  freq = np.arange(num_bins).reshape(1, 1, num_bins) / fft_length
  time = np.arange(frame_length).reshape(frame_length, 1, 1)
  args = -2 * time * freq * np.pi
  kernel = np.cos(args) if side == "real" else np.sin(args)
  if win is not None:
    kernel = kernel * win / scale
  return kernel.astype(np.float32)


class STFTSpectrogram(Layer):
  """Multi-channel STFT spectrograms by convolution with DFT kernels (the
  kernels are weights, trainable as in Keras). Inputs `(batch, time,
  channels)` (channels_last) or `(batch, channels, time)`."""

  _MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")

  def __init__(self, mode="log", frame_length=256, frame_step=None,
               fft_length=None, window="hann", periodic=False,
               scaling="density", padding="valid", expand_dims=False,
               data_format=None, **kwargs):
    if frame_step is not None and not 1 <= frame_step <= frame_length:
      raise ValueError(
          "`frame_step` should be a positive integer not greater than "
          f"`frame_length`. Received: frame_step={frame_step}")
    if fft_length is not None and fft_length < frame_length:
      raise ValueError(
          "`fft_length` should be not less than `frame_length`. Received: "
          f"fft_length={fft_length}")
    if mode not in self._MODES:
      raise ValueError(
          f"Output mode is invalid, it must be one of {self._MODES}. "
          f"Received: mode={mode!r}")
    if scaling is not None and scaling not in ("density", "spectrum"):
      raise ValueError(
          "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
          f"Received: scaling={scaling!r}")
    if padding not in ("valid", "same"):
      raise ValueError(
          f"Padding is invalid, it should be 'valid', 'same'. Received: "
          f"padding={padding!r}")
    super().__init__(**kwargs)
    self.mode = mode
    self.frame_length = int(frame_length)
    self.frame_step = frame_step
    self._frame_step = frame_step or self.frame_length // 2
    self.fft_length = fft_length
    self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(
        frame_length)))
    self.window = window
    self.periodic = bool(periodic)
    self.scaling = scaling
    self.padding = padding
    self.expand_dims = bool(expand_dims)
    self.data_format = standardize_data_format(data_format)

  def build(self, input_shape):
    if len(input_shape) != 3:
      raise ValueError(
          "STFTSpectrogram expects inputs of rank 3 (batch, time, channels) "
          f"or (batch, channels, time). Received shape {tuple(input_shape)}.")
    bins = self._fft_length // 2 + 1
    shape = (self.frame_length, 1, bins)
    def init(side):
      kernel = stft_kernel(side, self.frame_length, bins, self.window,
                           self.scaling, self.periodic)
      return lambda s, d: jnp.asarray(kernel, d)
    if self.mode != "imag":
      self.real_kernel = self.add_weight(name="real_kernel", shape=shape,
                                         initializer=init("real"))
    if self.mode != "real":
      self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape,
                                         initializer=init("imag"))

  def _conv(self, x, kernel):
    # x: (batch, time, channels) -> (batch, channels, freq, frames)
    n, t, c = x.shape
    flat = jnp.transpose(x, (0, 2, 1)).reshape(n * c, t, 1)
    out = jax.lax.conv_general_dilated(
        flat, kernel.astype(flat.dtype), (self._frame_step,),
        self.padding.upper(), dimension_numbers=("NWC", "WIO", "NWC"))
    frames, freq = out.shape[1], out.shape[2]
    return jnp.transpose(out, (0, 2, 1)).reshape(n, c, freq, frames)

  def _adjust(self, out):
    n, c, f, t = out.shape
    if self.data_format == "channels_last":
      if self.expand_dims:
        return jnp.transpose(out, (0, 3, 2, 1))
      return jnp.transpose(out.reshape(n, c * f, t), (0, 2, 1))
    if self.expand_dims:
      return jnp.transpose(out, (0, 1, 3, 2))
    return out.reshape(n, c * f, t)

  def call(self, inputs):
    if not jnp.issubdtype(jnp.asarray(inputs).dtype, jnp.floating):
      raise TypeError(
          "Invalid input type. Expected `float16`, `float32` or `float64`. "
          f"Received: input type={jnp.asarray(inputs).dtype}")
    x = inputs if self.data_format == "channels_last" else jnp.transpose(
        inputs, (0, 2, 1))
    real = self._conv(x, self.real_kernel) if self.mode != "imag" else None
    imag = self._conv(x, self.imag_kernel) if self.mode != "real" else None
    if self.mode == "real":
      return self._adjust(real)
    if self.mode == "imag":
      return self._adjust(imag)
    if self.mode == "angle":
      return self._adjust(jnp.arctan2(imag, real))
    if self.mode == "stft":
      return self._adjust(jnp.concatenate([real, imag], axis=2))
    power = real ** 2 + imag ** 2
    if self.mode == "psd":
      return self._adjust(power + jnp.pad(power[:, :, 1:-1, :],
                                          [[0, 0], [0, 0], [1, 1], [0, 0]]))
    linear = self._adjust(jnp.sqrt(jnp.maximum(power, _EPSILON)))
    if self.mode == "magnitude":
      return linear
    return jnp.log(jnp.maximum(linear, _EPSILON))

  def get_config(self):
    return {**super().get_config(), "mode": self.mode,
            "frame_length": self.frame_length, "frame_step": self.frame_step,
            "fft_length": self.fft_length, "window": self.window,
            "periodic": self.periodic, "scaling": self.scaling,
            "padding": self.padding, "expand_dims": self.expand_dims,
            "data_format": self.data_format}
