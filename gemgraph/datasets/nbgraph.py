r"""NAS-Bench-Graph as a PyTorch Geometric dataset (PyG's root / processed conventions)."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch_geometric.data import Data

from ..features import node_features
from ..nbgraph import NBGRAPH_NODES, check_dataset, load_nbgraph, table_path
from ..errors import InputError
from ._keyed import DATASET_MODULES, KeyedInMemoryDataset

__all__ = ["NBGraphDataset"]


#: The modules whose source decides the ``Data`` of :class:`NBGraphDataset`: the key and node
#: features, this module and the table reader (:mod:`gemgraph.nbgraph` and what it imports).
NBGRAPH_DATASET_MODULES: tuple[str, ...] = DATASET_MODULES + (
    "gemgraph.datasets.nbgraph", "gemgraph.nbgraph", "gemgraph.batch", "gemgraph.cell", "gemgraph.utils",
    "gemgraph.protocols",
)


class NBGraphDataset(KeyedInMemoryDataset):
    r"""The architectures of a NAS-Bench-Graph dataset as PyG graphs, ``y`` = validation performance.

    The table comes from the installed ``nas-bench-graph`` package (read by
    :func:`gemgraph.nbgraph.load_nbgraph`: restricted unpickler, verified cache); :meth:`process`
    writes ``<root>/processed/nbgraph_<dataset>_<key>.pt`` once, later constructions load that
    file. ``key`` digests the dataset, the table file's identity (size and content hash,
    remembered per size / mtime / ctime / inode) and the code version (gemgraph's version and
    the source of :data:`NBGRAPH_DATASET_MODULES`): another table or changed code is processed
    again (see :mod:`gemgraph.datasets._keyed`; loaded with ``weights_only=True`` only).

    Graph i (the cell of :class:`~gemgraph.nbgraph.NBGraphPool` row i): ``x`` (6, 11 + len(vocab))
    = :func:`gemgraph.features.node_features` (one-hot degree, one-hot op over the dataset's
    vocabulary: the ``"gin"`` / ``"gcn"`` encoders' input), ``op`` (6,) op indices in that
    vocabulary, ``edge_index`` (2, E), ``num_nodes`` 6, ``y`` (1,) float32 validation performance,
    ``test`` (1,) test performance, ``latency`` (1,) seconds, ``params`` (1,) millions,
    ``model_index`` (1,) long and ``arch_hash`` (1,) long (the package's canonical hash).

    Args:
        root: the dataset folder.
        dataset: one of :data:`gemgraph.nbgraph.NBGRAPH_DATASETS`.
        cache_dir: the table cache folder (see :func:`~gemgraph.nbgraph.load_nbgraph`).
        transform, pre_transform, pre_filter, force_reload: as in PyG.
        path: the table to read (default: the installed package's ``light/<dataset>.bench``).

    Example:
        >>> ds = NBGraphDataset("data/nbgraph", "cora")  # doctest: +SKIP
        >>> ds[0]  # doctest: +SKIP
        Data(x=[6, 22], edge_index=[2, 8], y=[1], ...)
    """

    def __init__(self, root: str | os.PathLike, dataset: str = "cora", cache_dir: str | os.PathLike | None = None,
                 transform: Callable | None = None, pre_transform: Callable | None = None,
                 pre_filter: Callable | None = None, force_reload: bool = False,
                 path: str | os.PathLike | None = None) -> None:
        if root is None:
            raise InputError("root: expected a dataset folder, got None")
        self.dataset = check_dataset(dataset)
        self.cache_dir = cache_dir
        if path is not None and not os.path.isfile(path):
            raise FileNotFoundError(f"path: expected a NAS-Bench-Graph table file, {os.fspath(path)!r} does not exist")
        self.path = None if path is None else Path(path)
        super().__init__(str(root), transform, pre_transform, pre_filter, force_reload=force_reload, log=False)
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self) -> list[str]:
        return []

    CODE_MODULES = NBGRAPH_DATASET_MODULES

    def processed_stem(self) -> str:
        return f"nbgraph_{self.dataset}"

    def cache_settings(self) -> dict:
        return {"dataset": "nbgraph", "name": self.dataset}

    def raw_sources(self) -> list[Path]:
        return [table_path(self.dataset) if self.path is None else self.path]

    def download(self) -> None:
        """Nothing to download: the table ships in the ``nas-bench-graph`` wheel."""

    def pool(self):
        """The :class:`~gemgraph.nbgraph.NBGraphPool` this dataset is made from."""
        return load_nbgraph(self.dataset, path=self.path, cache_dir=self.cache_dir)

    def process(self) -> None:
        """Build one ``Data`` per architecture and save them."""
        pool = self.pool()
        adj, ops = pool.batch.adj, pool.ops
        x_all = node_features(adj, ops, num_nodes=NBGRAPH_NODES, vocab=pool.vocab)
        mats = adj.numpy()
        data_list = []
        for i in range(len(pool)):
            src, dst = np.nonzero(mats[i])
            d = Data(x=x_all[i].clone(), edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
                     num_nodes=NBGRAPH_NODES, op=ops[i].clone(),
                     y=torch.tensor([pool.accuracy[i]], dtype=torch.float32),
                     test=torch.tensor([pool.test_accuracy[i]], dtype=torch.float32),
                     latency=torch.tensor([pool.latency[i]], dtype=torch.float32),
                     params=torch.tensor([pool.params[i]], dtype=torch.float32),
                     model_index=torch.tensor([i]), arch_hash=torch.tensor([int(pool.hashes[i])]))
            if self.pre_filter is not None and not self.pre_filter(d):
                continue
            if self.pre_transform is not None:
                d = self.pre_transform(d)
            data_list.append(d)
        Path(self.processed_dir).mkdir(parents=True, exist_ok=True)
        self.save(data_list, self.processed_paths[0])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}, {self.dataset})"
