r"""CIFAR-10 files: finding them under a data root, reading them safely (a restricted
unpickler for torchvision's batches, ``allow_pickle=False`` for npz files), checking their
contents, and downloading the official archive."""
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

from ..errors import InputError
from .constants import CIFAR10_CLASSES, EMBEDDED_RESOLUTION, EMBEDDED_SPLITS, PROXY_RELPATH, SPLITS, TORCHVISION_DIR

logger = logging.getLogger(__name__)


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


