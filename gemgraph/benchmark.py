r"""Search methods against random search on NAS-Bench-101: regret against the number of queries.

Every method runs the real search loop (:class:`~gemgraph.search.NASGEM`) on
:class:`~gemgraph.nb101.NB101Space` (the models of a file) with
:class:`~gemgraph.nb101.NB101Evaluator` (accuracies looked up) and an in-memory store:

* ``random``: random search, the loop with the paper's random sampler and no predictor
  (models drawn without replacement in a seeded order).
* ``nasgem``: the paper's one-shot method at equal evaluations: ``q - k`` random models (the
  same draws as ``random``), the predictor fitted on them, and the ``k`` best-predicted
  unevaluated models of the whole pool evaluated (``verify_top = k``); ``q`` queries in all.
* ``nasgem-seq``: predictor-guided sequential search (:class:`~gemgraph.samplers.AcquisitionSampler`
  with the ensemble mean): ``n_init`` random models (again the same draws), then batches of
  ``batch_size`` chosen from the unevaluated pool, the predictor refitted before each batch.
  ``nasgem-ucb`` and ``nasgem-ts`` use an upper confidence bound and Thompson-style draws.
* the field's methods (:mod:`gemgraph.peers`, through the same loop, evaluator and query
  count): ``rea`` (regularized evolution), ``ls`` (local search), ``bananas`` (BANANAS) and
  ``bowl`` (NAS-BOWL); they start from the same random draws (the first ``n_init`` models, or
  evolution's population) and mutate through :meth:`~gemgraph.nb101.NB101Space.neighbours`,
  which on a subset pool are the neighbours inside the pool (see the README).

A predictor method (``nasgem*``) is named ``METHOD`` or ``METHOD:FEATURES`` with the predictor's input features
``raw`` (flattened adjacency + one-hot ops), ``embedding`` (the WL-trained encoder,
L2-normalised) or ``both`` (concatenated); the default feature set is ``embedding`` (on the
dev file the three are within each other's confidence intervals for ``nasgem-seq``; the
README gives the figures).

The regret after ``q`` queries is ``best accuracy in the pool - best accuracy among the
models evaluated so far``. Trials are seeded and independent (trial ``i`` draws depend only
on ``(seed, i)``; every method sees the same random draws), so methods are compared on the
same draws; a trial that fails is reported and leaves the others' results intact.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .encoders.base import Encoder
from .nb101 import NB101Evaluator, NB101Pool, NB101Space
from .utils import check_int
from .errors import InputError
from .ablation import embed_pool
from .ablation import train_nb101_encoder
from .ablation import write_csv
from .embedding import train_encoder
from .encoders import CachedEncoder
from .encoders import create
from .memstore import MemoryStore
from .nb101 import NB101_OPS, check_metric, load_nb101, nb101_pool
from .nbgraph import check_dataset, load_nbgraph
from .plots import plot_regret
from .predictor import EfficiencyPredictor
from .search import NASGEM
from .stats import ci_bounds
from .utils import derive_seed
from .wl import WLKernel
import json

__all__ = [
    "METHODS", "PEERS", "FEATURES", "DEFAULT_METHODS", "REGRET_COLUMNS", "BENCH_SUMMARY_COLUMNS", "parse_methods",
    "run_trial", "run_benchmark", "summarize_regret", "ratio_table", "BenchmarkResult", "nb101_benchmark",
    "nbgraph_benchmark",
]

logger = logging.getLogger(__name__)

#: Method names -> (sampler, sampler options). ``random`` and ``nasgem`` use the random sampler.
METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "random": ("random", {}),
    "nasgem": ("random", {}),
    "nasgem-seq": ("acquisition", {"acquisition": "mean"}),
    "nasgem-ucb": ("acquisition", {"acquisition": "ucb"}),
    "nasgem-ts": ("acquisition", {"acquisition": "thompson"}),
    "rea": ("rea", {}),
    "ls": ("ls", {}),
    "bananas": ("bananas", {}),
    "bowl": ("bowl", {}),
}
#: Methods that take no predictor features (their own encodings, or none).
PEERS: tuple[str, ...] = ("rea", "ls", "bananas", "bowl")
_NO_FEATURES: tuple[str, ...] = ("random", *PEERS)
#: The feature set a ``nasgem*`` method uses when none is named (reported without a suffix).
DEFAULT_FEATURES = "embedding"
#: Predictor input features.
FEATURES: tuple[str, ...] = ("raw", "embedding", "both")
#: The default comparison.
DEFAULT_METHODS: tuple[str, ...] = ("random", *PEERS, "nasgem", "nasgem-seq")
#: Columns of ``regret.csv``.
REGRET_COLUMNS: tuple[str, ...] = ("method", "trial", "queries", "best_accuracy", "regret")
#: Columns of ``summary.csv``.
BENCH_SUMMARY_COLUMNS: tuple[str, ...] = ("method", "queries", "n", "mean", "median", "ci_low", "ci_high",
                                          "ratio_to_random", "paired_diff", "paired_low", "paired_high")


def parse_methods(methods: str | Sequence[str]) -> list[tuple[str, str | None]]:
    r"""``"random,nasgem-seq:both"`` (or a list) -> ``[("random", None), ("nasgem-seq", "both")]``.

    ``random`` and the peers (:data:`PEERS`) take no features; the ``nasgem*`` methods default
    to ``embedding``.

    Raises:
        ValueError: naming the unknown method or feature set, or a repeat.
    """
    items = [m.strip() for m in methods.split(",")] if isinstance(methods, str) else [str(m).strip() for m in methods]
    items = [m for m in items if m]
    if not items:
        raise InputError("methods: expected at least one method")
    out: list[tuple[str, str | None]] = []
    for item in items:
        name, _, feats = item.partition(":")
        if name not in METHODS:
            raise InputError(f"methods: unknown method {name!r} in {item!r}; expected one of {list(METHODS)} "
                             f"(optionally METHOD:FEATURES with FEATURES in {list(FEATURES)})")
        if name in _NO_FEATURES:
            if feats:
                raise InputError(f"methods: {name!r} uses no predictor features, got {item!r}")
            entry: tuple[str, str | None] = (name, None)
        else:
            feats = feats or DEFAULT_FEATURES
            if feats not in FEATURES:
                raise InputError(f"methods: unknown feature set {feats!r} in {item!r}; "
                                 f"expected one of {list(FEATURES)}")
            entry = (name, feats)
        if entry in out:
            raise InputError(f"methods: {item!r} is given twice")
        out.append(entry)
    return out


def label(method: str, features: str | None) -> str:
    """The name a method is reported under: ``"nasgem-seq"`` with the default features, else
    ``"nasgem-seq:both"``."""
    return method if features in (None, DEFAULT_FEATURES) else f"{method}:{features}"


def _checkpoints(queries: int, step: int) -> list[int]:
    qs = list(range(step, queries + 1, step))
    if not qs or qs[-1] != queries:
        qs.append(queries)
    return qs


def _lookup(pool: Any) -> tuple[Any, Any]:
    """The finite space and the look-up evaluator of a pool: NAS-Bench-101's or NAS-Bench-Graph's."""
    if isinstance(pool, NB101Pool):
        return NB101Space(pool), NB101Evaluator(pool)
    from .nbgraph import NBGraphEvaluator, NBGraphPool, NBGraphSpace  # noqa: PLC0415 - the optional package

    if isinstance(pool, NBGraphPool):
        return NBGraphSpace(pool), NBGraphEvaluator(pool)
    raise InputError(f"pool: expected an NB101Pool or an NBGraphPool, got {type(pool).__name__}")


def run_trial(method: str, features: str | None, pool: Any, encoder: Encoder, *, trial: int, queries: int,
              seed: int = 0, n_init: int = 10, batch_size: int = 10, top_k: int = 10,
              predictor: Mapping[str, Any] | None = None, num_samples: int = 50_000) -> list[dict[str, Any]]:
    r"""One seeded trial of one method: rows of :data:`REGRET_COLUMNS` at every ``batch_size`` queries.

    Args:
        method, features: as :func:`parse_methods` returns.
        pool: the models (an :class:`~gemgraph.nb101.NB101Pool` or a
            :class:`~gemgraph.nbgraph.NBGraphPool`).
        encoder: the predictor's feature encoder for ``features`` (any encoder for ``random``).
        trial: the trial number (its draws depend only on ``(seed, trial)``).
        queries: evaluations of the trial.
        seed: base seed.
        n_init: random models before the first guided batch (``nasgem-*``).
        batch_size: guided batch size, and the spacing of the reported query counts.
        top_k: ``k`` of ``nasgem`` (the verified top predictions).
        predictor: :class:`~gemgraph.predictor.EfficiencyPredictor` options.
        num_samples: bootstrap pool size (all models when the pool is smaller).
    """

    sampler, opts = METHODS[method]
    tseed = derive_seed(seed, "trial", trial)
    space, evaluator = _lookup(pool)
    store = MemoryStore()
    params = {k: v for k, v in dict(predictor or {}).items() if k != "seed"}
    pred = EfficiencyPredictor(**params, seed=derive_seed(tseed, "predictor"))
    if sampler in ("acquisition", "bananas", "bowl"):
        opts = {**opts, "n_init": n_init, "batch_size": batch_size}
    elif sampler == "ls":
        opts = {**opts, "n_init": n_init}
    search = NASGEM(space, encoder, pred, evaluator, store, seed=tseed, num_samples=num_samples,
                    top_k=max(1, top_k), verify_top=top_k if method == "nasgem" else 0, sampler=sampler,
                    sampler_options=opts, checkpoint_every=0, progress=False)
    best_all = pool.best_accuracy
    out = []
    qs = _checkpoints(queries, batch_size)
    if method == "nasgem":
        for q in qs:
            n_rand = q - top_k
            if n_rand < max(2, n_init):  # too few models for a predictor: random search so far
                search.evaluate_all(q)
                best = max(r["accuracy"] for r in store.candidates(status="ok"))
            else:
                search.evaluate_all(n_rand)
                res = search.bootstrap()
                measured = [r["accuracy"] for r in store.candidates(status="ok")]
                measured += [e["accuracy"] for e in res.top if e["verified"] is not None and e["accuracy"] is not None]
                best = max(measured)
            out.append({"queries": q, "best_accuracy": best})
    else:
        search.evaluate_all(queries)
        acc = np.full(queries, -np.inf)
        for r in store.candidates(status="ok"):
            acc[r["iteration"]] = r["accuracy"]
        run = np.maximum.accumulate(acc)
        out = [{"queries": q, "best_accuracy": float(run[q - 1])} for q in qs]
    lab = label(method, features)
    return [{"method": lab, "trial": int(trial), "queries": r["queries"], "best_accuracy": float(r["best_accuracy"]),
             "regret": float(best_all - r["best_accuracy"])} for r in out]


def _check_run_args(methods: Sequence[tuple[str, str | None]], *, trials: int, queries: int, n_init: int,
                    batch_size: int, top_k: int) -> None:
    """The checks of :func:`run_benchmark` that need no pool, so that the whole-benchmark
    functions refuse bad counts before loading a table or training an encoder."""
    check_int(trials, "trials", 1)
    check_int(queries, "queries", 1)
    check_int(batch_size, "batch_size", 1)
    check_int(top_k, "top_k", 0)
    check_int(n_init, "n_init", 2)
    guided = [m for m, _ in methods if m != "random"]
    if guided and queries <= n_init:
        raise InputError(f"queries: expected more than the {n_init} initial random models (n_init), got {queries}")
    if any(m == "nasgem" for m in guided) and top_k < 1:
        raise InputError("top_k: 'nasgem' verifies its top predictions; expected top_k >= 1, got 0")


def run_benchmark(pool: Any, encoders: Mapping[str, Encoder], methods: Sequence[tuple[str, str | None]], *,
                  trials: int = 100, queries: int = 150, seed: int = 0, n_init: int = 10, batch_size: int = 10,
                  top_k: int = 10, predictor: Mapping[str, Any] | None = None, num_samples: int = 50_000,
                  progress: bool = True) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    r"""Every method x trial. Returns ``(rows, failures, seconds per method)``.

    Args:
        pool: the models.
        encoders: feature set -> encoder (``"raw"``, ``"embedding"``, ``"both"`` as needed).
        methods: ``(method, features)`` pairs (:func:`parse_methods`).
        trials, queries, seed, n_init, batch_size, top_k, predictor, num_samples: see
            :func:`run_trial`.
        progress: a tqdm bar per method.

    A trial that raises is recorded in ``failures`` (``method, trial, error``) and skipped.
    """
    _check_run_args(methods, trials=trials, queries=queries, n_init=n_init, batch_size=batch_size, top_k=top_k)
    if queries > len(pool):
        raise InputError(f"queries: expected at most the {len(pool)} models of the pool, got {queries}")
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    for method, feats in methods:
        enc = encoders["raw" if feats is None else feats]
        lab = label(method, feats)
        it = range(trials)
        if progress:
            from tqdm.auto import tqdm  # noqa: PLC0415

            it = tqdm(it, desc=f"benchmark {lab}", unit="trial")
        t0 = time.perf_counter()
        for i in it:
            try:
                rows.extend(run_trial(method, feats, pool, enc, trial=i, queries=queries, seed=seed, n_init=n_init,
                                      batch_size=batch_size, top_k=top_k, predictor=predictor,
                                      num_samples=num_samples))
            except Exception as exc:  # noqa: BLE001 - one failed trial must not lose the others
                logger.warning("benchmark: %s trial %d failed: %s: %s", lab, i, type(exc).__name__, exc)
                failures.append({"method": lab, "trial": i, "error": f"{type(exc).__name__}: {exc}"})
        seconds[lab] = time.perf_counter() - t0
    return rows, failures, seconds


def summarize_regret(rows: Sequence[Mapping[str, Any]], *, baseline: str = "random", ci: str = "bca",
                     confidence: float = 0.95, seed: int = 0) -> list[dict[str, Any]]:
    r"""Per method and query count: mean regret with a CI over trials, and against ``baseline``
    on the same trials: the ratio of mean regrets and the paired difference
    ``regret(baseline) - regret(method)`` with its CI (positive: the method is better).

    Args:
        rows: :data:`REGRET_COLUMNS` rows.
        baseline: the method compared against (absent: those columns are NaN).
        ci: interval method of :func:`gemgraph.stats.mean_ci` (BCa by default).
        confidence: coverage.
        seed: resampling seed.
    """

    table: dict[tuple[str, int], dict[int, float]] = {}
    for r in rows:
        table.setdefault((str(r["method"]), int(r["queries"])), {})[int(r["trial"])] = float(r["regret"])
    methods = list(dict.fromkeys(str(r["method"]) for r in rows))
    out = []
    for m in methods:
        for q in sorted({q for (mm, q) in table if mm == m}):
            d = table[(m, q)]
            x = np.array([d[t] for t in sorted(d)])
            lo, hi = ci_bounds(x, method=ci, confidence=confidence, seed=seed)
            base = table.get((baseline, q))
            ratio = pdiff = plo = phi = float("nan")
            if base and m != baseline:
                common = sorted(set(base) & set(d))
                if common:
                    b = np.array([base[t] for t in common])
                    a = np.array([d[t] for t in common])
                    ratio = float(a.mean() / b.mean()) if b.mean() > 0 else float("nan")
                    pdiff = float((b - a).mean())
                    plo, phi = ci_bounds(b - a, method=ci, confidence=confidence, seed=seed)
            out.append({"method": m, "queries": q, "n": len(x), "mean": float(x.mean()), "median": float(np.median(x)),
                        "ci_low": lo, "ci_high": hi, "ratio_to_random": ratio, "paired_diff": pdiff,
                        "paired_low": plo, "paired_high": phi})
    return out


def ratio_table(summary: Sequence[Mapping[str, Any]], queries: Sequence[int] | None = None) -> str:
    """Plain text: mean regret [CI] in percentage points and the ratio to random, per method and query count."""
    qs = sorted({int(r["queries"]) for r in summary}) if queries is None else list(queries)
    methods = list(dict.fromkeys(str(r["method"]) for r in summary))
    cell = {(str(r["method"]), int(r["queries"])): r for r in summary}
    w = max([len(m) for m in methods] + [6])
    lines = [f"{'method':<{w}}  " + "  ".join(f"{'q=' + str(q):>30}" for q in qs)
             + "    (validation regret, % points: mean [95% CI] (x random))"]
    for m in methods:
        parts = []
        for q in qs:
            r = cell.get((m, q))
            if r is None:
                parts.append(f"{'-':>30}")
                continue
            ratio = "" if not math.isfinite(r["ratio_to_random"]) else f" ({r['ratio_to_random']:.2f}x)"
            parts.append(f"{100 * r['mean']:.3f} [{100 * r['ci_low']:.3f}, {100 * r['ci_high']:.3f}]{ratio}".rjust(30))
        lines.append(f"{m:<{w}}  " + "  ".join(parts))
    return "\n".join(lines)


@dataclass
class BenchmarkResult:
    """What :func:`nb101_benchmark` returns: rows, summary, failures, info and the files written."""

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    failures: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    def table(self, queries: Sequence[int] | None = None) -> str:
        return ratio_table(self.summary, queries)

    def __repr__(self) -> str:
        methods = list(dict.fromkeys(r["method"] for r in self.rows))
        return f"BenchmarkResult(methods={methods}, rows={len(self.rows)}, failures={len(self.failures)})"


def nb101_benchmark(
    data: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    *,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    trials: int = 100,
    queries: int = 150,
    seed: int = 0,
    n_init: int = 10,
    batch_size: int = 10,
    top_k: int = 10,
    metric: str = "validation_accuracy",
    epochs: int = 108,
    predictor: Mapping[str, Any] | None = None,
    encoder_options: Mapping[str, Any] | None = None,
    num_samples: int = 50_000,
    device: str = "auto",
    plot: bool = True,
    progress: bool = True,
) -> BenchmarkResult:
    r"""The whole benchmark: data, encoder (trained once, cached), every method x trial, statistics, files.

    Args:
        data: an official-layout ``.tfrecord``, or None for the bundled 20,001-model sample.
        out: folder for ``regret.csv``, ``summary.csv``, ``regret.png``, ``failures.csv`` (when
            a trial failed) and ``run.json``; None writes nothing.
        methods: see :func:`parse_methods`.
        trials, queries, seed, n_init, batch_size, top_k, predictor, num_samples: see
            :func:`run_trial`.
        metric, epochs: the accuracy the methods maximise (see :func:`gemgraph.nb101.nb101_pool`).
        encoder_options: :func:`gemgraph.ablation.train_nb101_encoder` options (its cache
            defaults to the user cache).
        device: for training the encoder.
        plot: write ``regret.png``.
        progress: progress bars.
    """

    t0 = time.perf_counter()
    parsed = parse_methods(methods)
    check_metric(metric)
    _check_run_args(parsed, trials=trials, queries=queries, n_init=n_init, batch_size=batch_size, top_k=top_k)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    pool = nb101_pool(load_nb101(data, progress=progress), metric, epochs)
    raw = create("raw", num_nodes=7, ops=NB101_OPS)
    encs: dict[str, Encoder] = {"raw": raw}
    enc_info: dict[str, Any] = {}
    wanted = {f for _, f in parsed}
    if wanted & {"embedding", "both"}:
        enc, enc_info = train_nb101_encoder("mlp", **dict(encoder_options or {}), seed=seed, device=device,
                                            progress=progress)
        # every model of the pool embedded once (L2-normalised); the loop's embeddings become look-ups
        encs.update(_cached_features(enc, raw, pool.batch, wanted, NB101_OPS))
    t_enc = time.perf_counter() - t0
    rows, failures, seconds = run_benchmark(
        pool, encs, parsed, trials=trials, queries=queries, seed=seed, n_init=n_init, batch_size=batch_size,
        top_k=top_k, predictor=predictor, num_samples=num_samples, progress=progress)
    summary = summarize_regret(rows)
    info = {"data": None if data is None else os.fspath(data), "models": len(pool), "metric": metric,
            "epochs": int(epochs), "best_accuracy": pool.best_accuracy, "methods": [label(m, f) for m, f in parsed],
            "trials": int(trials), "queries": int(queries), "seed": int(seed), "n_init": int(n_init),
            "batch_size": int(batch_size), "top_k": int(top_k), "predictor": dict(predictor or {}),
            "encoder": dict(enc_info), "seconds": {"encoder": t_enc, **seconds,
                                                                        "total": time.perf_counter() - t0},
            "failures": len(failures), "torch_threads": torch.get_num_threads()}
    res = BenchmarkResult(rows=rows, summary=summary, failures=failures, info=info)
    return _write(res, out, plot, f"NAS-Bench-101 ({len(pool)} models), {trials} trials")


def _cached_features(enc: Encoder, raw: Encoder, batch: Any, wanted: set, ops: Any) -> dict[str, Encoder]:
    """The ``embedding`` / ``both`` feature sets of a pool as look-ups: every model embedded once
    (L2-normalised), ``both`` with the raw encoding appended."""

    z = embed_pool(enc.to("cpu").eval(), batch, normalize=True)
    out: dict[str, Encoder] = {}
    if "embedding" in wanted:
        out["embedding"] = CachedEncoder.from_vectors(batch, z, ops=ops)
    if "both" in wanted:
        out["both"] = CachedEncoder.from_vectors(batch, torch.cat([z, embed_pool(raw, batch)], 1), ops=ops)
    return out


def _write(res: BenchmarkResult, out: str | os.PathLike | None, plot: bool, title: str) -> BenchmarkResult:
    """``regret.csv``, ``summary.csv``, ``failures.csv`` (when a trial failed), ``regret.png`` and
    ``run.json`` in ``out`` (None: nothing)."""
    if out is None:
        return res


    outp = Path(out)
    files = {"regret": outp / "regret.csv", "summary": outp / "summary.csv", "run": outp / "run.json"}
    write_csv(res.rows, files["regret"], REGRET_COLUMNS)
    write_csv(res.summary, files["summary"], BENCH_SUMMARY_COLUMNS)
    if res.failures:
        files["failures"] = outp / "failures.csv"
        write_csv(res.failures, files["failures"], ("method", "trial", "error"))
    if plot and res.rows:

        files["plot"] = outp / "regret.png"
        plot_regret(res.summary, files["plot"], title=title)
    res.files = {k: str(v) for k, v in files.items()}
    res.info["files"] = res.files
    files["run"].write_text(json.dumps(res.info, indent=2, default=str))
    return res


def nbgraph_benchmark(
    dataset: str,
    out: str | os.PathLike | None = None,
    *,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    trials: int = 20,
    queries: int = 100,
    seed: int = 0,
    n_init: int = 10,
    batch_size: int = 10,
    top_k: int = 10,
    predictor: Mapping[str, Any] | None = None,
    encoder_options: Mapping[str, Any] | None = None,
    num_samples: int = 50_000,
    device: str = "auto",
    plot: bool = True,
    progress: bool = True,
) -> BenchmarkResult:
    r"""The benchmark on a NAS-Bench-Graph dataset: every architecture of its space is in the
    pool (a complete space), validation performance is searched, regret is against the best
    validation performance of the space.

    The ``embedding`` features come from an MLP encoder trained (once per dataset and seed) on
    the WL kernel of the space's own cells (ops-aware labels), every architecture embedded once;
    ``raw`` is the flattened adjacency with one-hot ops. Mutation-based methods move through
    :meth:`~gemgraph.nbgraph.NBGraphSpace.neighbours` (one input or one op changed, over
    isomorphism classes).

    Args:
        dataset: one of :data:`gemgraph.nbgraph.NBGRAPH_DATASETS`.
        out: output folder (as :func:`nb101_benchmark`); None writes nothing.
        methods, trials, queries, seed, n_init, batch_size, top_k, predictor, num_samples: see
            :func:`run_trial`.
        encoder_options: :func:`gemgraph.embedding.train_encoder` options for the embedding.
        device: for training the encoder.
        plot, progress: as :func:`nb101_benchmark`.

    Raises:
        ValueError: an unknown dataset or method, or bad counts (before any work).
    """

    t0 = time.perf_counter()
    dataset = check_dataset(dataset)
    parsed = parse_methods(methods)
    _check_run_args(parsed, trials=trials, queries=queries, n_init=n_init, batch_size=batch_size, top_k=top_k)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    pool = load_nbgraph(dataset)
    vocab = pool.vocab
    n = int(pool.batch.adj.shape[1])
    raw = create("raw", num_nodes=n, ops=vocab)
    encs: dict[str, Encoder] = {"raw": raw}
    enc_info: dict[str, Any] = {}
    wanted = {f for _, f in parsed}
    if wanted & {"embedding", "both"}:
        opts = {"n_train": min(20_000, max(100, len(pool) - 1_200)), "n_val": 500, "n_test": 500,
                "max_epochs": 8, **dict(encoder_options or {})}
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            enc = create("mlp", num_nodes=n, dim=64, ops=vocab)
        er = train_encoder(enc, pool.cells(), WLKernel(3, node_labels=("degree", "op")), seed=seed, device=device,
                           progress=progress, **opts)
        enc_info = {"fidelity": None if er.report is None else er.report.to_dict(), "seconds": er.seconds,
                    "options": opts}
        encs.update(_cached_features(er.encoder, raw, pool.batch, wanted, vocab))
    t_enc = time.perf_counter() - t0
    rows, failures, seconds = run_benchmark(
        pool, encs, parsed, trials=trials, queries=queries, seed=seed, n_init=n_init, batch_size=batch_size,
        top_k=top_k, predictor=predictor, num_samples=num_samples, progress=progress)
    summary = summarize_regret(rows)
    info = {"benchmark": "nbgraph", "dataset": dataset, "models": len(pool), "metric": "validation performance",
            "best_accuracy": pool.best_accuracy, "best_test_accuracy": pool.best_test_accuracy,
            "methods": [label(m, f) for m, f in parsed], "trials": int(trials), "queries": int(queries),
            "seed": int(seed), "n_init": int(n_init), "batch_size": int(batch_size), "top_k": int(top_k),
            "predictor": dict(predictor or {}), "encoder": enc_info,
            "seconds": {"encoder": t_enc, **seconds, "total": time.perf_counter() - t0},
            "failures": len(failures), "torch_threads": torch.get_num_threads()}
    res = BenchmarkResult(rows=rows, summary=summary, failures=failures, info=info)
    return _write(res, out, plot, f"NAS-Bench-Graph {dataset} ({len(pool)} architectures), {trials} trials")
