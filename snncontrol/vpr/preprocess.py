"""Image preprocessing of Hussaini et al. (2023) after their reference code (VPRSNN `processImage`): grayscale,
resize, patch normalization, clip to [-1, 1], fixed map to 0..255. One deliberate difference: the reference
resizes the colour image with OpenCV's bilinear filter (no antialiasing) and converts to gray after; here the gray
image is resized with PIL's antialiased bilinear filter, which keeps a 28 x 28 thumbnail of a large frame from
aliasing fine texture (the two give visibly different thumbnails; every figure in docs/ is of this one).

    gray   ITU-R 601-2 luma (PIL "L"): Y = 0.299 R + 0.587 G + 0.114 B, uint8
    resize to `size` x `size` pixels (28 by default), PIL bilinear with antialiasing
    patch normalization: every pixel becomes (x - mean) / std over the `patch` x `patch` window centred on it
        (7 by default; the window is cut at the image border; std 0 -> 0)
    to 0..255: floor(255 * (1 + clip(y, -1, 1)) / 2), the reference's uint8(255 * (1 + y) / 2): a pixel one
        local standard deviation or more above (below) its window's mean is 255 (0), its mean is 127.
        The map is fixed, the same for every image: a few extreme pixels (a lamp, a lit window) change only
        themselves, not the scale of the rest of the image (a per-image min-max rescale would squash it).

The result is float32 [B, size * size] of integers 0..255, dimensionless intensities (the Poisson encoder
turns them into rates, pixel * rate_per_unit Hz).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from snncontrol.vpr.errors import DatasetError


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 [H, W] or [H, W, 3] (RGB) or [H, W, 4] (RGBA) -> uint8 [H, W]."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return np.asarray(Image.fromarray(np.ascontiguousarray(image[..., :3])).convert("L"))
    raise DatasetError(f"an image must be [H, W] or [H, W, 3], got shape {list(image.shape)}")


def resize(gray: np.ndarray, size: int) -> np.ndarray:
    """uint8 [H, W] -> float32 [size, size] (PIL bilinear)."""
    return np.asarray(Image.fromarray(gray).resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def patch_normalize(images: np.ndarray, patch: int) -> np.ndarray:
    """Per-pixel normalization by the mean and std (ddof 0) of the `patch` x `patch` window around it.

    images float [B, H, W]; windows are cut at the border (edge pixels use the part inside the image).
    """
    pad = patch // 2
    padded = np.pad(images.astype(np.float64), ((0, 0), (pad, pad), (pad, pad)), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (patch, patch), axis=(1, 2))
    mean = np.nanmean(windows, axis=(-2, -1))
    std = np.nanstd(windows, axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(std > 0, (images - mean) / std, 0.0)
    return out


def to_intensity(normalized: np.ndarray) -> np.ndarray:
    """Patch-normalized values (any float array) -> floor(255 * (1 + clip(y, -1, 1)) / 2), integers 0..255."""
    return np.floor(255.0 * (1.0 + np.clip(normalized, -1.0, 1.0)) / 2.0)


def shrink(image: np.ndarray, size: int) -> np.ndarray:
    """The first steps of `preprocess` for one image: uint8 [H, W] / [H, W, 3] -> gray, resized to float32
    [size, size] (0..255). A loader applies it as each image is decoded, so that only these few values, not the
    full-resolution frame, stay in memory (`datasets.open_traversal(transform=...)`)."""
    return resize(to_gray(np.asarray(image)), size)


def normalize(small: np.ndarray | list[np.ndarray], patch: int = 7, chunk: int = 512) -> np.ndarray:
    """The last steps of `preprocess`: `shrink` results [B, size, size] (or a list of them) -> float32
    [B, size * size] in 0..255, patch-normalized `chunk` images at a time (its windows take patch^2 float64 copies
    of each image: 3 GB for 10,000 images at once)."""
    if len(small) == 0:
        raise DatasetError("no images to preprocess")
    small = np.stack(small) if isinstance(small, list) else small
    size = small.shape[-1]
    out = np.empty((len(small), size * size), dtype=np.float32)
    for start in range(0, len(small), chunk):
        part = small[start : start + chunk]
        out[start : start + chunk] = to_intensity(patch_normalize(part, patch)).reshape(len(part), size * size)
    return out


def preprocess(
    images: np.ndarray | list[np.ndarray], size: int = 28, patch: int = 7, chunk: int = 512
) -> np.ndarray:
    """uint8 images [B, H, W] / [B, H, W, 3] (or a list of them) -> float32 [B, size * size] in 0..255:
    `normalize` of each image's `shrink`."""
    return normalize([shrink(image, size) for image in images], patch, chunk)
