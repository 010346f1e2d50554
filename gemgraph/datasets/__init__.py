r"""PyTorch Geometric datasets of cells: sampled cells, NAS-Bench-101 and NAS-Bench-Graph. The
CIFAR-10 sets (torch only) are :mod:`gemgraph.cifar`, re-exported here."""
from .cells import CellDataset
from .nb101 import NB101Dataset
from .nbgraph import NBGraphDataset
from ..cifar import (  # noqa: F401 - re-exported from their old home
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

# the CIFAR-10 names stay importable from here (their old home); they are documented in gemgraph.cifar
__all__ = [
    "CellDataset",
    "NB101Dataset",
    "NBGraphDataset",
]
