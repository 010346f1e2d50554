r"""The NAS-Bench-101 ablation (paper Fig. 4): does the graph embedding help the predictor?

With the same predictor (:class:`~gemgraph.predictor.EfficiencyPredictor`) and the same
number ``K`` of evaluated architectures, the predictor is trained either on the embedded
graph vectors (arm ``embedding``) or on the raw encoding, the flattened adjacency plus
one-hot operations (arm ``raw``); each arm then ranks a candidate pool by bootstrap
(:func:`~gemgraph.bootstrap.bootstrap_optimize`) and picks its argmax. The global
prediction bias is

    B = best accuracy in the data - accuracy of the picked model   (>= 0; 0 = found the best).

The procedure, for every budget ``K`` and seed ``s`` (all arms see the same draws):

1. A random permutation of the models with a known metric is drawn from ``(seed, s)``; its
   first ``K`` models are the evaluated (training) sample, their accuracies looked up.
   Permutations are shared across budgets, so the sample of a smaller budget is a prefix of
   a larger one's (common random numbers make the curves smoother, not biased).
2. ``embedding_paper`` / ``raw_paper`` (the paper's rule): the predictor is fitted on the ``K``
   vectors and accuracies and picks the argmax of ``num_samples`` candidates drawn from the
   data (all models when there are fewer); evaluations = ``K + 1`` (the picked model).
   ``embedding`` / ``raw`` (gemgraph's default, incumbent-aware): the same predictions, but the
   ``K`` evaluated models stand with their measured accuracy, so the pick is the best
   predicted unevaluated model only when it is predicted above the best measured one
   (evaluations ``K + 1``), else that best measured model (``K``).
3. ``random``: random search, the best of the same ``K`` evaluated models; evaluations = K.
4. Top-k variants (``top_k = k > 0``), all at ``K + k`` evaluations: ``embedding_top{k}`` /
   ``raw_top{k}`` evaluate the ``k`` best-predicted candidates not already evaluated and keep
   the best of all ``K + k`` evaluated models; ``random+{k}`` is random search over the first
   ``K + k`` models of the same permutation.

The embedding encoder is trained beforehand on NAS-Bench-101-sized cells drawn uniformly from
the NB101 space (:func:`nasbench.space.sample_arrays`), supervised only by the WL kernel on
op labels: it never sees an accuracy. Every model of the data is embedded once per arm and
the vectors are reused by every predictor (``bootstrap_optimize(..., vectors=...)``).
Learned embeddings are L2-normalised before the predictor (the encoder is trained on cosine
similarity, so only directions carry meaning); the raw encoding is used as is. The predictor
(:class:`~gemgraph.predictor.EfficiencyPredictor`, defaults: rank-to-normal targets, a
5-member ensemble) standardises its inputs and early-stops each member on a hold-out of its
own ``K`` training models; nothing is tuned on the biases of a run.

Confidence intervals are 95% BCa bootstrap intervals of the mean over seeds
(:func:`gemgraph.stats.mean_ci`, 10,000 resamples, fixed seed; ``ci="percentile"`` or
``ci="t"`` give percentile-bootstrap or Student-t intervals instead).

Example:
    >>> from gemgraph.ablation import nb101_ablation
    >>> res = nb101_ablation(out="runs/nb101", budgets=(100, 500), seeds=10)  # doctest: +SKIP
    >>> print(res.table())                                                    # doctest: +SKIP
"""
from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .cell import Cell
from .encoders.base import CellBatch, Encoder, create, load
from .encoders.cached import CachedEncoder
from .memstore import MemoryStore
from .predictor import EfficiencyPredictor
from .nb101 import _NB_LABEL_NAMES, NB101_OPS, NB101Evaluator, NB101Pool, NB101Space, check_metric, load_nb101, nb101_pool
from .search import NASGEM
from .utils import check_int, derive_seed, resolve_device

