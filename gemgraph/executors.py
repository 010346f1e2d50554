r"""Executors: how the search loop runs its evaluations (an :class:`~gemgraph.protocols.Executor`).

* :class:`LocalExecutor`: one after another, in this process;
* :class:`ProcessExecutor`: in parallel in a few local worker processes (the standard
  library's process pool, no extra dependency), a crashed worker becoming a failed candidate;
* :class:`RayExecutor`: in parallel as Ray tasks, a crashed worker becoming a failed candidate;
* :func:`make_executor`: ``"local"`` / ``"process"`` / ``"ray"`` by name (objects pass through).

An executor's ``run(evaluator, jobs)`` yields ``(iteration, cell, result)`` as evaluations
finish; :class:`~gemgraph.search.NASGEM` stores each result at once and refits on the
candidates sorted by iteration, so the order of completion does not change the outcome.
"""
from __future__ import annotations

import math
import os
import pickle
import time
import warnings
from collections.abc import Generator, Iterable, Iterator
from typing import Any

from .cell import Cell
from .protocols import Evaluator, Result
from .errors import InputError, MissingDependencyError

__all__ = ["LocalExecutor", "ProcessExecutor", "RayExecutor", "make_executor"]


class LocalExecutor:
    """Evaluate candidates one after another in this process."""

    def __repr__(self) -> str:
        return "LocalExecutor()"

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]:
        """Yield ``(iteration, cell, result)`` for each job, in order."""
        for t, cell in jobs:
            yield t, cell, trainer.evaluate(cell)

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor:
    r"""Evaluate candidates in parallel in ``workers`` local processes (spawned, so each one
    starts clean; the evaluator is sent to each worker once).

    A candidate's result does not depend on where it runs: the evaluator is the same object
    (pickled), and a :class:`~gemgraph.evaluate.ProxyTrainer` seeds each training from its own
    seed and the cell. Give the trainer a fixed ``num_threads`` (the quick preset's 1) so that
    ``workers x num_threads`` fits the machine's cores and results stay thread-count stable.

    An evaluation that raises in its worker is yielded as a failed
    :class:`~gemgraph.protocols.Result`; a worker that dies (killed, out of memory) fails the
    pool; each candidate that was in flight then runs again alone, and the one that kills its
    worker again becomes a failed candidate (``error`` says so). Setup
    errors (data not found, a module the workers cannot import) are raised, as
    :class:`LocalExecutor` raises them. One job (or ``workers=1``) runs in this process.

    Args:
        workers: worker processes, >= 1 (default: the usable CPU count).
    """

    def __init__(self, workers: int | None = None) -> None:
        from .utils import check_int  # noqa: PLC0415 - keep the module's import light

        self.workers = _cpu_count() if workers is None else check_int(workers, "workers", 1)

    def __repr__(self) -> str:
        return f"ProcessExecutor(workers={self.workers})"

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]:
        """Yield ``(iteration, cell, result)`` for each job as it finishes."""

        todo = list(jobs)
        if len(todo) <= 1 or self.workers == 1:
            yield from LocalExecutor().run(trainer, todo)
            return
        broken = yield from self._pool(trainer, todo, self.workers)
        # a dead worker breaks the whole pool, failing every job in flight: each of those runs
        # again alone, so only the cell that kills its worker again becomes a failed candidate
        for t, cell in broken:
            started = time.perf_counter()
            if (yield from self._pool(trainer, [(t, cell)], 1)):
                yield t, cell, _process_failed("a worker process died (killed, out of memory or crashed) while "
                                               "this cell was being evaluated", started)

    @staticmethod
    def _pool(trainer: Evaluator, todo: list[tuple[int, Cell]],
              workers: int) -> Generator[tuple[int, Cell, Any], None, list[tuple[int, Cell]]]:
        """Run ``todo`` in a fresh pool of ``workers``, yielding results; returns the jobs that
        a broken pool (a dead worker) failed."""
        import multiprocessing as mp  # noqa: PLC0415
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait  # noqa: PLC0415
        from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

        started = time.perf_counter()
        pool = ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=mp.get_context("spawn"),
                                   initializer=_process_init,
                                   initargs=(pickle.dumps(trainer), list(warnings.filters)))
        pending = {pool.submit(_process_evaluate, cell): (t, cell) for t, cell in todo}
        broken: list[tuple[int, Cell]] = []
        try:
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    t, cell = pending.pop(fut)
                    try:
                        res = fut.result()
                    except _SETUP_ERRORS:
                        raise
                    except BrokenProcessPool:
                        broken.append((t, cell))
                        continue
                    except Exception as exc:  # noqa: BLE001 - a fault in a worker becomes a failed candidate
                        res = _process_failed(f"{type(exc).__name__} in the worker process: {exc}", started)
                    yield t, cell, res
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        return sorted(broken, key=lambda j: j[0])

    def close(self) -> None:
        """Nothing held between runs (each run makes and shuts its pool)."""


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_WORKER_TRAINER: Any = None  # the evaluator of a ProcessExecutor worker process (set by its initializer)


