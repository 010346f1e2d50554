"""PyTorch Geometric dataset of NAS-Bench-101 cells (imported lazily by ``NASBench101.to_pyg``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch_geometric.data import InMemoryDataset

__all__ = ["NB101InMemoryDataset"]


class NB101InMemoryDataset(InMemoryDataset):
    r"""NAS-Bench-101 cells as PyG graphs, ``y`` = the chosen metric.

    Args:
        cells: ``gemgraph.Cell`` objects with ops.
        y: (n,) targets (float64, NaN = unknown).
        model_index: (n,) rows of the source :class:`nasbench.NASBench101`.
        transform: optional PyG transform applied on access.

    Graph i: ``x`` (V, 13 + num_ops) (:func:`gemgraph.features.node_features` with
    ``num_nodes=7``: one-hot degree, one-hot op), ``op`` (V,), ``edge_index`` (2, E),
    ``num_nodes``, ``y`` (1,) float32, ``model_index`` (1,) long. For a dataset with a root
    folder, processed once and reloaded, see ``gemgraph.datasets.NB101Dataset``.
    """

    def __init__(self, cells: Sequence[Any], y: np.ndarray, model_index: np.ndarray,
                 transform: Any = None) -> None:
        super().__init__(None, transform=transform)
        data_list = []
        for cell, target, idx in zip(cells, np.asarray(y, dtype=np.float64).tolist(),
                                     np.asarray(model_index).tolist()):
            d = cell.to_data(num_nodes=7)  # one feature width for cells of 2..7 vertices
            d.y = torch.tensor([target], dtype=torch.float32)
            d.model_index = torch.tensor([idx], dtype=torch.long)
            data_list.append(d)
        self.data, self.slices = self.collate(data_list)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({len(self)})"
