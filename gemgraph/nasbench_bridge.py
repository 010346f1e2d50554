r"""NAS-Bench-101 models as gemgraph cells and PyG graphs (the conversions live on gemgraph's side).

:mod:`nasbench` stands alone: it reads the official files and imports nothing from gemgraph.
This module turns what it reads into gemgraph objects:

* :func:`nb101_cells`: rows of a :class:`nasbench.NASBench101` as :class:`gemgraph.Cell` objects.
* :func:`cell_from_spec`: a :class:`nasbench.ModelSpec` (pruned) as a :class:`gemgraph.Cell`.
* :func:`nb101_pyg`: rows as an in-memory PyTorch Geometric dataset with a target ``y``
  (for a dataset with a root folder, processed once and reloaded, see
  :class:`gemgraph.datasets.NB101Dataset`).

These replace the former ``NASBench101.to_cells``, ``NASBench101.to_pyg`` and
``ModelSpec.to_cell`` methods (same cells, same graphs).

Example:
    >>> import nasbench
    >>> from gemgraph.nasbench_bridge import cell_from_spec, nb101_cells
    >>> nb = nasbench.NASBench101.sample_dataset()
    >>> cells = nb101_cells(nb, [0, 1])
    >>> cells[0] == cell_from_spec(nb.spec(nb.hashes[0]))
    True
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

from nasbench.spec import LABEL_OPS

from .cell import Cell
from .errors import InputError

__all__ = ["NB101InMemoryDataset", "cell_from_spec", "nb101_cells", "nb101_pyg"]

#: Cells of NAS-Bench-101 have 2..7 vertices: node features are built for 7 (one width).
NB101_NODES = 7


def _rows(bench: Any, indices: Sequence[int] | np.ndarray | None) -> list[int]:
    n = len(bench)
    if indices is None:
        return list(range(n))
    rows = np.asarray(indices)
    if rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise InputError(f"indices: expected a 1-D sequence of row numbers, got {indices!r}")
    rows = rows.astype(np.int64)
    if rows.size and (rows.min() < -n or rows.max() >= n):
        raise InputError(f"indices: expected rows in [0, {n}), got {rows.min()}..{rows.max()}")
    return (rows % n if n else rows).tolist()


def nb101_cells(bench: Any, indices: Sequence[int] | np.ndarray | None = None) -> list[Cell]:
    r"""Models of a NAS-Bench-101 table as :class:`gemgraph.Cell` objects (op names as labels).

    Args:
        bench: a :class:`nasbench.NASBench101`.
        indices: rows to convert, in this order (default: all rows).

    Returns:
        One cell per row: the pruned matrix (V, V) and the ops ``["input", ..., "output"]``.
    """
    mats, labs, nv = bench.matrices, bench.op_labels, bench.num_vertices
    cells = []
    for i in _rows(bench, indices):
        v = int(nv[i])
        cells.append(Cell(mats[i, :v, :v], [LABEL_OPS[int(x)] for x in labs[i, :v]]))
    return cells


def cell_from_spec(spec: Any) -> Cell:
    r"""The pruned :class:`nasbench.ModelSpec` as a :class:`gemgraph.Cell`.

    Args:
        spec: a :class:`nasbench.ModelSpec`.

    Raises:
        ValueError: if the spec is invalid or outside the NAS-Bench-101 space (its reason).
    """
    spec.check()
    return Cell(spec.matrix, list(spec.ops))


def nb101_pyg(bench: Any, metric: str = "validation_accuracy", epochs: int = 108, reduce: str = "mean",
              seed: int | np.random.Generator | None = None,
              indices: Sequence[int] | np.ndarray | None = None, transform: Any = None) -> "NB101InMemoryDataset":
    r"""Models of a NAS-Bench-101 table as a PyTorch Geometric ``InMemoryDataset``.

    Each graph is ``Cell.to_data(num_nodes=7)`` (``x`` one-hot degree and op, ``edge_index``,
    ``num_nodes``, ``op``) plus ``y`` (1,) float = ``metric`` (NaN where unknown) and
    ``model_index`` (1,) long = the row in ``bench``.

    Args:
        bench: a :class:`nasbench.NASBench101`.
        metric, epochs, reduce, seed: the target, as in :meth:`nasbench.NASBench101.metric_array`.
        indices: rows to include (default all).
        transform: optional PyG transform applied on access.
    """
    rows = np.asarray(_rows(bench, indices), dtype=np.int64)
    y = bench.metric_array(metric, epochs=epochs, reduce=reduce, seed=seed)[rows]
    return NB101InMemoryDataset(nb101_cells(bench, rows), y, rows, transform=transform)


class NB101InMemoryDataset(InMemoryDataset):
    r"""NAS-Bench-101 cells as PyG graphs, ``y`` = the chosen metric (built by :func:`nb101_pyg`).

    Args:
        cells: :class:`gemgraph.Cell` objects with ops.
        y: (n,) targets (float64, NaN = unknown).
        model_index: (n,) rows of the source :class:`nasbench.NASBench101`.
        transform: optional PyG transform applied on access.

    Shapes:
        graph i: ``x`` (V, 13 + num_ops) (:func:`gemgraph.features.node_features` with
        ``num_nodes=7``: one-hot degree, one-hot op), ``op`` (V,), ``edge_index`` (2, E),
        ``num_nodes``, ``y`` (1,) float32, ``model_index`` (1,) long.
    """

    def __init__(self, cells: Sequence[Cell], y: np.ndarray, model_index: np.ndarray,
                 transform: Any = None) -> None:
        super().__init__(None, transform=transform)
        data_list = []
        for cell, target, idx in zip(cells, np.asarray(y, dtype=np.float64).tolist(),
                                     np.asarray(model_index).tolist()):
            d = cell.to_data(num_nodes=NB101_NODES)  # one feature width for cells of 2..7 vertices
            d.y = torch.tensor([target], dtype=torch.float32)
            d.model_index = torch.tensor([idx], dtype=torch.long)
            data_list.append(d)
        self.data, self.slices = self.collate(data_list)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self)})"