__all__ = [
    "AblationResult", "NB101Pool", "DEFAULT_BUDGETS", "NB101_OPS", "ROW_COLUMNS", "SUMMARY_COLUMNS",
    "PAIRED_COLUMNS", "load_nb101", "nb101_pool", "train_nb101_encoder", "embed_pool", "run_ablation",
    "summarize", "paired_differences", "write_csv", "read_csv", "nb101_ablation", "format_table",
]

#: The paper's budgets (numbers of evaluated architectures).
DEFAULT_BUDGETS: tuple[int, ...] = (100, 200, 500, 1000, 2000)
#: Columns of ``ablation.csv`` (one row per budget, seed and arm).
ROW_COLUMNS: tuple[str, ...] = (
    "budget", "seed", "arm", "evaluations", "picked_hash", "picked_index", "picked_accuracy",
    "best_accuracy", "bias", "predicted", "pool_spearman", "num_candidates",
)
#: Columns of ``summary.csv`` (one row per budget and arm).
SUMMARY_COLUMNS: tuple[str, ...] = (
    "budget", "arm", "n", "evaluations", "mean", "median", "std", "ci_low", "ci_high", "ci",
    "mean_picked_accuracy",
)
#: Columns of ``paired.csv`` (differences between arms on the same draws).
PAIRED_COLUMNS: tuple[str, ...] = (
    "budget", "arm", "baseline", "n", "mean_diff", "ci_low", "ci_high", "wins", "ties", "losses",
)



