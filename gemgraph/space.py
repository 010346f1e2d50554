r"""The search space: the NASGEM supernet and random subgraph sampling.

The supernet is the complete DAG on ``num_nodes`` ordered nodes (every edge ``i -> j`` with
``i < j``); a candidate cell is a random subgraph of it. Sampling is vectorised in torch and
returns either :class:`~gemgraph.Cell` objects or a batched tensor form.

Sampling procedure (per cell, all cells at once):

1. draw an edge density ``p ~ U(edge_prob[0], edge_prob[1])`` and keep each supernet edge
   with probability ``p``;
2. if ``max_concat`` is set: among the nodes with in-degree >= 2, a random subset of at most
   ``max_concat`` keeps all its inputs; every other node keeps one random input edge;
3. prune: nodes not on a path from the input lose all their edges (they stay in the
   (N, N) matrix as isolated nodes, so node ``i`` of every sample is node ``i`` of the
   supernet; :meth:`Cell.prune` removes them);
4. cells with no operation node left are redrawn;
5. ops: node 0 is ``"input"``, every other node gets one of ``ops`` uniformly.

``max_concat`` counts *concatenations*: kept non-input nodes with in-degree >= 2 (each
concatenates its inputs before its op). The concatenation of the leaves into the cell output
is not counted. Pruning only removes edges, so the cap holds for the pruned cell too.

Computation regimes. With ``macs=(low, high)`` and / or ``min_ops=k`` the space holds only the
cells whose network has ``low <= MACs <= high`` (per image, measured in closed form by a
:class:`~gemgraph.cost.CellCost`, the proxy :class:`~gemgraph.nn.CifarNet` of width 16 at
32x32 unless ``cost=`` says otherwise) and at least ``k`` operation nodes after pruning.
Sampling draws cells as above (ops included) and keeps those inside, by rejection: vectorised,
deterministic per seed, and bounded: after ``max_draws`` draws without enough accepted cells
it raises a ``ValueError`` that gives the MAC range it saw. Everything that samples from the
space (the search's candidates, the bootstrap's pool) therefore stays inside the regime.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .batch import CellBatch
from .cell import OP_INDEX, Cell, alive_mask, canonical_op, count_concat
from .vocab import DEFAULT_VOCAB, OpVocabulary
from .utils import check_int, single_thread
from .errors import InputError

SeedLike = "int | torch.Generator | None"


def make_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (or the generator itself; None = seed 0)."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = 0
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise InputError(f"seed: expected an int or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(int(seed))


class SearchSpace:
    r"""The supernet on ``num_nodes`` nodes and its random subgraphs.

    Args:
        num_nodes: N, nodes in the supernet (node 0 = cell input). The paper uses 30.
        ops: operations a non-input node may take.
        max_concat: cap on the number of concatenations in a cell (see the module docs),
            or None for no cap.
        edge_prob: ``(low, high)`` range of the per-cell edge density, or one float.
        macs: ``(low, high)``: keep only cells whose network (``cost``) has ``low <= MACs <=
            high`` per image; ``high`` may be ``None`` / ``inf`` (no upper bound). None: no window.
        min_ops: keep only cells with at least this many operation nodes after pruning.
        cost: the :class:`~gemgraph.cost.CellCost` (or its config dict) that measures
            ``macs``; default ``CellCost("cifarnet")`` (width 16, 32x32, the proxy network).
        max_draws: bound on the cells drawn by one sampling call with a window or ``min_ops``
            (default ``max(100_000, 100 * n)``); reaching it raises ``ValueError``.

    Example:
        >>> space = SearchSpace(num_nodes=30, max_concat=8)
        >>> cells = space.sample(100, seed=0)
        >>> adj, ops = space.sample_tensors(50_000, seed=1)   # (50000, 30, 30), (50000, 30)
        >>> regime = SearchSpace(30, max_concat=8, macs=(440e6, 486e6), min_ops=5,
        ...                      cost=CellCost("mobilenet", width=0.5))   # GEMNet-A, 224x224
    """

    def __init__(
        self,
        num_nodes: int = 30,
        ops: Sequence[str] = ("conv1x1", "sepconv3x3"),
        max_concat: int | None = None,
        edge_prob: float | tuple[float, float] = (0.1, 0.5),
        macs: tuple[float, float | None] | None = None,
        min_ops: int | None = None,
        cost: Any = None,
        max_draws: int | None = None,
    ) -> None:
        check_int(num_nodes, "num_nodes", 2)
        if isinstance(ops, str) or len(ops) == 0:
            raise InputError(f"ops: expected a non-empty sequence of op names, got {ops!r}")
        ops = tuple(canonical_op(o) for o in ops)
        if "input" in ops or "output" in ops:
            raise InputError(f"ops: 'input'/'output' are structural, not searchable ops; got {ops}")
        if max_concat is not None and (isinstance(max_concat, bool) or not isinstance(max_concat, (int, np.integer))
                                       or max_concat < 0):
            raise InputError(f"max_concat: expected None or an int >= 0, got {max_concat!r}")
        lo, hi = (edge_prob, edge_prob) if isinstance(edge_prob, (int, float)) else tuple(edge_prob)
        if not (0.0 < lo <= hi <= 1.0):
            raise InputError(f"edge_prob: expected 0 < low <= high <= 1, got {edge_prob!r}")
        self.num_nodes = int(num_nodes)
        self.ops = ops
        self.max_concat = None if max_concat is None else int(max_concat)
        self.edge_prob = (float(lo), float(hi))
        self.macs = check_macs_window(macs)
        if min_ops is not None:
            if isinstance(min_ops, bool) or not isinstance(min_ops, (int, np.integer)) or min_ops < 1:
                raise InputError(f"min_ops: expected None or an int >= 1, got {min_ops!r}")
            if min_ops > self.num_nodes - 1:
                raise InputError(f"min_ops: expected at most num_nodes - 1 = {self.num_nodes - 1} operation nodes, "
                                 f"got {min_ops}")
        self.min_ops = None if min_ops is None else int(min_ops)
        from .cost import CellCost  # noqa: PLC0415 - gemgraph.cost (flop counter, nn) kept off `import gemgraph`

        if cost is None:
            cost = CellCost("cifarnet")
        elif isinstance(cost, dict):
            cost = CellCost(**cost)
        elif not isinstance(cost, CellCost):
            raise InputError(f"cost: expected a gemgraph.cost.CellCost, its config dict or None, "
                             f"got {type(cost).__name__}")
        self.cost = cost
        if max_draws is not None and (isinstance(max_draws, bool) or not isinstance(max_draws, (int, np.integer))
                                      or max_draws < 1):
            raise InputError(f"max_draws: expected None or an int >= 1, got {max_draws!r}")
        self.max_draws = None if max_draws is None else int(max_draws)

    def __repr__(self) -> str:
        extra = ""
        if self.macs is not None:
            extra += (f", macs={_fmt_window(self.macs)} "
                      f"({self.cost.network} {self.cost.input_size[0]}x{self.cost.input_size[1]})")
        if self.min_ops is not None:
            extra += f", min_ops={self.min_ops}"
        return (
            f"SearchSpace(num_nodes={self.num_nodes}, ops={list(self.ops)}, "
            f"max_concat={self.max_concat}, edge_prob={self.edge_prob}{extra})"
        )

    @property
    def constrained(self) -> bool:
        """True when a MAC window or ``min_ops`` restricts the space (sampling rejects)."""
        return self.macs is not None or self.min_ops is not None

    # ------------------------------------------------------------------ the supernet
    @property
    def supernet(self) -> Cell:
        """The complete DAG on ``num_nodes`` nodes (no ops)."""
        return Cell(np.triu(np.ones((self.num_nodes, self.num_nodes), dtype=np.uint8), 1))

    @property
    def vocab(self) -> OpVocabulary:
        """The supernet's op vocabulary (:data:`~gemgraph.vocab.DEFAULT_VOCAB`): what the ops
        of :meth:`sample_tensors` index."""
        return DEFAULT_VOCAB

    @property
    def op_ids(self) -> torch.Tensor:
        """Indices of :attr:`ops` in :data:`~gemgraph.cell.OPS`, shape (len(ops),)."""
        return torch.tensor([OP_INDEX[o] for o in self.ops], dtype=torch.long)

    # ------------------------------------------------------------------ sampling
    def sample_tensors(
        self, n: int, seed: int | torch.Generator | None = 0, chunk: int = 8192
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Sample ``n`` valid cells in batched tensor form.

        Args:
            n: number of cells.
            seed: int seed or ``torch.Generator`` (CPU); same seed, same cells.
            chunk: cells drawn per vectorised step (bounds memory).

        Returns:
            ``(adj, ops)``: ``adj`` bool (n, N, N) strictly upper-triangular, dropped nodes
            isolated; ``ops`` long (n, N) indices into :data:`~gemgraph.cell.OPS` (node 0 is
            ``"input"``).
        """
        check_int(n, "n", 0)
        gen = make_generator(seed)
        with single_thread():  # many small ops: one thread avoids OpenMP spin-waits on busy cores
            if self.constrained:
                return self._sample_constrained(n, gen, chunk)
            return self._sample_tensors(n, gen, chunk)

    def _sample_tensors(self, n: int, gen: torch.Generator, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
        N = self.num_nodes
        adjs = []
        done = 0
        while done < n:
            m = min(chunk, n - done)
            adj = self._draw(m, gen)
            ok = adj.any(1).any(1)  # dead nodes are isolated: any edge means an op node is alive
            adj = adj[ok]
            adjs.append(adj)
            done += adj.shape[0]
        adj = torch.cat(adjs)[:n] if adjs else torch.zeros((0, N, N), dtype=torch.bool)
        choice = torch.randint(len(self.ops), (adj.shape[0], N), generator=gen)
        ops = self.op_ids[choice]
        ops[:, 0] = OP_INDEX["input"]
        return adj, ops

    def accept(self, adj: torch.Tensor, ops: torch.Tensor | None) -> torch.Tensor:
        r"""Which cells lie inside the space's regime: at least one operation node, at least
        ``min_ops`` of them, MACs inside ``macs``. Adjacency and ops only (not ``max_concat``
        or the op vocabulary; see :meth:`contains`).

        Shapes: adj (n, N, N) bool, ops (n, N) long or None -> (n,) bool
        """
        ok, _ = self._accept(adj, ops)
        return ok

    def _accept(self, adj: torch.Tensor, ops: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(accepted (n,) bool, MACs (n,) int64 of the non-empty cells or None)."""
        from .cost import stats_chunk  # noqa: PLC0415 - gemgraph.cost kept off `import gemgraph`

        alive = alive_mask(adj)
        n_ops = alive[:, 1:].sum(1)
        if ops is not None:
            n_ops = n_ops - (alive & (ops == OP_INDEX["output"])).sum(1)
        ok = n_ops >= 1 if self.min_ops is None else n_ops >= self.min_ops
        macs = None
        if self.macs is not None:
            macs = torch.zeros(adj.shape[0], dtype=torch.int64)
            nonempty = alive[:, 1:].any(1)
            if bool(nonempty.any()):
                o = torch.full(alive.shape, OP_INDEX["sepconv3x3"]) if ops is None else ops  # CellModule's default
                stats = stats_chunk(adj[nonempty], o[nonempty], alive[nonempty])
                macs[nonempty] = self.cost.from_stats(stats)[0]
            lo, hi = self.macs
            inside = macs >= lo if hi is None else (macs >= lo) & (macs <= hi)
            ok = ok & inside & nonempty
            macs = macs[nonempty]
        return ok, macs

    def _sample_constrained(self, n: int, gen: torch.Generator, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
        N = self.num_nodes
        limit = self.max_draws if self.max_draws is not None else max(100_000, 100 * n)
        adjs: list[torch.Tensor] = []
        opss: list[torch.Tensor] = []
        done = drawn = 0
        lo_seen, hi_seen = math.inf, -math.inf
        while done < n:
            if drawn >= limit:
                raise InputError(self._rejection_message(n, done, drawn, lo_seen, hi_seen))
            need = n - done
            rate = done / drawn if drawn else 0.0
            want = 2 * need if rate == 0 else math.ceil(1.2 * need / rate) + 16
            m = int(min(chunk, limit - drawn, max(256, want)))
            adj = self._draw(m, gen)
            choice = torch.randint(len(self.ops), (m, N), generator=gen)
            ops = self.op_ids[choice]
            ops[:, 0] = OP_INDEX["input"]
            ok, macs = self._accept(adj, ops)
            if macs is not None and macs.numel():
                lo_seen, hi_seen = min(lo_seen, int(macs.min())), max(hi_seen, int(macs.max()))
            drawn += m
            adjs.append(adj[ok])
            opss.append(ops[ok])
            done += int(ok.sum())
        return torch.cat(adjs)[:n], torch.cat(opss)[:n]

    def _rejection_message(self, n: int, done: int, drawn: int, lo_seen: float, hi_seen: float) -> str:
        what = []
        if self.macs is not None:
            what.append(f"MACs in {_fmt_window(self.macs)} ({self.cost!r})")
        if self.min_ops is not None:
            what.append(f"at least {self.min_ops} operation nodes")
        seen = ""
        if self.macs is not None and hi_seen >= lo_seen:
            seen = f"; the drawn cells span {_fmt_macs(lo_seen)}-{_fmt_macs(hi_seen)} MACs"
        arg = "macs" if self.macs is not None else "min_ops"
        return (f"{arg}: only {done} of {drawn} drawn cells (the max_draws bound) have {' and '.join(what)}, "
                f"{n} were asked for{seen}; widen the window, lower min_ops or change edge_prob / max_concat")

    def _draw(self, m: int, gen: torch.Generator) -> torch.Tensor:
        N = self.num_nodes
        lo, hi = self.edge_prob
        p = lo + (hi - lo) * torch.rand(m, 1, 1, generator=gen)
        upper = torch.ones(N, N, dtype=torch.bool).triu(1)
        adj = (torch.rand(m, N, N, generator=gen) < p) & upper
        if self.max_concat is not None:
            adj = self._cap_concat(adj, gen)
        alive = alive_mask(adj)
        return adj & alive[:, :, None] & alive[:, None, :]

    def _cap_concat(self, adj: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        m, N, _ = adj.shape
        indeg = adj.to(torch.float32).sum(1)  # (m, N), exact; a float sum over dim 1 is ~4x faster than a bool one
        multi = indeg >= 2
        # random rank among the multi-input nodes; the first max_concat keep all inputs
        key = torch.rand(m, N, generator=gen).masked_fill(~multi, 2.0)
        rank = key.argsort(1).argsort(1)
        assert self.max_concat is not None  # only called with a concatenation cap
        keep_all = multi & (rank < self.max_concat)
        # every other node keeps one random input edge
        score = torch.rand(m, N, N, generator=gen).masked_fill_(adj.logical_not(), -1.0)
        best = score.max(1).indices  # (m, N): chosen source per target (as argmax, first max; ~4x faster)
        single = torch.zeros_like(adj)
        single.scatter_(1, best[:, None, :], True)
        single &= adj
        return torch.where(keep_all[:, None, :], adj, single)

    def sample(self, n: int, seed: int | torch.Generator | None = 0) -> list[Cell]:
        """Sample ``n`` valid cells as :class:`~gemgraph.Cell` objects (see :meth:`sample_tensors`)."""
        adj, ops = self.sample_tensors(n, seed)
        return self.to_cells(adj, ops)

    @staticmethod
    def to_cells(adj: torch.Tensor, ops: torch.Tensor | None = None) -> list[Cell]:
        """Turn the batched form ``(adj (n, N, N), ops (n, N))`` into a list of cells
        (through :meth:`gemgraph.batch.CellBatch.to_cells`, the one batch -> cells conversion)."""
        return CellBatch.from_tensors(adj, ops).to_cells()

    @staticmethod
    def to_tensors(cells: Sequence[Cell]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Stack equal-size cells into ``(adj bool (n, N, N), ops long (n, N) or None)``."""
        if len(cells) == 0:
            raise InputError("cells: expected at least one cell")
        sizes = {c.num_nodes for c in cells}
        if len(sizes) != 1:
            raise InputError(f"cells: expected cells of one size to stack, got sizes {sorted(sizes)}")
        adj = torch.from_numpy(np.stack([c.adjacency for c in cells])).bool()
        if any(c.ops is None for c in cells):
            return adj, None
        return adj, torch.from_numpy(np.stack([o for c in cells if (o := c.op_indices) is not None]))

    def contains(self, cell: Cell) -> bool:
        """True if ``cell`` could have been sampled: right size, valid (every node with an
        edge reachable from the input, at least one op node), ops from :attr:`ops`, and within
        the concatenation cap."""
        if not isinstance(cell, Cell) or cell.num_nodes != self.num_nodes:
            return False
        a = torch.tensor(cell.adjacency, dtype=torch.bool)[None]
        alive = alive_mask(a)[0]
        if alive.sum() < 2:
            return False
        has_edge = a[0].any(0) | a[0].any(1)
        if bool((has_edge & ~alive).any()):
            return False
        if cell.ops is not None and any(o not in self.ops for o in cell.ops[1:]):
            return False
        if self.max_concat is not None and int(count_concat(a)[0]) > self.max_concat:
            return False
        if self.constrained:
            ops = None if cell.ops is None else torch.from_numpy(cell.op_indices)[None]
            return bool(self.accept(a, ops)[0])
        return True


# ---------------------------------------------------------------------- MAC windows
_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9}


def _fmt_macs(v: float) -> str:
    if v == math.inf:
        return "inf"
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= scale:
            return f"{v / scale:.4g}{unit}"
    return f"{v:.4g}"


def _fmt_window(w: tuple[float, float | None]) -> str:
    return f"[{_fmt_macs(w[0])}, {_fmt_macs(math.inf if w[1] is None else w[1])}]"


def check_macs_window(macs: Any, argument: str = "macs") -> tuple[float, float | None] | None:
    r"""Validate a MAC window: None, or ``(low, high)`` with ``0 <= low < high``; ``high`` None
    or ``inf`` means no upper bound. Returns ``(float(low), float(high) or None)``.

    Raises:
        ValueError: naming ``argument``, for anything else (a bad pair, negative or NaN
            bounds, an empty window ``low >= high``).
    """
    if macs is None:
        return None
    if isinstance(macs, (str, bytes)) or not hasattr(macs, "__len__") or len(macs) != 2:
        raise InputError(f"{argument}: expected None or a (low, high) pair of MAC counts, got {macs!r}")
    lo, hi = macs
    try:
        lo = float(lo)
        hi = math.inf if hi is None else float(hi)
    except (TypeError, ValueError):
        raise InputError(f"{argument}: expected numbers (low, high), got {macs!r}") from None
    if math.isnan(lo) or math.isnan(hi) or lo < 0 or lo == math.inf:
        raise InputError(f"{argument}: expected 0 <= low < high, got {macs!r}")
    if not lo < hi:
        raise InputError(f"{argument}: empty window, expected low < high, got low={lo:g}, high={hi:g}")
    return lo, (None if hi == math.inf else hi)


def parse_macs_window(text: str, argument: str = "--macs") -> tuple[float, float | None]:
    r"""Parse ``"LOW:HIGH"`` MAC counts, each a number with an optional ``K`` / ``M`` / ``G``
    suffix (``"440M:486M"``, ``"2e7:1e8"``); ``HIGH`` may be empty (``"20M:"``, no upper bound)
    and ``LOW`` empty means 0.

    Raises:
        ValueError: naming ``argument``, for a malformed text or an empty window.
    """
    if not isinstance(text, str) or text.count(":") != 1:
        raise InputError(f"{argument}: expected LOW:HIGH MACs per image (e.g. 20M:100M), got {text!r}")

    def one(part: str, default: float) -> float:
        part = part.strip()
        if not part:
            return default
        m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgG]?)", part)
        if m is None:
            raise InputError(f"{argument}: expected LOW:HIGH MACs per image (e.g. 20M:100M), got {text!r}")
        return float(m.group(1)) * _SUFFIX[m.group(2).lower()]

    lo_s, hi_s = text.split(":")
    if not lo_s.strip() and not hi_s.strip():
        raise InputError(f"{argument}: expected LOW:HIGH MACs per image (e.g. 20M:100M), got {text!r}")
    window = check_macs_window((one(lo_s, 0.0), one(hi_s, math.inf)), argument)
    assert window is not None
    return window
