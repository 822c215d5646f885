"""Image ops (`hk_keras.ops.image`) on jax.image and jax.scipy.ndimage."""
import jax
import jax.numpy as jnp
import numpy as np

from . import _dtypes
from ._core import convert_to_tensor
from ._symbolic import op

_RESIZE_METHODS = {"bilinear": "linear", "nearest": "nearest",
                   "bicubic": "cubic", "lanczos3": "lanczos3",
                   "lanczos5": "lanczos5"}


def _format(data_format):
  data_format = data_format or "channels_last"
  if data_format not in ("channels_last", "channels_first"):
    raise ValueError("data_format must be 'channels_last' or "
                     f"'channels_first'. Received: data_format={data_format!r}")
  return data_format


def _images(images, rank=(3, 4)):
  images = convert_to_tensor(images)
  if images.ndim not in rank:
    raise ValueError(f"Expected images of rank {rank} (one image or a batch). "
                     f"Received: images.shape={images.shape}")
  return images


def _hw_axes(images, data_format):
  if data_format == "channels_last":
    return images.ndim - 3, images.ndim - 2
  return images.ndim - 2, images.ndim - 1


@op(name="image.resize")
def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
           fill_mode="constant", fill_value=0.0, data_format=None):
  """Resizes images to `size = (height, width)`."""
  if interpolation not in _RESIZE_METHODS:
    raise ValueError(f"Invalid interpolation {interpolation!r}: expected one "
                     f"of {sorted(_RESIZE_METHODS)}.")
  if crop_to_aspect_ratio and pad_to_aspect_ratio:
    raise ValueError("Only one of crop_to_aspect_ratio and "
                     "pad_to_aspect_ratio can be True.")
  data_format = _format(data_format)
  images = _images(images)
  h_axis, w_axis = _hw_axes(images, data_format)
  th, tw = size
  if crop_to_aspect_ratio or pad_to_aspect_ratio:
    h, w = images.shape[h_axis], images.shape[w_axis]
    if crop_to_aspect_ratio:
      ch = min(int(w * th / tw), h)
      cw = min(int(h * tw / th), w)
      top, left = (h - ch) // 2, (w - cw) // 2
      images = jax.lax.slice_in_dim(images, top, top + ch, axis=h_axis)
      images = jax.lax.slice_in_dim(images, left, left + cw, axis=w_axis)
    else:
      ph = max(int(w * th / tw), h)
      pw = max(int(h * tw / th), w)
      pad = [(0, 0)] * images.ndim
      pad[h_axis] = ((ph - h) // 2, ph - h - (ph - h) // 2)
      pad[w_axis] = ((pw - w) // 2, pw - w - (pw - w) // 2)
      images = jnp.pad(images, pad, constant_values=fill_value)
  shape = list(images.shape)
  shape[h_axis], shape[w_axis] = th, tw
  method = _RESIZE_METHODS[interpolation]
  out = jax.image.resize(images, shape, method=method, antialias=antialias)
  if method == "nearest":
    return out.astype(images.dtype)
  return out


@op(name="image.rgb_to_grayscale")
def rgb_to_grayscale(images, data_format=None):
  """Luma (ITU-R 601) of RGB images, keeping a channel axis of size 1."""
  data_format = _format(data_format)
  images = _images(images)
  axis = -1 if data_format == "channels_last" else -3
  weights = jnp.asarray([0.2989, 0.5870, 0.1140], images.dtype)
  shape = [1] * images.ndim
  shape[axis] = 3
  gray = jnp.sum(images * weights.reshape(shape), axis=axis, keepdims=True)
  return gray.astype(images.dtype)


def _channels_last(images, data_format):
  if data_format == "channels_first":
    return jnp.moveaxis(images, -3, -1)
  return images


def _restore(images, data_format):
  if data_format == "channels_first":
    return jnp.moveaxis(images, -1, -3)
  return images


@op(name="image.rgb_to_hsv")
def rgb_to_hsv(images, data_format=None):
  """RGB in [0, 1] to HSV in [0, 1]."""
  data_format = _format(data_format)
  images = _images(images)
  if not jnp.issubdtype(images.dtype, jnp.floating):
    raise ValueError("rgb_to_hsv expects float images. Received dtype "
                     f"{images.dtype}.")
  x = _channels_last(images, data_format)
  r, g, b = x[..., 0], x[..., 1], x[..., 2]
  value = jnp.max(x, axis=-1)
  minimum = jnp.min(x, axis=-1)
  span = value - minimum
  saturation = jnp.where(value > 0, span / jnp.where(value > 0, value, 1), 0)
  safe = jnp.where(span > 0, span, 1)
  hue = jnp.where(value == r, (g - b) / safe,
                  jnp.where(value == g, 2 + (b - r) / safe, 4 + (r - g) / safe))
  hue = jnp.where(span > 0, (hue / 6) % 1.0, 0)
  return _restore(jnp.stack([hue, saturation, value], axis=-1), data_format)


@op(name="image.hsv_to_rgb")
def hsv_to_rgb(images, data_format=None):
  """HSV in [0, 1] to RGB in [0, 1]."""
  data_format = _format(data_format)
  images = _images(images)
  x = _channels_last(images, data_format)
  h, s, v = x[..., 0], x[..., 1], x[..., 2]
  dh = h * 6
  r = jnp.clip(jnp.abs(dh - 3) - 1, 0, 1)
  g = jnp.clip(2 - jnp.abs(dh - 2), 0, 1)
  b = jnp.clip(2 - jnp.abs(dh - 4), 0, 1)
  rgb = jnp.stack([r, g, b], axis=-1)
  out = ((rgb - 1) * s[..., None] + 1) * v[..., None]
  return _restore(out, data_format)


def _box(height, width, top, bottom, left, right, target_h, target_w, what):
  if top is None:
    top = height - bottom - target_h if bottom is not None and (
        target_h is not None) else 0
  if left is None:
    left = width - right - target_w if right is not None and (
        target_w is not None) else 0
  if target_h is None:
    target_h = height - top - (bottom or 0) if what == "crop" else (
        height + top + (bottom or 0))
  if target_w is None:
    target_w = width - left - (right or 0) if what == "crop" else (
        width + left + (right or 0))
  return top, left, target_h, target_w


@op(name="image.crop_images")
def crop_images(images, top_cropping=None, left_cropping=None,
                bottom_cropping=None, right_cropping=None, target_height=None,
                target_width=None, data_format=None):
  """Crops images to a box given by offsets and/or a target size."""
  data_format = _format(data_format)
  images = _images(images)
  h_axis, w_axis = _hw_axes(images, data_format)
  h, w = images.shape[h_axis], images.shape[w_axis]
  top, left, th, tw = _box(h, w, top_cropping, bottom_cropping, left_cropping,
                           right_cropping, target_height, target_width, "crop")
  if th <= 0 or tw <= 0 or top + th > h or left + tw > w:
    raise ValueError(f"The crop box (top={top}, left={left}, height={th}, "
                     f"width={tw}) does not fit images of size {h}x{w}.")
  out = jax.lax.slice_in_dim(images, top, top + th, axis=h_axis)
  return jax.lax.slice_in_dim(out, left, left + tw, axis=w_axis)


@op(name="image.pad_images")
def pad_images(images, top_padding=None, left_padding=None,
               bottom_padding=None, right_padding=None, target_height=None,
               target_width=None, data_format=None):
  """Pads images with zeros to a box given by offsets and/or a target size."""
  data_format = _format(data_format)
  images = _images(images)
  h_axis, w_axis = _hw_axes(images, data_format)
  h, w = images.shape[h_axis], images.shape[w_axis]
  if top_padding is None and bottom_padding is not None and target_height:
    top_padding = target_height - h - bottom_padding
  if left_padding is None and right_padding is not None and target_width:
    left_padding = target_width - w - right_padding
  top = top_padding or 0
  left = left_padding or 0
  bottom = (target_height - h - top) if target_height is not None else (
      bottom_padding or 0)
  right = (target_width - w - left) if target_width is not None else (
      right_padding or 0)
  if min(top, left, bottom, right) < 0:
    raise ValueError("The padding box is smaller than the images: "
                     f"top={top}, left={left}, bottom={bottom}, right={right}.")
  pad = [(0, 0)] * images.ndim
  pad[h_axis] = (top, bottom)
  pad[w_axis] = (left, right)
  return jnp.pad(images, pad)


@op(name="image.extract_patches")
def extract_patches(images, size, strides=None, dilation_rate=1,
                    padding="valid", data_format=None):
  """Patches of `size` flattened into the channel axis."""
  data_format = _format(data_format)
  images = _images(images)
  if isinstance(size, int):
    size = (size, size)
  strides = size if strides is None else (
      (strides, strides) if isinstance(strides, int) else tuple(strides))
  dilation = ((dilation_rate, dilation_rate) if isinstance(dilation_rate, int)
              else tuple(dilation_rate))
  unbatched = images.ndim == 3
  if unbatched:
    images = images[None]
  if data_format == "channels_last":
    images = jnp.moveaxis(images, -1, 1)
  channels = images.shape[1]
  patches = jax.lax.conv_general_dilated_patches(
      images, tuple(size), strides, padding.upper(), rhs_dilation=dilation,
      dimension_numbers=("NCHW", "OIHW", "NCHW"))
  # (N, C * kh * kw, H', W') in channel-major order; Keras orders the
  # flattened patch as (kh, kw, C).
  n, _, oh, ow = patches.shape
  patches = patches.reshape(n, channels, size[0] * size[1], oh, ow)
  patches = jnp.swapaxes(patches, 1, 2).reshape(n, -1, oh, ow)
  if data_format == "channels_last":
    patches = jnp.moveaxis(patches, 1, -1)
  return patches[0] if unbatched else patches


@op(name="image.map_coordinates")
def map_coordinates(inputs, coordinates, order, fill_mode="constant",
                    fill_value=0):
  """Samples `inputs` at `coordinates` (order 0 or 1 interpolation)."""
  modes = {"constant": "constant", "nearest": "nearest", "wrap": "wrap",
           "mirror": "mirror", "reflect": "reflect"}
  if fill_mode not in modes:
    raise ValueError(f"Invalid fill_mode {fill_mode!r}: expected one of "
                     f"{sorted(modes)}.")
  inputs = convert_to_tensor(inputs)
  coordinates = [convert_to_tensor(c) for c in coordinates]
  return jax.scipy.ndimage.map_coordinates(inputs, coordinates, order,
                                           mode=modes[fill_mode],
                                           cval=fill_value)


@op(name="image.scale_and_translate")
def scale_and_translate(images, output_shape, scale, translation, spatial_dims,
                        method, antialias=True):
  """jax.image.scale_and_translate with Keras's argument names."""
  images = convert_to_tensor(images)
  return jax.image.scale_and_translate(
      images, tuple(output_shape), tuple(spatial_dims),
      convert_to_tensor(scale), convert_to_tensor(translation), method,
      antialias=antialias)


@op(name="image.affine_transform")
def affine_transform(images, transform, interpolation="bilinear",
                     fill_mode="constant", fill_value=0, data_format=None):
  """Applies projective transforms `[a0, a1, a2, b0, b1, b2, c0, c1]`
  mapping output points to input points."""
  orders = {"nearest": 0, "bilinear": 1}
  if interpolation not in orders:
    raise ValueError(f"Invalid interpolation {interpolation!r}: expected "
                     "'nearest' or 'bilinear'.")
  data_format = _format(data_format)
  images = _images(images)
  transform = convert_to_tensor(transform)
  unbatched = images.ndim == 3
  if unbatched:
    images = images[None]
  if transform.ndim == 1:
    transform = transform[None]
  if data_format == "channels_first":
    images = jnp.moveaxis(images, 1, -1)
  n, h, w, c = images.shape
  if transform.shape[0] == 1 and n > 1:
    transform = jnp.broadcast_to(transform, (n, 8))
  ys, xs = jnp.meshgrid(jnp.arange(h, dtype=images.dtype),
                        jnp.arange(w, dtype=images.dtype), indexing="ij")
  mode = {"reflect": "mirror", "constant": "constant", "nearest": "nearest",
          "wrap": "wrap", "mirror": "reflect"}[fill_mode]

  def one(image, t):
    a0, a1, a2, b0, b1, b2, c0, c1 = [t[i] for i in range(8)]
    k = c0 * xs + c1 * ys + 1
    x_in = (a0 * xs + a1 * ys + a2) / k
    y_in = (b0 * xs + b1 * ys + b2) / k
    return jnp.stack([
        jax.scipy.ndimage.map_coordinates(
            image[..., ch], [y_in, x_in], orders[interpolation], mode=mode,
            cval=fill_value) for ch in range(c)], axis=-1)

  out = jax.vmap(one)(images, transform.astype(images.dtype))
  if data_format == "channels_first":
    out = jnp.moveaxis(out, -1, 1)
  return out[0] if unbatched else out


@op(name="image.gaussian_blur")
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0),
                  data_format=None):
  """Blurs each channel with a Gaussian kernel (reflect-free zero padding)."""
  data_format = _format(data_format)
  images = _images(images)
  unbatched = images.ndim == 3
  if unbatched:
    images = images[None]
  if data_format == "channels_first":
    images = jnp.moveaxis(images, 1, -1)
  dtype = images.dtype if jnp.issubdtype(images.dtype, jnp.floating) else (
      _dtypes.FLOATX)
  images = images.astype(dtype)

  def kernel1d(size, s):
    x = np.arange(size) - (size - 1) / 2
    k = np.exp(-(x ** 2) / (2 * s ** 2))
    return k / k.sum()
  kh = kernel1d(kernel_size[0], sigma[0])
  kw = kernel1d(kernel_size[1], sigma[1])
  c = images.shape[-1]
  kernel = np.outer(kh, kw)[:, :, None, None] * np.ones((1, 1, 1, c))
  out = jax.lax.conv_general_dilated(
      images, jnp.asarray(kernel, dtype), (1, 1), "SAME",
      dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=c)
  if data_format == "channels_first":
    out = jnp.moveaxis(out, -1, 1)
  return out[0] if unbatched else out


