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
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .cell import OP_INDEX, OPS, Cell, alive_mask, canonical_op, count_concat
from .utils import single_thread

SeedLike = "int | torch.Generator | None"


def make_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A CPU ``torch.Generator`` from an int seed (or the generator itself; None = seed 0)."""
    if isinstance(seed, torch.Generator):
        return seed
    if seed is None:
        seed = 0
    if isinstance(seed, (bool, float)) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed: expected an int or a torch.Generator, got {seed!r}")
    return torch.Generator().manual_seed(int(seed))


class SearchSpace:
    r"""The supernet on ``num_nodes`` nodes and its random subgraphs.

    Args:
        num_nodes: N, nodes in the supernet (node 0 = cell input). The paper uses 30.
        ops: operations a non-input node may take.
        max_concat: cap on the number of concatenations in a cell (see the module docs),
            or None for no cap.
        edge_prob: ``(low, high)`` range of the per-cell edge density, or one float.

    Example:
        >>> space = SearchSpace(num_nodes=30, max_concat=8)
        >>> cells = space.sample(100, seed=0)
        >>> adj, ops = space.sample_tensors(50_000, seed=1)   # (50000, 30, 30), (50000, 30)
    """

    def __init__(
        self,
        num_nodes: int = 30,
        ops: Sequence[str] = ("conv1x1", "sepconv3x3"),
        max_concat: int | None = None,
        edge_prob: float | tuple[float, float] = (0.1, 0.5),
    ) -> None:
        if isinstance(num_nodes, bool) or not isinstance(num_nodes, (int, np.integer)) or num_nodes < 2:
            raise ValueError(f"num_nodes: expected an int >= 2, got {num_nodes!r}")
        if isinstance(ops, str) or len(ops) == 0:
            raise ValueError(f"ops: expected a non-empty sequence of op names, got {ops!r}")
        ops = tuple(canonical_op(o) for o in ops)
        if "input" in ops or "output" in ops:
            raise ValueError(f"ops: 'input'/'output' are structural, not searchable ops; got {ops}")
        if max_concat is not None and (isinstance(max_concat, bool) or not isinstance(max_concat, (int, np.integer)) or max_concat < 0):
            raise ValueError(f"max_concat: expected None or an int >= 0, got {max_concat!r}")
        lo, hi = (edge_prob, edge_prob) if isinstance(edge_prob, (int, float)) else tuple(edge_prob)
        if not (0.0 < lo <= hi <= 1.0):
            raise ValueError(f"edge_prob: expected 0 < low <= high <= 1, got {edge_prob!r}")
        self.num_nodes = int(num_nodes)
        self.ops = ops
        self.max_concat = None if max_concat is None else int(max_concat)
        self.edge_prob = (float(lo), float(hi))

    def __repr__(self) -> str:
        return (
            f"SearchSpace(num_nodes={self.num_nodes}, ops={list(self.ops)}, "
            f"max_concat={self.max_concat}, edge_prob={self.edge_prob})"
        )

    # ------------------------------------------------------------------ the supernet
    @property
    def supernet(self) -> Cell:
        """The complete DAG on ``num_nodes`` nodes (no ops)."""
        return Cell(np.triu(np.ones((self.num_nodes, self.num_nodes), dtype=np.uint8), 1))

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
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n: expected an int >= 0, got {n!r}")
        gen = make_generator(seed)
        with single_thread():  # many small ops: one thread avoids OpenMP spin-waits on busy cores
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
        indeg = adj.sum(1)  # (m, N)
        multi = indeg >= 2
        # random rank among the multi-input nodes; the first max_concat keep all inputs
        key = torch.rand(m, N, generator=gen).masked_fill(~multi, 2.0)
        rank = key.argsort(1).argsort(1)
        keep_all = multi & (rank < self.max_concat)
        # every other node keeps one random input edge
        score = torch.rand(m, N, N, generator=gen).masked_fill(~adj, -1.0)
        best = score.argmax(1)  # (m, N): chosen source per target
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
        """Turn the batched form ``(adj (n, N, N), ops (n, N))`` into a list of cells."""
        a = adj.to(torch.uint8).cpu().numpy()
        if ops is None:
            return [Cell._trusted(a[i], None) for i in range(a.shape[0])]
        names = np.array(OPS, dtype=object)[ops.cpu().numpy()]
        return [Cell._trusted(a[i], tuple(names[i])) for i in range(a.shape[0])]

    @staticmethod
    def to_tensors(cells: Sequence[Cell]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Stack equal-size cells into ``(adj bool (n, N, N), ops long (n, N) or None)``."""
        if len(cells) == 0:
            raise ValueError("cells: expected at least one cell")
        sizes = {c.num_nodes for c in cells}
        if len(sizes) != 1:
            raise ValueError(f"cells: expected cells of one size to stack, got sizes {sorted(sizes)}")
        adj = torch.from_numpy(np.stack([c.adjacency for c in cells])).bool()
        if any(c.ops is None for c in cells):
            return adj, None
        return adj, torch.from_numpy(np.stack([c.op_indices for c in cells]))

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
        return True
