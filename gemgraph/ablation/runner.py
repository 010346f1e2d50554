r"""Every budget, seed and arm of the ablation, through the NASGEM search loop."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from ..cell import Cell
from ..encoders.base import Encoder
from ..encoders.cached import CachedEncoder
from ..memstore import MemoryStore
from ..nb101 import NB101Evaluator, NB101Pool, NB101Space
from ..predictor import EfficiencyPredictor
from ..search import NASGEM
from ..utils import check_int, derive_seed
from .encoder import embed_pool
from .io import DEFAULT_BUDGETS
from ..errors import InputError

__all__ = ["run_ablation", "arm_order", "check_seeds", "check_budgets"]


def check_seeds(seeds: int | Sequence[int]) -> list[int]:
    """``seeds`` as a list: a count S gives ``0..S-1``; a sequence must hold distinct ints >= 0."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        check_int(seeds, "seeds", 1)
        return list(range(int(seeds)))
    if isinstance(seeds, bool):
        raise InputError(f"seeds: expected a count >= 1 or distinct non-negative ints, got {seeds!r}")
    out = [check_int(s, "seeds", 0) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise InputError(f"seeds: expected a count >= 1 or distinct non-negative ints, got {seeds!r}")
    return out


def check_budgets(budgets: Sequence[int] | int) -> list[int]:
    """``budgets`` as a sorted list of distinct ints >= 2 (one int is one budget)."""
    if isinstance(budgets, (int, np.integer)):
        budgets = [budgets]
    out = sorted({check_int(b, "budgets", 2) for b in budgets})
    if not out:
        raise InputError("budgets: expected at least one budget")
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
    make_predictor: Callable[[int], Any] | None = None,
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
        make_predictor: instead, a function ``seed -> unfitted predictor`` (any estimator the
            search loop accepts: ``fit(Z, y)``, ``predict(Z, return_std=True)``); called once
            per budget, seed and arm with the run's derived seed.
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
        raise InputError(f"pool: expected an NB101Pool (see nb101_pool), got {type(pool).__name__}")
    budgets = check_budgets(budgets)
    seeds = check_seeds(seeds)
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 0)
    check_int(seed, "seed", 0)
    n = len(pool)
    if budgets[-1] + top_k > n:
        raise InputError(f"budgets: budget {budgets[-1]} (+ top_k {top_k}) exceeds the {n} models with a known "
                         f"{pool.metric}")
    for arm in encoders:
        if not isinstance(arm, str) or not arm or arm.startswith("random"):
            raise InputError(f"encoders: arm names must be non-empty strings not starting with 'random', got {arm!r}")
        if not isinstance(encoders[arm], Encoder):
            raise InputError(f"encoders[{arm!r}]: expected a gemgraph Encoder, got {type(encoders[arm]).__name__}")
    params = dict(predictor or {})
    params.pop("seed", None)
    if make_predictor is None:
        EfficiencyPredictor(**params).check_params()  # fail early, naming the option

        def default_factory(seed: int) -> Any:
            return EfficiencyPredictor(**params, seed=seed)

        factory: Callable[[int], Any] = default_factory
    elif predictor:
        raise InputError("predictor: give either predictor options or make_predictor, not both")
    elif not callable(make_predictor):
        raise InputError(f"make_predictor: expected a function seed -> predictor, got {type(make_predictor).__name__}")
    else:
        factory = make_predictor
    loop_encoders: dict[str, CachedEncoder] = {}
    for arm, enc in encoders.items():
        v = None if vectors is None else vectors.get(arm)
        v = embed_pool(enc, pool.batch) if v is None else torch.as_tensor(v, dtype=torch.float32)
        if v.dim() != 2 or v.shape[0] != n:
            raise InputError(f"vectors[{arm!r}]: expected shape ({n}, d), got {tuple(v.shape)}")
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

    def best_stored(store: MemoryStore) -> int:
        """Pool position of the best evaluated model (the first evaluated on ties)."""
        r = max(store.candidates(status="ok"), key=lambda r: (r["accuracy"], -r["iteration"]))
        return position(r["cell"])

    def search(store: MemoryStore, enc: Encoder, run_seed: int, p_seed: int, verify: int) -> NASGEM:
        # the NASGEM loop with the paper's random sampler: its draws are the evaluated sample
        return NASGEM(space, enc, factory(p_seed), evaluator, store, seed=run_seed,
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
                pick = best_stored(store)
                if random_arm:
                    rows.append(row(K, s, "random", K, pick))
                    if top_k:
                        search(wider, any_enc, run_seed, p_seed, 0).evaluate_all(K + top_k)
                        rows.append(row(K, s, f"random+{top_k}", K + top_k, best_stored(wider)))
                for arm, enc in loop_encoders.items():
                    nas = search(store, enc, run_seed, p_seed, top_k)
                    res = nas.bootstrap()  # refits on the K stored models, ranks the pool, verifies top_k
                    boot = res.bootstrap
                    if boot is None or boot.pool_index is None or boot.predicted is None:
                        raise RuntimeError("ablation: the search's bootstrap returned no ranking of the pool")
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
    order = {a: i for i, a in enumerate(arm_order(list(encoders), top_k, random_arm, incumbent))}
    rows.sort(key=lambda r: (r["budget"], r["seed"], order.get(r["arm"], len(order))))
    return rows


def arm_order(pred_arms: list[str], top_k: int, random_arm: bool, incumbent: bool = False) -> list[str]:
    """The arms :func:`run_ablation` reports, in table order (predictor arms, paper rules, random, top-k)."""
    out = list(pred_arms) + ([f"{a}_paper" for a in pred_arms] if incumbent else [])
    out += ["random"] if random_arm else []
    if top_k:
        out += [f"{a}_top{top_k}" for a in pred_arms] + ([f"random+{top_k}"] if random_arm else [])
    return out
