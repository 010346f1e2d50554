r"""An in-memory run store with :class:`~gemgraph.store.RunStore`'s candidate API.

For benchmarks and tests that run the search loop thousands of times (NAS-Bench-101 trials):
nothing touches the disk, and nothing survives the process. Values are normalised as the
SQLite store normalises them (non-finite numbers become None; an ``"ok"`` candidate keeps its
status, the search decides failures).
"""
from __future__ import annotations

import copy
from typing import Any

from .cell import Cell
from .store import StoreError
from .utils import check_int, finite_or_none
from .errors import InputError

__all__ = ["MemoryStore"]

_STATUSES = ("ok", "failed")


class MemoryStore:
    r"""Candidates, predictor checkpoints, the pick and meta values, in memory.

    Args:
        config: the run's config (kept as :attr:`config`).
        keep_predictors: keep every predictor checkpoint (False: only the latest, the default,
            which keeps memory flat over long benchmarks).
    """

    def __init__(self, config: dict | None = None, keep_predictors: bool = False) -> None:
        self.config = copy.deepcopy(config or {})
        self.keep_predictors = bool(keep_predictors)
        self._rows: dict[int, dict[str, Any]] = {}
        self._predictors: dict[int, dict] = {}
        self._pick: dict | None = None
        self._picks: list[dict] = []
        self._meta: dict[str, Any] = {}
        self._next_id = 1

    def __repr__(self) -> str:
        return f"MemoryStore(candidates={len(self._rows)})"

    def __len__(self) -> int:
        return len(self._rows)

    def add_candidate(self, iteration: int, cell: Cell, *, macs: float | None = None, params: int | None = None,
                      accuracy: float | None = None, score: float | None = None, seconds: float | None = None,
                      status: str = "ok", error: str | None = None, extra: dict | None = None) -> int:
        """Store one evaluated candidate (see :meth:`gemgraph.store.RunStore.add_candidate`)."""
        iteration = check_int(iteration, "iteration", 0)
        if not isinstance(cell, Cell):
            raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        if status not in _STATUSES:
            raise InputError(f"status: expected one of {list(_STATUSES)}, got {status!r}")
        if iteration in self._rows:
            raise StoreError(f"memory store: iteration {iteration} is already stored")
        cid = self._next_id
        self._next_id += 1
        self._rows[iteration] = {
            "id": cid, "iteration": iteration, "cell": cell, "macs": finite_or_none(macs, "macs"),
            "params": params, "accuracy": finite_or_none(accuracy, "accuracy"), "score": finite_or_none(score, "score"),
            "seconds": finite_or_none(seconds, "seconds"), "status": status,
            "error": None if error is None else str(error), "extra": dict(extra or {}),
        }
        return cid

    def candidates(self, status: str | None = None) -> list[dict[str, Any]]:
        """All candidates ordered by iteration (only ``status`` ones if given), as dicts."""
        if status is not None and status not in _STATUSES:
            raise InputError(f"status: expected one of {list(_STATUSES)} or None, got {status!r}")
        return [dict(self._rows[t]) for t in sorted(self._rows) if status is None or self._rows[t]["status"] == status]

    def candidate(self, iteration: int) -> dict[str, Any] | None:
        r = self._rows.get(check_int(iteration, "iteration", 0))
        return None if r is None else dict(r)

    def done_iterations(self) -> set[int]:
        return set(self._rows)

    def save_predictor(self, iteration: int, state: dict) -> None:
        iteration = check_int(iteration, "iteration", 0)
        if not self.keep_predictors:
            self._predictors.clear()
        self._predictors[iteration] = state

    def latest_predictor(self) -> tuple[int, dict] | None:
        if not self._predictors:
            return None
        t = max(self._predictors)
        return t, self._predictors[t]

    def set_pick(self, payload: dict) -> None:
        self._pick = copy.deepcopy(dict(payload))
        self._picks.append(self._pick)

    def pick(self) -> dict | None:
        return copy.deepcopy(self._pick)

    def picks(self) -> list[dict]:
        """Every pick set so far, oldest first."""
        return copy.deepcopy(self._picks)

    def set_meta(self, key: str, value: Any) -> None:
        self._meta[key] = copy.deepcopy(value)

    def get_meta(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self._meta.get(key, default))

    def summary(self) -> dict[str, Any]:
        """As :meth:`gemgraph.store.RunStore.summary`."""
        ok = [r for r in self._rows.values() if r["status"] == "ok"]
        scored = [r for r in ok if r["score"] is not None]
        best = max(scored, key=lambda r: (r["score"], -r["iteration"])) if scored else None
        return {
            "iterations_done": len(self._rows), "n_ok": len(ok), "n_failed": len(self._rows) - len(ok),
            "best": None if best is None else {k: best[k] for k in ("id", "iteration", "score", "accuracy", "macs")},
            "latest_predictor": max(self._predictors) if self._predictors else None, "pick": self.pick(),
        }

    def close(self) -> None:
        pass

    def __enter__(self) -> "MemoryStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
