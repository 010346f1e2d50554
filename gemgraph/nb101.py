r"""NAS-Bench-101 as a search space and an evaluator, so benchmarks run the real search loop.

* :func:`load_nb101` opens a file in the official layout (or the bundled 20,001-model sample);
  :func:`nb101_pool` selects the models whose metric is known as tensors
  (:class:`NB101Pool`).
* :class:`NB101Space` is the finite pool as a space: :meth:`~NB101Space.sample` /
  :meth:`~NB101Space.sample_tensors` draw distinct models, :meth:`~NB101Space.draw` is the
  t-th model of a seeded random order (random search without replacement);
  :meth:`~NB101Space.neighbours` / :meth:`~NB101Space.mutate` are the models one change
  away (one op, one edge, or one vertex added; :func:`nb101_neighbours` in the whole space),
  which evolution and local search need (:mod:`gemgraph.peers`).
* :class:`NB101Evaluator` "trains" a cell by looking its accuracy up (no training), and counts
  the queries.

Both satisfy :mod:`gemgraph.protocols` (``Space``, ``Evaluator``), so
``NASGEM(NB101Space(pool), encoder, predictor, NB101Evaluator(pool), store)`` is the same
loop a 30-node search runs.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from nasbench.spec import LABEL_OPS

from .batch import CellBatch
from .cell import OPS, Cell, canonical_op
from .utils import check_int
from .errors import InputError
from .protocols import Result

__all__ = ["NB101_OPS", "NB101_LABEL_OPS", "NB101Pool", "NB101Space", "NB101Evaluator", "load_nb101", "nb101_pool",
           "check_metric", "sample_space_cells", "label_op_ids", "nb101_neighbours"]

#: NAS-Bench-101's five op labels, as gemgraph op names (what NB101 encoders one-hot encode).
NB101_OPS: tuple[str, ...] = ("input", "output", "conv3x3", "conv1x1", "maxpool3x3")

#: NAS-Bench-101 integer op label (``nasbench.spec.OP_LABELS``) -> gemgraph op name.
NB101_LABEL_OPS: dict[int, str] = {int(k): canonical_op(v) for k, v in LABEL_OPS.items()}
#: gemgraph op name -> NAS-Bench-101 integer op label.
_OP_LABELS: dict[str, int] = {v: k for k, v in NB101_LABEL_OPS.items()}

# NAS-Bench-101 op labels (-3 padding, -2 output, -1 input, 0 conv3x3, 1 conv1x1, 2 maxpool)
# -> index in gemgraph.cell.OPS (-1 = padding), looked up at ``label + 3``.
_LABEL_LUT = np.array([-1] + [OPS.index(NB101_LABEL_OPS[k]) for k in (-2, -1, 0, 1, 2)], dtype=np.int64)


def label_op_ids(labels: np.ndarray) -> np.ndarray:
    """NAS-Bench-101 op labels (-3 padding .. 2), any shape -> ids in :data:`gemgraph.cell.OPS` (-1 padding).

    Raises:
        ValueError: for labels outside -3..2.
    """
    labels = np.asarray(labels).astype(np.int64)
    if labels.size and (labels.min() < -3 or labels.max() > 2):
        raise InputError("nb: op labels outside -3..2 (expected NAS-Bench-101 labels)")
    return _LABEL_LUT[labels + 3]

def load_nb101(data: str | os.PathLike | None = None, *, progress: bool = False) -> Any:
    r"""Open NAS-Bench-101 data: a file in the official layout, or the bundled sample.

    Args:
        data: path of a ``.tfrecord`` in the official ``nasbench_full`` / ``nasbench_only108``
            layout, or None for :meth:`nasbench.NASBench101.sample_dataset` (20,001 models).
        progress: show a progress bar while parsing a file.

    Returns:
        a :class:`nasbench.NASBench101`.
    """
    from nasbench import NASBench101  # noqa: PLC0415 - nasbench is only needed here

    if data is None:
        return NASBench101.sample_dataset()
    return NASBench101(data, progress=progress)


@dataclass
class NB101Pool:
    r"""The models of a NAS-Bench-101 table whose metric is known, as tensors.

    Attributes:
        hashes: (n,) module hashes.
        rows: (n,) int64 rows of these models in the :class:`nasbench.NASBench101` object.
        batch: :class:`~gemgraph.encoders.CellBatch` of the n cells (7 nodes, padded).
        accuracy: (n,) float64 metric values (the file's units, fractions for NB101).
        metric, epochs: what ``accuracy`` is.
        n_excluded: models of the data left out because their metric is unknown (NaN).
    """

    hashes: np.ndarray
    rows: np.ndarray
    batch: CellBatch
    accuracy: np.ndarray
    metric: str = "validation_accuracy"
    epochs: int = 108
    n_excluded: int = 0

    def __len__(self) -> int:
        return int(self.accuracy.shape[0])

    @property
    def ops(self) -> torch.Tensor:
        """(n, 7) int64 op ids of the models (-1 padding): an NB101 pool always has ops."""
        if self.batch.ops is None:
            raise InputError("pool: its CellBatch has no ops (an NB101 pool always has them)")
        return self.batch.ops

    @property
    def best_index(self) -> int:
        """Position of the best model (first one on ties)."""
        return int(np.argmax(self.accuracy))

    @property
    def best_accuracy(self) -> float:
        """Best known metric value in the data."""
        return float(self.accuracy[self.best_index])

    def cells(self, indices: Sequence[int] | np.ndarray | None = None) -> list[Cell]:
        """The models at ``indices`` (default all) as :class:`~gemgraph.Cell` objects."""
        idx = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        return self.batch[torch.from_numpy(idx)].to_cells()

    def subset(self, indices: Sequence[int] | np.ndarray) -> "NB101Pool":
        """The models at ``indices`` (positions in this pool) as a new pool."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= len(self):
            raise InputError(f"indices: expected a non-empty 1-D array of positions in 0..{len(self) - 1}")
        if np.unique(idx).size != idx.size:
            raise InputError("indices: expected distinct positions")
        t = torch.from_numpy(idx)
        return NB101Pool(hashes=self.hashes[idx], rows=self.rows[idx], batch=self.batch[t],
                         accuracy=self.accuracy[idx].copy(), metric=self.metric, epochs=self.epochs, n_excluded=0)

    def __repr__(self) -> str:
        return (f"NB101Pool(models={len(self)}, metric={self.metric!r}, epochs={self.epochs}, "
                f"best={self.best_accuracy:.4f}, excluded={self.n_excluded})")


def sample_space_cells(n: int, seed: int) -> list[Cell]:
    r"""``n`` distinct cells drawn uniformly from the NAS-Bench-101 space (graphs only, no metrics).

    Uses :func:`nasbench.space.sample_arrays` (uniform over isomorphism classes); op names are
    gemgraph's (:data:`NB101_LABEL_OPS`).

    Args:
        n: number of cells (>= 1).
        seed: the draw's seed.
    """
    from nasbench.space import sample_arrays  # noqa: PLC0415

    check_int(n, "n", 1)
    mats, labs, nv = sample_arrays(n, seed=seed, unique=True)
    ids = label_op_ids(labs)
    return [Cell(mats[i, :v, :v], tuple(OPS[o] for o in ids[i, :v])) for i, v in enumerate(nv.tolist())]


def check_metric(metric: str) -> None:
    """ValueError unless ``metric`` is an accuracy of :data:`nasbench.METRICS` (higher is better)."""
    from nasbench import METRICS  # noqa: PLC0415

    if not isinstance(metric, str) or metric not in METRICS or "accuracy" not in metric:
        ok = [m for m in METRICS if "accuracy" in m]
        raise InputError(f"metric: expected an accuracy (higher is better), one of {ok}, got {metric!r}")


def nb101_pool(nb: Any, metric: str = "validation_accuracy", epochs: int = 108, *, warn: bool = True) -> NB101Pool:
    r"""Select the models of ``nb`` with a known ``metric`` and stack them as a CellBatch.

    Models whose metric is unknown (NaN, e.g. test accuracy missing from a file) are excluded,
    with a warning that says how many.

    Args:
        nb: a :class:`nasbench.NASBench101` (any file in the official layout).
        metric: an accuracy in :data:`nasbench.METRICS`, e.g. ``"validation_accuracy"`` or
            ``"test_accuracy"``; repeats are averaged (NaN-aware).
        epochs: training budget, one of ``nb.epochs``.
        warn: warn when models are excluded.

    Raises:
        ValueError: for an unknown metric or epochs, when the metric is unknown for every
            model (e.g. ``test_accuracy`` in a file without test accuracies), or for
            malformed op labels.
    """
    check_metric(metric)
    if int(epochs) not in set(nb.epochs):
        raise InputError(f"epochs: this data holds budgets {list(nb.epochs)}, got {epochs!r}")
    acc = nb.metric_array(metric, epochs=int(epochs), reduce="mean")
    known = np.isfinite(acc)
    where = f" ({nb.path})" if getattr(nb, "path", None) else " (the bundled sample)"
    if not known.any():
        what = metric.replace("_", " ")
        raise InputError(f"metric: {metric!r} at {epochs} epochs is unknown for every model of this data{where}: "
                         f"this file has no {what.replace('accuracy', 'accuracies')}; "
                         "use --metric validation_accuracy (or another metric the file holds)")
    n_excl = int((~known).sum())
    if n_excl and warn:
        warnings.warn(f"{n_excl} of {len(acc)} models have no {metric} at {epochs} epochs{where}; "
                      "they are excluded from the ablation", UserWarning, stacklevel=2)
    rows = np.flatnonzero(known)
    ops = label_op_ids(np.asarray(nb.op_labels)[rows])
    sizes = np.asarray(nb.num_vertices)[rows].astype(np.int64)
    pad = np.arange(ops.shape[1])[None, :] >= sizes[:, None]
    if ((ops < 0) != pad).any():
        raise InputError("nb: op labels do not match num_vertices (padding inside a cell)")
    adj = torch.from_numpy(np.asarray(nb.matrices)[rows].astype(bool))
    batch = CellBatch(adj, torch.from_numpy(ops), torch.from_numpy(sizes))
    return NB101Pool(hashes=np.asarray(nb.hashes)[rows], rows=rows, batch=batch, accuracy=acc[rows].astype(np.float64),
                     metric=metric, epochs=int(epochs), n_excluded=n_excl)


def _cell_key(adj: np.ndarray, ops: Sequence[int]) -> bytes:
    return np.ascontiguousarray(adj, dtype=np.uint8).tobytes() + bytes(int(o) % 256 for o in ops)


class NB101Space:
    r"""The models of an :class:`NB101Pool` as a finite search space.

    Args:
        pool: the models (:func:`nb101_pool`).

    Attributes:
        num_nodes: 7 (cells are padded to it).
        ops: :data:`NB101_OPS`.

    Shapes:
        ``sample_tensors(n)``: ``(n, 7, 7)`` bool adjacency and ``(n, 7)`` int64 op ids
        (-1 padding), ``n = min(n, len(pool))`` distinct models.
    """

    def __init__(self, pool: NB101Pool) -> None:
        if not isinstance(pool, NB101Pool):
            raise InputError(f"pool: expected an NB101Pool (see nb101_pool), got {type(pool).__name__}")
        self.pool = pool
        self.num_nodes = int(pool.batch.adj.shape[1])
        self.ops = NB101_OPS
        self._orders: dict[int, np.ndarray] = {}
        self._lookup: NB101Evaluator | None = None
        self._by_hash: dict[str, int] | None = None
        self._neighbours: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.pool)

    def __repr__(self) -> str:
        return f"NB101Space(models={len(self)})"

    def _order(self, seed: int) -> np.ndarray:
        return np.random.default_rng([int(seed), 0x0B101]).permutation(len(self.pool))

    def draw(self, t: int, seed: int = 0) -> Cell:
        """The ``t``-th model of the random order of ``seed`` (distinct for distinct ``t``)."""
        t = check_int(t, "t", 0)
        if t >= len(self.pool):
            raise InputError(f"t: the space holds {len(self.pool)} models, got draw number {t}")
        if seed not in self._orders:
            self._orders = {seed: self._order(seed)}  # one cached order: the search's seed
        return self.pool.cells([self._orders[seed][t]])[0]

    def sample_indices(self, n: int, seed: int | None = 0) -> np.ndarray:
        """Pool positions of :meth:`sample_tensors`' models: ``min(n, len)`` distinct, ascending."""
        n = check_int(n, "n", 1)
        if n >= len(self.pool):
            return np.arange(len(self.pool))
        return np.sort(np.random.default_rng(seed).choice(len(self.pool), n, replace=False))

    def sample_tensors(self, n: int, seed: int | None = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``min(n, len)`` distinct models drawn with ``seed``, in pool order (all of them when ``n >= len``)."""
        idx = self.sample_indices(n, seed)
        adj, ops = self.pool.batch.adj, self.pool.ops
        if len(idx) == len(self.pool):
            return adj.clone(), ops.clone()
        t = torch.from_numpy(idx)
        return adj[t], ops[t]

    def sample(self, n: int, seed: int | None = 0) -> list[Cell]:
        """``min(n, len)`` distinct models as cells."""
        adj, ops = self.sample_tensors(n, seed)
        return CellBatch.from_tensors(adj, ops).to_cells()

    def contains(self, cell: Cell) -> bool:
        """Whether ``cell`` is one of the pool's models (as stored, or isomorphic to one)."""
        return self.index(cell) is not None

    def index(self, cell: Cell) -> int | None:
        """Position of ``cell`` in the pool (as stored, or isomorphic to one), or None."""
        if self._lookup is None:
            self._lookup = NB101Evaluator(self.pool, count=False)
        return self._lookup.index(cell)

    def neighbours(self, cell: Cell) -> list[Cell]:
        r"""The pool's models one change away from ``cell`` (see :func:`nb101_neighbours`).

        A change is one interior op replaced, one edge added or removed, or one interior vertex
        added with an in- and an out-edge; results are pruned, isomorphic duplicates removed,
        ``cell`` itself excluded. On a pool that is a *subset* of the 423,624-model space (the
        bundled 20,001 models) only the neighbours that are in the pool are returned, as the
        pool's own cells: most of a cell's neighbours in the space are missing (about 95% on
        the 20k sample), and a cell may have none.

        Args:
            cell: a model of this pool (as stored or isomorphic to one).

        Returns:
            Distinct pool cells, in a fixed order (cached per cell).

        Raises:
            ValueError: naming ``cell`` when it is not a model of the pool.
        """
        i = self.index(cell) if isinstance(cell, Cell) else None
        if i is None:
            raise InputError(f"cell: expected a model of this NB101Space ({len(self)} models), got {cell!r}")
        hit = self._neighbours.get(i)
        if hit is None:
            if self._by_hash is None:
                self._by_hash = {str(h): k for k, h in enumerate(self.pool.hashes)}
            own = self.pool.cells([i])[0]
            idx = [self._by_hash[h] for h, _ in nb101_neighbours(own) if h in self._by_hash]
            hit = self._neighbours[i] = idx
        return self.pool.cells(hit) if hit else []

    def mutate(self, cell: Cell, seed: int) -> Cell:
        r"""One neighbour of ``cell`` (:meth:`neighbours`) drawn at random: the same for the same seed.

        Raises:
            ValueError: naming ``cell`` when it is not a model of the pool, or when it has no
                neighbour in the pool (possible on a subset pool).
        """
        nbrs = self.neighbours(cell)
        if not nbrs:
            raise InputError(f"cell: has no neighbour in this NB101Space ({len(self)} of the 423,624 models of "
                             f"NAS-Bench-101), nothing to mutate it into: {cell!r}")
        return nbrs[int(np.random.default_rng(seed).integers(len(nbrs)))]


class NB101Evaluator:
    r"""Evaluates a cell by looking its accuracy up in an :class:`NB101Pool` (no training).

    The result's ``accuracy`` and ``score`` are the pool's metric (``lam = 0``: NAS-Bench-101
    compares accuracies); ``macs`` is 0 (not tabulated here). A cell that is not in the pool
    (exact match first, then by the NAS-Bench-101 module hash, so isomorphic variants are found)
    gives a ``"failed"`` result saying so.

    Args:
        pool: the models.
        count: count queries in :attr:`queries`.

    Attributes:
        queries: number of :meth:`evaluate` calls so far.
    """

    def __init__(self, pool: NB101Pool, count: bool = True) -> None:
        if not isinstance(pool, NB101Pool):
            raise InputError(f"pool: expected an NB101Pool (see nb101_pool), got {type(pool).__name__}")
        self.pool = pool
        self.count = bool(count)
        self.queries = 0
        adj = pool.batch.adj.numpy()
        ops = pool.ops.numpy()
        sizes = pool.batch.sizes.tolist()
        self._exact = {_cell_key(adj[i, :m, :m], ops[i, :m].tolist()): i for i, m in enumerate(sizes)}
        self._by_hash = {str(h): i for i, h in enumerate(pool.hashes)}

    def __repr__(self) -> str:
        return f"NB101Evaluator(models={len(self.pool)}, metric={self.pool.metric!r}, queries={self.queries})"

    def index(self, cell: Cell) -> int | None:
        """Position of ``cell`` in the pool, or None."""
        if cell.ops is None:
            return None
        ids = [OPS.index(o) for o in cell.ops]
        i = self._exact.get(_cell_key(cell.adjacency, ids))
        if i is not None:
            return i
        try:
            labels = [_OP_LABELS[o] for o in cell.ops]
        except KeyError:
            return None
        from nasbench import hash_module  # noqa: PLC0415

        return self._by_hash.get(hash_module(cell.adjacency.astype(np.int64), labels))

    def evaluate(self, cell: Cell) -> Any:
        """A :class:`gemgraph.protocols.Result` with the looked-up accuracy (``status="failed"`` if unknown)."""

        if self.count:
            self.queries += 1
        i = self.index(cell) if isinstance(cell, Cell) else None
        if i is None:
            return Result(accuracy=float("nan"), macs=0, params=0, score=float("nan"), train_seconds=0.0,
                          status="failed", error="cell: not a model of this NAS-Bench-101 data")
        a = float(self.pool.accuracy[i])
        return Result(accuracy=a, macs=0, params=0, score=a, train_seconds=0.0)


# ---------------------------------------------------------------------- neighbourhoods
#: Interior operations of NAS-Bench-101, as gemgraph op names (label order 0, 1, 2).
_INTERIOR = tuple(NB101_LABEL_OPS[k] for k in (0, 1, 2))


def _module_hash(adj: np.ndarray, ops: Sequence[str]) -> str | None:
    """The module hash of a pruned, in-space cell (None when pruning leaves no path or it is too big)."""
    from nasbench import hash_module  # noqa: PLC0415
    from nasbench.spec import MAX_EDGES, MAX_VERTICES, prune  # noqa: PLC0415

    keep = prune(adj)
    if keep is None or keep.size > MAX_VERTICES:
        return None
    a = adj[np.ix_(keep, keep)]
    if int(a.sum()) > MAX_EDGES:
        return None
    return hash_module(a.astype(np.int64), [_OP_LABELS[ops[k]] for k in keep.tolist()])


def _pruned_cell(adj: np.ndarray, ops: Sequence[str]) -> Cell:
    from nasbench.spec import prune  # noqa: PLC0415

    keep = prune(adj)
    assert keep is not None  # only called on cells _module_hash accepted
    return Cell(adj[np.ix_(keep, keep)], tuple(ops[k] for k in keep.tolist()))


def _one_change(cell: Cell) -> list[tuple[np.ndarray, tuple[str, ...]]]:
    """Every (adjacency, ops) one change away from ``cell``, unpruned, not de-duplicated.

    The changes, in this order: the op of one interior vertex (to each other op); one edge
    flipped (added or removed) among the cell's vertices; and, when the cell has fewer than 7
    vertices, one new interior vertex (each op) with one edge in from an earlier vertex and
    one edge out to a later one (the smallest change that grows a cell: an added edge alone
    cannot, since a vertex needs an in- and an out-edge to survive pruning).
    """
    from nasbench.spec import MAX_VERTICES  # noqa: PLC0415

    adj = np.asarray(cell.adjacency, dtype=np.uint8)
    ops = tuple(cell.ops)  # type: ignore[arg-type]
    v = adj.shape[0]
    out: list[tuple[np.ndarray, tuple[str, ...]]] = []
    for i in range(1, v - 1):
        for o in _INTERIOR:
            if o != ops[i]:
                out.append((adj, ops[:i] + (o,) + ops[i + 1:]))
    for j in range(1, v):
        for i in range(j):
            a = adj.copy()
            a[i, j] ^= 1
            out.append((a, ops))
    if v < MAX_VERTICES:
        for p in range(1, v):  # the new vertex goes before old vertex p
            base = np.zeros((v + 1, v + 1), dtype=np.uint8)
            old = np.r_[0:p, p + 1:v + 1]  # new positions of the old vertices
            base[np.ix_(old, old)] = adj
            for u in range(p):  # in-edge from a vertex before it
                for w in range(p + 1, v + 1):  # out-edge to a vertex after it
                    a = base.copy()
                    a[u, p] = a[p, w] = 1
                    for o in _INTERIOR:
                        out.append((a, ops[:p] + (o,) + ops[p:]))
    return out


def nb101_neighbours(cell: Cell) -> list[tuple[str, Cell]]:
    r"""The cells of the whole NAS-Bench-101 space one change away from ``cell``, with their hashes.

    A change is one interior op replaced, one edge added or removed, or (for a cell with
    fewer than 7 vertices) one interior vertex added with one in- and one out-edge. Each
    result is pruned (vertices off every input -> output path dropped), kept only when it is
    in the space (<= 7 vertices, <= 9 edges, the input reaching the output), and isomorphic
    duplicates are removed by the module hash; ``cell`` itself is never its own neighbour.

    Args:
        cell: a NAS-Bench-101 cell (gemgraph op names, see :data:`NB101_OPS`), pruned or not.

    Returns:
        ``(module hash, pruned cell)`` pairs in a fixed order (the order of :func:`_one_change`,
        first occurrence of each hash).

    Raises:
        ValueError: naming ``cell`` when it is not a cell of the NAS-Bench-101 space.
    """
    if not isinstance(cell, Cell):
        raise InputError(f"cell: expected a gemgraph Cell, got {type(cell).__name__}")
    if cell.ops is None or any(o not in _OP_LABELS for o in cell.ops):
        raise InputError(f"cell: expected a NAS-Bench-101 cell with ops in {list(NB101_OPS)}, got {cell!r}")
    if cell.ops[-1] != "output":
        raise InputError(f"cell: a NAS-Bench-101 cell ends with the 'output' vertex, got {cell!r}")
    own = _module_hash(cell.adjacency, cell.ops)
    if own is None:
        raise InputError(f"cell: not in the NAS-Bench-101 space (after pruning: no input -> output path, "
                         f"more than 7 vertices or more than 9 edges): {cell!r}")
    seen = {own}
    out = []
    for a, o in _one_change(_pruned_cell(cell.adjacency, cell.ops)):
        h = _module_hash(a, o)
        if h is None or h in seen:
            continue
        seen.add(h)
        out.append((h, _pruned_cell(a, o)))
    return out
