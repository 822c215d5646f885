"""Mixing, erasing, blurring and composite augmentation layers."""
import jax
import jax.numpy as jnp

from . import _image_base as ib
from . import _image_color as color
from . import _image_geometry as geometry


class MixUp(ib.ImageLayer):
  """Mixes each image (and label) with a random other one of the batch,
  with weights drawn from `Beta(alpha, alpha)`. Pass
  `{"images": x, "labels": y}` to mix one-hot labels too."""

  _mixes_labels = True

  def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.alpha = float(alpha)

  def _draw(self, images, key):
    kp, kw = jax.random.split(key)
    n = images.shape[0]
    order = jax.random.permutation(kp, n)
    weight = jax.random.beta(kw, self.alpha, self.alpha, (n,))
    return order, weight

  def augment(self, images, key):
    return self.augment_with_labels(images, None, key)[0]

  def augment_with_labels(self, images, labels, key):
    images = self._cast(images)
    order, weight = self._draw(images, key)
    w = weight.reshape(-1, 1, 1, 1).astype(images.dtype)
    images = w * images + (1.0 - w) * images[order]
    if labels is not None:
      labels = jnp.asarray(labels, images.dtype)
      lw = weight.reshape(-1, *([1] * (labels.ndim - 1))).astype(labels.dtype)
      labels = lw * labels + (1.0 - lw) * labels[order]
    return images, labels

  def get_config(self):
    return {**super().get_config(), "alpha": self.alpha}


class CutMix(ib.ImageLayer):
  """Pastes a random box of another image of the batch into each image;
  labels (in a dict input) are mixed by the pasted area."""

  _mixes_labels = True

  def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.factor = ib.symmetric_factor("CutMix", "factor", factor, (0.0, 1.0))

  def augment(self, images, key):
    return self.augment_with_labels(images, None, key)[0]

  def augment_with_labels(self, images, labels, key):
    images = self._cast(images)
    n, h, w, _ = images.shape
    ka, kb, kx, ky, kp = jax.random.split(key, 5)
    alpha = ib.uniform(ka, (), *self.factor) + 1e-6
    mix = jax.random.beta(kb, alpha, alpha, (n,))
    ratio = jnp.sqrt(1.0 - mix)
    def bounds(k, length):
      size = ratio * length
      start = jax.random.uniform(k, (n,)) * (length - size)
      return start, start + size
    x0, x1 = bounds(kx, w)
    y0, y1 = bounds(ky, h)
    gy, gx = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                          jnp.arange(w, dtype=jnp.float32), indexing="ij")
    box = ((gx[None] >= x0[:, None, None]) & (gx[None] < x1[:, None, None])
           & (gy[None] >= y0[:, None, None]) & (gy[None] < y1[:, None, None]))
    order = jax.random.permutation(kp, n)
    images = jnp.where(box[..., None], images[order], images)
    if labels is not None:
      kept = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
      labels = jnp.asarray(labels, images.dtype)
      kw = kept.reshape(-1, *([1] * (labels.ndim - 1))).astype(labels.dtype)
      labels = kw * labels + (1.0 - kw) * labels[order]
    return images, labels

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor)}


class RandomErasing(ib.ImageLayer):
  """Erases a random box (area fraction from `scale`) of each image with
  probability drawn from `factor`, filling it with `fill_value` (or
  Gaussian noise times the range's high end)."""

  def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None,
               value_range=(0, 255), seed=None, data_format=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.factor = ib.symmetric_factor("RandomErasing", "factor", factor,
                                      (0.0, 1.0))
    self.scale = ib.symmetric_factor("RandomErasing", "scale", scale,
                                     (0.0, 1.0))
    if fill_value is not None and not isinstance(fill_value, (int, float)) and (
        not (isinstance(fill_value, (list, tuple)) and len(fill_value) == 3)):
      raise ValueError(
          "The `fill_value` argument should be a number (or a list of three "
          f"numbers). Received: fill_value={fill_value!r}")
    self.fill_value = fill_value
    self.value_range = ib.value_range_arg("RandomErasing", value_range)

  def augment(self, images, key):
    n, h, w, c = images.shape
    ks, kx, ky, kp, kt, kf = jax.random.split(key, 6)
    size = jnp.sqrt(ib.uniform(ks, (n, 2), *self.scale))
    def bounds(k, length, r):
      crop = r * length
      start = jax.random.uniform(k, (n,)) * (length - crop)
      return start, start + crop
    x0, x1 = bounds(kx, w, size[:, 0])
    y0, y1 = bounds(ky, h, size[:, 1])
    gy, gx = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                          jnp.arange(w, dtype=jnp.float32), indexing="ij")
    box = ((gx[None] >= x0[:, None, None]) & (gx[None] < x1[:, None, None])
           & (gy[None] >= y0[:, None, None]) & (gy[None] < y1[:, None, None]))
    prob = ib.uniform(kp, (n,), *self.factor)
    apply = (jax.random.uniform(kt, (n,)) < prob)[:, None, None, None]
    if self.fill_value is None:
      fill = jax.random.normal(kf, images.shape, images.dtype) * (
          self.value_range[1])
    else:
      fill = jnp.broadcast_to(jnp.asarray(self.fill_value, images.dtype),
                              images.shape)
    return jnp.where(apply & box[..., None], fill, images)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor),
            "scale": list(self.scale), "fill_value": ib.as_plain(
                self.fill_value), "value_range": self.value_range}


