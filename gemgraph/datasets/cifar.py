r"""The CIFAR-10 proxy dataset: a class-balanced 1/10 of CIFAR-10, held in memory.

Two on-disk sources are read, looked for under a data root (``root``, default
``$GEMGRAPH_DATA``):

* torchvision's CIFAR-10 files, ``<root>/cifar-10-batches-py`` (the official python
  pickles; ``download=True`` fetches them with :class:`torchvision.datasets.CIFAR10` on a
  machine with internet). Any ``fraction`` and ``seed`` can be drawn from them.
* ``<root>/cifar10-proxy/cifar10_proxy.npz`` (keys ``x_train, y_train, x_val, y_val,
  x_test, y_test``, images uint8 (N, 32, 32, 3) HWC): the draw for ``fraction=0.1, seed=0``,
  stored.

The draw (identical to the one that produced ``cifar10_proxy.npz``)::

    y = labels of the 50,000 official training images, official order
    rng = numpy.random.default_rng(seed)
    train = sorted(concat(rng.choice(flatnonzero(y == c), round(fraction * n_c), replace=False)
                          for c in 0..9))                       # n_c images of class c
    rng = numpy.random.default_rng(seed + 1)
    val   = sorted(concat(rng.choice(flatnonzero((y == c) & not in train),
                                     round(fraction * n_c / 5), replace=False) for c in 0..9))
    test  = the first round(fraction * 10,000) images of the official test batch

so ``fraction=0.1`` gives 5,000 train (500 per class), 1,000 val (100 per class, held-out
*training* images) and 1,000 test images (the official test batch is in random order, so
this is a random tenth; not exactly balanced).

Images are kept as one uint8 tensor (N, 3, 32, 32); :class:`CifarTensorDataset` normalises
them (CIFAR-10 channel mean / std) and, for the train split, augments them (random crop
with 4 pixels of zero padding, horizontal flip), either per sample (``__getitem__``, for a
``DataLoader``) or vectorised per batch (:meth:`CifarTensorDataset.batch`, the fast path of
:class:`~gemgraph.evaluate.ProxyTrainer`).
"""
from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CifarTensorDataset",
    "augment_batch",
    "balanced_indices",
    "cifar10_proxy",
    "find_cifar10",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
#: Channel mean / std of the CIFAR-10 training set (RGB, pixel values in [0, 1]).
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)

