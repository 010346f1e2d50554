r"""The CIFAR-10 proxy dataset: a class-balanced 1/10 of CIFAR-10, held in memory.

Two on-disk sources are read, looked for under a data root (``root``, default
``$GEMGRAPH_DATA``):

* torchvision's CIFAR-10 files, ``<root>/cifar-10-batches-py`` (the official python
  pickles; ``download=True`` fetches them with :class:`torchvision.datasets.CIFAR10` on a
  machine with internet). Any ``fraction`` and ``seed`` can be drawn from them.
* with no data root at all (``root=None`` and ``$GEMGRAPH_DATA`` unset): the subset embedded
  in the package, ``gemgraph/datasets/data/cifar10_proxy16.npz`` (4.4 MB, attributed in
  ``SOURCE.md`` beside it): the train and val splits of the ``fraction=0.1, seed=0`` draw
  below, average-pooled to 16x16 (:func:`downsample`), enough for the ``quick`` preset with
  no download. It serves ``resolution=16`` (or a divisor); it is byte-identical to pooling
  the 32x32 files, so a run gives the same result with or without a data root.
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

Safety and checks. Batch files are never read with a bare ``pickle.load``: they are read with
a restricted unpickler that admits only what a CIFAR-10 batch holds (dicts, lists, strings,
ints, uint8 numpy arrays) and refuses any other global before it is looked up, so a planted
file cannot run code (a file whose md5 is not the official one is also logged). The npz is
read with ``allow_pickle=False``. On load, images must be uint8 32x32 RGB and labels integers
in [0, 10) (one per image); anything else is a ValueError naming the file and array.

Images are kept as one uint8 tensor (N, 3, 32, 32); :class:`CifarTensorDataset` normalises
them (CIFAR-10 channel mean / std) and, for the train split, augments them (random crop
with 4 pixels of zero padding, horizontal flip), either per sample (``__getitem__``, for a
``DataLoader``) or vectorised per batch (:meth:`CifarTensorDataset.batch`, the fast path of
:class:`~gemgraph.evaluate.ProxyTrainer`).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..utils import check_int
from ..errors import InputError

__all__ = [
    "OFFICIAL_MD5",
    "CIFAR10_CLASSES",
    "EMBEDDED_PATH",
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

logger = logging.getLogger(__name__)

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
        "no data root: root=None and $GEMGRAPH_DATA is not set; the subset embedded in the package holds only "
        f"the {' and '.join(EMBEDDED_SPLITS)} splits of fraction=0.1, seed=0 at resolution {EMBEDDED_RESOLUTION} "
        "(or a divisor of it)"
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
#: md5 of the files of the official ``cifar-10-python.tar.gz`` (the list torchvision checks).
OFFICIAL_MD5: dict[str, str] = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
NUM_CLASSES = len(CIFAR10_CLASSES)
IMAGE_SHAPE = (32, 32, 3)  # HWC, as CIFAR-10 stores it


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The few callables a pickled numpy array needs, under the module names numpy 1.x / 2.x write."""
    try:
        from numpy._core import multiarray, numeric  # noqa: PLC0415 - numpy-version shim, for unpickling only
    except ImportError:  # numpy < 2
        from numpy.core import multiarray, numeric  # type: ignore[no-redef]  # noqa: PLC0415 - numpy < 2
    import _codecs  # noqa: PLC0415 - for unpickling only

    out: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                       ("_codecs", "encode"): _codecs.encode}
    for mod in ("numpy.core", "numpy._core"):
        out[(f"{mod}.multiarray", "_reconstruct")] = multiarray._reconstruct
        out[(f"{mod}.multiarray", "scalar")] = multiarray.scalar
        if hasattr(numeric, "_frombuffer"):
            out[(f"{mod}.numeric", "_frombuffer")] = numeric._frombuffer
    return out


class _Refused(pickle.UnpicklingError):
    """A global or persistent id the restricted unpickler does not admit."""