def gaussian_blur(images, kernel_size, sigma):
  """Separable Gaussian blur (per-axis sigmas), "same" padding."""
  def kernel1d(size, s):
    x = jnp.arange(size, dtype=jnp.float32) - (size - 1) / 2.0
    k = jnp.exp(-0.5 * (x / s) ** 2)
    return k / jnp.sum(k)
  ky = kernel1d(kernel_size[0], sigma[0])
  kx = kernel1d(kernel_size[1], sigma[1])
  kernel = (ky[:, None] * kx[None, :]).astype(images.dtype)
  c = images.shape[-1]
  k = jnp.tile(kernel[:, :, None, None], (1, 1, 1, c))
  return jax.lax.conv_general_dilated(
      images, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
      feature_group_count=c)


class RandomGaussianBlur(ib.ImageLayer):
  """Blurs each image with probability drawn from `factor`, with Gaussian
  sigmas drawn from `sigma` (one pair per batch, as Keras)."""

  def __init__(self, factor=1.0, kernel_size=3, sigma=1.0,
               value_range=(0, 255), data_format=None, seed=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.factor = ib.symmetric_factor("RandomGaussianBlur", "factor", factor,
                                      (0.0, 1.0))
    self.kernel_size = (tuple(kernel_size) if isinstance(
        kernel_size, (list, tuple)) else (int(kernel_size), int(kernel_size)))
    self.sigma = ib.symmetric_factor("RandomGaussianBlur", "sigma", sigma,
                                     (0.0, float("inf")))
    self.value_range = ib.value_range_arg("RandomGaussianBlur", value_range)

  def augment(self, images, key):
    kp, kt, ks = jax.random.split(key, 3)
    n = images.shape[0]
    prob = ib.uniform(kp, (n,), *self.factor)
    apply = jax.random.uniform(kt, (n,)) < prob
    sigma = ib.uniform(ks, (2,), *self.sigma) + 1e-6
    blurred = gaussian_blur(images, self.kernel_size, sigma)
    out = jnp.where(apply[:, None, None, None], blurred, images)
    return jnp.clip(out, *self.value_range)

  def get_config(self):
    return {**super().get_config(), "factor": list(self.factor),
            "kernel_size": list(self.kernel_size), "sigma": list(self.sigma),
            "value_range": self.value_range}


def _augmentation_ops(factor, value_range, interpolation, name):
  """The operations RandAugment and AugMix choose from (Keras's list)."""
  f = factor
  vr = value_range
  return [
      geometry.RandomShear(f, f, interpolation=interpolation,
                           name=f"{name}_shear"),
      geometry.RandomTranslation(f, f, interpolation=interpolation,
                                 name=f"{name}_translation"),
      geometry.RandomRotation(f, interpolation=interpolation,
                              name=f"{name}_rotation"),
      color.RandomBrightness(f, vr, name=f"{name}_brightness"),
      color.RandomSaturation(f, vr, name=f"{name}_saturation"),
      color.RandomContrast(f, vr, name=f"{name}_contrast"),
      color.RandomSharpness(f, vr, name=f"{name}_sharpness"),
      color.Solarization(f, f, vr, name=f"{name}_solarization"),
      color.RandomPosterization(max(1, int(8 * f[1])), vr,
                                name=f"{name}_posterization"),
      color.AutoContrast(vr, name=f"{name}_auto_contrast"),
      color.Equalization(vr, name=f"{name}_equalization"),
  ]


def _apply_op(op, images, key):
  if op._random:  # pylint: disable=protected-access
    return op.augment(images, key)
  return op.transform(images)


def _switch(ops, index, images, key):
  branches = [lambda x, k, op=op: _apply_op(op, x, k).astype(x.dtype)
              for op in ops]
  return jax.lax.switch(index, branches, images, key)


class RandAugment(ib.ImageLayer):
  """Applies `num_ops` operations drawn at random (per batch) from Keras's
  list (shear, translation, rotation, brightness, color, contrast,
  sharpness, solarization, posterization, auto-contrast, equalization),
  each with strength `factor`. Keras's color-degeneration op is a
  saturation change here."""

  def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5,
               interpolation="bilinear", seed=None, data_format=None,
               **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.value_range = ib.value_range_arg("RandAugment", value_range)
    self.num_ops = int(num_ops)
    self.factor = ib.symmetric_factor("RandAugment", "factor", factor,
                                      (0.0, 1.0))
    self.interpolation = interpolation
    self._ops = _augmentation_ops(self.factor, self.value_range,
                                  interpolation, self.name)

  def augment(self, images, key):
    ki, ks = jax.random.split(key)
    picks = jax.random.randint(ki, (self.num_ops,), 0, len(self._ops))
    # One switch inside a scan: each operation is compiled once.
    def step(x, pick_and_key):
      pick, k = pick_and_key
      return _switch(self._ops, pick, x, k), None
    images, _ = jax.lax.scan(step, images,
                             (picks, jax.random.split(ks, self.num_ops)))
    return images

  def get_config(self):
    return {**super().get_config(), "value_range": self.value_range,
            "num_ops": self.num_ops, "factor": list(self.factor),
            "interpolation": self.interpolation}


class AugMix(ib.ImageLayer):
  """AugMix: `num_chains` chains of `chain_depth` random operations, mixed
  with Dirichlet(alpha) weights, then blended with the input by a
  Beta(alpha, alpha) weight."""

  def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3,
               factor=0.3, alpha=1.0, all_ops=True, interpolation="bilinear",
               seed=None, data_format=None, **kwargs):
    super().__init__(data_format=data_format, seed=seed, **kwargs)
    self.value_range = ib.value_range_arg("AugMix", value_range)
    self.num_chains = int(num_chains)
    if isinstance(chain_depth, (list, tuple)):
      self.chain_depth = [int(chain_depth[0]), int(chain_depth[1])]
    else:
      self.chain_depth = [int(chain_depth), int(chain_depth)]
    self.factor = ib.symmetric_factor("AugMix", "factor", factor, (0.0, 1.0))
    self.alpha = float(alpha)
    self.all_ops = bool(all_ops)
    self.interpolation = interpolation
    ops = _augmentation_ops(self.factor, self.value_range, interpolation,
                            self.name)
    if not self.all_ops:
      # Without the color operations that overlap with common test-time
      # corruptions (brightness, color, contrast, sharpness), as AugMix.
      ops = [op for op in ops if not isinstance(op, (
          color.RandomBrightness, color.RandomSaturation,
          color.RandomContrast, color.RandomSharpness))]
    self._ops = ops

  def augment(self, images, key):
    kw, km, kd, *chain_keys = jax.random.split(key, 3 + self.num_chains)
    weights = jax.random.dirichlet(kw, jnp.full((self.num_chains,),
                                                self.alpha))
    mix_weight = jax.random.beta(km, self.alpha, self.alpha)
    depths = jax.random.randint(kd, (self.num_chains,), self.chain_depth[0],
                                self.chain_depth[1] + 1)
    max_depth = self.chain_depth[1]
    def chain(mixed, args):
      weight, depth, k = args
      kp, ko = jax.random.split(k)
      picks = jax.random.randint(kp, (max_depth,), 0, len(self._ops))
      def step(x, step_args):
        d, pick, op_key = step_args
        return jnp.where(d < depth, _switch(self._ops, pick, x, op_key),
                         x), None
      x, _ = jax.lax.scan(step, images, (jnp.arange(max_depth), picks,
                                         jax.random.split(ko, max_depth)))
      return mixed + weight * x, None
    # Chains and their steps run in scans: each operation compiles once.
    mixed, _ = jax.lax.scan(chain, jnp.zeros_like(images),
                            (weights, depths, jnp.stack(chain_keys)))
    return mix_weight * images + (1.0 - mix_weight) * mixed

  def get_config(self):
    return {**super().get_config(), "value_range": self.value_range,
            "num_chains": self.num_chains, "chain_depth": self.chain_depth,
            "factor": list(self.factor), "alpha": self.alpha,
            "all_ops": self.all_ops, "interpolation": self.interpolation}