def _process_init(trainer: bytes, filters: list) -> None:
    """A worker's start: the parent's warning filters first (the CLI's, say), then the evaluator
    (its unpickling imports the modules it needs, which may warn)."""
    global _WORKER_TRAINER  # noqa: PLW0603 - per worker process, never in the parent
    warnings.resetwarnings()
    try:
        for action, message, category, module, lineno in reversed(filters):  # inserted at the front: oldest first
            warnings.filterwarnings(action, message=getattr(message, "pattern", message) or "", category=category,
                                    module=getattr(module, "pattern", module) or "", lineno=lineno)
    except (TypeError, ValueError, AttributeError):  # a filter this Python cannot re-create: its defaults
        warnings.resetwarnings()
    _WORKER_TRAINER = pickle.loads(trainer)  # noqa: S301 - the parent's own bytes, handed over in memory


def _process_evaluate(cell: Cell) -> Any:
    return _WORKER_TRAINER.evaluate(cell)


def _process_failed(reason: str, started: float) -> Any:

    return Result(math.nan, None, None, math.nan, time.perf_counter() - started, status="failed", error=reason)


class RayExecutor:
    r"""Evaluate candidates in parallel as Ray tasks (``pip install gemgraph[ray]``).

    Args:
        address: Ray cluster address (``"auto"`` for an existing cluster); None starts a
            local instance (or uses the one already initialised in this process).
        num_gpus_per_trial: GPUs per evaluation; None = 1 when the cluster has GPUs, else 0.
        num_cpus_per_trial: CPUs per evaluation.
        max_concurrent: cap on evaluations in flight (None = as many as resources allow).
        log_to_driver: show the workers' output (prints, warnings, tracebacks) in this
            process; False (default) leaves it in Ray's session log folder
            (``/tmp/ray/session_latest/logs``). Only applies when this executor starts Ray.
        max_retries: how often Ray re-runs an evaluation whose worker process died (0 =
            never: a candidate that kills its worker, e.g. by running out of memory, would
            kill the retries too).
        init_kwargs: extra arguments for ``ray.init`` (e.g. ``num_cpus=2``).

    Results are yielded as they complete; the search stores each one immediately and refits
    the predictor on the candidates sorted by iteration, so the order of completion does not
    change the outcome.

    An evaluation that raises in its worker, or whose worker dies (killed, out of memory,
    crashed), does not stop the search: it is yielded as a failed
    :class:`~gemgraph.protocols.Result` (``status="failed"``, ``error`` = the reason), stored
    like any failed candidate and not retried by ``--resume``. Setup errors (data not found,
    a module the workers cannot import) are raised, as :class:`LocalExecutor` raises them.
    """

    def __init__(
        self,
        address: str | None = None,
        num_gpus_per_trial: float | None = None,
        num_cpus_per_trial: float = 1,
        max_concurrent: int | None = None,
        log_to_driver: bool = False,
        max_retries: int = 0,
        **init_kwargs: Any,
    ) -> None:
        try:
            import ray  # noqa: PLC0415 - ray is an optional dependency
        except ImportError:
            raise MissingDependencyError("RayExecutor needs Ray: pip install 'gemgraph[ray]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            kw = {"include_dashboard": False, "log_to_driver": bool(log_to_driver), **init_kwargs}
            ray.init(address=address, **kw)
            self._started = True
        if num_gpus_per_trial is None:
            num_gpus_per_trial = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        self.num_gpus_per_trial = num_gpus_per_trial
        self.num_cpus_per_trial = num_cpus_per_trial
        self.max_concurrent = max_concurrent
        self.log_to_driver = bool(log_to_driver)
        self.max_retries = int(max_retries)

    def __repr__(self) -> str:
        return (f"RayExecutor(num_gpus_per_trial={self.num_gpus_per_trial}, "
                f"num_cpus_per_trial={self.num_cpus_per_trial}, max_concurrent={self.max_concurrent}, "
                f"log_to_driver={self.log_to_driver}, max_retries={self.max_retries})")

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]:
        ray = self._ray
        remote = ray.remote(num_gpus=self.num_gpus_per_trial, num_cpus=self.num_cpus_per_trial,
                            max_retries=self.max_retries)(_evaluate_remote)
        trainer_ref = ray.put(trainer)
        pending: dict[Any, tuple[int, Cell]] = {}
        submitted: dict[Any, float] = {}
        jobs = iter(jobs)
        limit = self.max_concurrent or 10**9
        exhausted = False
        try:
            while True:
                while not exhausted and len(pending) < limit:
                    try:
                        t, cell = next(jobs)
                    except StopIteration:
                        exhausted = True
                        break
                    ref = remote.remote(trainer_ref, cell)
                    pending[ref] = (t, cell)
                    submitted[ref] = time.perf_counter()
                if not pending:
                    return
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    t, cell = pending.pop(ref)
                    started = submitted.pop(ref)
                    try:
                        res = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - every worker fault becomes a failed candidate
                        res = _failed_result(exc, ray, time.perf_counter() - started)
                    yield t, cell, res
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False


