"""hk_keras.ops.image: the `keras.ops.image` ops."""
from ._image import (
    affine_transform, crop_images, extract_patches, extract_patches_3d,
    gaussian_blur, hsv_to_rgb, map_coordinates, pad_images,
    perspective_transform, resize, rgb_to_grayscale, rgb_to_hsv,
    scale_and_translate, sobel_edges, ssim)

__all__ = ["affine_transform", "crop_images", "extract_patches",
           "extract_patches_3d", "gaussian_blur", "hsv_to_rgb",
           "map_coordinates", "pad_images", "perspective_transform",
           "resize", "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate",
           "sobel_edges", "ssim"]
