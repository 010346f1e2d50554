r"""The NASGEM search (the paper's Algorithm 1), resumable, then bootstrap optimisation.

Algorithm 1, for t = 0 .. T-1:

1. sample a cell from the search space (cell t depends only on ``(seed, t)``);
2. embed it with the trained graph encoder;
3. build its network and train it briefly on the proxy set (an executor does this: in
   process, or in parallel on Ray);
4. compute its efficiency score ``S = ACC - lam * ln(MACs in millions)``;
5. refit the predictor on every (embedding, score) pair so far (failed candidates excluded).

Then bootstrap optimisation samples ``num_samples`` cells (respecting the concatenation cap),
embeds them, and takes the argmax of the predictor: that cell, stacked into a network, is a
GEMNet. Optionally the top-k are trained too and re-ranked by their measured score.

Every evaluated candidate is committed to the :class:`~gemgraph.store.RunStore` before the
next one starts; a killed run resumes from the store, losing at most the candidate in flight.
Because cell t, its training and the predictor refit (on the candidates sorted by iteration)
depend only on the seed and the stored results, a resumed CPU run ends with the same pick as
an uninterrupted one.
"""
from __future__ import annotations

import math
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

from .bootstrap import BootstrapResult, bootstrap_optimize
from .cell import Cell
from .encoders.base import Encoder
from .predictor import EfficiencyPredictor
from .space import SearchSpace
from .store import cell_from_json, cell_to_json
from .utils import finite_or_none