def _evaluate_remote(trainer: Evaluator, cell: Cell) -> Any:
    return trainer.evaluate(cell)


_SETUP_ERRORS = (FileNotFoundError, ImportError)


def _failed_result(exc: BaseException, ray: Any, seconds: float) -> Any:
    """The failed :class:`~gemgraph.protocols.Result` for a Ray task that raised or lost its
    worker; setup errors (see :data:`_SETUP_ERRORS`) are raised instead."""

    rex = ray.exceptions
    cause = getattr(exc, "cause", None) if isinstance(exc, rex.RayTaskError) else None
    if isinstance(cause, _SETUP_ERRORS) or isinstance(exc, _SETUP_ERRORS) and not isinstance(exc, rex.RayError):
        raise cause if cause is not None else exc
    if cause is not None:
        reason = f"{type(cause).__name__} in the Ray worker: {cause}"
    elif isinstance(exc, getattr(rex, "OutOfMemoryError", ())):
        reason = "the Ray worker ran out of memory and was killed"
    elif isinstance(exc, rex.WorkerCrashedError):
        reason = "the Ray worker died (killed, out of memory or crashed) while evaluating this cell"
    else:
        reason = f"Ray task failed: {type(exc).__name__}"
    detail = " ".join(str(exc).split())[:400]
    return Result(math.nan, None, None, math.nan, seconds, status="failed", error=f"{reason} ({detail})")


def make_executor(name: str | Any, **kwargs: Any) -> Any:
    """``"local"`` -> :class:`LocalExecutor`, ``"process"`` -> :class:`ProcessExecutor`, ``"ray"`` ->
    :class:`RayExecutor` (``kwargs`` go to the class); objects pass through."""
    if not isinstance(name, str):
        return name
    if name == "local":
        return LocalExecutor()
    if name == "process":
        return ProcessExecutor(**kwargs)
    if name == "ray":
        return RayExecutor(**kwargs)
    raise InputError(f"executor: expected 'local', 'process' or 'ray', got {name!r}")
