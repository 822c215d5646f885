"""FFTs, framing and short-time Fourier transforms (Keras's real/imag pairs)."""
import jax.numpy as jnp
import numpy as np

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op


def _complex(x):
  real, imag = x
  real = convert_to_tensor(real)
  imag = convert_to_tensor(imag)
  if real.shape != imag.shape:
    raise ValueError("The real and imaginary parts must have the same shape. "
                     f"Received: {real.shape} and {imag.shape}")
  if not jnp.issubdtype(real.dtype, jnp.floating):
    raise ValueError("The real part must be a float tensor. Received "
                     f"dtype {real.dtype}.")
  return real + 1j * imag.astype(real.dtype)


def _split(c, dtype):
  return jnp.real(c).astype(dtype), jnp.imag(c).astype(dtype)


@op
def fft(x):
  """FFT over the last axis of `x = (real, imag)`; returns `(real, imag)`."""
  c = _complex(x)
  return _split(jnp.fft.fft(c), x[0].dtype if hasattr(x[0], "dtype")
                else "float32")


@op
def fft2(x):
  """2-D FFT over the last two axes of `(real, imag)`."""
  c = _complex(x)
  return _split(jnp.fft.fft2(c), convert_to_tensor(x[0]).dtype)


@op
def ifft2(x):
  """Inverse 2-D FFT of `(real, imag)`."""
  c = _complex(x)
  return _split(jnp.fft.ifft2(c), convert_to_tensor(x[0]).dtype)


@op
def rfft(x, fft_length=None):
  """FFT of a real signal over its last axis; `(real, imag)`."""
  x = convert_to_tensor(x)
  return _split(jnp.fft.rfft(x, n=fft_length, axis=-1), x.dtype)


@op
def irfft(x, fft_length=None):
  """Inverse of `rfft` from `(real, imag)`."""
  c = _complex(x)
  return jnp.fft.irfft(c, n=fft_length, axis=-1).astype(
      convert_to_tensor(x[0]).dtype)


@op
def extract_sequences(x, sequence_length, sequence_stride):
  """Frames of `sequence_length` every `sequence_stride` on the last axis."""
  x = convert_to_tensor(x)
  n = x.shape[-1]
  frames = 1 + (n - sequence_length) // sequence_stride
  index = (np.arange(frames)[:, None] * sequence_stride
           + np.arange(sequence_length)[None, :])
  return x[..., index]


def _window(window, length, dtype):
  if window is None:
    return None
  if isinstance(window, str):
    if window not in ("hann", "hamming"):
      raise ValueError("If a string, `window` must be 'hann' or 'hamming'. "
                       f"Received: window={window!r}")
    n = np.arange(length)
    alpha = 0.5 if window == "hann" else 0.54
    win = alpha - (1 - alpha) * np.cos(2 * np.pi * n / length)
    return jnp.asarray(win, dtype)
  window = convert_to_tensor(window, dtype=dtype)
  if window.shape != (length,):
    raise ValueError("The window must have shape [sequence_length]. "
                     f"Received: window.shape={window.shape}")
  return window


@op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann",
         center=True):
  """Short-time Fourier transform of real signals; `(real, imag)` of shape
  `(..., frames, fft_length // 2 + 1)`."""
  x = convert_to_tensor(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    x = x.astype(_dtypes.FLOATX)
  if fft_length < sequence_length:
    raise ValueError("`fft_length` must equal or exceed `sequence_length`. "
                     f"Received: sequence_length={sequence_length}, "
                     f"fft_length={fft_length}")
  if center:
    pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
    x = jnp.pad(x, pad, mode="reflect")
  frames = extract_sequences(x, fft_length, sequence_stride)
  win = _window(window, sequence_length, x.dtype)
  if win is not None:
    # The window covers the centre `sequence_length` samples of each frame.
    left = (fft_length - sequence_length) // 2
    win = jnp.pad(win, (left, fft_length - sequence_length - left))
    frames = frames * win
  return _split(jnp.fft.rfft(frames, n=fft_length, axis=-1), x.dtype)


@op
def istft(x, sequence_length, sequence_stride, fft_length, length=None,
          window="hann", center=True):
  """Inverse of `stft` by overlap-add with window-power normalisation."""
  c = _complex(x)
  dtype = convert_to_tensor(x[0]).dtype
  frames = jnp.fft.irfft(c, n=fft_length, axis=-1).astype(dtype)
  left = (fft_length - sequence_length) // 2
  frames = frames[..., left:left + sequence_length]
  win = _window(window, sequence_length, dtype)
  if win is None:
    win = jnp.ones((sequence_length,), dtype)
  frames = frames * win
  n_frames = frames.shape[-2]
  out_len = (n_frames - 1) * sequence_stride + sequence_length
  index = (np.arange(n_frames)[:, None] * sequence_stride
           + np.arange(sequence_length)[None, :]).reshape(-1)
  out = jnp.zeros(frames.shape[:-2] + (out_len,), dtype)
  out = out.at[..., index].add(frames.reshape(frames.shape[:-2] + (-1,)))
  norm = jnp.zeros((out_len,), dtype).at[index].add(
      jnp.tile(jnp.square(win), n_frames))
  out = out / jnp.where(norm > 1e-10, norm, 1.0)
  start = fft_length // 2 if center else 0
  if length is not None:
    out = out[..., start:start + length]
    if out.shape[-1] < length:
      pad = [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])]
      out = jnp.pad(out, pad)
    return out
  end = out_len - (fft_length // 2 if center else 0)
  return out[..., start:end]
