r"""NAS-Bench-101 as a PyTorch Geometric dataset, with PyG's root / raw / processed conventions."""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from importlib import resources

import numpy as np
import torch
from torch_geometric.data import Data

from nasbench import METRICS, NASBench101
from nasbench.bench import SAMPLE_FILE

from ..features import node_features
from ..nb101 import label_op_ids
from ..errors import InputError
from ._keyed import DATASET_MODULES, KeyedInMemoryDataset

__all__ = ["NB101Dataset"]

#: Cells of NAS-Bench-101 have 2..7 vertices: node features are built for 7 (one width).
NB101_NODES = 7


#: The modules whose source decides the ``Data`` of :class:`NB101Dataset`: the key and node
#: features, this module, the op labels (:mod:`gemgraph.nb101` and what it imports) and the
#: NAS-Bench-101 reader (:mod:`nasbench`'s parser, table and cache).
NB101_DATASET_MODULES: tuple[str, ...] = DATASET_MODULES + (
    "gemgraph.datasets.nb101", "gemgraph.nb101", "gemgraph.cell", "gemgraph.batch", "gemgraph.utils",
    "gemgraph.protocols",
    "nasbench.bench", "nasbench._reader", "nasbench._table", "nasbench._proto",
    "nasbench.tfrecord", "nasbench._crc32c", "nasbench.spec", "nasbench.hashing",
)


