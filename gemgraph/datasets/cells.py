r"""Sampled cells as a PyTorch Geometric dataset."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data, InMemoryDataset

from ..cell import Cell
from ..space import SearchSpace

__all__ = ["CellDataset"]


class CellDataset(InMemoryDataset):
    r"""An ``InMemoryDataset`` of cells: given ones, or ``num_cells`` sampled from ``space``.

    Each item is :meth:`Cell.to_data` (``edge_index``, ``x`` one-hot ops or degree features,
    ``num_nodes``, ``op``) plus ``adjacency``: the dense (1, N, N) float matrix, so a
    ``DataLoader`` batch of equal-size cells carries ``adjacency`` (B, N, N) for the MLP
    encoder; and ``y`` (1,) float when ``y`` is given (scores, accuracies ...).

    Args:
        root: where to cache the processed dataset (``<root>/processed``), or None to keep
            it in memory only. The cache file name encodes ``space``, ``num_cells``,
            ``seed`` (or a hash of the given cells and targets).
        space: the search space to sample from (default ``SearchSpace()``, 30 nodes).
        num_cells: how many cells to sample.
        seed: sampling seed.
        cells: cells to wrap instead of sampling (``space`` / ``num_cells`` / ``seed`` are
            then ignored).
        y: one target per cell.
        transform, pre_transform: as in PyG.
        force_reload: rebuild the cache.

    Example:
        >>> ds = CellDataset(space=SearchSpace(num_nodes=30), num_cells=1000, seed=0)
        >>> ds[0]
        Data(x=[30, 6], edge_index=[2, ...], num_nodes=30, op=[30], adjacency=[1, 30, 30])
        >>> ds.cell(0)  # back to a gemgraph.Cell
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        space: SearchSpace | None = None,
        num_cells: int = 1000,
        seed: int = 0,
        cells: Sequence[Cell] | None = None,
        y: Sequence[float] | np.ndarray | torch.Tensor | None = None,
        transform: Callable | None = None,
        pre_transform: Callable | None = None,
        force_reload: bool = False,
    ) -> None:
        if cells is None:
            space = SearchSpace() if space is None else space
            if not isinstance(space, SearchSpace):
                raise ValueError(f"space: expected a gemgraph.SearchSpace, got {type(space).__name__}")
            if isinstance(num_cells, bool) or not isinstance(num_cells, (int, np.integer)) or num_cells < 1:
                raise ValueError(f"num_cells: expected an int >= 1, got {num_cells!r}")
        else:
            cells = list(cells)
            if not cells or not all(isinstance(c, Cell) for c in cells):
                raise ValueError("cells: expected a non-empty sequence of gemgraph.Cell")
            num_cells = len(cells)
        if y is not None:
            y = torch.as_tensor(np.asarray(y, dtype=np.float32)).reshape(-1)
            if len(y) != num_cells:
                raise ValueError(f"y: expected {num_cells} targets (one per cell), got {len(y)}")
        self.space, self.num_cells, self.seed = space, int(num_cells), seed
        self._cells_in, self._y = cells, y
        super().__init__(str(root) if root is not None else None, transform, pre_transform,
                         force_reload=force_reload, log=False)
        path = self._cache_path()
        if path is not None and path.exists() and not force_reload:
            self.load(str(path))
        else:
            data_list = self._build()
            if self.pre_transform is not None:
                data_list = [self.pre_transform(d) for d in data_list]
            self.data, self.slices = self.collate(data_list)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.save(data_list, str(path))

    def _cache_path(self) -> Path | None:
        if self.root is None or self.root == "???" or not isinstance(self.root, str):
            return None
        h = hashlib.sha1()
        if self._cells_in is not None:
            for c in self._cells_in:
                h.update(np.packbits(c.adjacency).tobytes() + repr(c.ops).encode())
        else:
            h.update(repr(self.space).encode() + f"{self.num_cells}-{self.seed}".encode())
        if self._y is not None:
            h.update(self._y.numpy().tobytes())
        h.update(repr(self.pre_transform).encode())
        return Path(self.root) / "processed" / f"cells_{h.hexdigest()[:16]}.pt"

    def _build(self) -> list[Data]:
        cells = self._cells_in if self._cells_in is not None else self.space.sample(self.num_cells, seed=self.seed)
        out = []
        for k, c in enumerate(cells):
            d = c.to_data()
            d.adjacency = torch.from_numpy(c.adjacency.astype(np.float32))[None]
            if self._y is not None:
                d.y = self._y[k : k + 1]
            out.append(d)
        return out

    def cell(self, idx: int) -> Cell:
        """The ``idx``-th item as a :class:`~gemgraph.Cell`."""
        return Cell.from_data(self.get(self.indices()[idx]))

    def __repr__(self) -> str:
        src = "cells" if self._cells_in is not None else f"space={self.space!r}, seed={self.seed}"
        return f"{type(self).__name__}({len(self)}, {src})"
