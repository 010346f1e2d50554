r"""Confidence intervals of a mean over seeds, and of a mean paired difference.

The ablation (and any comparison of search methods) reports a figure averaged over seeds; its
uncertainty is an interval from :func:`mean_ci`, and the comparison of two arms run on the
same seeds is an interval of the mean *paired* difference from :func:`paired_diff_ci` (much
tighter than two separate intervals when the arms share the seeds' draws).

Methods (``method=``):

* ``"bca"`` (default): bias-corrected and accelerated bootstrap (Efron 1987), from
  ``scipy.stats.bootstrap(method="BCa")``;
* ``"percentile"``: the percentile bootstrap, ``scipy.stats.bootstrap(method="percentile")``;
* ``"t"``: Student's t interval, ``mean +- t_{n-1} * s / sqrt(n)`` (``scipy.stats.t``), no
  resampling.

The bootstrap draws come from ``numpy.random.default_rng(seed)``: the same values and seed
give the same interval on any machine. When every value is equal the interval is that value
(the bootstrap distribution is degenerate).

Example:
    >>> from gemgraph.stats import mean_ci, paired_diff_ci
    >>> mean_ci([0.91, 0.93, 0.92, 0.95, 0.90], seed=0)            # doctest: +SKIP
    Interval(mean=0.922, 95% CI [0.908, 0.938], n=5, method='bca')
    >>> paired_diff_ci(with_embedding, without_embedding, seed=0)  # doctest: +SKIP
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

from .utils import check_int
from .errors import InputError

__all__ = ["ci_bounds", "Interval", "METHODS", "mean_ci", "paired_diff_ci"]

#: Accepted ``method`` names (case-insensitive; ``"BCa"`` works too).
METHODS: tuple[str, ...] = ("bca", "percentile", "t")


@dataclass(frozen=True)
class Interval:
    r"""A point estimate with a two-sided confidence interval.

    Attributes:
        estimate: the sample mean (of the values, or of the paired differences).
        low, high: the interval's bounds.
        confidence: its level, e.g. 0.95.
        n: number of values (pairs).
        method: ``"bca"``, ``"percentile"`` or ``"t"``.
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n: int
    method: str

    @property
    def half_width(self) -> float:
        """``(high - low) / 2``."""
        return (self.high - self.low) / 2

    def contains(self, value: float) -> bool:
        """True if ``low <= value <= high``."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        return (f"Interval(mean={self.estimate:.4g}, {self.confidence:.0%} CI [{self.low:.4g}, {self.high:.4g}], "
                f"n={self.n}, method={self.method!r})")


def _check(values: Any, name: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name}: expected a 1-D sequence of numbers, got {type(values).__name__}") from None
    if x.ndim != 1:
        raise InputError(f"{name}: expected a 1-D sequence of numbers, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError(f"{name}: expected finite values, got {int((~np.isfinite(x)).sum())} NaN/inf "
                         f"(drop failed runs first)")
    if x.size < 2:
        raise InputError(f"{name}: expected at least 2 values (seeds) for an interval, got {x.size}")
    return x


def _options(confidence: float, method: str, n_resamples: int, seed: int) -> str:
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise InputError(f"confidence: expected a level in (0, 1), got {confidence!r}")
    m = str(method).lower() if isinstance(method, str) else method
    if m not in METHODS:
        raise InputError(f"method: expected one of {list(METHODS)}, got {method!r}")
    check_int(n_resamples, "n_resamples", 100)
    check_int(seed, "seed", 0)
    return m


def _interval(x: np.ndarray, confidence: float, method: str, n_resamples: int, seed: int) -> Interval:
    est = float(x.mean())
    n = int(x.size)
    if np.all(x == x[0]):  # degenerate: every resample has the same mean
        return Interval(est, est, est, float(confidence), n, method)
    if method == "t":
        sem = float(x.std(ddof=1)) / math.sqrt(n)
        low, high = _st.t.interval(confidence, n - 1, loc=est, scale=sem)
        return Interval(est, float(low), float(high), float(confidence), n, method)
    with warnings.catch_warnings():
        # tiny samples: scipy warns when a BCa bound falls outside the resamples; the bound is
        # still the documented one (clipped to the resample range)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = _st.bootstrap((x,), np.mean, n_resamples=int(n_resamples), confidence_level=confidence,
                            method="BCa" if method == "bca" else "percentile", vectorized=True,
                            rng=np.random.default_rng(seed))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa undefined (e.g. one outlier among equals)
        raise InputError(f"method: the {method!r} interval is undefined for these values "
                         f"({x.tolist()[:8]}...); use method='percentile' or 't'")
    return Interval(est, low, high, float(confidence), n, method)


def mean_ci(values: Sequence[float] | np.ndarray, *, confidence: float = 0.95, method: str = "bca",
            n_resamples: int = 9999, seed: int = 0) -> Interval:
    r"""Confidence interval of the mean of ``values`` (one value per seed).

    Args:
        values: (n,) finite numbers, n >= 2.
        confidence: two-sided level.
        method: ``"bca"`` (default), ``"percentile"`` or ``"t"`` (see the module docs).
        n_resamples: bootstrap resamples (ignored by ``"t"``).
        seed: seed of the bootstrap draws.

    Returns:
        An :class:`Interval`.

    Raises:
        ValueError: for fewer than two values, NaN / inf, or a bad option.

    Shapes: (n,) -> scalar interval
    """
    m = _options(confidence, method, n_resamples, seed)
    return _interval(_check(values, "values"), confidence, m, n_resamples, seed)


def paired_diff_ci(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, *,
                   confidence: float = 0.95, method: str = "bca", n_resamples: int = 9999,
                   seed: int = 0) -> Interval:
    r"""Confidence interval of the mean paired difference ``mean(a - b)``.

    ``a[i]`` and ``b[i]`` are two arms measured on the same seed ``i``; the pairs are resampled
    together (the bootstrap of the differences), so what the seeds share cancels out.

    Args:
        a, b: (n,) finite numbers each, same n >= 2, paired by position.
        confidence, method, n_resamples, seed: as in :func:`mean_ci`.

    Returns:
        An :class:`Interval` of ``mean(a - b)``; an interval that excludes 0 means the arms
        differ at that level.

    Raises:
        ValueError: for unequal lengths, fewer than two pairs, NaN / inf, or a bad option.

    Shapes: (n,), (n,) -> scalar interval
    """
    m = _options(confidence, method, n_resamples, seed)
    x, y = _check(a, "a"), _check(b, "b")
    if x.shape != y.shape:
        raise InputError(f"a, b: expected paired values of equal length, got {x.size} and {y.size}")
    return _interval(x - y, confidence, m, n_resamples, seed)


def ci_bounds(values: Sequence[float] | np.ndarray, *, confidence: float = 0.95, method: str = "bca",
              n_resamples: int = 10_000, seed: int = 0) -> tuple[float, float]:
    r"""``(low, high)`` of :func:`mean_ci` for tables: NaN for fewer than 2 values, and the
    percentile interval where BCa is undefined (instead of raising).

    Args:
        values, confidence, method, n_resamples, seed: as :func:`mean_ci`.
    """
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size < 2:
        return float("nan"), float("nan")
    try:
        iv = mean_ci(x, confidence=confidence, method=method, n_resamples=n_resamples, seed=seed)
    except ValueError as exc:
        if method != "bca" or "undefined" not in str(exc):
            raise
        iv = mean_ci(x, confidence=confidence, method="percentile", n_resamples=n_resamples, seed=seed)
    return iv.low, iv.high
