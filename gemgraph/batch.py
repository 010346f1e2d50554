r"""Many cells as padded tensors: :class:`CellBatch`, and the one conversion back to cells.

A :class:`CellBatch` is what every encoder's ``forward`` takes and what the bootstrap ranks:
``adj`` (n, N, N) bool, ``ops`` (n, N) long (or None) and ``sizes`` (n,). Cells go in with
:meth:`CellBatch.from_cells` (or :meth:`CellBatch.from_tensors` for the batched form a space
samples) and come back out with :meth:`CellBatch.to_cells` / :meth:`CellBatch.cell`, the only
code that turns batched tensors into :class:`~gemgraph.Cell` objects
(:meth:`gemgraph.SearchSpace.to_cells` and the bootstrap's pick go through it).

Shapes:
    cells (n, each with at most N nodes) <-> ``adj (n, N, N)``, ``ops (n, N)``, ``sizes (n,)``
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .cell import Cell
from .vocab import DEFAULT_VOCAB, OpVocabulary, as_vocab
from .errors import InputError

__all__ = ["CellBatch", "as_batch"]


@dataclass
class CellBatch:
    r"""A batch of cells as padded tensors, the input every encoder's ``forward`` takes.

    Attributes:
        adj: bool (n, N, N) adjacency, zero-padded to the encoder's N.
        ops: long (n, N) indices into :attr:`vocab` (-1 on padding), or None.
        sizes: long (n,) number of real nodes per cell.
        vocab: the :class:`~gemgraph.vocab.OpVocabulary` ``ops`` index (default the supernet's,
            whose index order is :data:`~gemgraph.cell.OPS`).
    """

    adj: torch.Tensor
    ops: torch.Tensor | None
    sizes: torch.Tensor
    vocab: OpVocabulary = field(default=DEFAULT_VOCAB)

    def __len__(self) -> int:
        return int(self.adj.shape[0])

    def __getitem__(self, idx: Any) -> "CellBatch":
        return CellBatch(self.adj[idx], None if self.ops is None else self.ops[idx], self.sizes[idx], self.vocab)

    def to(self, device: torch.device | str) -> "CellBatch":
        """The batch on ``device``."""
        return CellBatch(
            self.adj.to(device), None if self.ops is None else self.ops.to(device), self.sizes.to(device), self.vocab
        )

    def __repr__(self) -> str:
        voc = "" if self.vocab == DEFAULT_VOCAB else f", vocab={self.vocab.name or list(self.vocab.names)!r}"
        return (f"CellBatch(n={len(self)}, num_nodes={int(self.adj.shape[1])}, "
                f"ops={'no' if self.ops is None else 'yes'}{voc}, device={self.adj.device})")

    # ------------------------------------------------------------------ back to cells
    def cell(self, i: int) -> Cell:
        """Cell ``i`` of the batch, without its padding (only that cell is converted)."""
        m = int(self.sizes[i])
        adj = self.adj[i, :m, :m].to(torch.uint8).cpu().numpy()
        if self.ops is None:
            return Cell.from_checked(adj, None)
        names = self.vocab.names
        return Cell.from_checked(adj, tuple(names[k] for k in self.ops[i, :m].tolist()), self.vocab)

    def to_cells(self) -> list[Cell]:
        """All cells of the batch, in order, each without its padding.

        The batch's tensors are taken as valid (as :meth:`from_cells` and a space's sampler
        produce them): the cells are built with :meth:`Cell.from_checked`, without checks.
        """
        a = self.adj.to(torch.uint8).cpu().numpy()
        sizes = self.sizes.cpu().numpy()
        N = a.shape[1] if a.ndim == 3 else 0
        voc = self.vocab
        names = None if self.ops is None else np.array(voc.names, dtype=object)[self.ops.cpu().numpy()]
        out = []
        for i in range(a.shape[0]):
            m = int(sizes[i])
            adj = a[i] if m == N else a[i, :m, :m]
            out.append(Cell.from_checked(adj, None if names is None else tuple(names[i, :m]), voc))
        return out

    @classmethod
    def from_cells(cls, cells: Sequence[Cell], num_nodes: int, vocab: OpVocabulary | None = None) -> "CellBatch":
        """Pad and stack cells (each with at most ``num_nodes`` nodes).

        Args:
            cells: the cells.
            num_nodes: N, the padded size.
            vocab: the vocabulary the batch's op indices refer to (default: the first cell's);
                cells of another vocabulary are re-indexed by op name.

        Raises:
            ValueError: for a non-cell, a cell larger than ``num_nodes``, or an op name that
                ``vocab`` lacks (the message names the cell and the op).
        """
        if isinstance(cells, Cell):
            raise InputError("cells: expected a sequence of cells, got a single Cell (wrap it in a list)")
        cells = list(cells)
        n = len(cells)
        for k, c in enumerate(cells):
            if not isinstance(c, Cell):
                raise InputError(f"cells[{k}]: expected a gemgraph.Cell, got {type(c).__name__}")
        sizes = np.array([c.num_nodes for c in cells], dtype=np.int64)
        if n and sizes.max() > num_nodes:
            k = int(np.argmax(sizes))
            raise InputError(f"cells[{k}]: has {sizes[k]} nodes, more than the encoder's num_nodes={num_nodes}")
        voc = (cells[0].vocab if n else DEFAULT_VOCAB) if vocab is None else as_vocab(vocab)

        def indices(k: int, c: Cell) -> np.ndarray | None:
            if c.vocab is voc or c.vocab == voc or c.ops is None:
                return c.op_indices
            return voc.indices(c.ops, argument=f"cells[{k}].ops")

        adj = np.zeros((n, num_nodes, num_nodes), dtype=bool)
        with_ops = n > 0 and all(c.ops is not None for c in cells)
        ops = np.full((n, num_nodes), -1, dtype=np.int64) if with_ops else None
        if n and (sizes == num_nodes).all():
            adj[:] = np.stack([c.adjacency for c in cells]).astype(bool)
            if ops is not None:  # with_ops: every cell has op indices
                ops[:] = np.stack([o for k, c in enumerate(cells) if (o := indices(k, c)) is not None])
        else:
            for k, c in enumerate(cells):
                m = c.num_nodes
                adj[k, :m, :m] = c.adjacency.astype(bool)
                if ops is not None and (o := indices(k, c)) is not None:
                    ops[k, :m] = o
        return cls(
            torch.from_numpy(adj), None if ops is None else torch.from_numpy(ops), torch.from_numpy(sizes), voc
        )

    @classmethod
    def from_tensors(
        cls, adj: torch.Tensor, ops: torch.Tensor | None = None, num_nodes: int | None = None,
        vocab: OpVocabulary | None = None,
    ) -> "CellBatch":
        """Wrap the batched form of :meth:`SearchSpace.sample_tensors` (padding to ``num_nodes``);
        ``ops`` index ``vocab`` (default the supernet's)."""
        adj = torch.as_tensor(adj)
        if adj.dim() != 3 or adj.shape[1] != adj.shape[2]:
            raise InputError(f"adj: expected shape (n, N, N), got {tuple(adj.shape)}")
        n, m, _ = adj.shape
        num_nodes = m if num_nodes is None else num_nodes
        if m > num_nodes:
            raise InputError(f"adj: cells have {m} nodes, more than num_nodes={num_nodes}")
        adj = adj.bool()
        if m < num_nodes:
            adj = torch.nn.functional.pad(adj, (0, num_nodes - m, 0, num_nodes - m))
        sizes = torch.full((n,), m, dtype=torch.long)
        if ops is not None:
            ops = torch.as_tensor(ops).long()
            if ops.shape != (n, m):
                raise InputError(f"ops: expected shape {(n, m)}, got {tuple(ops.shape)}")
            real = ops >= 0
            sizes = real.sum(1)
            # padding (-1) must be trailing: the first sizes[i] ops are real, the rest padding
            if bool((real != (torch.arange(m)[None, :] < sizes[:, None])).any()):
                raise InputError("ops: padding (-1) must come after every real op of a cell")
            if m < num_nodes:
                ops = torch.nn.functional.pad(ops, (0, num_nodes - m), value=-1)
        return cls(adj, ops, sizes, as_vocab(vocab))


def as_batch(cells: Any, num_nodes: int, vocab: OpVocabulary | None = None) -> CellBatch:
    """Accept a :class:`CellBatch`, a ``(adj, ops)`` tuple of tensors (ops indexing ``vocab``,
    default the supernet's), or a list of cells."""
    if isinstance(cells, CellBatch):
        if cells.adj.shape[1] != num_nodes:
            return CellBatch.from_tensors(cells.adj, cells.ops, num_nodes, cells.vocab)
        return cells
    if isinstance(cells, tuple) and len(cells) == 2 and isinstance(cells[0], torch.Tensor):
        return CellBatch.from_tensors(cells[0], cells[1], num_nodes, vocab)
    if isinstance(cells, torch.Tensor):
        return CellBatch.from_tensors(cells, None, num_nodes, vocab)
    return CellBatch.from_cells(cells, num_nodes, vocab)
