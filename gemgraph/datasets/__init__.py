r"""Datasets: the CIFAR-10 proxy set (in memory, torch), sampled cells, NAS-Bench-101 and NAS-Bench-Graph (PyG)."""
from .cells import CellDataset
from .nb101 import NB101Dataset
from .nbgraph import NBGraphDataset
from .cifar import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CifarTensorDataset,
    augment_batch,
    balanced_indices,
    cifar10_proxy,
    cifar10_reference,
    download_cifar10,
    downsample,
    find_cifar10,
)

__all__ = [
    "CellDataset",
    "NB101Dataset",
    "NBGraphDataset",
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CifarTensorDataset",
    "augment_batch",
    "balanced_indices",
    "cifar10_proxy",
    "cifar10_reference",
    "download_cifar10",
    "downsample",
    "find_cifar10",
]
