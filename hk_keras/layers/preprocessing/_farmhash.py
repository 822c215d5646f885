"""FarmHash Fingerprint64 and SipHash-2-4 on bytes, as TensorFlow's
`to_hash_bucket_fast` / `to_hash_bucket_strong` compute them.

Keras 3's `Hashing`, `HashedCrossing` and the lookup layers' OOV buckets hash
the string form of every value with these functions, so hk_keras computes
them here (on the host, in plain Python) to give the same bins.
"""
from typing import Sequence

_MASK = (1 << 64) - 1
_K0 = 0xc3a5c85c97cb3127
_K1 = 0xb492b66fbe98f273
_K2 = 0x9ae16a3b2f90404f


def _f64(s: bytes, i: int) -> int:
  return int.from_bytes(s[i:i + 8], "little")


def _f32(s: bytes, i: int) -> int:
  return int.from_bytes(s[i:i + 4], "little")


def _rot(v: int, shift: int) -> int:
  return v if shift == 0 else ((v >> shift) | (v << (64 - shift))) & _MASK


def _mix(v: int) -> int:
  return v ^ (v >> 47)


def _len16(u: int, v: int, mul: int) -> int:
  a = ((u ^ v) * mul) & _MASK
  a ^= a >> 47
  b = ((v ^ a) * mul) & _MASK
  b ^= b >> 47
  return (b * mul) & _MASK


def _len0to16(s: bytes) -> int:
  n = len(s)
  if n >= 8:
    mul = _K2 + n * 2
    a = (_f64(s, 0) + _K2) & _MASK
    b = _f64(s, n - 8)
    c = (_rot(b, 37) * mul + a) & _MASK
    d = ((_rot(a, 25) + b) * mul) & _MASK
    return _len16(c, d, mul)
  if n >= 4:
    mul = _K2 + n * 2
    return _len16(n + (_f32(s, 0) << 3), _f32(s, n - 4), mul)
  if n > 0:
    y = (s[0] + (s[n >> 1] << 8)) & 0xffffffff
    z = (n + (s[n - 1] << 2)) & 0xffffffff
    return (_mix(((y * _K2) ^ (z * _K0)) & _MASK) * _K2) & _MASK
  return _K2


def _len17to32(s: bytes) -> int:
  n = len(s)
  mul = _K2 + n * 2
  a = (_f64(s, 0) * _K1) & _MASK
  b = _f64(s, 8)
  c = (_f64(s, n - 8) * mul) & _MASK
  d = (_f64(s, n - 16) * _K2) & _MASK
  return _len16((_rot((a + b) & _MASK, 43) + _rot(c, 30) + d) & _MASK,
                (a + _rot((b + _K2) & _MASK, 18) + c) & _MASK, mul)


def _len33to64(s: bytes) -> int:
  n = len(s)
  mul = _K2 + n * 2
  a = (_f64(s, 0) * _K2) & _MASK
  b = _f64(s, 8)
  c = (_f64(s, n - 8) * mul) & _MASK
  d = (_f64(s, n - 16) * _K2) & _MASK
  y = (_rot((a + b) & _MASK, 43) + _rot(c, 30) + d) & _MASK
  z = _len16(y, (a + _rot((b + _K2) & _MASK, 18) + c) & _MASK, mul)
  e = (_f64(s, 16) * mul) & _MASK
  f = _f64(s, 24)
  g = ((y + _f64(s, n - 32)) * mul) & _MASK
  h = ((z + _f64(s, n - 24)) * mul) & _MASK
  return _len16((_rot((e + f) & _MASK, 43) + _rot(g, 30) + h) & _MASK,
                (e + _rot((f + a) & _MASK, 18) + g) & _MASK, mul)


def _weak32(s: bytes, pos: int, a: int, b: int):
  w, x, y, z = (_f64(s, pos), _f64(s, pos + 8), _f64(s, pos + 16),
                _f64(s, pos + 24))
  a = (a + w) & _MASK
  b = _rot((b + a + z) & _MASK, 21)
  c = a
  a = (a + x + y) & _MASK
  b = (b + _rot(a, 44)) & _MASK
  return (a + z) & _MASK, (b + c) & _MASK


