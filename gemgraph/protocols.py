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
checks that the methods and attributes exist (not their signatures; ``tests/test_protocols.py``
checks the signatures of the shipped implementations). Each docstring lists what the loop
calls, with shapes; a predictor's fittedness is scikit-learn's ``check_is_fitted``
(:func:`gemgraph.utils.is_fitted`).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from .cell import Cell

__all__ = ["Space", "Evaluator", "GraphEncoder", "Predictor", "Executor", "Sampler", "Store", "EvalResult", "Result"]


@runtime_checkable
class Space(Protocol):
    """A search space: ``num_nodes`` (cells are padded to it) and seeded sampling.

    What the loop calls:

    * ``num_nodes``: N, the largest cell (the encoder's ``num_nodes`` must be at least N);
    * ``sample(n, seed) -> list[Cell]``: the random sampler's candidates (one per iteration,
      ``seed`` derived from ``(seed, t)``) and the acquisition sampler's random start;
    * ``sample_tensors(n, seed) -> (adj, ops)``: the bootstrap's and the acquisition pool's
      ``n`` cells at once, ``adj`` (n, N, N) bool, ``ops`` (n, N) int64 indices into the
      space's ``vocab`` (-1 on padding) or None.

    Optional: ``vocab``, the space's :class:`~gemgraph.vocab.OpVocabulary` (its op names, their
    index order, the input / output markers); without it the supernet's
    (:data:`~gemgraph.vocab.DEFAULT_VOCAB`, index order :data:`~gemgraph.cell.OPS`). A space with
    its own op names declares it and builds its cells with ``Cell(adj, ops, vocab=...)``; nothing
    in the loop lists op names.

    Optional: ``draw(t, seed) -> Cell``, the t-th candidate of a seeded stream (a finite space
    uses it for random search without replacement); without it the loop samples one cell per
    iteration from a seed derived from ``(seed, t)``. Optional for the field's mutation-based
    methods (:mod:`gemgraph.peers`): ``neighbours(cell) -> list[Cell]`` (the distinct cells of
    the space one change away, canonicalised) and ``mutate(cell, seed) -> Cell`` (one of them,
    seeded).

    Finite spaces may also offer ``neighbours(cell) -> list[Cell]`` and ``mutate(cell, seed) -> Cell``
    (one change away, canonicalised), which evolution and local search use.

    Implementations: :class:`~gemgraph.SearchSpace`, :class:`~gemgraph.nb101.NB101Space`,
    :class:`~gemgraph.nbgraph.NBGraphSpace`.
    """

    num_nodes: int

    def sample(self, n: int, seed: Any = 0) -> list[Cell]:
        """``n`` cells (fewer only for a finite space that holds fewer)."""
        ...

    def sample_tensors(self, n: int, seed: Any = 0) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``n`` cells as ``(adj (n, N, N) bool, ops (n, N) int64 or None)``."""
        ...


@dataclass
class Result:
    r"""Outcome of one evaluation of a cell (a proxy training, a benchmark look-up).

    Attributes:
        accuracy: top-1 accuracy in [0, 1] on the evaluation split (NaN when failed).
        macs: multiply-accumulates per image at the data's own resolution (32x32 for CIFAR-10,
            also when ``resolution`` pools the inputs; 0 when the network could not be built; None
            when unknown, for a Ray task that failed).
        params: parameters (None when unknown, as ``macs``).
        score: ``objective_score(accuracy, macs, objective, lam)`` (NaN when failed).
        train_seconds: wall time of the training loop.
        status: ``"ok"`` or ``"failed"``.
        error: why it failed, else None.
        loss: mean training loss of the last epoch (NaN if none).
        eval_seconds: wall time of the accuracy measurement.
        num_train: training images used.
        epochs: epochs trained (completed).
    """

    accuracy: float
    macs: int | None
    params: int | None
    score: float
    train_seconds: float
    status: str = "ok"
    error: str | None = None
    loss: float = math.nan
    eval_seconds: float = 0.0
    num_train: int = 0
    epochs: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON-ready apart from NaN floats)."""
        return asdict(self)


class EvalResult(Protocol):
    """What an evaluator returns: ``accuracy, macs, params, score, train_seconds, status, error``
    and ``to_dict()`` (e.g. :class:`Result`)."""

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
    """Anything with ``evaluate(cell) -> result`` (see :class:`EvalResult`).

    The loop calls ``evaluate(cell)`` once per candidate (through the executor, so possibly in
    another process: an evaluator must pickle) and once per ``verify_top`` candidate. A result
    with ``status="failed"`` is stored and never retried; an exception stops the search
    (:class:`~gemgraph.executors.RayExecutor` turns worker faults into failed results).

    Implementations: :class:`~gemgraph.evaluate.ProxyTrainer`, :class:`~gemgraph.nb101.NB101Evaluator`.
    """

    def evaluate(self, cell: Cell) -> Any: ...


