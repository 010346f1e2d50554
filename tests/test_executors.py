"""gemgraph.executors: LocalExecutor, make_executor, the failed result of a Ray fault (the Ray
runs themselves are in tests/test_ray.py), and the old import path through gemgraph.search."""
from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pytest

from gemgraph import Cell
from gemgraph.executors import LocalExecutor, ProcessExecutor, RayExecutor, _failed_result, make_executor


class _Echo:
    """An evaluator that records the cells it saw and returns their edge counts."""

    def __init__(self) -> None:
        self.seen: list[Cell] = []

    def evaluate(self, cell: Cell) -> int:
        self.seen.append(cell)
        return cell.num_edges


def _cells(n: int) -> list[Cell]:
    return [Cell(np.triu(np.ones((k + 2, k + 2), dtype=np.uint8), 1)) for k in range(n)]


def test_local_executor_runs_jobs_in_order_lazily():
    ev, cells = _Echo(), _cells(3)
    ex = LocalExecutor()
    it = ex.run(ev, [(7, cells[0]), (3, cells[1]), (5, cells[2])])
    assert ev.seen == []  # a generator: nothing runs before it is consumed
    assert list(it) == [(7, cells[0], 1), (3, cells[1], 3), (5, cells[2], 6)]
    assert ev.seen == cells and repr(ex) == "LocalExecutor()"
    ex.close()


def test_make_executor():
    assert isinstance(make_executor("local"), LocalExecutor)
    mine = LocalExecutor()
    assert make_executor(mine) is mine  # objects pass through
    assert isinstance(make_executor("process", workers=2), ProcessExecutor)
    with pytest.raises(ValueError, match="executor: expected 'local', 'process' or 'ray', got 'dask'"):
        make_executor("dask")


def test_search_reexports_the_executors():
    from gemgraph import search

    assert search.LocalExecutor is LocalExecutor and search.RayExecutor is RayExecutor
    assert search.make_executor is make_executor


def _fake_ray():
    class RayError(Exception):
        pass

    class RayTaskError(RayError):
        def __init__(self, cause):
            super().__init__(f"task raised {cause!r}")
            self.cause = cause

    class WorkerCrashedError(RayError):
        pass

    return types.SimpleNamespace(exceptions=types.SimpleNamespace(
        RayError=RayError, RayTaskError=RayTaskError, WorkerCrashedError=WorkerCrashedError))


def test_failed_result_names_the_reason_and_raises_setup_errors():
    ray = _fake_ray()
    rex = ray.exceptions
    res = _failed_result(rex.RayTaskError(RuntimeError("boom")), ray, 1.5)
    assert res.status == "failed" and "RuntimeError in the Ray worker: boom" in res.error
    assert math.isnan(res.accuracy) and res.train_seconds == 1.5
    assert "worker died" in _failed_result(rex.WorkerCrashedError("gone"), ray, 0.0).error
    with pytest.raises(FileNotFoundError, match="data"):  # setup errors stop the search, as locally
        _failed_result(rex.RayTaskError(FileNotFoundError("data")), ray, 0.0)


def test_process_executor_gives_the_local_results_and_survives_faults():
    """Real worker processes: the same proxy results as in this process; a raising cell and a
    cell that kills its worker become failed candidates, the others still finish."""
    from tests._search_helpers import FaultyTrainer, tiny_data

    from gemgraph import SearchSpace
    from gemgraph.evaluate import ProxyTrainer

    train, ev = tiny_data()
    trainer = ProxyTrainer(epochs=1, batch_size=16, width=4, train_data=train, eval_data=ev, device="cpu", seed=3,
                           num_threads=1)
    cells = SearchSpace(6, max_concat=2).sample(4, seed=1)
    local = {t: r for t, _, r in LocalExecutor().run(trainer, list(enumerate(cells)))}
    ex = ProcessExecutor(workers=2)
    with warnings.catch_warnings():  # the workers take the parent's filters (the CLI sets one like these)
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit\._script")
        warnings.filterwarnings("ignore", message="some text", category=UserWarning)
        warnings.simplefilter("default", DeprecationWarning)
        got = {t: r for t, _, r in ex.run(trainer, list(enumerate(cells)))}
    assert sorted(got) == [0, 1, 2, 3]
    for t in got:
        assert got[t].accuracy == local[t].accuracy and got[t].score == local[t].score
    faulty = FaultyTrainer(trainer, raise_on=[cells[1]], kill_on=[cells[2]])
    res = {t: r for t, _, r in ex.run(faulty, list(enumerate(cells)))}
    assert sorted(res) == [0, 1, 2, 3]
    assert res[1].status == "failed" and "boom" in res[1].error
    assert res[2].status == "failed" and "worker process died" in res[2].error
    assert res[0].accuracy == local[0].accuracy and res[3].accuracy == local[3].accuracy
    with pytest.raises(ValueError, match="workers"):
        ProcessExecutor(workers=0)