class _BatchUnpickler(pickle.Unpickler):
    r"""An unpickler that admits only what a CIFAR-10 batch holds.

    Dicts, lists, strings, bytes and ints need no globals; numpy arrays need
    ``ndarray`` / ``dtype`` / ``_reconstruct`` (``_frombuffer`` for protocol 5) and protocol-2
    bytes need ``_codecs.encode``. Any other global (``os.system``, ``builtins.eval``, ...)
    is refused before it is looked up, so a planted file cannot run code.
    """

    def __init__(self, file: Any, path: Path) -> None:
        super().__init__(file, encoding="latin1")
        self._path = path
        self._allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise _Refused(
                f"{self._path}: refused to load the global {module}.{name}: a CIFAR-10 batch holds only "
                "dicts, lists, strings, ints and uint8 numpy arrays (this file is not an official batch; "
                "nothing in it was run)"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise _Refused(f"{self._path}: refused a persistent id; not a CIFAR-10 batch")


def file_md5(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex md5 of a file, read in chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _unpickle(path: Path) -> dict:
    """A CIFAR-10 batch file, read with :class:`_BatchUnpickler` (never a bare ``pickle.load``)."""
    expected = OFFICIAL_MD5.get(path.name)
    if expected is not None and file_md5(path) != expected:
        logger.warning("%s is not the official CIFAR-10 file (md5 differs); reading it with the restricted "
                       "unpickler and checking its contents", path)
    try:
        with open(path, "rb") as f:
            d = _BatchUnpickler(f, path).load()
    except _Refused as exc:
        raise InputError(f"root: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError) as exc:
        raise InputError(f"root: {path} is not a readable CIFAR-10 batch ({type(exc).__name__}: {exc})") from None
    if not isinstance(d, dict):
        raise InputError(f"root: {path} is not a CIFAR-10 batch: expected a dict, got {type(d).__name__}")
    return d


def _check_labels(y: Any, n: int, what: str) -> np.ndarray:
    """``y`` as int64 (n,), or a ValueError naming ``what``: integer labels in [0, 10)."""
    arr = np.asarray(y)
    if arr.size == 0 and n == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == object or arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{what}: expected integer labels, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise InputError(f"{what}: expected {n} labels (one per image), got shape {arr.shape}")
    if n and (arr.min() < 0 or arr.max() >= NUM_CLASSES):
        bad = arr[(arr < 0) | (arr >= NUM_CLASSES)]
        raise InputError(f"{what}: expected labels in [0, {NUM_CLASSES}) (CIFAR-10 has {NUM_CLASSES} classes), "
                         f"got {bad.size} outside it (e.g. {int(bad[0])})")
    return arr.astype(np.int64)


def _check_images(x: Any, what: str, shape: tuple[int, ...] = IMAGE_SHAPE) -> np.ndarray:
    """``x`` as a uint8 (N, *shape) array, or a ValueError naming ``what``."""
    arr = np.asarray(x)
    if arr.dtype != np.uint8:
        raise InputError(f"{what}: expected uint8 images, got dtype {arr.dtype}")
    if arr.ndim != 1 + len(shape) or tuple(arr.shape[1:]) != tuple(shape):
        hw = "x".join(str(s) for s in shape)
        raise InputError(f"{what}: expected images of shape (N, {', '.join(map(str, shape))}) ({hw}), "
                         f"got {arr.shape}")
    return arr


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (images uint8 (n, 3, 32, 32), labels int64 (n,)), contents checked."""
    d = _unpickle(path)
    key = "labels" if "labels" in d else "fine_labels" if "fine_labels" in d else None
    if "data" not in d or key is None:
        raise InputError(f"root: {path} is not a CIFAR-10 batch: expected keys 'data' and 'labels', "
                         f"got {sorted(map(str, d))}")
    data = d["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise InputError(f"root: {path}['data']: expected a uint8 (N, 3072) array of 32x32 RGB images, got {got}")
    labels = _check_labels(d[key], len(data), f"root: {path}[{key!r}]")
    return data.reshape(-1, 3, 32, 32), labels


def _read_torchvision(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    parts = [_read_batch(folder / f"data_batch_{k}") for k in range(1, 6)]
    x_test, y_test = _read_batch(folder / "test_batch")
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), x_test, y_test


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
            raise InputError(
                f"fraction: {fraction} leaves {len(idx)} held-out images of class {c}, fewer than the "
                f"{k} the val split needs; expected fraction <= 5/6"
            )
        val.append(rng.choice(idx, k, replace=False))
    return train_index, np.sort(np.concatenate(val))


def _read_npz(
    path: Path, shape: tuple[int, ...] = IMAGE_SHAPE, splits: Sequence[str] = SPLITS,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The splits of a ``cifar10_proxy.npz``-layout file (images HWC ``shape``), contents checked."""
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"root: {path} is not a readable npz file ({type(exc).__name__}: {exc})") from None
    with z:
        missing = [k for s in splits for k in (f"x_{s}", f"y_{s}") if k not in z.files]
        if missing:
            raise InputError(f"root: {path} lacks the keys {missing} of the cifar10_proxy.npz layout")
        try:
            if "classes" in z.files:
                classes = [str(c) for c in z["classes"].tolist()]
                if len(classes) != NUM_CLASSES:
                    raise InputError(f"root: {path}['classes']: expected the {NUM_CLASSES} CIFAR-10 classes, "
                                     f"got {len(classes)}")
            out = {}
            for s in splits:
                x = _check_images(z[f"x_{s}"], f"root: {path}['x_{s}']", shape)
                y = _check_labels(z[f"y_{s}"], len(x), f"root: {path}['y_{s}']")
                out[s] = (np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y)
        except (OSError, EOFError, zipfile.BadZipFile) as exc:
            raise InputError(f"root: {path} is corrupt ({type(exc).__name__}: {exc})") from None
    return out


def _load_arrays(kind: str, path: Path, fraction: float, seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """split -> (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    if kind == "npz":
        if abs(fraction - 0.1) > 1e-12 or seed != 0:
            raise InputError(
                f"fraction/seed: {path} holds the stored draw fraction=0.1, seed=0; got fraction={fraction}, "
                f"seed={seed}. Other draws need the full CIFAR-10 files (<root>/{TORCHVISION_DIR}, "
                "download=True on a machine with internet)."
            )
        return _read_npz(path)
    x, y, x_test, y_test = _read_torchvision(path)
    train_index, val_index = _draw(y, fraction, seed)
    n_test = int(round(fraction * len(y_test)))
    return {
        "train": (x[train_index], y[train_index]),
        "val": (x[val_index], y[val_index]),
        "test": (x_test[:n_test], y_test[:n_test]),
    }


def download_cifar10(root: str | os.PathLike) -> tuple[str, Path]:
    r"""Fetch the official CIFAR-10 python archive into ``<root>/cifar-10-batches-py``.

    Uses torchvision's downloader (:func:`torchvision.datasets.utils.download_and_extract_archive`)
    with the URL and archive md5 of :class:`torchvision.datasets.CIFAR10`, then checks every
    extracted file against that class's md5 list; nothing is unpickled here (the loader reads
    the batches with a restricted unpickler). Files already present and intact are kept.

    Returns:
        ``("torchvision", <folder>)``, as :func:`find_cifar10`.

    Raises:
        ValueError: the download failed (no network, an archive with the wrong md5), or an
            extracted file fails its md5 check.
    """
    from torchvision.datasets import CIFAR10  # noqa: PLC0415 - torchvision (heavy) loads only to download
    from torchvision.datasets.utils import check_integrity, download_and_extract_archive  # noqa: PLC0415 - torchvision (heavy)

    base = Path(root).expanduser()
    folder = base / CIFAR10.base_folder
    files = list(CIFAR10.train_list) + list(CIFAR10.test_list)

    def intact() -> list[str]:
        return [name for name, md5 in files if not check_integrity(str(folder / name), md5)]

    if intact():
        base.mkdir(parents=True, exist_ok=True)
        logger.info("downloading CIFAR-10 from %s into %s", CIFAR10.url, base)
        try:
            download_and_extract_archive(CIFAR10.url, str(base), filename=CIFAR10.filename, md5=CIFAR10.tgz_md5)
        except (OSError, RuntimeError) as exc:  # URLError is an OSError; torchvision: RuntimeError on a bad md5
            raise InputError(f"download: fetching {CIFAR10.url} into {base} failed "
                             f"({type(exc).__name__}: {exc})") from None
        bad = intact()
        if bad:
            raise InputError(f"root: after downloading {CIFAR10.url}, {[str(folder / b) for b in bad]} fail their "
                             "md5 check")
    return "torchvision", folder


def cifar10_proxy(
    root: str | os.PathLike | None = None,
    fraction: float = 0.1,
    seed: int = 0,
    split: str | Sequence[str] = "train",
    download: bool = False,
    resolution: int = 32,
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
        resolution: image side: 32 (CIFAR-10's), or a divisor of it (16, 8, ...): the images
            are average-pooled to it (:func:`downsample`) and the random crop's padding scales
            with it (4 pixels at 32, 2 at 16).

    Returns:
        :class:`CifarTensorDataset` (or a tuple of them): ``dataset[i] -> (image float
        (3, 32, 32), label)``; ``.data`` uint8 (N, 3, 32, 32) and ``.targets`` int64 (N,).

    Raises:
        FileNotFoundError: the data is absent (the message says where it looked and how to
            get it); with no data root, the embedded subset is used when it holds what is
            asked (train / val, ``fraction=0.1, seed=0``, ``resolution`` 16 or a divisor).
        ValueError: for a bad ``fraction``, ``seed`` or ``split``, or a draw the stored
            npz file does not hold.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 < fraction <= 1.0:
        raise InputError(f"fraction: expected a number in (0, 1], got {fraction!r}")
    check_int(seed, "seed", 0)
    splits = (split,) if isinstance(split, str) else tuple(split)
    if (isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 1
            or 32 % resolution):
        raise InputError(f"resolution: expected a divisor of 32 (32, 16, 8, ...), got {resolution!r}")
    bad = [s for s in splits if s not in SPLITS]
    if bad or not splits:
        raise InputError(f"split: expected one of {SPLITS} or a sequence of them, got {split!r}")
    found = find_cifar10(root)
    base = _default_root(root)
    if found is None and download:
        if base is None:
            raise InputError("root: download=True needs a root directory (or $GEMGRAPH_DATA)")
        found = download_cifar10(base)
    embedded = (found is None and base is None and abs(fraction - 0.1) < 1e-12 and seed == 0
                and all(s in EMBEDDED_SPLITS for s in splits) and EMBEDDED_RESOLUTION % int(resolution) == 0)
    if found is None and not embedded:
        raise _not_found(base, download)
    if embedded:
        logger.info("no data root: using the CIFAR-10 subset embedded in the package (%s)", EMBEDDED_PATH.name)
        arrays = _read_npz(EMBEDDED_PATH, (EMBEDDED_RESOLUTION, EMBEDDED_RESOLUTION, 3), EMBEDDED_SPLITS)
    else:
        arrays = _load_arrays(found[0], found[1], float(fraction), int(seed))
    out = tuple(
        CifarTensorDataset(
            torch.from_numpy(downsample(arrays[s][0], int(resolution))), torch.from_numpy(arrays[s][1]),
            train=(s == "train"), classes=CIFAR10_CLASSES, split=s, padding=max(1, 4 * int(resolution) // 32),
        )
        for s in splits
    )
    return out[0] if isinstance(split, str) else out


def cifar10_reference(
    root: str | os.PathLike | None = None,
    split: str | Sequence[str] = ("train", "eval"),
    resolution: int = 32,
) -> CifarTensorDataset | tuple[CifarTensorDataset, ...]:
    r"""The CIFAR-10 *reference* set: 20,000 training and 5,000 evaluation images, disjoint from
    each other and from the proxy set's train / val images, for reference trainings that check
    what a proxy ranks (:mod:`gemgraph.validate`).

    The file is ``cifar10_ref.npz`` (keys ``x_train, y_train, x_eval, y_eval``, uint8 HWC
    32x32 images, ``classes``), read with ``allow_pickle=False`` and checked like the proxy
    file (shapes, dtypes, labels in [0, 10)). It is looked for at ``root`` itself (the file),
    ``<root>/cifar10-ref/cifar10_ref.npz`` and ``<root>/cifar10_ref.npz``; ``root`` defaults
    to ``$GEMGRAPH_DATA``. There is no download: the draw is described in the SOURCE.md that
    comes with the file (2,000 per class / 500 per class of the official training images not
    used by the proxy set).

    Args:
        root: data root or the file itself (default ``$GEMGRAPH_DATA``).
        split: ``"train"`` (augmented on access), ``"eval"``, or a sequence of them.
        resolution: 32, or a divisor of it: images average-pooled (:func:`downsample`).

    Returns:
        :class:`CifarTensorDataset` (or a tuple, one per split): ``.data`` uint8 (N, 3, R, R).

    Raises:
        FileNotFoundError: the file is absent (the message says where it looked).
        ValueError: a bad ``split`` / ``resolution``, or a malformed file (naming it).
    """
    splits = (split,) if isinstance(split, str) else tuple(split)
    bad = [s for s in splits if s not in REFERENCE_SPLITS]
    if bad or not splits:
        raise InputError(f"split: expected one of {REFERENCE_SPLITS} or a sequence of them, got {split!r}")
    if (isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 1
            or 32 % resolution):
        raise InputError(f"resolution: expected a divisor of 32 (32, 16, 8, ...), got {resolution!r}")
    base = _default_root(root)
    if base is None:
        raise FileNotFoundError(
            "CIFAR-10 reference set not found: no data root (root=None and $GEMGRAPH_DATA is not set). "
            f"Pass root=<dir> holding {REFERENCE_RELPATH} (or the file itself), or set GEMGRAPH_DATA=<dir>.")
    cands = [base] if base.suffix == ".npz" else [base / REFERENCE_RELPATH, base / REFERENCE_RELPATH.name]
    path = next((c for c in cands if c.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            "CIFAR-10 reference set not found: looked for " + ", ".join(str(c) for c in cands)
            + f". Put cifar10_ref.npz (20,000 train + 5,000 eval images) at <dir>/{REFERENCE_RELPATH} "
              "and pass root=<dir> or set GEMGRAPH_DATA=<dir>.")
    arrays = _read_npz(path, splits=splits)
    return_one = isinstance(split, str)
    out = tuple(
        CifarTensorDataset(
            torch.from_numpy(downsample(arrays[s][0], int(resolution))), torch.from_numpy(arrays[s][1]),
            train=(s == "train"), classes=CIFAR10_CLASSES, split=f"reference-{s}",
            padding=max(1, 4 * int(resolution) // 32),
        )
        for s in splits
    )
    return out[0] if return_one else out
