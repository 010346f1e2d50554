r"""The whole NAS-Bench-101 ablation: data, encoder, every run, statistics, files, plot."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..encoders.base import create
from ..nb101 import NB101_OPS, check_metric, load_nb101, nb101_pool
from ..predictor import EfficiencyPredictor
from ..utils import check_int, derive_seed, resolve_device
from .encoder import embed_pool, train_nb101_encoder
from .io import DEFAULT_BUDGETS, PAIRED_COLUMNS, ROW_COLUMNS, SUMMARY_COLUMNS, arms_in_order, format_table, write_csv
from .runner import check_budgets, check_seeds, run_ablation
from .stats import paired_differences, summarize
from ..errors import InputError
from ..embedding import fidelity
from ..plots import plot_bias
from ..wl import WLKernel

__all__ = ["AblationResult", "nb101_ablation"]


@dataclass
class AblationResult:
    r"""What :func:`nb101_ablation` returns.

    Attributes:
        rows: one dict per (budget, seed, arm) (``ablation.csv``).
        summary: per budget and arm statistics (``summary.csv``).
        paired: paired differences between arms (``paired.csv``).
        info: settings, data, encoder fidelity and timings (``run.json``).
        files: name -> path of every file written (empty without ``out``).
    """

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    paired: list[dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def table(self, percent: bool = True) -> str:
        """The summary as text (see :func:`format_table`)."""
        return format_table(self.summary, percent=percent)

    def __repr__(self) -> str:
        budgets = sorted({r["budget"] for r in self.rows})
        return (f"AblationResult(budgets={budgets}, seeds={len({r['seed'] for r in self.rows})}, "
                f"arms={arms_in_order(self.rows)}, rows={len(self.rows)})")


def nb101_ablation(
    data: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    budgets: Sequence[int] | int = DEFAULT_BUDGETS,
    seeds: int | Sequence[int] = 30,
    metric: str = "validation_accuracy",
    epochs: int = 108,
    num_samples: int = 50_000,
    top_k: int = 10,
    encoder: str = "mlp",
    encoder_options: Mapping[str, Any] | None = None,
    predictor: Mapping[str, Any] | None = None,
    incumbent: bool = True,
    kappa: float = 0.0,
    seed: int = 0,
    device: str | torch.device = "auto",
    fidelity_sample: int = 1000,
    plot: bool = True,
    progress: bool = True,
) -> AblationResult:
    r"""The whole NAS-Bench-101 ablation: data, encoder, every run, statistics, files, plot.

    Args:
        data: an official-layout ``.tfrecord`` or None for the bundled 20,001-model sample.
        out: output folder (``ablation.csv``, ``summary.csv``, ``paired.csv``, ``bias.png``,
            ``encoder.pt`` / ``encoder.json`` (reused when the settings match),
            ``encoder_fidelity.json``, ``run.json``); None writes nothing and trains the
            encoder in memory.
        budgets: numbers of evaluated models ``K``.
        seeds: number of seeds (or the seeds).
        metric: ``"validation_accuracy"`` (default) or ``"test_accuracy"`` (when the file
            has it), or another accuracy in :data:`nasbench.METRICS`.
        epochs: training budget of the metric (108 by default).
        num_samples: bootstrap candidates per run (all models when the data has fewer).
        top_k: ``k`` of the top-k variants (0: none).
        encoder: encoder name of the ``embedding`` arm.
        encoder_options: keyword arguments of :func:`train_nb101_encoder` (``dim``,
            ``hidden``, ``wl_iter``, ``n_train``, ``max_epochs``, ``lr``, ``time_limit``).
        predictor: keyword arguments of :class:`EfficiencyPredictor` (e.g. ``n_members=1``;
            ``gemgraph.predictor.PAPER_PREDICTOR`` is the paper's).
        incumbent, kappa: the incumbent-aware top-1 arms (see :func:`run_ablation`).
        seed: base seed of everything (encoder, draws, predictors).
        device: for the encoder (and the predictors): ``"auto"``, ``"cpu"``, ``"cuda"``.
        fidelity_sample: models of the data on which the encoder's and the raw encoding's
            fidelity to the WL kernel is also measured (0: skip).
        plot: write ``bias.png``.
        progress: progress bars.

    Returns:
        :class:`AblationResult`.
    """

    t0 = time.perf_counter()
    budgets = check_budgets(budgets)
    seeds_l = check_seeds(seeds)
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 0)
    check_int(seed, "seed", 0)
    check_int(fidelity_sample, "fidelity_sample", 0)
    check_metric(metric)
    resolve_device(device)
    opts = dict(encoder_options or {})
    bad = set(opts) - {"dim", "hidden", "wl_iter", "n_train", "max_epochs", "lr", "time_limit"}
    if bad:
        raise InputError(f"encoder_options: unknown option(s) {sorted(bad)}")
    pred_opts = {**dict(predictor or {}), "device": (predictor or {}).get("device", "cpu")}
    EfficiencyPredictor(**{k: v for k, v in pred_opts.items() if k != "seed"}).check_params()
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)

    timings: dict[str, float] = {}
    t = time.perf_counter()
    nb = load_nb101(data, progress=progress)
    pool = nb101_pool(nb, metric, epochs)
    timings["load"] = time.perf_counter() - t

    t = time.perf_counter()
    enc, enc_info = train_nb101_encoder(encoder, **opts, seed=seed, device=device, cache_dir=out, progress=progress)
    timings["encoder"] = time.perf_counter() - t
    enc = enc.to("cpu")
    raw = create("raw", num_nodes=7, ops=NB101_OPS)

    t = time.perf_counter()
    vectors = {"embedding": embed_pool(enc, pool.batch, normalize=encoder != "raw"), "raw": embed_pool(raw, pool.batch)}
    timings["embed"] = time.perf_counter() - t

    fid: dict[str, Any] = {"held_out_space_cells": enc_info["fidelity"], "encoder_seconds": enc_info.get("seconds"),
                           "encoder_epochs": enc_info.get("epochs"), "settings": enc_info["settings"]}
    if fidelity_sample:
        t = time.perf_counter()
        kern = WLKernel(n_iter=enc_info["settings"]["wl_iter"], node_labels="op")
        rng = np.random.default_rng(derive_seed(seed, "ablation", "fidelity"))
        idx = np.sort(rng.choice(len(pool), min(fidelity_sample, len(pool)), replace=False))
        sample = pool.cells(idx)
        if len({c.num_nodes for c in sample}) < len(sample):
            fid["data_cells"] = {"embedding": fidelity(enc, sample, kern, n_pairs=20_000, seed=seed).to_dict(),
                                 "raw": fidelity(raw, sample, kern, n_pairs=20_000, seed=seed).to_dict()}
        timings["fidelity"] = time.perf_counter() - t

    t = time.perf_counter()
    rows = run_ablation(pool, {"embedding": enc, "raw": raw}, vectors, budgets=budgets, seeds=seeds_l,
                        num_samples=num_samples, top_k=top_k, seed=seed, predictor=pred_opts, incumbent=incumbent,
                        kappa=kappa, progress=progress)
    timings["runs"] = time.perf_counter() - t
    summary = summarize(rows)
    paired = paired_differences(rows)
    timings["total"] = time.perf_counter() - t0

    info = {
        "data": None if data is None else os.fspath(data), "models": len(nb), "models_used": len(pool),
        "excluded_unknown_metric": pool.n_excluded, "metric": metric, "epochs": int(epochs),
        "best_accuracy": pool.best_accuracy, "best_hash": str(pool.hashes[pool.best_index]),
        "budgets": budgets, "seeds": seeds_l, "num_samples": int(num_samples),
        "num_candidates": int(min(num_samples, len(pool))), "top_k": int(top_k), "seed": int(seed),
        "encoder": {**{k: v for k, v in enc_info.items() if k != "fidelity"}, "fidelity": enc_info["fidelity"]},
        "predictor": {k: (str(v) if k == "device" else v) for k, v in pred_opts.items()},
        "incumbent": bool(incumbent), "kappa": float(kappa),
        "ci": "95% BCa bootstrap over seeds (10,000 resamples)",
        "embedding_vectors": "L2-normalised" if encoder != "raw" else "as is",
        "timings_s": timings, "torch_threads": torch.get_num_threads(),
    }
    result = AblationResult(rows=rows, summary=summary, paired=paired, info=info)
    if out is not None:
        outp = Path(out)
        files = {"ablation": outp / "ablation.csv", "summary": outp / "summary.csv", "paired": outp / "paired.csv",
                 "fidelity": outp / "encoder_fidelity.json", "run": outp / "run.json"}
        write_csv(rows, files["ablation"], ROW_COLUMNS)
        write_csv(summary, files["summary"], SUMMARY_COLUMNS)
        write_csv(paired, files["paired"], PAIRED_COLUMNS)
        files["fidelity"].write_text(json.dumps(fid, indent=2))
        if plot:

            files["plot"] = outp / "bias.png"
            plot_bias(summary, files["plot"], title=f"NAS-Bench-101 ablation ({metric}, {len(pool)} models)")
        files["encoder"] = outp / "encoder.pt"
        result.files = {k: str(v) for k, v in files.items()}
        info["files"] = result.files
        timings["total"] = time.perf_counter() - t0
        files["run"].write_text(json.dumps(info, indent=2, default=str))
    result.info["fidelity"] = fid
    return result
