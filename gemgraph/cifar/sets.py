r"""The proxy set (:func:`cifar10_proxy`) and the reference set (:func:`cifar10_reference`)
as in-memory datasets."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np
import torch

from ..errors import InputError
from ..utils import check_int
from .constants import (CIFAR10_CLASSES, EMBEDDED_PATH, EMBEDDED_RESOLUTION, EMBEDDED_SPLITS, REFERENCE_RELPATH,
                        REFERENCE_SPLITS, SPLITS)
from .dataset import CifarTensorDataset
from .files import _default_root, _load_arrays, _not_found, _read_npz, download_cifar10, find_cifar10
from .transforms import downsample

logger = logging.getLogger(__name__)


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
