r"""How the search proposes candidates: at random (the paper) or guided by the predictor.

A sampler splits the run's iterations into batches (:meth:`batches`) and proposes one cell
per iteration of a batch (:meth:`propose`). The loop evaluates a batch (in parallel on Ray),
stores every result, and only then asks for the next batch, so a proposal depends only on the
seed and on candidates stored *before* its batch: a resumed run proposes the same cells.

* :class:`RandomSampler` (``"random"``): cell ``t`` is a function of ``(seed, t)`` only, as in
  the paper's Algorithm 1.
* :class:`AcquisitionSampler` (``"acquisition"``, or by rule ``"mean"`` / ``"ucb"`` /
  ``"thompson"``): ``n_init`` random cells (the same as the random sampler's first ones), then
  batches of ``batch_size`` chosen from a fresh bootstrap pool of ``pool_size`` cells by the
  ensemble predictor refitted on everything evaluated so far: by its mean, an upper
  confidence bound ``mean + kappa * std``, or one Thompson-style draw from
  ``N(mean, std^2)`` per candidate. Cells already evaluated and repeats are never proposed.
* The field's methods (:mod:`gemgraph.peers`): ``"rea"`` (regularized evolution), ``"ls"``
  (local search), ``"bananas"`` (BANANAS) and ``"bowl"`` (NAS-BOWL), on spaces with
  ``neighbours(cell)``.
"""
from __future__ import annotations

from typing import Any

from .bootstrap import ACQUISITIONS, bootstrap_optimize
from .cell import Cell
from .peers import BananasSampler, BowlSampler, EvolutionSampler, LocalSearchSampler
from .utils import check_finite, check_int, derive_seed, init_then_batches
from .errors import InputError

__all__ = ["RandomSampler", "AcquisitionSampler", "SAMPLERS", "make_sampler", "available"]


class RandomSampler:
    r"""The paper's sampler: cell ``t`` drawn at random from ``(seed, t)``.

    Args:
        batch_size: iterations per batch (None: the whole run is one batch, so an executor
            may run every candidate in parallel; the loop still stores each as it finishes).
    """

    name = "random"

    def __init__(self, batch_size: int | None = None) -> None:
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size", 1)

    def __repr__(self) -> str:
        return f"RandomSampler(batch_size={self.batch_size})"

    def batches(self, iterations: int) -> list[range]:
        b = self.batch_size or max(1, iterations)
        return [range(s, min(s + b, iterations)) for s in range(0, iterations, b)]

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        return [search.candidate(t) for t in iterations]


class AcquisitionSampler:
    r"""Predictor-guided batches chosen by an acquisition rule over a bootstrap pool.

    Args:
        acquisition: ``"mean"``, ``"ucb"`` or ``"thompson"`` (see :data:`gemgraph.bootstrap.ACQUISITIONS`).
        batch_size: candidates per batch after the initial random ones (Ray evaluates a batch in parallel).
        n_init: random candidates first (at least 2: the predictor needs two points).
        kappa: the ``std`` multiplier of ``"ucb"`` (``mean`` ignores it).
        pool_size: cells sampled from the space per batch (None: the search's ``num_samples``;
            a finite space gives all its models when it holds fewer).

    The ensemble predictor (``n_members > 1``) supplies the ``std`` that ``"ucb"`` and
    ``"thompson"`` use; with one member they reduce to ``"mean"``.
    """

    name = "acquisition"

    def __init__(self, acquisition: str = "mean", batch_size: int = 10, n_init: int = 10, kappa: float = 1.0,
                 pool_size: int | None = None) -> None:
        if acquisition not in ACQUISITIONS:
            raise InputError(f"acquisition: expected one of {list(ACQUISITIONS)}, got {acquisition!r}")
        self.acquisition = acquisition
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.n_init = check_int(n_init, "n_init", 2)
        self.kappa = check_finite(kappa, "kappa")
        self.pool_size = None if pool_size is None else check_int(pool_size, "pool_size", 1)

    def __repr__(self) -> str:
        return (f"AcquisitionSampler(acquisition={self.acquisition!r}, batch_size={self.batch_size}, "
                f"n_init={self.n_init}, kappa={self.kappa}, pool_size={self.pool_size})")

    def batches(self, iterations: int) -> list[range]:
        return init_then_batches(iterations, self.n_init, self.batch_size)

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        start = iterations.start
        if start < self.n_init:
            return [search.candidate(t) for t in iterations]
        if not search.refit(before=start):
            # fewer than 2 successful candidates so far: keep exploring at random
            return [search.candidate(t) for t in iterations]
        evaluated = [r["cell"] for r in search.store.candidates() if r["iteration"] < start]
        res = bootstrap_optimize(
            search.predictor, search.encoder, search.space, num_samples=self.pool_size or search.num_samples,
            top_k=len(iterations), seed=derive_seed(search.seed, "pool", start), acquisition=self.acquisition,
            kappa=self.kappa if self.acquisition == "ucb" else 0.0, exclude=evaluated,
        )
        cells = [c.cell for c in res.candidates]
        if len(cells) < len(iterations):
            raise InputError(f"space: only {len(cells)} unevaluated distinct cells left for a batch of "
                             f"{len(iterations)} (iterations {start}..{iterations.stop - 1}); the space is exhausted")
        return cells


#: Sampler names -> (class, fixed keyword arguments).
SAMPLERS: dict[str, tuple[type, dict[str, Any]]] = {
    "random": (RandomSampler, {}),
    "acquisition": (AcquisitionSampler, {}),
    "mean": (AcquisitionSampler, {"acquisition": "mean"}),
    "ucb": (AcquisitionSampler, {"acquisition": "ucb"}),
    "thompson": (AcquisitionSampler, {"acquisition": "thompson"}),
    "rea": (EvolutionSampler, {}),
    "ls": (LocalSearchSampler, {}),
    "bananas": (BananasSampler, {}),
    "bowl": (BowlSampler, {}),
}


def available() -> list[str]:
    """Sampler names :func:`make_sampler` accepts."""
    return list(SAMPLERS)


def make_sampler(sampler: str | Any = "random", **kwargs: Any) -> Any:
    """A sampler by name (:data:`SAMPLERS`) with keyword arguments, or a sampler object as is."""
    if not isinstance(sampler, str):
        if not (hasattr(sampler, "batches") and hasattr(sampler, "propose")):
            raise InputError(f"sampler: expected a name in {available()} or an object with batches() and propose(), "
                             f"got {type(sampler).__name__}")
        return sampler
    if sampler not in SAMPLERS:
        raise InputError(f"sampler: expected one of {available()}, got {sampler!r}")
    cls, fixed = SAMPLERS[sampler]
    return cls(**{**kwargs, **fixed})
