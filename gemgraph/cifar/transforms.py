r"""Image transforms on uint8 / float batches: the train-time augmentation, class-balanced
subsets, and average-pooling to a lower resolution."""
from __future__ import annotations


import numpy as np
import torch
from torch import Tensor

from ..errors import InputError

# ---------------------------------------------------------------------------- augmentation
def augment_batch(
    images: Tensor,
    generator: torch.Generator | None = None,
    padding: int = 4,
    flip: bool = True,
) -> Tensor:
    r"""Random crop (zero padding ``padding``) and random horizontal flip, vectorised.

    Equivalent to torchvision's ``RandomCrop(size, padding)`` + ``RandomHorizontalFlip()``
    applied to every image independently, in one gather.

    Args:
        images: (B, C, H, W) tensor, any dtype, on any device.
        generator: CPU ``torch.Generator`` for the offsets and flips (None: the global RNG).
        padding: pixels of zero padding on each side before cropping back to (H, W).
        flip: also flip each image with probability 1/2.

    Shapes: (B, C, H, W) -> (B, C, H, W), same dtype and device.
    """
    if images.dim() != 4:
        raise InputError(f"images: expected a (B, C, H, W) tensor, got shape {tuple(images.shape)}")
    B, C, H, W = images.shape
    dev = images.device
    oy = torch.randint(0, 2 * padding + 1, (B,), generator=generator)
    ox = torch.randint(0, 2 * padding + 1, (B,), generator=generator)
    cols = ox[:, None] + torch.arange(W)
    if flip:
        flipped = torch.rand(B, generator=generator) < 0.5
        cols = torch.where(flipped[:, None], cols.flip(1), cols)
    rows = (oy[:, None] + torch.arange(H)).to(dev)
    cols = cols.to(dev)
    padded = torch.nn.functional.pad(images, (padding,) * 4) if padding else images
    b = torch.arange(B, device=dev)[:, None, None]
    # advanced indexing on dims 0, 2, 3 -> (B, H, W, C)
    out = padded.permute(0, 2, 3, 1)[b, rows[:, :, None], cols[:, None, :]]
    return out.permute(0, 3, 1, 2).contiguous()


def balanced_indices(targets: Tensor | np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    r"""Indices of a class-balanced random subset of size ``n`` (sorted).

    ``n // K`` per class for K classes, the remainder to the first classes; a class with
    fewer images gives all it has.

    Raises:
        ValueError: if ``n`` is not in [1, len(targets)].
    """
    y = np.asarray(targets.cpu() if isinstance(targets, Tensor) else targets).astype(np.int64)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= len(y):
        raise InputError(f"n: expected an int in [1, {len(y)}], got {n!r}")
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    per = np.full(len(classes), n // len(classes))
    per[: n % len(classes)] += 1
    out = []
    for c, k in zip(classes, per):
        idx = np.flatnonzero(y == c)
        out.append(rng.choice(idx, min(int(k), len(idx)), replace=False))
    return np.sort(np.concatenate(out))


def downsample(images: np.ndarray | Tensor, size: int) -> np.ndarray | Tensor:
    r"""Average-pool square uint8 images by an integer factor, in exact integer arithmetic.

    Each output pixel is the mean of a ``f x f`` block (``f = H // size``), rounded half up:
    the same bytes on every machine. ``size == H`` returns the input unchanged.

    Args:
        images: uint8 (N, C, H, W), numpy array or tensor, ``H == W`` a multiple of ``size``.
        size: output side.

    Shapes: (N, C, H, H) -> (N, C, size, size), uint8, same type as the input.
    """
    is_tensor = isinstance(images, Tensor)
    x = images.cpu().numpy() if is_tensor else np.asarray(images)
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[2] != x.shape[3]:
        raise InputError(f"images: expected uint8 (N, C, H, H) images, got {x.dtype} {x.shape}")
    h = x.shape[2]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 or h % size:
        raise InputError(f"size: expected a divisor of the image side {h}, got {size!r}")
    if size == h:
        return images
    f = h // size
    n, c = x.shape[:2]
    blocks = x.reshape(n, c, size, f, size, f).sum(axis=(3, 5), dtype=np.int32)
    out = ((blocks + (f * f) // 2) // (f * f)).astype(np.uint8)
    return torch.from_numpy(out) if is_tensor else out