def fingerprint64(s: bytes) -> int:
  """FarmHash's `Fingerprint64` (farmhashna) of `s`, an unsigned 64-bit int."""
  n = len(s)
  if n <= 16:
    return _len0to16(s)
  if n <= 32:
    return _len17to32(s)
  if n <= 64:
    return _len33to64(s)
  seed = 81
  x = seed
  y = (seed * _K1 + 113) & _MASK
  z = (_mix((y * _K2 + 113) & _MASK) * _K2) & _MASK
  v0 = v1 = w0 = w1 = 0
  x = (x * _K2 + _f64(s, 0)) & _MASK
  end = ((n - 1) // 64) * 64
  last64 = end + ((n - 1) & 63) - 63
  pos = 0
  while True:
    x = (_rot((x + y + v0 + _f64(s, pos + 8)) & _MASK, 37) * _K1) & _MASK
    y = (_rot((y + v1 + _f64(s, pos + 48)) & _MASK, 42) * _K1) & _MASK
    x ^= w1
    y = (y + v0 + _f64(s, pos + 40)) & _MASK
    z = (_rot((z + w0) & _MASK, 33) * _K1) & _MASK
    v0, v1 = _weak32(s, pos, (v1 * _K1) & _MASK, (x + w0) & _MASK)
    w0, w1 = _weak32(s, pos + 32, (z + w1) & _MASK,
                     (y + _f64(s, pos + 16)) & _MASK)
    z, x = x, z
    pos += 64
    if pos == end:
      break
  mul = _K1 + ((z & 0xff) << 1)
  pos = last64
  w0 = (w0 + ((n - 1) & 63)) & _MASK
  v0 = (v0 + w0) & _MASK
  w0 = (w0 + v0) & _MASK
  x = (_rot((x + y + v0 + _f64(s, pos + 8)) & _MASK, 37) * mul) & _MASK
  y = (_rot((y + v1 + _f64(s, pos + 48)) & _MASK, 42) * mul) & _MASK
  x ^= (w1 * 9) & _MASK
  y = (y + v0 * 9 + _f64(s, pos + 40)) & _MASK
  z = (_rot((z + w0) & _MASK, 33) * mul) & _MASK
  v0, v1 = _weak32(s, pos, (v1 * mul) & _MASK, (x + w0) & _MASK)
  w0, w1 = _weak32(s, pos + 32, (z + w1) & _MASK,
                   (y + _f64(s, pos + 16)) & _MASK)
  z, x = x, z
  return _len16(
      (_len16(v0, w0, mul) + _mix(y) * _K0 + z) & _MASK,
      (_len16(v1, w1, mul) + x) & _MASK, mul)


def siphash24(s: bytes, key: Sequence[int]) -> int:
  """SipHash-2-4 of `s` under the 128-bit key `(key[0], key[1])`."""
  k0, k1 = int(key[0]) & _MASK, int(key[1]) & _MASK
  v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
       k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]

  def rnd():
    v[0] = (v[0] + v[1]) & _MASK
    v[1] = _rot(v[1], 64 - 13) ^ v[0]
    v[0] = _rot(v[0], 64 - 32)
    v[2] = (v[2] + v[3]) & _MASK
    v[3] = _rot(v[3], 64 - 16) ^ v[2]
    v[0] = (v[0] + v[3]) & _MASK
    v[3] = _rot(v[3], 64 - 21) ^ v[0]
    v[2] = (v[2] + v[1]) & _MASK
    v[1] = _rot(v[1], 64 - 17) ^ v[2]
    v[2] = _rot(v[2], 64 - 32)

  n = len(s)
  full = n - n % 8
  for i in range(0, full, 8):
    m = _f64(s, i)
    v[3] ^= m
    rnd(); rnd()
    v[0] ^= m
  last = (n & 0xff) << 56
  for j, byte in enumerate(s[full:]):
    last |= byte << (8 * j)
  v[3] ^= last
  rnd(); rnd()
  v[0] ^= last
  v[2] ^= 0xff
  rnd(); rnd(); rnd(); rnd()
  return v[0] ^ v[1] ^ v[2] ^ v[3]
