r"""Datasets: the CIFAR-10 proxy set (in memory, torch) and sampled cells (PyG)."""
from .cells import CellDataset
from .cifar import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CifarTensorDataset,
    augment_batch,
    balanced_indices,
    cifar10_proxy,
    download_cifar10,
    downsample,
    find_cifar10,
)

__all__ = [
    "CellDataset",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CifarTensorDataset",
    "augment_batch",
    "balanced_indices",
    "cifar10_proxy",
    "download_cifar10",
    "downsample",
    "find_cifar10",
]