__all__ = ["NASGEM", "LocalExecutor", "RayExecutor", "SearchResult", "cell_from_json", "derive_seed", "make_executor"]


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 62-bit seed derived from ``seed`` and ``keys`` (independent streams per key)."""
    ints = [int(seed)] + [k if isinstance(k, int) else zlib.crc32(str(k).encode()) for k in keys]
    return int(np.random.SeedSequence(ints).generate_state(1, dtype=np.uint64)[0]) & ((1 << 62) - 1)


class Evaluator(Protocol):
    """Anything with ``evaluate(cell) -> Result`` (e.g. :class:`~gemgraph.evaluate.ProxyTrainer`)."""

    def evaluate(self, cell: Cell) -> Any: ...


# ---------------------------------------------------------------------- executors
class LocalExecutor:
    """Evaluate candidates one after another in this process."""

    def __repr__(self) -> str:
        return "LocalExecutor()"

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]:
        """Yield ``(iteration, cell, result)`` for each job, in order."""
        for t, cell in jobs:
            yield t, cell, trainer.evaluate(cell)

    def close(self) -> None:
        pass


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
    :class:`~gemgraph.evaluate.Result` (``status="failed"``, ``error`` = the reason), stored
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
            import ray
        except ImportError:
            raise ImportError("RayExecutor needs Ray: pip install 'gemgraph[ray]'") from None
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
    """The failed :class:`~gemgraph.evaluate.Result` for a Ray task that raised or lost its
    worker; setup errors (see :data:`_SETUP_ERRORS`) are raised instead."""
    from .evaluate import Result

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
    """``"local"`` -> :class:`LocalExecutor`, ``"ray"`` -> :class:`RayExecutor`; objects pass through."""
    if not isinstance(name, str):
        return name
    if name == "local":
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(**kwargs)
    raise ValueError(f"executor: expected 'local' or 'ray', got {name!r}")


# ---------------------------------------------------------------------- results
@dataclass
class SearchResult:
    """What :meth:`NASGEM.run` returns.

    Attributes:
        best: the picked cell (the GEMNet cell).
        top: the bootstrap's top-k as dicts ``{"cell", "predicted", "verified"}`` (``verified``
            = measured efficiency score when ``verify_top`` was set, else None), ranked by
            verified score when available, else by predicted score.
        bootstrap: the :class:`~gemgraph.bootstrap.BootstrapResult`.
        iterations_done: candidates evaluated (all runs of this store).
        n_failed: of which failed.
        seconds: wall time of this call.
    """

    best: Cell
    top: list[dict[str, Any]] = field(default_factory=list)
    bootstrap: BootstrapResult | None = None
    iterations_done: int = 0
    n_failed: int = 0
    seconds: float = 0.0


class NASGEM:
    r"""The NASGEM search: Algorithm 1, then bootstrap optimisation.

    Args:
        space: the :class:`~gemgraph.SearchSpace` (its ``max_concat`` caps both the sampled
            candidates and the bootstrap samples).
        encoder: a trained graph encoder (see :func:`gemgraph.embedding.train_encoder`).
        predictor: an (unfitted) :class:`~gemgraph.predictor.EfficiencyPredictor`; it is
            refitted from scratch on all stored candidates after each evaluation.
        trainer: evaluates a cell (``evaluate(cell) -> Result`` with ``accuracy, macs, params,
            score, train_seconds, status, error``), e.g. :class:`~gemgraph.evaluate.ProxyTrainer`.
        store: the :class:`~gemgraph.store.RunStore` of this run.
        seed: seeds the candidates and the bootstrap.
        num_samples: bootstrap samples (the paper: 50,000).
        top_k: candidates kept by the bootstrap.
        verify_top: train this many of the top-k and re-rank them by measured score (0 = no).
        executor: ``"local"`` (default), ``"ray"`` or an executor object.
        progress: tqdm progress bar with ETA.
    """

    def __init__(
        self,
        space: SearchSpace,
        encoder: Encoder,
        predictor: EfficiencyPredictor,
        trainer: Evaluator,
        store: Any,
        *,
        seed: int = 0,
        num_samples: int = 50_000,
        top_k: int = 5,
        verify_top: int = 0,
        executor: str | Any = "local",
        progress: bool = True,
    ) -> None:
        if not isinstance(space, SearchSpace):
            raise ValueError(f"space: expected a SearchSpace, got {type(space).__name__}")
        if not isinstance(encoder, Encoder):
            raise ValueError(f"encoder: expected a gemgraph Encoder, got {type(encoder).__name__}")
        if encoder.num_nodes < space.num_nodes:
            raise ValueError(f"encoder: num_nodes={encoder.num_nodes} is smaller than the space's {space.num_nodes}")
        if not hasattr(trainer, "evaluate"):
            raise ValueError(f"trainer: expected an object with evaluate(cell), got {type(trainer).__name__}")
        if verify_top > top_k:
            raise ValueError(f"verify_top: expected at most top_k={top_k}, got {verify_top}")
        self.space, self.encoder, self.predictor, self.trainer, self.store = space, encoder, predictor, trainer, store
        self.seed, self.num_samples, self.top_k, self.verify_top = int(seed), int(num_samples), int(top_k), int(verify_top)
        self.executor = executor
        self.progress = progress

    def __repr__(self) -> str:
        return (f"NASGEM(space={self.space!r}, encoder={type(self.encoder).__name__}, "
                f"predictor={self.predictor!r}, trainer={self.trainer!r}, seed={self.seed})")

    # ------------------------------------------------------------------ pieces
    def candidate(self, t: int) -> Cell:
        """Cell number ``t`` of this run (a function of ``(seed, t)`` only)."""
        return self.space.sample(1, seed=derive_seed(self.seed, "candidate", t))[0]

    def refit(self) -> bool:
        """Refit the predictor on all successful stored candidates (sorted by iteration).

        Returns:
            False when fewer than 2 candidates have a finite score (predictor left unfitted).
        """
        rows = [r for r in self.store.candidates(status="ok") if r["score"] is not None]
        if len(rows) < 2:
            return False
        rows.sort(key=lambda r: r["iteration"])
        Z = self.encoder.embed([r["cell"] for r in rows])
        y = np.array([r["score"] for r in rows], dtype=np.float64)
        self.predictor.fit(Z, y)
        return True

    def evaluate_all(self, iterations: int) -> None:
        """Algorithm 1 for iterations ``0 .. iterations-1``, skipping those already stored."""
        done = self.store.done_iterations()
        todo = [t for t in range(iterations) if t not in done]
        executor = make_executor(self.executor)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=iterations, initial=iterations - len(todo), desc="NASGEM search", unit="cand")
        try:
            jobs = ((t, self.candidate(t)) for t in todo)
            for t, cell, res in executor.run(self.trainer, jobs):
                score = finite_or_none(res.score, "score")
                no_score = res.status == "ok" and score is None  # "ok" without a usable score
                self.store.add_candidate(
                    t, cell, macs=res.macs, params=None if res.params is None else int(res.params),
                    accuracy=res.accuracy, score=score, seconds=res.train_seconds,
                    status="failed" if no_score else res.status,
                    error=(res.error or "non-finite score") if score is None else res.error,
                    extra={k: v for k, v in res.to_dict().items() if k in ("loss", "eval_seconds", "num_train", "epochs")
                           and (not isinstance(v, float) or math.isfinite(v))},
                )
                if self.refit():
                    self.store.save_predictor(t, self.predictor.state_dict())
                if bar is not None:
                    bar.update(1)
                    best = self.store.summary().get("best")
                    if best:
                        bar.set_postfix(best_score=f"{best['score']:.3f}", last=res.status)
        finally:
            if bar is not None:
                bar.close()
            if isinstance(self.executor, str):
                executor.close()

    def bootstrap(self) -> SearchResult:
        """Bootstrap optimisation with the current predictor (+ optional verification)."""
        if not hasattr(self.predictor, "members_") and not self.refit():
            raise ValueError("store: fewer than 2 successful candidates; run more iterations before the bootstrap")
        boot = bootstrap_optimize(self.predictor, self.encoder, self.space, num_samples=self.num_samples,
                                  top_k=self.top_k, seed=derive_seed(self.seed, "bootstrap"))
        top = [{"cell": c.cell, "predicted": c.predicted, "verified": None, "accuracy": None, "macs": None,
                "params": None} for c in boot.candidates]
        for entry in top[: self.verify_top]:
            r = self.trainer.evaluate(entry["cell"])
            entry.update(verified=finite_or_none(r.score, "score"), accuracy=finite_or_none(r.accuracy, "accuracy"),
                         macs=finite_or_none(r.macs, "macs"), params=r.params)
        if self.verify_top:
            verified = [e for e in top[: self.verify_top] if e["verified"] is not None]
            rest = [e for e in top if e not in verified]
            top = sorted(verified, key=lambda e: -e["verified"]) + rest
        summ = self.store.summary()
        self.store.set_pick({
            "best": cell_to_json(top[0]["cell"]),
            "top": [{**{k: v for k, v in e.items() if k != "cell"}, "cell": cell_to_json(e["cell"])} for e in top],
            "num_samples": boot.num_evaluated, "seed": self.seed, "iterations_done": summ["iterations_done"],
        })
        return SearchResult(best=top[0]["cell"], top=top, bootstrap=boot, iterations_done=summ["iterations_done"],
                            n_failed=summ["n_failed"])

    def run(self, iterations: int) -> SearchResult:
        r"""Run (or resume) Algorithm 1 for ``iterations`` candidates, then the bootstrap.

        Args:
            iterations: T, total candidates of the run (already stored ones are skipped).

        Returns:
            :class:`SearchResult`.
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 2:
            raise ValueError(f"iterations: expected an int >= 2 (the predictor needs two points), got {iterations!r}")
        t0 = time.perf_counter()
        self.evaluate_all(iterations)
        res = self.bootstrap()  # fits the predictor first when no evaluation did
        res.seconds = time.perf_counter() - t0
        return res