# ---------------------------------------------------------------------------- encoder
def _space_cells(n: int, seed: int) -> list[Cell]:
    """``n`` distinct cells drawn uniformly from the NAS-Bench-101 space (graphs only)."""
    from nasbench.space import sample_arrays  # noqa: PLC0415

    mats, labs, nv = sample_arrays(n, seed=seed, unique=True)
    names = np.array([""] * 6, dtype=object)
    for k, v in _NB_LABEL_NAMES.items():
        names[k + 3] = v
    return [Cell(mats[i, :v, :v], tuple(names[labs[i, :v].astype(np.int64) + 3]))
            for i, v in enumerate(nv.tolist())]


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

    With ``cache_dir``, the encoder is saved to ``cache_dir/encoder.pt`` with its settings in
    ``cache_dir/encoder.json``, and reused when both exist with the same settings; ``"auto"``
    is a folder per settings under :func:`gemgraph.utils.cache_root` (``$GEMGRAPH_CACHE``).

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
        ``(encoder, info)``: info holds ``settings``, ``fidelity`` (held-out pairs),
        ``seconds``, ``epochs``, ``best_epoch`` and ``cached``.
    """
    from .embedding import train_encoder  # noqa: PLC0415
    from .wl import WLKernel  # noqa: PLC0415

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
    pt = json_path = None
    if isinstance(cache_dir, str) and cache_dir == "auto":
        import hashlib  # noqa: PLC0415

        from .utils import cache_root  # noqa: PLC0415

        digest = hashlib.blake2b(json.dumps(settings, sort_keys=True).encode(), digest_size=8).hexdigest()
        cache_dir = Path(cache_root()) / "nb101-encoder" / digest
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        pt, json_path = Path(cache_dir) / "encoder.pt", Path(cache_dir) / "encoder.json"
        if pt.exists() and json_path.exists():
            try:
                info = json.loads(json_path.read_text())
            except (OSError, ValueError):
                info = {}
            if info.get("settings") == settings:
                enc = load(pt)
                enc.to(resolve_device(device))
                return enc.eval(), {**info, "cached": True}
    enc = create(name, num_nodes=7, dim=dim, ops=NB101_OPS, **kw)
    t0 = time.perf_counter()
    cells = _space_cells(n_train + 1000 + 64, seed)
    res = train_encoder(enc, cells, WLKernel(n_iter=wl_iter, node_labels="op"), seed=seed, n_train=n_train,
                        max_epochs=max_epochs, lr=lr, time_limit=time_limit, device=device, progress=progress)
    info = {"settings": settings, "fidelity": res.report.to_dict(), "seconds": time.perf_counter() - t0,
            "epochs": len(res.history), "best_epoch": res.best_epoch,
            "hit_time_limit": bool(res.time_limited)}
    if pt is not None:
        res.encoder.save(pt)
        json_path.write_text(json.dumps(info, indent=2))
    return res.encoder.eval(), {**info, "cached": False}


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


# ---------------------------------------------------------------------------- the ablation
def _seeds(seeds: int | Sequence[int]) -> list[int]:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        check_int(seeds, "seeds", 1)
        return list(range(int(seeds)))
    out = [check_int(s, "seeds", 0) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise ValueError(f"seeds: expected a count >= 1 or distinct non-negative ints, got {seeds!r}")
    return out


def _budgets(budgets: Sequence[int] | int) -> list[int]:
    if isinstance(budgets, (int, np.integer)):
        budgets = [budgets]
    out = sorted({check_int(b, "budgets", 2) for b in budgets})
    if not out:
        raise ValueError("budgets: expected at least one budget")
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr  # noqa: PLC0415

    if a.size < 3 or np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(spearmanr(a, b)[0])


def run_ablation(
    pool: NB101Pool,
    encoders: Mapping[str, Encoder],
    vectors: Mapping[str, torch.Tensor] | None = None,
    *,
    budgets: Sequence[int] | int = DEFAULT_BUDGETS,
    seeds: int | Sequence[int] = 30,
    num_samples: int = 50_000,
    top_k: int = 10,
    seed: int = 0,
    predictor: Mapping[str, Any] | None = None,
    random_arm: bool = True,
    incumbent: bool = True,
    kappa: float = 0.0,
    progress: bool = True,
) -> list[dict[str, Any]]:
    r"""Run every budget, seed and arm; one result row per (budget, seed, arm).

    Args:
        pool: the models and their accuracies (:func:`nb101_pool`).
        encoders: predictor arms, name -> encoder (e.g. ``{"embedding": mlp, "raw": raw}``).
        vectors: optional precomputed ``embed_pool`` vectors per arm, (len(pool), d); arms
            without them are embedded here, once.
        budgets: numbers ``K`` of evaluated models (each >= 2, ``K + top_k <= len(pool)``).
        seeds: number of seeds (0..S-1) or the seeds themselves.
        num_samples: bootstrap candidates drawn from the pool per run (all when fewer).
        top_k: ``k`` of the top-k variants (0: none).
        seed: base seed; the draws of seed ``s`` depend only on ``(seed, s)``.
        predictor: keyword arguments of :class:`EfficiencyPredictor` (its ``seed`` is derived
            per run, identical across arms).
        random_arm: include ``random`` (and ``random+{k}``).
        incumbent: the top-1 arm ``{arm}`` is incumbent-aware (the evaluated ``K`` models stand
            with their measured accuracy: a predicted-only pick must be predicted above the
            best of them, else that best is the pick, at ``K`` evaluations), and the paper's
            rule (the argmax of the predictions over the candidates) is reported as
            ``{arm}_paper``. False: only the paper's rule, named ``{arm}``.
        kappa: the incumbent-aware pick ranks candidates by ``mean + kappa * std`` (``< 0``
            pessimistic; needs an ensemble predictor).
        progress: tqdm bar over (budget, seed).

    Returns:
        list of dicts with the keys :data:`ROW_COLUMNS` (``predicted`` and ``pool_spearman``,
        the rank correlation of predicted and true accuracy over the candidates, are NaN for
        random search).

    Raises:
        ValueError: for bad budgets, seeds, ``num_samples``, ``top_k`` or predictor options.
    """
    if not isinstance(pool, NB101Pool):
        raise ValueError(f"pool: expected an NB101Pool (see nb101_pool), got {type(pool).__name__}")
    budgets = _budgets(budgets)
    seeds = _seeds(seeds)
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 0)
    check_int(seed, "seed", 0)
    n = len(pool)
    if budgets[-1] + top_k > n:
        raise ValueError(f"budgets: budget {budgets[-1]} (+ top_k {top_k}) exceeds the {n} models with a known "
                         f"{pool.metric}")
    for arm in encoders:
        if not isinstance(arm, str) or not arm or arm.startswith("random"):
            raise ValueError(f"encoders: arm names must be non-empty strings not starting with 'random', got {arm!r}")
        if not isinstance(encoders[arm], Encoder):
            raise ValueError(f"encoders[{arm!r}]: expected a gemgraph Encoder, got {type(encoders[arm]).__name__}")
    params = dict(predictor or {})
    params.pop("seed", None)
    EfficiencyPredictor(**params).check_params()  # fail early, naming the option
    loop_encoders: dict[str, CachedEncoder] = {}
    for arm, enc in encoders.items():
        v = None if vectors is None else vectors.get(arm)
        v = embed_pool(enc, pool.batch) if v is None else torch.as_tensor(v, dtype=torch.float32)
        if v.dim() != 2 or v.shape[0] != n:
            raise ValueError(f"vectors[{arm!r}]: expected shape ({n}, d), got {tuple(v.shape)}")
        # the loop's encoder answers with these vectors: every model is embedded once per arm
        loop_encoders[arm] = CachedEncoder.from_vectors(pool.batch, v, ops=enc.ops)
    acc = pool.accuracy
    best = pool.best_accuracy
    space = NB101Space(pool)
    evaluator = NB101Evaluator(pool, count=False)

    def row(K: int, s: int, arm: str, evals: int, pick: int, predicted: float = float("nan"),
            rho: float = float("nan"), n_cand: int = 0) -> dict[str, Any]:
        a = float(acc[pick])
        return {"budget": K, "seed": s, "arm": arm, "evaluations": evals, "picked_hash": str(pool.hashes[pick]),
                "picked_index": int(pool.rows[pick]), "picked_accuracy": a, "best_accuracy": best,
                "bias": best - a, "predicted": predicted, "pool_spearman": rho, "num_candidates": n_cand}

    def position(cell: Cell) -> int:
        i = evaluator.index(cell)
        if i is None:  # cannot happen: every cell the loop sees is a model of the pool
            raise RuntimeError("ablation: a picked cell is not a model of the pool")
        return i

    def best_stored(store: MemoryStore) -> tuple[int, float]:
        ok = [r for r in store.candidates(status="ok")]
        r = max(ok, key=lambda r: (r["accuracy"], -r["iteration"]))  # first evaluated on ties
        return position(r["cell"]), float(r["accuracy"])

    def search(store: MemoryStore, enc: Encoder, run_seed: int, p_seed: int, verify: int) -> NASGEM:
        # the NASGEM loop with the paper's random sampler: its draws are the evaluated sample
        return NASGEM(space, enc, EfficiencyPredictor(**params, seed=p_seed), evaluator, store, seed=run_seed,
                      num_samples=num_samples, top_k=max(1, verify), verify_top=verify, sampler="random",
                      kappa=kappa if incumbent else 0.0, checkpoint_every=0, progress=False)

    rows: list[dict[str, Any]] = []
    bar = None
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415

        bar = tqdm(total=len(budgets) * len(seeds), desc="ablation", unit="run")
    any_enc = next(iter(loop_encoders.values()), None) or CachedEncoder.from_vectors(pool.batch, torch.zeros(n, 1))
    try:
        for s in seeds:
            run_seed = derive_seed(seed, "ablation", s)
            store = MemoryStore()  # the K evaluated models of this seed, shared by every arm
            wider = MemoryStore()  # random search's K + top_k models (same draws, one query stream)
            for K in budgets:
                p_seed = derive_seed(seed, "ablation", s, "predictor", K)
                search(store, any_enc, run_seed, p_seed, 0).evaluate_all(K)
                pick, _ = best_stored(store)
                if random_arm:
                    rows.append(row(K, s, "random", K, pick))
                    if top_k:
                        search(wider, any_enc, run_seed, p_seed, 0).evaluate_all(K + top_k)
                        rows.append(row(K, s, f"random+{top_k}", K + top_k, best_stored(wider)[0]))
                for arm, enc in loop_encoders.items():
                    nas = search(store, enc, run_seed, p_seed, top_k)
                    res = nas.bootstrap()  # refits on the K stored models, ranks the pool, verifies top_k
                    boot = res.bootstrap
                    cidx, mu = boot.pool_index, boot.predicted
                    rho = _spearman(mu, acc[cidx])
                    top = int(np.argmax(mu))  # the paper's pick: the argmax of the predictions
                    rows.append(row(K, s, f"{arm}_paper" if incumbent else arm, K + 1, int(cidx[top]), float(mu[top]),
                                    rho, len(cidx)))
                    if incumbent:  # the loop's incumbent-aware ranking, before verification
                        inc = boot.best
                        if inc.measured is not None:
                            rows.append(row(K, s, arm, K, pick, float(inc.measured), rho, len(cidx)))
                        else:
                            rows.append(row(K, s, arm, K + 1, inc.index, inc.predicted, rho, len(cidx)))
                    if top_k:  # verified top-k: the best of the K models and the k verified ones
                        n_verified = min(top_k, sum(c.measured is None for c in boot.candidates))
                        p = position(res.top[0]["cell"])
                        hit = np.flatnonzero(cidx == p)
                        rows.append(row(K, s, f"{arm}_top{top_k}", K + n_verified, p,
                                        float(mu[hit[0]]) if hit.size else float("nan"), rho, len(cidx)))
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    order = {a: i for i, a in enumerate(_arm_order(list(encoders), top_k, random_arm, incumbent))}
    rows.sort(key=lambda r: (r["budget"], r["seed"], order.get(r["arm"], len(order))))
    return rows


def _arm_order(pred_arms: list[str], top_k: int, random_arm: bool, incumbent: bool = False) -> list[str]:
    out = list(pred_arms) + ([f"{a}_paper" for a in pred_arms] if incumbent else []) + (["random"] if random_arm else [])
    if top_k:
        out += [f"{a}_top{top_k}" for a in pred_arms] + ([f"random+{top_k}"] if random_arm else [])
    return out


# ---------------------------------------------------------------------------- statistics
def _ci(x: np.ndarray, method: str, confidence: float, n_boot: int, seed: int) -> tuple[float, float]:
    from .stats import ci_bounds  # noqa: PLC0415

    return ci_bounds(x, method=method, confidence=confidence, n_resamples=n_boot, seed=seed)


def _check_ci(ci: str, confidence: float, n_boot: int) -> str:
    from .stats import METHODS as CI_METHODS  # noqa: PLC0415

    ci = "percentile" if ci == "bootstrap" else ci  # gemgraph 0.1's name of the percentile interval
    if ci not in CI_METHODS:
        raise ValueError(f"ci: expected one of {list(CI_METHODS)}, got {ci!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence: expected a float in (0, 1), got {confidence!r}")
    check_int(n_boot, "n_boot", 1)
    return ci


def _arms_in_order(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(str(r["arm"]) for r in rows))


def summarize(rows: Sequence[Mapping[str, Any]], *, ci: str = "bca", confidence: float = 0.95,
              n_boot: int = 10_000, seed: int = 0) -> list[dict[str, Any]]:
    r"""Per budget and arm: mean, median, std and a confidence interval of the mean bias.

    Args:
        rows: result rows (:func:`run_ablation` or :func:`read_csv` of ``ablation.csv``).
        ci: ``"bca"`` (BCa bootstrap over seeds, ``n_boot`` resamples drawn from ``seed``),
            ``"percentile"`` (``"bootstrap"`` is accepted for it) or ``"t"`` (Student-t).
        confidence: coverage of the interval.
        n_boot: bootstrap resamples.
        seed: seed of the resampling (the summary is deterministic).

    Returns:
        list of dicts with the keys :data:`SUMMARY_COLUMNS`, by budget then arm (arms in
        order of first appearance). ``std`` uses ``ddof=1``; intervals are NaN for one seed.
    """
    ci = _check_ci(ci, confidence, n_boot)
    out = []
    arms = _arms_in_order(rows)
    for K in sorted({int(r["budget"]) for r in rows}):
        for arm in arms:
            sel = [r for r in rows if int(r["budget"]) == K and str(r["arm"]) == arm]
            if not sel:
                continue
            sel.sort(key=lambda r: int(r["seed"]))
            b = np.array([float(r["bias"]) for r in sel])
            lo, hi = _ci(b, ci, confidence, n_boot, seed)
            out.append({"budget": K, "arm": arm, "n": len(sel),
                        "evaluations": float(np.mean([float(r["evaluations"]) for r in sel])),
                        "mean": float(b.mean()), "median": float(np.median(b)),
                        "std": float(b.std(ddof=1)) if len(b) > 1 else float("nan"),
                        "ci_low": lo, "ci_high": hi, "ci": f"{ci} {confidence:g}",
                        "mean_picked_accuracy": float(np.mean([float(r["picked_accuracy"]) for r in sel]))})
    return out


def paired_differences(rows: Sequence[Mapping[str, Any]], pairs: Sequence[tuple[str, str]] | None = None, *,
                       ci: str = "bca", confidence: float = 0.95, n_boot: int = 10_000,
                       seed: int = 0) -> list[dict[str, Any]]:
    r"""Paired comparison of arms on the same draws: ``bias(baseline) - bias(arm)`` per seed.

    A positive ``mean_diff`` means ``arm`` picked better models than ``baseline``; ``wins``
    / ``ties`` / ``losses`` count seeds where its bias was lower / equal / higher.

    Args:
        rows: result rows.
        pairs: ``(arm, baseline)`` pairs; default: each predictor arm against the others and
            against random search at equal evaluations (top-k variants vs ``random+k``), and
            the top-1 arms against ``random``.
        ci, confidence, n_boot, seed: as in :func:`summarize`.

    Returns:
        list of dicts with the keys :data:`PAIRED_COLUMNS`.
    """
    ci = _check_ci(ci, confidence, n_boot)
    arms = _arms_in_order(rows)
    if pairs is None:
        pairs = _default_pairs(arms)
    for a, b in pairs:
        for x in (a, b):
            if x not in arms:
                raise ValueError(f"pairs: unknown arm {x!r}; the rows hold {arms}")
    bias = {(int(r["budget"]), int(r["seed"]), str(r["arm"])): float(r["bias"]) for r in rows}
    out = []
    for K in sorted({int(r["budget"]) for r in rows}):
        seeds = sorted({int(r["seed"]) for r in rows if int(r["budget"]) == K})
        for a, b in pairs:
            common = [s for s in seeds if (K, s, a) in bias and (K, s, b) in bias]
            if not common:
                continue
            d = np.array([bias[(K, s, b)] - bias[(K, s, a)] for s in common])
            lo, hi = _ci(d, ci, confidence, n_boot, seed)
            out.append({"budget": K, "arm": a, "baseline": b, "n": len(d), "mean_diff": float(d.mean()),
                        "ci_low": lo, "ci_high": hi, "wins": int((d > 0).sum()), "ties": int((d == 0).sum()),
                        "losses": int((d < 0).sum())})
    return out


def _default_pairs(arms: list[str]) -> list[tuple[str, str]]:
    top = [a for a in arms if "_top" in a]
    rnd_k = [a for a in arms if a.startswith("random+")]
    pred = [a for a in arms if a not in top and not a.startswith("random")]
    pairs = [(a, b) for i, a in enumerate(pred) for b in pred[i + 1:]]
    pairs += [(a, b) for i, a in enumerate(top) for b in top[i + 1:]]
    pairs += [(a, r) for a in top for r in rnd_k]
    if "random" in arms:
        pairs += [(a, "random") for a in pred]
    return pairs


# ---------------------------------------------------------------------------- files
def write_csv(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, columns: Sequence[str] | None = None) -> None:
    """Write dict rows to ``path`` (floats at full precision), atomically."""
    columns = list(columns if columns is not None else (rows[0].keys() if rows else []))
    path = os.fspath(path)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([repr(float(r[c])) if isinstance(r[c], (float, np.floating)) else r[c] for c in columns])
    os.replace(tmp, path)


def read_csv(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a CSV written by :func:`write_csv`; numbers come back as int / float."""
    def conv(v: str) -> Any:
        for t in (int, float):
            try:
                return t(v)
            except ValueError:
                pass
        return v

    with open(path, newline="") as f:
        return [{k: conv(v) for k, v in r.items()} for r in csv.DictReader(f)]


