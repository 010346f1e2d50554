r"""The plug points of the search loop, as small structural protocols (NASLib style).

:class:`~gemgraph.search.NASGEM` talks to these interfaces only, so a new space, evaluator,
predictor, executor, sampler or store plugs in without touching the loop:

* :class:`Space`: where candidates come from (:class:`~gemgraph.SearchSpace`, the 30-node
  supernet; :class:`~gemgraph.nb101.NB101Space`, the models of a NAS-Bench-101 file).
* :class:`Evaluator`: ``evaluate(cell) -> result`` (:class:`~gemgraph.evaluate.ProxyTrainer`
  trains; :class:`~gemgraph.nb101.NB101Evaluator` looks accuracies up).
* :class:`Predictor`: a scikit-learn regressor with ``predict(Z, return_std=True)`` and a
  ``state_dict`` (:class:`~gemgraph.predictor.EfficiencyPredictor`).
* :class:`Executor`: runs evaluations (:class:`~gemgraph.executors.LocalExecutor`,
  :class:`~gemgraph.executors.RayExecutor`).
* :class:`Sampler`: proposes each batch of candidates (:mod:`gemgraph.samplers`).
* :class:`Store`: keeps every evaluated candidate (:class:`~gemgraph.store.RunStore` on disk,
  :class:`~gemgraph.memstore.MemoryStore` in memory).

They are ``typing.Protocol`` classes with ``runtime_checkable``: ``isinstance(x, Space)``
checks that the methods exist (not their signatures).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from .cell import Cell

__all__ = ["Space", "Evaluator", "Predictor", "Executor", "Sampler", "Store", "EvalResult"]


@runtime_checkable
class Space(Protocol):
    """A search space: ``num_nodes`` (cells are padded to it) and seeded sampling.

    Optional: ``draw(t, seed) -> Cell``, the t-th candidate of a seeded stream (a finite space
    uses it for random search without replacement); without it the loop samples one cell per
    iteration from a seed derived from ``(seed, t)``.
    """

    num_nodes: int

    def sample(self, n: int, seed: Any = 0) -> list[Cell]:
        """``n`` cells (fewer only for a finite space that holds fewer)."""
        ...

    def sample_tensors(self, n: int, seed: Any = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` cells as ``(adj (n, N, N) bool, ops (n, N) int64 or None)``."""
        ...


class EvalResult(Protocol):
    """What an evaluator returns: ``accuracy, macs, params, score, train_seconds, status, error``
    and ``to_dict()`` (e.g. :class:`gemgraph.evaluate.Result`)."""

    accuracy: float
    macs: float
    params: int
    score: float
    train_seconds: float
    status: str
    error: str | None

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Evaluator(Protocol):
    """Anything with ``evaluate(cell) -> result`` (see :class:`EvalResult`)."""

    def evaluate(self, cell: Cell) -> Any: ...


@runtime_checkable
class Predictor(Protocol):
    """A regressor on graph vectors: ``fit``, ``predict(Z, return_std=True)``, ``state_dict``."""

    def fit(self, Z: Any, y: Any) -> Any: ...

    def predict(self, Z: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def state_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Executor(Protocol):
    """Runs evaluations: ``run(evaluator, jobs)`` yields ``(iteration, cell, result)`` as they finish."""

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]: ...

    def close(self) -> None: ...


@runtime_checkable
class Sampler(Protocol):
    """Proposes candidates: the loop evaluates ``batches(T)`` in order, asking ``propose`` for each."""

    name: str

    def batches(self, iterations: int) -> list[range]:
        """The iteration ranges evaluated together (a batch can run in parallel)."""
        ...

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        """One cell per iteration of the batch; may use only candidates stored *before* it."""
        ...


@runtime_checkable
class Store(Protocol):
    """Keeps the evaluated candidates of a run (see :class:`~gemgraph.store.RunStore`)."""

    def add_candidate(self, iteration: int, cell: Cell, **fields: Any) -> int: ...

    def candidates(self, status: str | None = None) -> list[dict[str, Any]]: ...

    def done_iterations(self) -> set[int]: ...

    def save_predictor(self, iteration: int, state: dict) -> None: ...

    def set_pick(self, payload: dict) -> None: ...

    def summary(self) -> dict[str, Any]: ...
