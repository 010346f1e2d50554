r"""An encoder with its vectors of a fixed set of cells computed once (e.g. every model of a benchmark)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from .base import CellBatch, Encoder, as_batch
from ..errors import InputError

# fixed random odd 64-bit words: a cell's hash is a wrapping integer dot product of its bits
_WORDS = (np.random.default_rng(0xCAC4E).integers(1, 2**63, size=1 << 16, dtype=np.int64).astype(np.uint64)
          | np.uint64(1))


def _rows(batch: CellBatch) -> np.ndarray:
    """(n, F) int64 exact description of each cell: adjacency bits, then op ids (+1, 0 = padding)."""
    n = len(batch)
    adj = batch.adj.reshape(n, -1).to(torch.int64)
    ops = (batch.ops.to(torch.int64) + 1) if batch.ops is not None else torch.zeros((n, 0), dtype=torch.int64)
    return torch.cat([adj, ops], dim=1).numpy()


def _hash(rows: np.ndarray) -> np.ndarray:
    if rows.shape[1] > _WORDS.shape[0]:
        raise InputError(f"cells: too large to cache ({rows.shape[1]} features per cell)")
    with np.errstate(over="ignore"):
        return (rows.astype(np.uint64) * _WORDS[: rows.shape[1]]).sum(axis=1, dtype=np.uint64)


class CachedEncoder(Encoder):
    r"""Wraps an encoder; vectors of ``cells`` are computed once and looked up afterwards.

    A cell is looked up by a hash of its padded adjacency and ops, and the match is verified
    exactly; cells not in the cache are embedded by the wrapped encoder. The wrapped encoder
    must not change afterwards (the cache is not refreshed). Not trainable, not saveable.

    Args:
        encoder: any (trained) encoder.
        cells: the cells to cache (list of cells, ``(adj, ops)`` tensors or a CellBatch).
        batch_size: cells per forward pass while filling the cache.

    Shapes:
        CellBatch of n cells -> (n, encoder.dim).
    """

    name = "cached"

    def __init__(self, encoder: Encoder, cells: Any, batch_size: int = 8192) -> None:
        if not isinstance(encoder, Encoder):
            raise InputError(f"encoder: expected a gemgraph Encoder, got {type(encoder).__name__}")
        super().__init__(num_nodes=encoder.num_nodes, dim=encoder.dim)
        self.inner: Encoder | None = encoder
        batch = as_batch(cells, encoder.num_nodes)
        self._index(batch, encoder.embed(batch, batch_size=batch_size))

    def _index(self, batch: CellBatch, vectors: torch.Tensor) -> None:
        """Keep ``vectors`` (row i = cell i of ``batch``) and the sorted hash index to find them."""
        self._vectors = vectors
        self._rows = _rows(batch)
        h = _hash(self._rows)
        self._order = np.argsort(h, kind="stable")
        self._keys = h[self._order]

    @classmethod
    def from_vectors(cls, cells: Any, vectors: torch.Tensor | np.ndarray, num_nodes: int | None = None,
                     ops: Any = None) -> "CachedEncoder":
        r"""An encoder that answers with given vectors for a fixed set of cells (no network).

        For features computed elsewhere (e.g. L2-normalised embeddings of every model of a
        benchmark, or hand-made test vectors): row ``i`` of ``vectors`` is the vector of cell
        ``i``. A cell outside the set is an error (there is no encoder to fall back on).

        Args:
            cells: the cells (list of cells, ``(adj, ops)`` tensors or a CellBatch).
            vectors: (len(cells), d) float vectors.
            num_nodes: padding size of the cells (None: a CellBatch's own, else the largest cell).
            ops: op vocabulary reported by :attr:`ops` (informational).

        Shapes:
            CellBatch of n cells (all in the set) -> (n, d) float32.
        """
        if isinstance(cells, CellBatch):
            batch = cells
        else:
            if num_nodes is None:
                cells = list(cells)
                num_nodes = max((c.num_nodes for c in cells), default=2)
            batch = as_batch(cells, int(num_nodes))
        v = torch.as_tensor(vectors, dtype=torch.float32)
        if v.dim() != 2 or v.shape[0] != len(batch):
            raise InputError(f"vectors: expected shape ({len(batch)}, d), one row per cell, got {tuple(v.shape)}")
        self = cls.__new__(cls)
        Encoder.__init__(self, num_nodes=int(batch.adj.shape[1]), dim=int(v.shape[1]), ops=ops)
        self.inner = None
        self._index(batch, v.contiguous())
        return self

    def extra_repr(self) -> str:
        inner = "vectors" if self.inner is None else type(self.inner).__name__
        return f"{inner}, cached={self._vectors.shape[0]}"

    def forward(self, batch: CellBatch) -> torch.Tensor:
        n = len(batch)
        out = torch.empty((n, self.dim), dtype=self._vectors.dtype)
        rows = _rows(batch.to("cpu"))
        h = _hash(rows)
        pos = np.minimum(np.searchsorted(self._keys, h), len(self._keys) - 1) if len(self._keys) else np.zeros(n, int)
        idx = self._order[pos] if len(self._keys) else pos
        hit = (self._keys[pos] == h) if len(self._keys) else np.zeros(n, bool)
        if hit.any() and rows.shape[1] == self._rows.shape[1]:
            hit &= (self._rows[idx] == rows).all(axis=1)
        else:
            hit[:] = False
        if hit.any():
            out[torch.from_numpy(np.flatnonzero(hit))] = self._vectors[torch.from_numpy(idx[hit])]
        if (~hit).any():
            if self.inner is None:
                raise InputError(f"cells: {int((~hit).sum())} of {n} cells are not among the {len(self._keys)} "
                                 "cells whose vectors were given")
            miss = torch.from_numpy(np.flatnonzero(~hit))
            out[miss] = self.inner(batch[miss].to(self.inner.device)).float().cpu()
        return out

    def save(self, path: str | os.PathLike) -> None:
        raise InputError("CachedEncoder: cannot be saved; save the wrapped encoder (.inner)")
