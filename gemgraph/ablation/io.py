r"""The ablation's files and text: column sets, CSV written and read back, the bias table."""
from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import tables

__all__ = ["DEFAULT_BUDGETS", "ROW_COLUMNS", "SUMMARY_COLUMNS", "PAIRED_COLUMNS", "write_csv", "read_csv",
           "format_table", "arms_in_order"]

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


def arms_in_order(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The arms of ``rows`` in order of first appearance."""
    return list(dict.fromkeys(str(r["arm"]) for r in rows))


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
    """A plain-text table (:func:`gemgraph.tables.format_table`) under a caption: one line per
    budget, one ``mean [ci_low, ci_high]`` column per arm."""
    arms = arms_in_order(summary)
    f = 100.0 if percent else 1.0
    rows: dict[int, dict[str, Any]] = {}
    for r in summary:
        K = int(r["budget"])
        lo, hi = float(r["ci_low"]) * f, float(r["ci_high"]) * f
        rows.setdefault(K, {"budget": K})[str(r["arm"])] = f"{float(r['mean']) * f:.3f} [{lo:.3f}, {hi:.3f}]"
    unit = "bias, % points: mean [95% CI]" if percent else "bias: mean [CI]"
    columns = [("budget", "budget", "d")] + [(a, a, "s") for a in arms]
    return f"{unit}\n" + tables.format_table([rows[K] for K in sorted(rows)], columns)
