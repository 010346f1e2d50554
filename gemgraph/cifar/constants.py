r"""CIFAR-10's constants and where its files live: class names, channel statistics, the
embedded subset, the relative paths under a data root."""
from __future__ import annotations

from pathlib import Path

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
#: Channel mean / std of the CIFAR-10 training set (RGB, pixel values in [0, 1]).
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)

SPLITS = ("train", "val", "test")
#: The CIFAR-10 subset shipped inside the package (see ``data/SOURCE.md``): the train and val
#: splits of the ``fraction=0.1, seed=0`` draw, average-pooled to 16x16.
EMBEDDED_PATH = Path(__file__).resolve().parent / "data" / "cifar10_proxy16.npz"
EMBEDDED_RESOLUTION = 16
EMBEDDED_SPLITS = ("train", "val")
PROXY_RELPATH = Path("cifar10-proxy") / "cifar10_proxy.npz"
#: Where :func:`cifar10_reference` looks under a data root.
REFERENCE_RELPATH = Path("cifar10-ref") / "cifar10_ref.npz"
REFERENCE_SPLITS = ("train", "eval")
TORCHVISION_DIR = "cifar-10-batches-py"