@op(name="image.sobel_edges")
def sobel_edges(images, data_format=None):
  """Sobel derivatives of a batch of images: `(..., channels, 2)` holding
  `[d/dy, d/dx]` per channel (zero padding at the borders)."""
  data_format = _format(data_format)
  images = _images(images, rank=(4,))
  x = _channels_last(images, data_format)
  c = x.shape[-1]
  smooth = np.array([1.0, 2.0, 1.0])
  slope = np.array([-1.0, 0.0, 1.0])
  edges = []
  for taps in (np.outer(slope, smooth), np.outer(smooth, slope)):  # dy, dx
    kernel = np.tile(taps[:, :, None, None], (1, 1, 1, c))
    edges.append(jax.lax.conv_general_dilated(
        x, jnp.asarray(kernel, x.dtype), (1, 1), "SAME",
        dimension_numbers=("NHWC", "HWIO", "NHWC"), feature_group_count=c))
  if data_format == "channels_first":
    edges = [jnp.moveaxis(e, -1, 1) for e in edges]
  return jnp.stack(edges, axis=-1)


@op(name="image.ssim")
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5,
         k1=0.01, k2=0.03, data_format=None):
  """Structural similarity (Wang et al., 2004) with a `filter_size` Gaussian
  window ("valid" positions only), averaged over positions and channels: one
  value per image pair (a scalar for unbatched inputs)."""
  data_format = _format(data_format)
  image1, image2 = _images(image1), _images(image2)
  if image1.shape != image2.shape:
    raise ValueError("ssim expects images of the same shape. Received: "
                     f"{image1.shape} and {image2.shape}")
  out_dtype = image1.dtype
  dtype = _dtypes.float_dtype(image1)
  a, b = image1.astype(dtype), image2.astype(dtype)
  unbatched = a.ndim == 3
  if unbatched:
    a, b = a[None], b[None]
  a, b = _channels_last(a, data_format), _channels_last(b, data_format)
  c = a.shape[-1]
  taps = np.arange(filter_size) - (filter_size - 1) / 2
  gauss = np.exp(-taps ** 2 / (2.0 * filter_sigma ** 2))
  gauss = gauss / gauss.sum()
  kernel = jnp.asarray(np.tile(np.outer(gauss, gauss)[:, :, None, None],
                               (1, 1, 1, c)), dtype)

  def blur(v):
    return jax.lax.conv_general_dilated(
        v, kernel, (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=c)
  mu1, mu2 = blur(a), blur(b)
  var1 = blur(a * a) - mu1 * mu1
  var2 = blur(b * b) - mu2 * mu2
  cov = blur(a * b) - mu1 * mu2
  c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
  ssim_map = ((2 * mu1 * mu2 + c1) * (2 * cov + c2)) / (
      (mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2))
  result = jnp.mean(ssim_map, axis=(1, 2, 3))
  return (result[0] if unbatched else result).astype(out_dtype)


@op(name="image.extract_patches_3d")
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1,
                       padding="valid", data_format=None):
  """Patches of `size = (depth, height, width)` of volumes, flattened into the
  channel axis in `(depth, height, width, channel)` order."""
  data_format = _format(data_format)
  volumes = convert_to_tensor(volumes)
  if volumes.ndim not in (4, 5):
    raise ValueError("Expected volumes of rank 4 (one volume) or 5 (a "
                     f"batch). Received: volumes.shape={volumes.shape}")
  size = (size,) * 3 if isinstance(size, int) else tuple(size)
  strides = size if strides is None else (
      (strides,) * 3 if isinstance(strides, int) else tuple(strides))
  dilation = ((dilation_rate,) * 3 if isinstance(dilation_rate, int)
              else tuple(dilation_rate))
  unbatched = volumes.ndim == 4
  if unbatched:
    volumes = volumes[None]
  if data_format == "channels_last":
    volumes = jnp.moveaxis(volumes, -1, 1)
  channels = volumes.shape[1]
  patches = jax.lax.conv_general_dilated_patches(
      volumes, size, strides, padding.upper(), rhs_dilation=dilation,
      dimension_numbers=("NCDHW", "OIDHW", "NCDHW"))
  n, _, od, oh, ow = patches.shape
  patches = patches.reshape(n, channels, size[0] * size[1] * size[2], od, oh,
                            ow)
  patches = jnp.swapaxes(patches, 1, 2).reshape(n, -1, od, oh, ow)
  if data_format == "channels_last":
    patches = jnp.moveaxis(patches, 1, -1)
  return patches[0] if unbatched else patches