@runtime_checkable
class GraphEncoder(Protocol):
    """Turns cells into vectors: ``num_nodes`` and ``embed(cells, batch_size=...)``.

    What the loop calls:

    * ``num_nodes``: the largest cell it embeds (the space's cells must fit);
    * ``embed(cells, batch_size=...) -> Tensor (n, d)``: ``cells`` a list of
      :class:`~gemgraph.Cell` or a :class:`~gemgraph.batch.CellBatch` (the bootstrap passes
      slices of one); the same cells give the same vectors (the loop refits on them).

    Implementations: :class:`~gemgraph.encoders.Encoder` and its subclasses (MLP, GNNs, the raw
    encoding, cached vectors).
    """

    num_nodes: int

    def embed(self, cells: Any, batch_size: int = ...) -> torch.Tensor: ...


@runtime_checkable
class Predictor(Protocol):
    """A regressor on graph vectors: ``fit``, ``predict(Z, return_std=True)``, ``state_dict``.

    What the loop calls:

    * ``fit(Z, y)``: refit from scratch on every stored successful candidate, sorted by
      iteration; ``Z`` (n, d) float embeddings, ``y`` (n,) float scores;
    * ``predict(Z, return_std=True) -> (mean, std)``: ``Z`` (m, d) -> two (m,) arrays (the
      bootstrap ranks by ``mean + kappa * std``; the acquisition samplers use both);
    * ``state_dict() -> dict``: a ``torch.load(weights_only=True)``-safe checkpoint the store keeps.

    Fittedness is scikit-learn's ``check_is_fitted`` (``__sklearn_is_fitted__`` or attributes
    ending in ``_``), so a predictor is a scikit-learn estimator (``sklearn.base.BaseEstimator``
    subclass: recent scikit-learn reads its ``__sklearn_tags__``). Implementation:
    :class:`~gemgraph.predictor.EfficiencyPredictor`.
    """

    def fit(self, Z: Any, y: Any) -> Any: ...

    def predict(self, Z: Any, return_std: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]: ...

    def state_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Executor(Protocol):
    """Runs evaluations: ``run(evaluator, jobs)`` yields ``(iteration, cell, result)`` as they finish.

    What the loop calls:

    * ``run(trainer, jobs)``: ``jobs`` an iterable of ``(iteration, cell)`` (one batch of the
      sampler); yields ``(iteration, cell, result)`` for every job, in any order (the loop
      stores each at once and refits on candidates sorted by iteration);
    * ``close()``: when the loop made the executor from a name, after the last batch.

    Implementations: :class:`~gemgraph.executors.LocalExecutor`, :class:`~gemgraph.executors.RayExecutor`.
    """

    def run(self, trainer: Evaluator, jobs: Iterable[tuple[int, Cell]]) -> Iterator[tuple[int, Cell, Any]]: ...

    def close(self) -> None: ...


@runtime_checkable
class Sampler(Protocol):
    """Proposes candidates: the loop evaluates ``batches(T)`` in order, asking ``propose`` for each.

    Implementations: :class:`~gemgraph.samplers.RandomSampler` (the paper),
    :class:`~gemgraph.samplers.AcquisitionSampler`.
    """

    name: str

    def batches(self, iterations: int) -> list[range]:
        """The iteration ranges evaluated together (a batch can run in parallel)."""
        ...

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        """One cell per iteration of the batch; may use only candidates stored *before* it."""
        ...


@runtime_checkable
class Store(Protocol):
    """Keeps the evaluated candidates of a run (see :class:`~gemgraph.store.RunStore`).

    What the loop calls:

    * ``add_candidate(iteration, cell, macs=, params=, accuracy=, score=, seconds=, status=,
      error=, extra=) -> id``: one evaluated candidate, kept before the next one is stored;
    * ``candidates(status=None) -> list[dict]``: dicts with at least ``iteration, cell, score,
      accuracy, macs, params, status``, ordered by iteration;
    * ``done_iterations() -> set[int]``: what a resumed run skips;
    * ``save_predictor(iteration, state_dict)``: a checkpoint after a refit;
    * ``set_pick(payload)``: the bootstrap's pick (a JSON dict);
    * ``summary() -> dict``: ``iterations_done, n_ok, n_failed, best`` (for the progress bar
      and the result).

    Implementations: :class:`~gemgraph.store.RunStore` (SQLite, durable),
    :class:`~gemgraph.memstore.MemoryStore` (in memory).
    """

    def add_candidate(self, iteration: int, cell: Cell, **fields: Any) -> int: ...

    def candidates(self, status: str | None = None) -> list[dict[str, Any]]: ...

    def done_iterations(self) -> set[int]: ...

    def save_predictor(self, iteration: int, state: dict) -> None: ...

    def set_pick(self, payload: dict) -> Any: ...

    def summary(self) -> dict[str, Any]: ...
