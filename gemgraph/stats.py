r"""Confidence intervals of a mean over seeds / trials (BCa bootstrap by default).

Used by the NAS-Bench-101 ablation and benchmark for per-method intervals and for paired
differences between methods on the same draws (pass the per-seed differences).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

__all__ = ["CI_METHODS", "mean_ci"]

#: ``"bca"`` (bias-corrected and accelerated bootstrap, scipy), ``"percentile"`` (percentile
#: bootstrap) or ``"t"`` (Student-t).
CI_METHODS: tuple[str, ...] = ("bca", "percentile", "t")


def mean_ci(x: Any, *, method: str = "bca", confidence: float = 0.95, n_resamples: int = 10_000,
            seed: int = 0) -> tuple[float, float]:
    r"""A confidence interval of the mean of ``x``.

    Args:
        x: (n,) values (one per seed or trial; per-seed differences for a paired comparison).
        method: one of :data:`CI_METHODS`.
        confidence: coverage in (0, 1).
        n_resamples: bootstrap resamples.
        seed: resampling seed (the interval is deterministic).

    Returns:
        ``(low, high)``; ``(nan, nan)`` for fewer than 2 values, ``(m, m)`` when all values
        equal ``m`` (no spread to resample). BCa falls back to the percentile interval
        where its correction is undefined.

    Raises:
        ValueError: for an unknown method or a confidence outside (0, 1).
    """
    if method not in CI_METHODS:
        raise ValueError(f"ci: expected one of {list(CI_METHODS)}, got {method!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence: expected a float in (0, 1), got {confidence!r}")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    n = x.shape[0]
    if n < 2:
        return float("nan"), float("nan")
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    if method == "t":
        from scipy import stats  # noqa: PLC0415

        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
        return float(x.mean()) - half, float(x.mean()) + half
    from scipy.stats import bootstrap  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BCa's "degenerate distribution" warning: handled below
        res = bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=int(n_resamples),
                        method="BCa" if method == "bca" else "percentile", vectorized=True,
                        random_state=np.random.default_rng(seed))
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if method == "bca" and not (math.isfinite(lo) and math.isfinite(hi)):
        return mean_ci(x, method="percentile", confidence=confidence, n_resamples=n_resamples, seed=seed)
    return lo, hi
