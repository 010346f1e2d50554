r"""Old import path of :mod:`gemgraph.cifar` (CIFAR-10 loading, torch only, moved out of the
PyTorch Geometric datasets package); its public names are kept working here."""
from ..cifar import (  # noqa: F401
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    EMBEDDED_PATH,
    OFFICIAL_MD5,
    CifarTensorDataset,
    __all__,
    augment_batch,
    balanced_indices,
    cifar10_proxy,
    cifar10_reference,
    download_cifar10,
    downsample,
    file_md5,
    find_cifar10,
)
