r"""The NASGEM search (the paper's Algorithm 1), resumable, then bootstrap optimisation.

Algorithm 1, for t = 0 .. T-1:

1. sample a cell from the search space (cell t depends only on ``(seed, t)``);
2. embed it with the trained graph encoder;
3. build its network and train it briefly on the proxy set (an executor does this: in
   process, or in parallel on Ray);
4. compute its efficiency score ``S = ACC - lam * ln(MACs in millions)``;
5. refit the predictor on every (embedding, score) pair so far (failed candidates excluded).

Beyond the paper, the candidates can be proposed by the predictor (``sampler="acquisition"``,
:mod:`gemgraph.samplers`): a few random cells, then batches chosen from a bootstrap pool by the
ensemble's mean, an upper confidence bound or Thompson-style draws, the predictor refitted
before each batch. The loop talks only to the small interfaces of :mod:`gemgraph.protocols`,
so a NAS-Bench-101 benchmark (:mod:`gemgraph.nb101`) runs this same loop.

Then bootstrap optimisation samples ``num_samples`` cells (respecting the space's
constraints), embeds them, and ranks them by the predictor, the evaluated candidates standing
with their *measured* scores (a predicted-only pick must beat them); optionally the best
unmeasured ones are evaluated too and everything is re-ranked by measured score. The pick,
stacked into a network, is a GEMNet.

Every evaluated candidate is committed to the :class:`~gemgraph.store.RunStore` before the
next one starts; a killed run resumes from the store, losing at most the candidate in flight.
Because cell t, its training and the predictor refit (on the candidates sorted by iteration)
depend only on the seed and the stored results, a resumed CPU run ends with the same pick as
an uninterrupted one.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .bootstrap import BootstrapResult, bootstrap_optimize, network_key
from .cell import Cell
from .samplers import make_sampler
from .store import cell_from_json, cell_to_json
from .utils import check_finite, check_int, derive_seed, finite_or_none, is_fitted, random_candidate
from .errors import InputError

__all__ = ["NASGEM", "LocalExecutor", "RayExecutor", "SearchResult", "cell_from_json", "derive_seed", "make_executor"]


from .protocols import Evaluator, GraphEncoder, Predictor  # noqa: E402 - Evaluator re-exported here, as before
from .executors import LocalExecutor, RayExecutor, make_executor  # noqa: E402 - moved to gemgraph.executors; re-exported


# ---------------------------------------------------------------------- results
@dataclass
class SearchResult:
    """What :meth:`NASGEM.run` returns.

    Attributes:
        best: the picked cell (the GEMNet cell).
        top: the bootstrap's top-k as dicts ``{"cell", "predicted", "std", "measured",
            "verified", "accuracy", "macs", "params"}``: ``measured`` is the stored score of an
            evaluated candidate or the ``verified`` score of one evaluated by ``verify_top``
            (else None); ranked by measured score first when ``verify_top`` was set, else in
            the bootstrap's incumbent-aware order.
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
    r"""The NASGEM search: Algorithm 1 (or a predictor-guided variant), then bootstrap optimisation.

    Args:
        space: a search space (:class:`~gemgraph.protocols.Space`): the 30-node
            :class:`~gemgraph.SearchSpace` (its constraints hold for both the candidates and
            the bootstrap samples) or, for benchmarks, :class:`~gemgraph.nb101.NB101Space`.
        encoder: a trained graph encoder (:class:`~gemgraph.protocols.GraphEncoder`: any
            :class:`~gemgraph.encoders.Encoder`, see :func:`gemgraph.embedding.train_encoder`).
        predictor: an (unfitted) predictor (:class:`~gemgraph.protocols.Predictor`, e.g.
            :class:`~gemgraph.predictor.EfficiencyPredictor`); it is refitted from scratch on
            all stored candidates (sorted by iteration) when needed.
        trainer: the evaluator (``evaluate(cell) -> Result`` with ``accuracy, macs, params,
            score, train_seconds, status, error``), e.g. :class:`~gemgraph.evaluate.ProxyTrainer`
            or :class:`~gemgraph.nb101.NB101Evaluator`; None for bootstrap-only use (a fitted
            ``predictor``, :meth:`bootstrap` with ``verify_top=0``): :meth:`run` and
            :meth:`evaluate_all` then raise a ValueError.
        store: the :class:`~gemgraph.store.RunStore` of this run (or a
            :class:`~gemgraph.memstore.MemoryStore`).
        seed: seeds the candidates and the bootstrap.
        num_samples: bootstrap samples (the paper: 50,000); also the acquisition pool size
            unless the sampler sets one.
        top_k: candidates kept by the bootstrap.
        verify_top: evaluate this many of the best *unmeasured* bootstrap candidates and rank
            them by measured score (0 = no).
        sampler: how candidates are proposed: ``"random"`` (the paper), ``"acquisition"`` /
            ``"mean"`` / ``"ucb"`` / ``"thompson"`` (predictor-guided batches, see
            :mod:`gemgraph.samplers`) or a sampler object.
        sampler_options: keyword arguments of a sampler given by name (e.g. ``batch_size``).
        kappa: the final pick ranks unmeasured candidates by ``mean + kappa * std``
            (``< 0`` pessimistic, ``> 0`` optimistic, 0 the mean); measured candidates
            always stand with their measured score.
        checkpoint_every: refit the predictor and store a checkpoint after every this many
            evaluations (1: after each, as Algorithm 1; 0: only when the sampler needs a fit
            and for the bootstrap).
        executor: ``"local"`` (default), ``"ray"`` or an executor object.
        progress: tqdm progress bar with ETA.
    """

    def __init__(
        self,
        space: Any,
        encoder: GraphEncoder,
        predictor: Predictor,
        trainer: Evaluator | None,
        store: Any,
        *,
        seed: int = 0,
        num_samples: int = 50_000,
        top_k: int = 5,
        verify_top: int = 0,
        sampler: str | Any = "random",
        sampler_options: dict[str, Any] | None = None,
        kappa: float = 0.0,
        checkpoint_every: int = 1,
        executor: str | Any = "local",
        progress: bool = True,
    ) -> None:
        if not all(hasattr(space, a) for a in ("num_nodes", "sample", "sample_tensors")):
            raise InputError(f"space: expected a search space with num_nodes, sample() and sample_tensors() "
                             f"(e.g. a SearchSpace), got {type(space).__name__}")
        if not isinstance(encoder, GraphEncoder):
            raise InputError(f"encoder: expected a graph encoder with num_nodes and embed(cells) (e.g. a gemgraph "
                             f"Encoder), got {type(encoder).__name__}")
        if not isinstance(predictor, Predictor):
            raise InputError(f"predictor: expected a predictor with fit, predict and state_dict (e.g. an "
                             f"EfficiencyPredictor), got {type(predictor).__name__}")
        if encoder.num_nodes < space.num_nodes:
            raise InputError(f"encoder: num_nodes={encoder.num_nodes} is smaller than the space's {space.num_nodes}")
        if trainer is not None and not hasattr(trainer, "evaluate"):
            raise InputError(f"trainer: expected an object with evaluate(cell) (or None: bootstrap only), "
                             f"got {type(trainer).__name__}")
        if trainer is None and verify_top:
            raise InputError(f"verify_top: expected 0 without a trainer (trainer=None: bootstrap only), "
                             f"got {verify_top}")
        check_int(top_k, "top_k", 1)
        check_int(verify_top, "verify_top", 0)
        check_int(num_samples, "num_samples", 1)
        check_int(checkpoint_every, "checkpoint_every", 0)
        if verify_top > top_k:
            raise InputError(f"verify_top: expected at most top_k={top_k}, got {verify_top}")
        check_finite(kappa, "kappa")
        self.space, self.encoder, self.predictor, self.trainer, self.store = space, encoder, predictor, trainer, store
        self.seed, self.num_samples = int(seed), int(num_samples)
        self.top_k, self.verify_top = int(top_k), int(verify_top)
        self.sampler = make_sampler(sampler, **dict(sampler_options or {}))
        if getattr(self.sampler, "needs_neighbours", False) and not hasattr(space, "neighbours"):
            raise InputError(f"sampler: {getattr(self.sampler, 'name', type(self.sampler).__name__)!r} mutates cells "
                             f"and needs a space with neighbours(cell) (e.g. NB101Space); "
                             f"{type(space).__name__} has none")
        self.kappa = float(kappa)
        self.checkpoint_every = int(checkpoint_every)
        self.executor = executor
        self.progress = progress
        self._fitted_on: tuple[int, ...] | None = None

    def __repr__(self) -> str:
        return (f"NASGEM(space={self.space!r}, encoder={type(self.encoder).__name__}, "
                f"predictor={self.predictor!r}, trainer={self.trainer!r}, sampler={self.sampler!r}, seed={self.seed})")

    # ------------------------------------------------------------------ pieces
    def candidate(self, t: int) -> Cell:
        """Random cell number ``t`` of this run (a function of ``(seed, t)`` only;
        :func:`gemgraph.utils.random_candidate`)."""
        return random_candidate(self.space, self.seed, t)

    def refit(self, before: int | None = None) -> bool:
        """Refit the predictor on the successful stored candidates (sorted by iteration).

        Args:
            before: only candidates of iterations ``< before`` (None: all). A sampler uses
                this so that a batch depends only on what was evaluated before it.

        Returns:
            False when fewer than 2 candidates have a finite score (predictor left as is).
            A refit on exactly the candidates of the last fit is skipped (same data, same
            seed: the same predictor).
        """
        rows = [r for r in self.store.candidates(status="ok") if r["score"] is not None
                and (before is None or r["iteration"] < before)]
        if len(rows) < 2:
            return False
        rows.sort(key=lambda r: r["iteration"])
        key = tuple(r["iteration"] for r in rows)
        if key == self._fitted_on and is_fitted(self.predictor):
            return True
        Z = self.encoder.embed([r["cell"] for r in rows])
        y = np.array([r["score"] for r in rows], dtype=np.float64)
        self.predictor.fit(Z, y)
        self._fitted_on = key
        return True

    def _store_result(self, t: int, cell: Cell, res: Any) -> float | None:
        """Store one evaluation; returns the score stored for a successful one (None otherwise)."""
        score = finite_or_none(res.score, "score")
        no_score = res.status == "ok" and score is None  # "ok" without a usable score
        self.store.add_candidate(
            t, cell, macs=res.macs, params=None if res.params is None else int(res.params),
            accuracy=res.accuracy, score=score, seconds=res.train_seconds,
            status="failed" if no_score else res.status,
            error=(res.error or "non-finite score") if score is None else res.error,
            extra={k: v for k in ("loss", "eval_seconds", "num_train", "epochs")
                   if hasattr(res, k) and (not isinstance(v := getattr(res, k), float) or math.isfinite(v))},
        )
        return score if res.status == "ok" else None

    def _checkpoint(self, t: int) -> None:
        if self.refit():
            self.store.save_predictor(t, self.predictor.state_dict())

    def evaluate_all(self, iterations: int) -> None:
        """Evaluate iterations ``0 .. iterations-1`` batch by batch, skipping those already stored."""
        if self.trainer is None:
            raise InputError("trainer: expected an evaluator to evaluate candidates, got None (this NASGEM was made "
                             "for bootstrap only)")
        check_int(iterations, "iterations", 0)
        done = self.store.done_iterations()
        executor = make_executor(self.executor)
        bar = None
        best_score = None  # the best stored score, kept up to date here (not re-read from the store)
        if self.progress:
            bar = tqdm(total=iterations, initial=len([t for t in done if t < iterations]), desc="NASGEM search",
                       unit="cand")
            best = self.store.summary().get("best")
            best_score = None if best is None else best["score"]
        try:
            for its in self.sampler.batches(iterations):
                if all(t in done for t in its):
                    continue
                cells = self.sampler.propose(self, its)
                jobs = [(t, c) for t, c in zip(its, cells) if t not in done]
                since = 0
                last = None
                for t, cell, res in executor.run(self.trainer, jobs):
                    score = self._store_result(t, cell, res)
                    if score is not None and (best_score is None or score > best_score):
                        best_score = score
                    done.add(t)
                    since += 1
                    last = t
                    if self.checkpoint_every and since % self.checkpoint_every == 0:
                        self._checkpoint(t)
                    if bar is not None:
                        bar.update(1)
                        if best_score is not None:
                            bar.set_postfix(best_score=f"{best_score:.3f}", last=res.status)
                if self.checkpoint_every and last is not None and since % self.checkpoint_every:
                    self._checkpoint(last)
        finally:
            if bar is not None:
                bar.close()
            if isinstance(self.executor, str):
                executor.close()

    def bootstrap(self) -> SearchResult:
        r"""Bootstrap optimisation with the predictor refitted on every stored candidate.

        Incumbent-aware: evaluated candidates take part with their measured score, so the
        pick is never a predicted-only cell when a measured one is better than its
        acquisition value (``mean + kappa * std``). ``verify_top`` evaluates the best
        unmeasured candidates; the final ranking puts measured scores first.
        """
        if not self.refit():
            raise InputError("store: fewer than 2 successful candidates; run more iterations before the bootstrap")
        ok = [r for r in self.store.candidates(status="ok") if r["score"] is not None]
        boot = bootstrap_optimize(self.predictor, self.encoder, self.space, num_samples=self.num_samples,
                                  top_k=self.top_k + self.verify_top, seed=derive_seed(self.seed, "bootstrap"),
                                  kappa=self.kappa, incumbents=[(r["cell"], r["score"]) for r in ok],
                                  min_predicted=self.verify_top, progress=self.progress)
        top: list[dict[str, Any]] = [{"cell": c.cell, "predicted": c.predicted, "std": c.std, "measured": c.measured,
                "verified": None, "accuracy": None, "macs": None, "params": None} for c in boot.candidates]
        by_key: dict[Cell, dict[str, Any]] = {}
        for r in ok:  # the row bootstrap_optimize stands for its network: the first with the best score
            k = network_key(r["cell"])
            if k not in by_key or r["score"] > by_key[k]["score"]:
                by_key[k] = r
        for e in top:
            if e["measured"] is not None:  # an incumbent: its stored measurement
                r = by_key.get(network_key(e["cell"]))
                if r is not None:
                    e.update(accuracy=r["accuracy"], macs=r["macs"], params=r["params"])
        todo = [e for e in top if e["measured"] is None][: self.verify_top]
        verified: dict[int, Any] = {}
        if todo:
            assert self.trainer is not None  # verify_top > 0 needs a trainer (checked in __init__)
            executor = make_executor(self.executor)  # the verifications run in parallel where candidates do
            try:
                for i, _, r in executor.run(self.trainer, [(i, e["cell"]) for i, e in enumerate(todo)]):
                    verified[i] = r
            finally:
                if isinstance(self.executor, str):
                    executor.close()
        for i, e in enumerate(todo):
            r = verified[i]
            e.update(verified=finite_or_none(r.score, "score"), accuracy=finite_or_none(r.accuracy, "accuracy"),
                     macs=finite_or_none(r.macs, "macs"), params=r.params)
            e["measured"] = e["verified"]
        if self.verify_top:
            # measured (incumbents and verified) by measured score, then the unmeasured by rank
            top = (sorted([e for e in top if e["measured"] is not None], key=lambda e: -e["measured"])
                   + [e for e in top if e["measured"] is None])
        top = top[: self.top_k]
        summ = self.store.summary()
        self.store.set_pick({
            "best": cell_to_json(top[0]["cell"]),
            "top": [{**{k: v for k, v in e.items() if k != "cell"}, "cell": cell_to_json(e["cell"])} for e in top],
            "num_samples": boot.num_evaluated, "seed": self.seed, "iterations_done": summ["iterations_done"],
            "sampler": repr(self.sampler), "kappa": self.kappa, "verify_top": self.verify_top,
        })
        return SearchResult(best=top[0]["cell"], top=top, bootstrap=boot, iterations_done=summ["iterations_done"],
                            n_failed=summ["n_failed"])

    def run(self, iterations: int) -> SearchResult:
        r"""Run (or resume) the search for ``iterations`` candidates, then the bootstrap.

        Args:
            iterations: T, total candidates of the run (already stored ones are skipped).

        Returns:
            :class:`SearchResult`.
        """
        if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 2:
            raise InputError(f"iterations: expected an int >= 2 (the predictor needs two points), got {iterations!r}")
        t0 = time.perf_counter()
        self.evaluate_all(iterations)
        res = self.bootstrap()
        res.seconds = time.perf_counter() - t0
        return res