SPLITS = ("train", "val", "test")
PROXY_RELPATH = Path("cifar10-proxy") / "cifar10_proxy.npz"
TORCHVISION_DIR = "cifar-10-batches-py"


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
        raise ValueError(f"images: expected a (B, C, H, W) tensor, got shape {tuple(images.shape)}")
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
        raise ValueError(f"n: expected an int in [1, {len(y)}], got {n!r}")
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    per = np.full(len(classes), n // len(classes))
    per[: n % len(classes)] += 1
    out = []
    for c, k in zip(classes, per):
        idx = np.flatnonzero(y == c)
        out.append(rng.choice(idx, min(int(k), len(idx)), replace=False))
    return np.sort(np.concatenate(out))


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
            raise ValueError(f"data: expected a uint8 (N, C, H, W) tensor, got {data.dtype} {tuple(data.shape)}")
        if targets.dim() != 1 or len(targets) != len(data) or targets.is_floating_point():
            raise ValueError(f"targets: expected {len(data)} integer labels, got {targets.dtype} {tuple(targets.shape)}")
        if len(mean) != data.shape[1] or len(std) != data.shape[1]:
            raise ValueError(f"mean/std: expected {data.shape[1]} values each, got {len(mean)} and {len(std)}")
        self.data = data
        self.targets = targets.long()
        self.train = bool(train)
        num_classes = int(self.targets.max()) + 1 if len(self.targets) else 0
        self.classes = tuple(classes) if classes is not None else tuple(str(i) for i in range(num_classes))
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


# ---------------------------------------------------------------------------- locating files
def _default_root(root: str | os.PathLike | None) -> Path | None:
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("GEMGRAPH_DATA")
    return Path(env).expanduser() if env else None


def find_cifar10(root: str | os.PathLike | None = None) -> tuple[str, Path] | None:
    r"""Locate CIFAR-10 under a data root.

    Returns ``("torchvision", <dir with data_batch_1..5, test_batch>)`` or
    ``("npz", <cifar10_proxy.npz>)``, or None. Looked for, in order: ``root`` itself (a
    ``cifar-10-batches-py`` folder or an ``.npz`` file), ``<root>/cifar-10-batches-py``,
    ``<root>/cifar10-proxy/cifar10_proxy.npz``, ``<root>/cifar10_proxy.npz``.
    """
    base = _default_root(root)
    if base is None:
        return None
    for cand in _candidates(base):
        if cand.suffix == ".npz" and cand.is_file():
            return "npz", cand
        if cand.suffix != ".npz" and (cand / "data_batch_1").is_file() and (cand / "test_batch").is_file():
            return "torchvision", cand
    return None


def _candidates(base: Path) -> list[Path]:
    if base.suffix == ".npz":
        return [base]
    return [base, base / TORCHVISION_DIR, base / PROXY_RELPATH, base / "cifar10_proxy.npz"]


def _not_found(base: Path | None, download: bool) -> FileNotFoundError:
    where = (
        "no data root: root=None and $GEMGRAPH_DATA is not set"
        if base is None
        else "looked for " + ", ".join(str(c) for c in _candidates(base))
    )
    how = (
        "Get it with cifar10_proxy(root=<dir>, download=True) on a machine with internet "
        "(torchvision downloads CIFAR-10 into <dir>/cifar-10-batches-py), or put the proxy file "
        "at <dir>/cifar10-proxy/cifar10_proxy.npz; then pass root=<dir> or set GEMGRAPH_DATA=<dir>."
    )
    return FileNotFoundError(f"CIFAR-10 not found ({where}). {how}")


# ---------------------------------------------------------------------------- loading
def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1")


def _read_torchvision(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    xs, ys = [], []
    for k in range(1, 6):
        d = _unpickle(folder / f"data_batch_{k}")
        xs.append(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(d.get("labels", d.get("fine_labels")), dtype=np.int64))
    d = _unpickle(folder / "test_batch")
    x_test = np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    y_test = np.asarray(d["labels"], dtype=np.int64)
    return np.concatenate(xs), np.concatenate(ys), x_test, y_test


def _draw(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    classes = np.unique(y)
    rng = np.random.default_rng(seed)
    train = []
    for c in classes:
        idx = np.flatnonzero(y == c)
        train.append(rng.choice(idx, int(round(fraction * len(idx))), replace=False))
    train_index = np.sort(np.concatenate(train))
    in_train = np.zeros(len(y), dtype=bool)
    in_train[train_index] = True
    rng = np.random.default_rng(seed + 1)
    val = []
    for c in classes:
        idx = np.flatnonzero((y == c) & ~in_train)
        k = int(round(fraction * (y == c).sum() / 5))
        if k > len(idx):
            raise ValueError(
                f"fraction: {fraction} leaves {len(idx)} held-out images of class {c}, fewer than the "
                f"{k} the val split needs; expected fraction <= 5/6"
            )
        val.append(rng.choice(idx, k, replace=False))
    return train_index, np.sort(np.concatenate(val))


def _load_arrays(kind: str, path: Path, fraction: float, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """split -> (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    if kind == "npz":
        if abs(fraction - 0.1) > 1e-12 or seed != 0:
            raise ValueError(
                f"fraction/seed: {path} holds the stored draw fraction=0.1, seed=0; got fraction={fraction}, "
                f"seed={seed}. Other draws need the full CIFAR-10 files (<root>/{TORCHVISION_DIR}, "
                "download=True on a machine with internet)."
            )
        with np.load(path, allow_pickle=False) as z:
            missing = [k for s in SPLITS for k in (f"x_{s}", f"y_{s}") if k not in z.files]
            if missing:
                raise ValueError(f"root: {path} lacks the keys {missing} of the cifar10_proxy.npz layout")
            return {
                s: (np.ascontiguousarray(z[f"x_{s}"].transpose(0, 3, 1, 2)), z[f"y_{s}"].astype(np.int64))
                for s in SPLITS
            }
    x, y, x_test, y_test = _read_torchvision(path)
    train_index, val_index = _draw(y, fraction, seed)
    n_test = int(round(fraction * len(y_test)))
    return {
        "train": (x[train_index], y[train_index]),
        "val": (x[val_index], y[val_index]),
        "test": (x_test[:n_test], y_test[:n_test]),
    }


def cifar10_proxy(
    root: str | os.PathLike | None = None,
    fraction: float = 0.1,
    seed: int = 0,
    split: str | Sequence[str] = "train",
    download: bool = False,
) -> CifarTensorDataset | tuple[CifarTensorDataset, ...]:
    r"""The CIFAR-10 proxy set (the paper's 1/10 of CIFAR-10) as in-memory torch datasets.

    Args:
        root: data root (default ``$GEMGRAPH_DATA``); see :func:`find_cifar10` for where the
            files are looked for. The torchvision files win when both are present.
        fraction: share of each class of the 50,000 training images in the train split
            (0.1 -> 5,000), see the module docs for val / test.
        seed: seed of the class-balanced draw (the stored npz file is the draw of seed 0).
        split: ``"train"`` (augmented), ``"val"``, ``"test"``, or a sequence of them (a tuple
            of datasets comes back, the files read once).
        download: fetch CIFAR-10 with torchvision into ``root`` when it is not found.

    Returns:
        :class:`CifarTensorDataset` (or a tuple of them): ``dataset[i] -> (image float
        (3, 32, 32), label)``; ``.data`` uint8 (N, 3, 32, 32) and ``.targets`` int64 (N,).

    Raises:
        FileNotFoundError: the data is absent (the message says where it looked and how to
            get it).
        ValueError: for a bad ``fraction``, ``seed`` or ``split``, or a draw the stored
            npz file does not hold.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    splits = (split,) if isinstance(split, str) else tuple(split)
    bad = [s for s in splits if s not in SPLITS]
    if bad or not splits:
        raise ValueError(f"split: expected one of {SPLITS} or a sequence of them, got {split!r}")
    found = find_cifar10(root)
    base = _default_root(root)
    if found is None and download:
        if base is None:
            raise ValueError("root: download=True needs a root directory (or $GEMGRAPH_DATA)")
        import torchvision

        base.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            torchvision.datasets.CIFAR10(str(base), train=train, download=True)
        found = find_cifar10(base)
    if found is None:
        raise _not_found(base, download)
    arrays = _load_arrays(found[0], found[1], float(fraction), int(seed))
    out = tuple(
        CifarTensorDataset(
            torch.from_numpy(arrays[s][0]), torch.from_numpy(arrays[s][1]),
            train=(s == "train"), classes=CIFAR10_CLASSES, split=s,
        )
        for s in splits
    )
    return out[0] if isinstance(split, str) else out