def _homography(start_points, end_points):
  """The 8 projective coefficients mapping each end point (output pixel)
  to its start point (input pixel), one set per batch entry."""
  sx, sy = start_points[..., 0], start_points[..., 1]
  ex, ey = end_points[..., 0], end_points[..., 1]
  zeros, ones = jnp.zeros_like(ex), jnp.ones_like(ex)
  rows_x = jnp.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey],
                     axis=-1)
  rows_y = jnp.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey],
                     axis=-1)
  system = jnp.concatenate([rows_x, rows_y], axis=-2)
  target = jnp.concatenate([sx, sy], axis=-1)[..., None]
  return jnp.linalg.solve(system, target)[..., 0]


@op(name="image.perspective_transform")
def perspective_transform(images, start_points, end_points,
                          interpolation="bilinear", fill_value=0,
                          data_format=None):
  """Warps images so that the 4 `start_points` (x, y) land on `end_points`;
  pixels from outside the image are `fill_value`."""
  start_points = convert_to_tensor(start_points, dtype="float32")
  end_points = convert_to_tensor(end_points, dtype="float32")
  for name, points in (("start_points", start_points),
                       ("end_points", end_points)):
    if points.shape[-2:] != (4, 2) or points.ndim not in (2, 3):
      raise ValueError(f"`{name}` must have shape (4, 2) or (batch, 4, 2). "
                       f"Received: {name}.shape={points.shape}")
  if start_points.shape != end_points.shape:
    raise ValueError("`start_points` and `end_points` must have the same "
                     f"shape. Received: {start_points.shape} and "
                     f"{end_points.shape}")
  if start_points.ndim == 2:
    start_points, end_points = start_points[None], end_points[None]
  transform = _homography(start_points, end_points)
  return affine_transform(images, transform, interpolation=interpolation,
                          fill_mode="constant", fill_value=fill_value,
                          data_format=data_format)