def format_table(summary: Sequence[Mapping[str, Any]], *, percent: bool = True) -> str:
    """A plain-text table: one line per budget, one ``mean [ci_low, ci_high]`` column per arm."""
    arms = _arms_in_order(summary)
    f = 100.0 if percent else 1.0
    cells: dict[tuple[int, str], str] = {}
    for r in summary:
        lo, hi = float(r["ci_low"]) * f, float(r["ci_high"]) * f
        cells[(int(r["budget"]), str(r["arm"]))] = f"{float(r['mean']) * f:.3f} [{lo:.3f}, {hi:.3f}]"
    width = max([len(a) for a in arms] + [len(v) for v in cells.values()] + [10])
    unit = "bias, % points: mean [95% CI]" if percent else "bias: mean [CI]"
    lines = [f"{'budget':>7}  " + "  ".join(f"{a:>{width}}" for a in arms) + f"    ({unit})"]
    for K in sorted({int(r["budget"]) for r in summary}):
        lines.append(f"{K:>7}  " + "  ".join(f"{cells.get((K, a), '-'):>{width}}" for a in arms))
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the pipeline
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
                f"arms={_arms_in_order(self.rows)}, rows={len(self.rows)})")


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
    from .embedding import fidelity  # noqa: PLC0415
    from .wl import WLKernel  # noqa: PLC0415

    t0 = time.perf_counter()
    budgets = _budgets(budgets)
    seeds_l = _seeds(seeds)
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 0)
    check_int(seed, "seed", 0)
    check_int(fidelity_sample, "fidelity_sample", 0)
    check_metric(metric)
    resolve_device(device)
    opts = dict(encoder_options or {})
    bad = set(opts) - {"dim", "hidden", "wl_iter", "n_train", "max_epochs", "lr", "time_limit"}
    if bad:
        raise ValueError(f"encoder_options: unknown option(s) {sorted(bad)}")
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
        idx = np.sort(np.random.default_rng(derive_seed(seed, "ablation", "fidelity")).choice(len(pool), min(fidelity_sample, len(pool)),
                                                                           replace=False))
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
            from .plots import plot_bias  # noqa: PLC0415

            files["plot"] = outp / "bias.png"
            plot_bias(summary, files["plot"], title=f"NAS-Bench-101 ablation ({metric}, {len(pool)} models)")
        files["encoder"] = outp / "encoder.pt"
        result.files = {k: str(v) for k, v in files.items()}
        info["files"] = result.files
        timings["total"] = time.perf_counter() - t0
        files["run"].write_text(json.dumps(info, indent=2, default=str))
    result.info["fidelity"] = fid
    return result