class NB101Dataset(KeyedInMemoryDataset):
    r"""NAS-Bench-101 cells as PyG graphs, ``y`` = a chosen metric.

    Layout (PyG's): ``<root>/raw/<file_name>`` is the official file
    (``nasbench_only108.tfrecord``, ``nasbench_full.tfrecord`` or one in their layout);
    :meth:`process` reads it once (:class:`nasbench.NASBench101`, CRC-checked) and writes
    ``<root>/processed/nb101_<stem>_<metric>_<epochs>_<reduce>_<key>.pt``; later constructions
    only load that file. ``key`` digests the settings, the raw file's identity (its size and
    content hash, remembered per size / mtime / ctime / inode so an unchanged file costs one
    ``stat``) and the code version (gemgraph's version and the source of
    :data:`NB101_DATASET_MODULES`): a replaced raw file or changed code is processed again
    (see :mod:`gemgraph.datasets._keyed`; the processed file is loaded with
    ``weights_only=True`` only, after its checksum is verified).
    When the raw file is missing, :meth:`download` links (or copies) ``source`` there, or says
    where to put the official file. ``file_name=None`` uses the bundled 20,001-model sample
    (no raw file). As in PyG, a ``pre_transform`` / ``pre_filter`` other than the one the file
    was processed with raises a warning; ``force_reload=True`` processes again.

    Graph i: ``x`` (V, 19) = :func:`gemgraph.features.node_features` for 7 nodes (one-hot
    degree, one-hot op: the ``"gin"`` / ``"gcn"`` encoders' input), ``op`` (V,) op indices,
    ``edge_index`` (2, E), ``num_nodes`` V, ``y`` (1,) float32 (NaN where the data does not
    know the metric), ``model_index`` (1,) long (row in the ``NASBench101`` table) and
    ``module_hash`` (str).

    Args:
        root: the dataset folder.
        file_name: the raw file's name under ``<root>/raw`` (None: the bundled sample).
        source: a path to link into ``<root>/raw`` when the raw file is missing.
        metric, epochs, reduce, seed: the target ``y``, as in
            :meth:`nasbench.NASBench101.metric_array` (they are part of the processed name).
        transform, pre_transform, pre_filter, force_reload: as in PyG.

    Example:
        >>> ds = NB101Dataset("data/nb101", file_name="nasbench_only108.tfrecord")  # doctest: +SKIP
        >>> loader = torch_geometric.loader.DataLoader(ds, batch_size=128, shuffle=True)  # doctest: +SKIP
    """

    def __init__(
        self,
        root: str | os.PathLike,
        file_name: str | None = "nasbench_only108.tfrecord",
        source: str | os.PathLike | None = None,
        metric: str = "validation_accuracy",
        epochs: int = 108,
        reduce: str = "mean",
        seed: int = 0,
        transform: Callable | None = None,
        pre_transform: Callable | None = None,
        pre_filter: Callable | None = None,
        force_reload: bool = False,
    ) -> None:
        if root is None:
            raise InputError("root: expected a dataset folder, got None")
        if file_name is not None and (not isinstance(file_name, str) or os.sep in file_name or not file_name):
            raise InputError(f"file_name: expected a file name (no folder) under <root>/raw, got {file_name!r}")
        if metric not in METRICS:
            raise InputError(f"metric: expected one of {list(METRICS)}, got {metric!r}")
        if reduce not in ("mean", "sample"):
            raise InputError(f"reduce: expected 'mean' or 'sample', got {reduce!r}")
        self.file_name, self.source = file_name, None if source is None else os.fspath(source)
        self.metric, self.epochs, self.reduce, self.seed = metric, int(epochs), reduce, int(seed)
        super().__init__(str(root), transform, pre_transform, pre_filter, force_reload=force_reload, log=False)
        self.load(self.processed_paths[0])

    @property
    def raw_file_names(self) -> list[str]:
        return [] if self.file_name is None else [self.file_name]

    CODE_MODULES = NB101_DATASET_MODULES

    def processed_stem(self) -> str:
        stem = "bundled_sample" if self.file_name is None else Path(self.file_name).stem
        red = self.reduce if self.reduce == "mean" else f"sample{self.seed}"
        return f"nb101_{stem}_{self.metric}_{self.epochs}_{red}"

    def cache_settings(self) -> dict:
        return {"dataset": "nb101", "file_name": self.file_name, "metric": self.metric, "epochs": self.epochs,
                "reduce": self.reduce, "seed": self.seed if self.reduce == "sample" else None}

    def raw_sources(self) -> list[Path]:
        if self.file_name is not None:
            return [Path(self.raw_paths[0])]
        ref = resources.files("nasbench") / "data" / SAMPLE_FILE
        return [ref] if isinstance(ref, Path) else []  # a zipped install: the code version covers it

    def download(self) -> None:
        """Link (or copy) ``source`` to ``<root>/raw/<file_name>``; without ``source``, say where the file goes."""
        if self.file_name is None:  # the bundled sample: no raw file
            return
        target = Path(self.raw_dir) / self.file_name
        if self.source is None:
            raise FileNotFoundError(f"file_name: {target} not found; put the official NAS-Bench-101 file there "
                                    "or pass source=<path of the file>")
        if not os.path.isfile(self.source):
            raise FileNotFoundError(f"source: no such file {self.source!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(os.path.abspath(self.source), target)
        except OSError:
            shutil.copyfile(self.source, target)

    def bench(self):
        """The :class:`nasbench.NASBench101` this dataset is made from (read again; cached columnar)."""
        return NASBench101.sample_dataset() if self.file_name is None else NASBench101(self.raw_paths[0])

    def process(self) -> None:
        """Read the raw file once, build one ``Data`` per model, save them."""
        nb = self.bench()
        y = nb.metric_array(self.metric, epochs=self.epochs, reduce=self.reduce, seed=self.seed)
        mats, labs, nv = nb.matrices, nb.op_labels, nb.num_vertices
        ops_all = torch.from_numpy(label_op_ids(labs))  # (n, 7), -1 on padding
        adj_all = torch.from_numpy(np.ascontiguousarray(mats).astype(bool))
        x_all = node_features(adj_all, ops_all, num_nodes=NB101_NODES)  # (n, 7, 19), one call for all
        hashes = nb.hashes.tolist()
        data_list = []
        for i in range(len(nb)):
            v = int(nv[i])
            src, dst = np.nonzero(mats[i, :v, :v])
            d = Data(x=x_all[i, :v].clone(), edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
                     num_nodes=v, op=ops_all[i, :v].clone(), y=torch.tensor([y[i]], dtype=torch.float32),
                     model_index=torch.tensor([i]), module_hash=hashes[i])
            if self.pre_filter is not None and not self.pre_filter(d):
                continue
            if self.pre_transform is not None:
                d = self.pre_transform(d)
            data_list.append(d)
        self.save(data_list, self.processed_paths[0])

    def __repr__(self) -> str:
        src = "bundled sample" if self.file_name is None else self.file_name
        return f"{type(self).__name__}({len(self)}, {src}, y={self.metric}@{self.epochs})"
