r"""CIFAR-10 images held in memory as one uint8 tensor, normalised and (for training)
augmented per sample or per batch."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import InputError
from .constants import CIFAR10_MEAN, CIFAR10_STD
from .transforms import augment_batch

# ---------------------------------------------------------------------------- dataset
class CifarTensorDataset(Dataset):
    r"""Images held as one uint8 tensor; normalised (and augmented for training) on access.

    Args:
        data: uint8 images, (N, C, H, W).
        targets: int labels, (N,).
        train: augment (random crop + flip) in :meth:`__getitem__` / :meth:`batch`.
        classes: class names (default: ``"0"`` ... ``"K-1"``).
        mean, std: per-channel normalisation, pixel values in [0, 1].
        padding: zero padding of the random crop.
        split: a name shown in the repr.

    Attributes:
        data: (N, C, H, W) uint8 tensor. targets: (N,) int64 tensor.

    ``dataset[i]`` is ``(image, label)``: a float (C, H, W) tensor and an int.
    """

    def __init__(
        self,
        data: Tensor,
        targets: Tensor | Sequence[int],
        train: bool = False,
        classes: Sequence[str] | None = None,
        mean: Sequence[float] = CIFAR10_MEAN,
        std: Sequence[float] = CIFAR10_STD,
        padding: int = 4,
        split: str = "",
    ) -> None:
        data = torch.as_tensor(data)
        targets = torch.as_tensor(targets)
        if data.dtype != torch.uint8 or data.dim() != 4:
            raise InputError(f"data: expected a uint8 (N, C, H, W) tensor, got {data.dtype} {tuple(data.shape)}")
        if targets.dim() != 1 or len(targets) != len(data) or targets.is_floating_point():
            raise InputError(f"targets: expected {len(data)} integer labels, "
                             f"got {targets.dtype} {tuple(targets.shape)}")
        if len(mean) != data.shape[1] or len(std) != data.shape[1]:
            raise InputError(f"mean/std: expected {data.shape[1]} values each, got {len(mean)} and {len(std)}")
        self.data = data
        self.targets = targets.long()
        self.train = bool(train)
        num_classes = int(self.targets.max()) + 1 if len(self.targets) else 0
        self.classes = tuple(classes) if classes is not None else tuple(str(i) for i in range(num_classes))
        if len(self.targets) and (int(self.targets.min()) < 0 or int(self.targets.max()) >= len(self.classes)):
            raise InputError(f"targets: expected labels in [0, {len(self.classes)}) for {len(self.classes)} classes, "
                             f"got [{int(self.targets.min())}, {int(self.targets.max())}]")
        self.mean = torch.tensor(mean, dtype=torch.float32)
        self.std = torch.tensor(std, dtype=torch.float32)
        self.padding = int(padding)
        self.split = split

    def __len__(self) -> int:
        return len(self.data)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def normalize(self, images: Tensor) -> Tensor:
        """uint8 (B, C, H, W) -> float32, scaled to [0, 1] and standardised per channel."""
        mean = self.mean.to(images.device)[:, None, None]
        scale = (1.0 / (255.0 * self.std)).to(images.device)[:, None, None]
        return (images.float() - 255.0 * mean) * scale

    def batch(
        self,
        indices: Tensor,
        generator: torch.Generator | None = None,
        augment: bool | None = None,
        data: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        r"""A normalised (and, for ``augment``, augmented) batch, vectorised.

        Args:
            indices: (B,) long indices.
            generator: CPU generator for the augmentation.
            augment: default :attr:`train`.
            data: the images to read (default :attr:`data`; pass a copy on another device).

        Returns:
            ``(images float (B, C, H, W), labels long (B,))`` on ``data``'s device.
        """
        data = self.data if data is None else data
        x = data[indices.to(data.device)]
        if self.train if augment is None else augment:
            x = augment_batch(x, generator, self.padding)
        return self.normalize(x), self.targets[indices.cpu()].to(data.device)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        if isinstance(index, Tensor) and index.dim() == 0:
            index = int(index)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"index: expected an int, got {type(index).__name__}")
        n = len(self.data)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for a dataset of {n} images")
        index = int(index) % n
        x = self.data[index : index + 1]
        if self.train:
            x = augment_batch(x, None, self.padding)
        return self.normalize(x)[0], int(self.targets[index])

    def __repr__(self) -> str:
        split = f"split={self.split!r}, " if self.split else ""
        return (
            f"{type(self).__name__}({split}num_images={len(self)}, num_classes={self.num_classes}, "
            f"shape={tuple(self.data.shape[1:])}, train={self.train})"
        )


