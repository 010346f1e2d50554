r"""Statistics over seeds: mean bias with confidence intervals, paired differences between arms."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..stats import METHODS as CI_METHODS
from ..stats import ci_bounds
from ..utils import check_int
from .io import arms_in_order
from ..errors import InputError

__all__ = ["summarize", "paired_differences", "default_pairs", "check_ci"]


def check_ci(ci: str, confidence: float, n_boot: int) -> str:
    """The interval method's canonical name; ValueError naming a bad ``ci``, ``confidence`` or ``n_boot``."""
    ci = "percentile" if ci == "bootstrap" else ci  # gemgraph 0.1's name of the percentile interval
    if ci not in CI_METHODS:
        raise InputError(f"ci: expected one of {list(CI_METHODS)}, got {ci!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise InputError(f"confidence: expected a float in (0, 1), got {confidence!r}")
    check_int(n_boot, "n_boot", 100)  # what the bootstrap intervals need (gemgraph.stats)
    return ci


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
    ci = check_ci(ci, confidence, n_boot)
    out = []
    arms = arms_in_order(rows)
    for K in sorted({int(r["budget"]) for r in rows}):
        for arm in arms:
            sel = [r for r in rows if int(r["budget"]) == K and str(r["arm"]) == arm]
            if not sel:
                continue
            sel.sort(key=lambda r: int(r["seed"]))
            b = np.array([float(r["bias"]) for r in sel])
            lo, hi = ci_bounds(b, method=ci, confidence=confidence, n_resamples=n_boot, seed=seed)
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
    ci = check_ci(ci, confidence, n_boot)
    arms = arms_in_order(rows)
    if pairs is None:
        pairs = default_pairs(arms)
    for a, b in pairs:
        for x in (a, b):
            if x not in arms:
                raise InputError(f"pairs: unknown arm {x!r}; the rows hold {arms}")
    bias = {(int(r["budget"]), int(r["seed"]), str(r["arm"])): float(r["bias"]) for r in rows}
    out = []
    for K in sorted({int(r["budget"]) for r in rows}):
        seeds = sorted({int(r["seed"]) for r in rows if int(r["budget"]) == K})
        for a, b in pairs:
            common = [s for s in seeds if (K, s, a) in bias and (K, s, b) in bias]
            if not common:
                continue
            d = np.array([bias[(K, s, b)] - bias[(K, s, a)] for s in common])
            lo, hi = ci_bounds(d, method=ci, confidence=confidence, n_resamples=n_boot, seed=seed)
            out.append({"budget": K, "arm": a, "baseline": b, "n": len(d), "mean_diff": float(d.mean()),
                        "ci_low": lo, "ci_high": hi, "wins": int((d > 0).sum()), "ties": int((d == 0).sum()),
                        "losses": int((d < 0).sum())})
    return out


def default_pairs(arms: list[str]) -> list[tuple[str, str]]:
    """The comparisons :func:`paired_differences` makes by default, as ``(arm, baseline)`` pairs."""
    top = [a for a in arms if "_top" in a]
    rnd_k = [a for a in arms if a.startswith("random+")]
    pred = [a for a in arms if a not in top and not a.startswith("random")]
    pairs = [(a, b) for i, a in enumerate(pred) for b in pred[i + 1:]]
    pairs += [(a, b) for i, a in enumerate(top) for b in top[i + 1:]]
    pairs += [(a, r) for a in top for r in rnd_k]
    if "random" in arms:
        pairs += [(a, "random") for a in pred]
    return pairs
