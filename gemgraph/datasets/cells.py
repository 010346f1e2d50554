r"""Sampled cells as a PyTorch Geometric dataset."""
from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch_geometric.data import Data

from ..cell import Cell
from ..space import SearchSpace
from ..utils import check_int
from ..errors import InputError
from ._keyed import DATASET_MODULES, KeyedInMemoryDataset

__all__ = ["CellDataset"]


#: The modules whose source decides the ``Data`` of :class:`CellDataset`: the key and node
#: features, this module, the cells and their ``to_data``, the sampler and the MAC counter
#: of its window (:mod:`gemgraph.cost` and the networks it measures).
CELL_DATASET_MODULES: tuple[str, ...] = DATASET_MODULES + (
    "gemgraph.datasets.cells", "gemgraph.cell", "gemgraph.space", "gemgraph.batch", "gemgraph.utils",
    "gemgraph.cost", "gemgraph.nn", "gemgraph.nn.cell_module", "gemgraph.nn.flops", "gemgraph.nn.networks",
    "gemgraph.nn.ops",
)


class CellDataset(KeyedInMemoryDataset):
    r"""An ``InMemoryDataset`` of cells: given ones, or ``num_cells`` sampled from ``space``.

    Each item is :meth:`Cell.to_data` (``edge_index``, ``x`` =
    :func:`gemgraph.features.node_features`: one-hot degree and op, the GNN encoders' input;
    ``num_nodes``, ``op``) plus ``adjacency``: the dense (1, N, N) float matrix, so a
    ``DataLoader`` batch of equal-size cells carries ``adjacency`` (B, N, N) for the MLP
    encoder; and ``y`` (1,) float when ``y`` is given (scores, accuracies ...).

    PyG conventions: with a ``root``, :meth:`process` runs once and writes
    ``<root>/processed/cells_<settings>_<key>.pt`` (``settings`` hashes ``space``,
    ``num_cells``, ``seed``, or the given cells, and the targets; ``key`` adds the code version:
    gemgraph's version and the source of :data:`CELL_DATASET_MODULES`, so changed sampling or
    feature code is processed again); later constructions load it (``weights_only=True`` only,
    after its checksum is verified: see :mod:`gemgraph.datasets._keyed`). As in PyG, a
    different ``pre_transform`` / ``pre_filter`` than the one the file was processed with
    raises a warning, and ``force_reload=True`` processes again. Without a root the dataset is
    built in memory.

    Args:
        root: dataset folder, or None to keep it in memory only.
        space: the search space to sample from (default ``SearchSpace()``, 30 nodes).
        num_cells: how many cells to sample.
        seed: sampling seed.
        cells: cells to wrap instead of sampling (``space`` / ``num_cells`` / ``seed`` are
            then ignored).
        y: one target per cell.
        transform, pre_transform, pre_filter: as in PyG.
        force_reload: process again even when the processed file exists.

    Example:
        >>> ds = CellDataset("data/cells", space=SearchSpace(num_nodes=30), num_cells=1000, seed=0)
        >>> ds[0]
        Data(x=[30, 65], edge_index=[2, ...], num_nodes=30, op=[30], adjacency=[1, 30, 30])
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
        pre_filter: Callable | None = None,
        force_reload: bool = False,
    ) -> None:
        if cells is None:
            space = SearchSpace() if space is None else space
            if not isinstance(space, SearchSpace):
                raise InputError(f"space: expected a gemgraph.SearchSpace, got {type(space).__name__}")
            check_int(num_cells, "num_cells", 1)
        else:
            cells = list(cells)
            if not cells or not all(isinstance(c, Cell) for c in cells):
                raise InputError("cells: expected a non-empty sequence of gemgraph.Cell")
            num_cells = len(cells)
        if y is not None:
            y = torch.as_tensor(np.asarray(y, dtype=np.float32)).reshape(-1)
            if len(y) != num_cells:
                raise InputError(f"y: expected {num_cells} targets (one per cell), got {len(y)}")
        self.space, self.num_cells, self.seed = space, int(num_cells), seed
        self._cells_in, self._y = cells, y
        self._memory_only = root is None
        super().__init__(None if root is None else str(root), transform, pre_transform, pre_filter,
                         force_reload=force_reload, log=False)
        if self._memory_only:  # no root: built in memory, nothing on disk
            self.data, self.slices = self.collate(self._build_data())
        else:
            self.load(self.processed_paths[0])

    # ------------------------------------------------------------------ PyG conventions
    @property
    def raw_file_names(self) -> list[str]:
        return []  # nothing to download: cells are sampled or given

    CODE_MODULES = CELL_DATASET_MODULES

    def processed_stem(self) -> str:
        return f"cells_{self._settings_hash()[:16]}"

    def cache_settings(self) -> dict:
        return {"dataset": "cells", "settings": self._settings_hash()}

    def _settings_hash(self) -> str:
        h = hashlib.sha1()
        if self._cells_in is not None:
            for c in self._cells_in:
                h.update(np.packbits(c.adjacency).tobytes() + repr(c.ops).encode())
        else:
            h.update(repr(self.space).encode() + f"{self.num_cells}-{self.seed}".encode())
        if self._y is not None:
            h.update(self._y.numpy().tobytes())
        return h.hexdigest()

    def _build_data(self) -> list[Data]:
        if self._cells_in is not None:
            cells = self._cells_in
        else:
            assert self.space is not None  # __init__ sets a space when no cells are given
            cells = self.space.sample(self.num_cells, seed=self.seed)
        out = []
        for k, c in enumerate(cells):
            d = c.to_data()
            d.adjacency = torch.from_numpy(c.adjacency.astype(np.float32))[None]
            if self._y is not None:
                d.y = self._y[k : k + 1]
            out.append(d)
        if self.pre_filter is not None:
            out = [d for d in out if self.pre_filter(d)]
        if self.pre_transform is not None:
            out = [self.pre_transform(d) for d in out]
        return out

    def process(self) -> None:
        """Build the cells' ``Data`` (``pre_filter``, ``pre_transform``) and save them."""
        self.save(self._build_data(), self.processed_paths[0])

    def _process(self) -> None:
        if not self._memory_only:  # without a root, __init__ builds the data in memory
            super()._process()

    def cell(self, idx: int) -> Cell:
        """The ``idx``-th item as a :class:`~gemgraph.Cell`."""
        return Cell.from_data(self.get(self.indices()[idx]))

    def __repr__(self) -> str:
        src = "cells" if self._cells_in is not None else f"space={self.space!r}, seed={self.seed}"
        return f"{type(self).__name__}({len(self)}, {src})"
