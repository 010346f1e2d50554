r"""The ``embedding`` arm's encoder: trained on NAS-Bench-101 space cells with the WL kernel, cached."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..encoders.base import CellBatch, Encoder, create, load
from ..nb101 import NB101_OPS, sample_space_cells
from ..utils import check_int, resolve_device, source_digest

__all__ = ["train_nb101_encoder", "embed_pool", "TRAINING_MODULES", "encoder_code_version"]

#: The modules whose code determines the encoder :func:`train_nb101_encoder` trains (traced
#: from its imports: the settings and the loop here, the cells drawn from the NB101 space, their
#: tensors, the WL kernel that is the target, the training loop and its schedule, the encoder
#: classes and their node features). A change to any of them makes a new cache entry;
#: ``tests/ablation/test_encoder_cache.py`` checks that the list is closed under their imports.
TRAINING_MODULES: tuple[str, ...] = (
    "gemgraph.ablation.encoder",
    "gemgraph.nb101",
    "gemgraph.cell",
    "gemgraph.vocab",
    "gemgraph.batch",
    "gemgraph.space",
    "gemgraph.features",
    "gemgraph.wl",
    "gemgraph.embedding",
    "gemgraph.encoders",
    "gemgraph.encoders.base",
    "gemgraph.encoders.mlp",
    "gemgraph.encoders.gnn",
    "gemgraph.encoders.raw",
    "gemgraph.encoders.cached",
    "gemgraph.encoders.concat",
    "gemgraph.utils",
)


def encoder_code_version(device: str | torch.device = "cpu") -> dict[str, str]:
    r"""What, besides the settings, decides the bits of the encoder :func:`train_nb101_encoder`
    trains: gemgraph's version, the digest of the source of :data:`TRAINING_MODULES`
    (:func:`gemgraph.utils.source_digest`), torch's version (its kernels round differently
    across versions) and the device type (CPU and CUDA kernels round differently).

    Args:
        device: the training device (``"auto"``, ``"cpu"``, ``"cuda"`` ...).

    Returns:
        ``{"gemgraph": ..., "source": 32 hex digits, "torch": ..., "device": "cpu" | "cuda" ...}``.
    """
    from .. import __version__  # noqa: PLC0415 - gemgraph/__init__ imports this package

    return {"gemgraph": str(__version__), "source": source_digest(TRAINING_MODULES),
            "torch": str(torch.__version__), "device": resolve_device(device).type}


def train_nb101_encoder(
    name: str = "mlp",
    *,
    dim: int = 64,
    hidden: Sequence[int] | int | None = None,
    wl_iter: int = 1,
    n_train: int = 40_000,
    max_epochs: int = 25,
    lr: float = 1e-3,
    time_limit: float | None = 600.0,
    seed: int = 0,
    device: str | torch.device = "auto",
    cache_dir: str | os.PathLike | None = "auto",
    progress: bool = True,
) -> tuple[Encoder, dict[str, Any]]:
    r"""The ``embedding`` arm's encoder, trained on NB101 cells with the WL kernel on op labels.

    Cells are drawn uniformly from the NAS-Bench-101 space (no accuracies anywhere); the
    encoder is trained with :func:`~gemgraph.embedding.train_encoder` so that cosine
    similarity matches ``WLKernel(n_iter=wl_iter, node_labels="op")``, and its fidelity is
    measured on held-out pairs of unseen cells.

    With ``cache_dir``, the encoder is saved to ``cache_dir/encoder.pt`` with its settings and
    code version (:func:`encoder_code_version`: gemgraph's version, a digest of the source of
    :data:`TRAINING_MODULES`, torch's version, the device type) in ``cache_dir/encoder.json``,
    and reused when both exist with the same settings and code version; ``"auto"`` is a folder
    per settings and code version under :func:`gemgraph.utils.cache_root` (``$GEMGRAPH_CACHE``),
    so an upgrade or an edit of the training code trains (and keeps) a new encoder.

    The defaults (WL h = 1 on op labels, 40,000 cells, 25 one-cycle epochs, 64 dimensions)
    reach Pearson >= 0.95 against the kernel on held-out NB101 cells (the figure and its time
    are in the README); gemgraph 0.1 used h = 3, 10,000 cells and 12 epochs (Pearson 0.81).

    Args:
        name: encoder name (``"mlp"``, ``"gin"``, ``"gcn"``; ``"raw"`` skips training).
        dim: embedding dimension.
        hidden: hidden widths (``"mlp"``: a sequence; GNNs: an int); None = encoder default.
        wl_iter: WL iterations ``h``.
        n_train: distinct training cells (500 validation + 500 test cells come on top).
        max_epochs, lr: the one-cycle schedule of :func:`~gemgraph.embedding.train_encoder`.
        time_limit: a budget in seconds (None: none); the schedule is shortened to fit it. Only
            a safety net: a run it shortens depends on the machine's speed and is not
            bit-reproducible (``info["hit_time_limit"]`` says so).
        seed: the only source of randomness.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        cache_dir: folder for ``encoder.pt`` / ``encoder.json``, ``"auto"`` (the user cache),
            or None (train in memory).
        progress: progress bar.

    Returns:
        ``(encoder, info)``: info holds ``settings``, ``code``, ``fidelity`` (held-out pairs),
        ``seconds``, ``epochs``, ``best_epoch`` and ``cached``.
    """
    from ..embedding import train_encoder  # noqa: PLC0415
    from ..wl import WLKernel  # noqa: PLC0415

    check_int(dim, "dim", 1)
    check_int(wl_iter, "wl_iter", 0)
    check_int(n_train, "n_train", 10)
    check_int(max_epochs, "max_epochs", 0)
    kw: dict[str, Any] = {}
    if hidden is not None:
        kw["hidden"] = int(hidden) if isinstance(hidden, (int, np.integer)) else [int(h) for h in hidden]
    settings = {"format": 1, "name": str(name).lower(), "dim": int(dim), "hidden": kw.get("hidden"),
                "ops": list(NB101_OPS), "wl_iter": int(wl_iter), "node_labels": "op", "n_train": int(n_train),
                "max_epochs": int(max_epochs), "lr": float(lr), "time_limit": time_limit, "seed": int(seed)}
    code = encoder_code_version(device)
    pt = json_path = None
    if isinstance(cache_dir, str) and cache_dir == "auto":
        from ..utils import cache_root  # noqa: PLC0415

        cache_dir = Path(cache_root()) / "nb101-encoder" / _cache_digest(settings, code)
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        pt, json_path = Path(cache_dir) / "encoder.pt", Path(cache_dir) / "encoder.json"
        if pt.exists() and json_path.exists():
            try:
                info = json.loads(json_path.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("settings") == settings and info.get("code") == code:
                enc = load(pt)
                enc.to(resolve_device(device))
                return enc.eval(), {**info, "cached": True}
    enc = create(name, num_nodes=7, dim=dim, ops=NB101_OPS, **kw)
    t0 = time.perf_counter()
    cells = sample_space_cells(n_train + 1000 + 64, seed)
    res = train_encoder(enc, cells, WLKernel(n_iter=wl_iter, node_labels="op"), seed=seed, n_train=n_train,
                        max_epochs=max_epochs, lr=lr, time_limit=time_limit, device=device, progress=progress)
    if res.report is None:  # train_encoder always measures fidelity on its held-out pairs
        raise RuntimeError("train_nb101_encoder: the encoder's training returned no fidelity report")
    info = {"settings": settings, "code": code, "fidelity": res.report.to_dict(), "seconds": time.perf_counter() - t0,
            "epochs": len(res.history), "best_epoch": res.best_epoch,
            "hit_time_limit": bool(res.time_limited)}
    if pt is not None and json_path is not None:
        res.encoder.save(pt)
        json_path.write_text(json.dumps(info, indent=2))
    return res.encoder.eval(), {**info, "cached": False}


def _cache_digest(settings: dict[str, Any], code: dict[str, str]) -> str:
    """The ``"auto"`` cache folder's name: 16 hex digits of the settings and the code version."""
    import hashlib  # noqa: PLC0415

    doc = json.dumps({"settings": settings, "code": code}, sort_keys=True)
    return hashlib.blake2b(doc.encode(), digest_size=8).hexdigest()


def embed_pool(encoder: Encoder, batch: CellBatch, *, normalize: bool = False, batch_size: int = 8192) -> torch.Tensor:
    r"""Embed every cell of ``batch`` once: (n, encoder.dim) float32 on the CPU.

    Args:
        encoder: any encoder.
        batch: the cells (e.g. :attr:`NB101Pool.batch`).
        normalize: L2-normalise the rows (for encoders trained on cosine similarity).
        batch_size: cells per forward pass.
    """
    z = encoder.embed(batch, batch_size=batch_size)
    if normalize:
        z = torch.nn.functional.normalize(z, dim=1, eps=1e-12)
    return z.contiguous()
