r"""``NASBench101``: gemgraph's columnar NAS-Bench-101 API over the official files, no TensorFlow.

For code written against the official ``nasbench.api.NASBench`` use :mod:`nasbench.api`, a
drop-in with the official behaviour (one sampled repeat per query, budget counters,
``OutOfDomainError``, statistics as mappings), built on this class.

Method names follow the official API (``query``, ``is_valid``, ``hash_iterator``,
``get_metrics_from_hash``, ``get_metrics_from_spec``), with these differences:

* repeats are reduced explicitly: ``reduce="mean"`` (default; NaN-aware) or ``"sample"``
  (one repeat drawn with ``np.random.default_rng(seed)``), never with a hidden global RNG;
* values the file does not hold are NaN (floats) or None (``trainable_parameters``), never 0;
* a spec outside the space raises ``ValueError``; a valid spec missing from the file raises
  ``KeyError`` naming its hash; there are no budget counters;
* every model is also reachable as a row of columnar arrays (:attr:`NASBench101.hashes`,
  :attr:`~NASBench101.matrices`, :attr:`~NASBench101.op_labels`,
  :meth:`~NASBench101.metric_array`) for vectorised work over 20k..423k models.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ._cache import load_cached, source_key, source_stat, store_cache
from ._reader import parse_file
from ._table import FIELDS, Table
from .errors import NASBenchFormatError
from .spec import LABEL_OPS, ModelSpec

__all__ = ["NASBench101", "METRICS", "SAMPLE_FILE", "KNOWN_FILES", "completeness"]

log = logging.getLogger(__name__)

#: Names accepted by :meth:`NASBench101.metric_array` (and ``best``). ``training_time``,
#: ``train_accuracy``, ``validation_accuracy`` and ``test_accuracy`` mean the ``final_`` ones.
METRICS: tuple[str, ...] = (
    "validation_accuracy", "test_accuracy", "train_accuracy", "training_time",
    *FIELDS, "trainable_parameters",
)
_ALIASES = {"training_time": "final_training_time", "train_accuracy": "final_train_accuracy",
            "validation_accuracy": "final_validation_accuracy", "test_accuracy": "final_test_accuracy"}
#: Bundled sample: the 20,001-model dev subset in columnar form (see nasbench/data/README.md).
SAMPLE_FILE = "nb101_dev_20k.npz"
#: What the published files hold, by file name: ``(models, records)``. The official files: all
#: 423,624 unique cells, 3 repeats per budget (``nasbench_full``: 4 budgets, 4, 12, 36 and 108
#: epochs; ``nasbench_only108``: 108 epochs); ``nb101_dev_20k.tfrecord``: gemgraph's 20,001-model
#: dev file (one record per model and budget). A file of one of these names holding other counts
#: is refused: it is truncated (possibly exactly at a record boundary, which its framing cannot show).
KNOWN_FILES: dict[str, tuple[int, int]] = {
    "nasbench_full.tfrecord": (423_624, 423_624 * 4 * 3),
    "nasbench_only108.tfrecord": (423_624, 423_624 * 3),
    "nb101_dev_20k.tfrecord": (20_001, 20_001 * 4),
}


def completeness(table: Table) -> dict[str, Any]:
    r"""How complete a table is: every model of the official files has the same records (each
    budget, each repeat); a model with fewer than the file's fullest one is what a file cut at
    a record boundary leaves behind.

    Returns:
        ``{"models", "records", "incomplete"`` (models lacking some budget or repeat the fullest
        model has), ``"example"`` (None, or ``{"hash", "has", "missing"}``: the first such model
        and the budgets it has / lacks, in epochs)``}``.
    """
    counts = table.num_repeats.astype(np.int64)
    full = counts.max(axis=0, initial=0)
    short = (counts < full[None, :]).any(axis=1)
    out: dict[str, Any] = {"models": int(counts.shape[0]), "records": int(counts.sum()),
                           "incomplete": int(short.sum()), "example": None}
    if short.any():
        i = int(np.flatnonzero(short)[-1])  # the last one: where a truncated file ends
        eps = [int(e) for e in table.epochs.tolist()]
        out["example"] = {"hash": str(table.hashes[i]),
                          "has": [e for e, c in zip(eps, counts[i]) if c > 0],
                          "missing": [e for e, c, f in zip(eps, counts[i], full) if c < f]}
    return out


class NASBench101:
    r"""NAS-Bench-101 (Ying et al., 2019) read directly from the official ``.tfrecord`` files.

    Reads ``nasbench_only108.tfrecord`` and ``nasbench_full.tfrecord`` (or any file in their
    layout) in one streaming pass, with CRC-32C checks, and keeps a columnar cache so that the
    next load is a single ``np.load``. Several records for one (hash, epochs) are repeats.

    Args:
        path: the ``.tfrecord`` file.
        verify_crc: check the CRC-32C of every record (length and payload).
        cache: True: use / write the cache next to the file, or under
            ``$GEMGRAPH_CACHE/nasbench`` (default ``~/.cache/gemgraph/nasbench``) when that
            folder is read-only; a path: use that folder; False: always parse.
        progress: show a ``tqdm`` progress bar while parsing (useful for the 1.95 GB file).

    Attributes:
        path: the data file (None for :meth:`sample_dataset`).
        load_info: how the data was loaded: ``source`` ("parsed" / "cache" / "bundled"),
            ``seconds`` (this load), and from the parse: ``records``, ``models``,
            ``parse_seconds``, ``records_per_s``, ``crc_verified``; ``cache_path``; for a file,
            ``incomplete_models`` (models lacking a budget or repeat others have, see
            :func:`completeness`: a warning is logged when there are any).

    Columnar attributes (row i = model i, in order of first appearance in the file):
        hashes: (n,) ``<U32`` module hashes.
        matrices: (n, 7, 7) uint8 pruned adjacency, zero-padded: vertex V-1 is the output,
            rows / columns V.. are 0.
        num_vertices: (n,) int64 V in [2, 7].
        op_labels: (n, 7) int8: -1 input, -2 output, 0 conv3x3-bn-relu, 1 conv1x1-bn-relu,
            2 maxpool3x3, -3 padding.
        epochs: tuple of the training budgets in the file (e.g. (4, 12, 36, 108) or (108,)).
        num_repeats: (n, len(epochs)) uint8 records per model and budget.

    Raises:
        NASBenchFormatError: if the file is malformed (the message names record and offset),
            or if it has the name of a published file (:data:`KNOWN_FILES`) but not its model
            and record counts (truncated, e.g. exactly at a record boundary).

    Example:
        >>> nb = NASBench101("nasbench_only108.tfrecord")          # doctest: +SKIP
        >>> spec = ModelSpec(matrix, ops)                           # doctest: +SKIP
        >>> nb.query(spec)["validation_accuracy"]                   # doctest: +SKIP
        >>> acc = nb.metric_array("validation_accuracy", epochs=108)  # (n,) float64
    """

    def __init__(self, path: str | os.PathLike, *, verify_crc: bool = True,
                 cache: bool | str | os.PathLike = True, progress: bool = False) -> None:
        t0 = time.perf_counter()
        self.path: str | None = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"path: no such NAS-Bench-101 file {self.path!r}")
        cache_dir = None if isinstance(cache, bool) else os.fspath(cache)
        stat = source_stat(self.path) if cache is not False else None
        found = None
        if stat is not None:
            found = load_cached(self.path, stat, need_crc=verify_crc, cache_dir=cache_dir)
        if found is not None:
            table, cache_path = found
            source = "cache"
        else:
            table = self._parse(self.path, verify_crc, progress)
            source = "parsed"
            log.info("parsed %s: %d records, %d models in %.2f s (%.0f records/s, CRC %s)", self.path,
                     table.meta["records"], len(table), table.meta["seconds"], table.meta["records_per_s"],
                     "verified" if verify_crc else "not checked")
            cache_path = None
            if stat is not None:
                key = source_key(self.path, stat)
                if source_stat(self.path) == stat:  # not changed while it was parsed
                    table.meta["source_key"] = key
                    cache_path = store_cache(table, self.path, cache_dir)
        self._check_complete(table)
        self._init_table(table)
        self.load_info = self._info(source, time.perf_counter() - t0, cache_path)
        self.load_info["incomplete_models"] = self._complete["incomplete"]

    def _check_complete(self, table: Table) -> None:
        """Refuse a file named as a published one (:data:`KNOWN_FILES`) whose counts differ from
        that file's; warn (logger ``nasbench.bench``) about models that lack some budget or
        repeat, which is what a file cut at a record boundary leaves."""
        assert self.path is not None
        info = self._complete = completeness(table)
        known = KNOWN_FILES.get(os.path.basename(self.path))
        if known is not None and (info["models"], info["records"]) != known:
            raise NASBenchFormatError(
                f"expected {known[0]:,} models in {known[1]:,} records (the published "
                f"{os.path.basename(self.path)}), found {info['models']:,} models in {info['records']:,} records: "
                "the file is truncated or incomplete; download it again", path=self.path)
        if info["incomplete"]:
            ex = info["example"]
            log.warning("%s: %d of %d models lack records at some training budgets (e.g. %s has %s epochs, not %s): "
                        "the file may be truncated at a record boundary, or is a partial copy",
                        self.path, info["incomplete"], info["models"], ex["hash"],
                        ", ".join(map(str, ex["has"])) or "no", ", ".join(map(str, ex["missing"])))

    # ------------------------------------------------------------------ construction
    @staticmethod
    def _parse(path: str, verify_crc: bool, progress: bool) -> Table:
        if not progress:
            return parse_file(path, verify_crc=verify_crc)
        from tqdm.auto import tqdm  # noqa: PLC0415 - only when asked for

        with tqdm(total=os.path.getsize(path), unit="B", unit_scale=True,
                  desc=f"parsing {os.path.basename(path)}") as bar:
            def update(done: int, total: int) -> None:
                bar.update(done - bar.n)

            return parse_file(path, verify_crc=verify_crc, progress=update)

    @classmethod
    def from_table(cls, table: Table, *, path: str | None = None, source: str = "table") -> NASBench101:
        """Wrap an already built :class:`nasbench._table.Table` (internal / advanced use)."""
        self = cls.__new__(cls)
        self.path = path
        self._init_table(table)
        self.load_info = self._info(source, 0.0, None)
        return self

    @classmethod
    def sample_dataset(cls) -> NASBench101:
        r"""The bundled 20,001-model sample: no download, no file needed.

        A columnar copy of ``nb101_dev_20k.tfrecord``: a uniform random ~5% of NAS-Bench-101
        (real models and accuracies; one training run per model and budget; validation
        accuracies and 108-epoch training times only; test / train accuracies unknown).
        Data: Ying et al. 2019, "NAS-Bench-101: Towards Reproducible Neural Architecture
        Search" (google-research/nasbench), via GitHub ``tiga1231/nasbench-vis``; see
        ``nasbench/data/README.md``.
        """
        t0 = time.perf_counter()
        ref = resources.files("nasbench") / "data" / SAMPLE_FILE
        with resources.as_file(ref) as p:
            table = Table.load(p)
        self = cls.from_table(table, source="bundled")
        self.load_info = self._info("bundled", time.perf_counter() - t0, None)
        return self

    def _init_table(self, table: Table) -> None:
        self._t = table
        self._index: dict[str, int] | None = None
        self._epoch_col = {int(e): i for i, e in enumerate(table.epochs.tolist())}
        for name in ("hashes", "matrices", "op_labels", "num_repeats"):
            getattr(table, name).setflags(write=False)
        self._num_vertices = table.num_vertices.astype(np.int64)
        self._num_vertices.setflags(write=False)
        for arr in table.metrics.values():
            arr.setflags(write=False)

    def _info(self, source: str, seconds: float, cache_path: Path | None) -> dict[str, Any]:
        m = self._t.meta
        return {
            "source": source, "seconds": seconds,
            "cache_path": None if cache_path is None else str(cache_path),
            "records": m.get("records"), "models": len(self),
            "parse_seconds": m.get("seconds"), "records_per_s": m.get("records_per_s"),
            "crc_verified": m.get("crc_verified"),
        }

    # ------------------------------------------------------------------ columnar access
    @property
    def hashes(self) -> np.ndarray:
        """(n,) ``<U32`` module hashes, read-only."""
        return self._t.hashes

    @property
    def matrices(self) -> np.ndarray:
        """(n, 7, 7) uint8 zero-padded pruned adjacency matrices, read-only."""
        return self._t.matrices

    @property
    def num_vertices(self) -> np.ndarray:
        """(n,) int64 vertex counts, read-only."""
        return self._num_vertices

    @property
    def op_labels(self) -> np.ndarray:
        """(n, 7) int8 labels (-1 input, -2 output, 0/1/2 ops, -3 padding), read-only."""
        return self._t.op_labels

    @property
    def epochs(self) -> tuple[int, ...]:
        """Training budgets present in the data, ascending."""
        return tuple(int(e) for e in self._t.epochs)

    @property
    def valid_epochs(self) -> set[int]:
        """The official API's name for :attr:`epochs` (a set)."""
        return set(self.epochs)

    @property
    def num_repeats(self) -> np.ndarray:
        """(n, len(epochs)) uint8: records (repeats) per model and budget, read-only."""
        return self._t.num_repeats

    @property
    def fields(self) -> tuple[str, ...]:
        """Per-run fields the data actually holds (others are unknown everywhere)."""
        return tuple(f for f in FIELDS if f in self._t.metrics)

    def index_of(self, module_hash: str | Sequence[str] | np.ndarray) -> int | np.ndarray:
        """Row of a hash (int), or rows of many hashes ((k,) int64).

        Raises:
            KeyError: naming the first hash that is not in the data.
        """
        if self._index is None:
            self._index = {h: i for i, h in enumerate(self._t.hashes.tolist())}
        index = self._index
        if isinstance(module_hash, str):
            try:
                return index[module_hash]
            except KeyError:
                raise KeyError(self._missing(module_hash)) from None
        out = np.empty(len(module_hash), dtype=np.int64)
        for k, h in enumerate(np.asarray(module_hash).tolist()):
            i = index.get(h)
            if i is None:
                raise KeyError(self._missing(h))
            out[k] = i
        return out

    def _missing(self, module_hash: str) -> str:
        where = f" ({self.path})" if self.path else ""
        return f"module hash {module_hash!r} is not in this NAS-Bench-101 data{where}"

    def _col(self, epochs: int) -> int:
        try:
            return self._epoch_col[int(epochs)]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"epochs: expected one of {list(self.epochs)}, got {epochs!r}") from None

    @staticmethod
    def _field(metric: str) -> str:
        name = _ALIASES.get(metric, metric)
        if name not in FIELDS and name != "trainable_parameters":
            raise ValueError(f"metric: expected one of {list(METRICS)}, got {metric!r}")
        return name

    def _runs(self, field: str, col: int) -> np.ndarray:
        """(n, R) per-repeat values of a field at one budget (NaN where unknown)."""
        arr = self._t.metrics.get(field)
        if arr is None:
            return np.full((len(self), max(self._t.max_repeats, 1)), np.nan)
        return arr[:, col, :]

    def metric_array(self, metric: str = "validation_accuracy", epochs: int = 108,
                     reduce: str = "mean", seed: int | np.random.Generator | None = None) -> np.ndarray:
        r"""One metric for every model, vectorised.

        Args:
            metric: a name in :data:`METRICS`: ``validation_accuracy``, ``test_accuracy``,
                ``train_accuracy``, ``training_time`` (end of training), their ``halfway_``
                and ``final_`` forms, ``total_time``, or ``trainable_parameters``
                (``epochs`` ignored).
            epochs: training budget, one of :attr:`epochs`.
            reduce: ``"mean"``: mean over the known repeats; ``"sample"``: one repeat per
                model, uniformly at random.
            seed: seed or Generator for ``reduce="sample"``.

        Returns:
            (n,) float64, NaN where the value is unknown (absent from the file).

        Shapes: -> (n,)
        """
        field = self._field(metric)
        if field == "trainable_parameters":
            p = self._t.params.astype(np.float64)
            p[self._t.params < 0] = np.nan
            return p
        col = self._col(epochs)
        runs = self._runs(field, col)
        counts = self._t.num_repeats[:, col].astype(np.int64)
        if reduce == "mean":
            known = ~np.isnan(runs)
            k = known.sum(axis=1)
            total = np.where(known, runs, 0.0).sum(axis=1)
            out = np.full(len(self), np.nan)
            np.divide(total, k, out=out, where=k > 0)
            return out
        if reduce == "sample":
            rng = np.random.default_rng(seed)
            pick = np.floor(rng.random(len(self)) * np.maximum(counts, 1)).astype(np.int64)
            out = runs[np.arange(len(self)), pick].copy()
            out[counts == 0] = np.nan
            return out
        raise ValueError(f"reduce: expected 'mean' or 'sample', got {reduce!r}")

    # ------------------------------------------------------------------ official API
    def __len__(self) -> int:
        return len(self._t)

    def __iter__(self) -> Iterator[str]:
        return iter(self._t.hashes.tolist())

    def __contains__(self, item: object) -> bool:
        if isinstance(item, ModelSpec):
            if not item.is_valid():
                return False
            item = item.module_hash
        if not isinstance(item, str):
            return False
        try:
            self.index_of(item)
        except KeyError:
            return False
        return True

    def hash_iterator(self) -> Iterator[str]:
        """Iterator over all module hashes (official name)."""
        return iter(self)

    def is_valid(self, spec: ModelSpec) -> bool:
        """True if the (pruned) spec is inside the NAS-Bench-101 space (official semantics)."""
        return spec.is_valid()

    def spec(self, module_hash: str) -> ModelSpec:
        """The model of a hash as a :class:`ModelSpec`."""
        i = self.index_of(module_hash)
        v = int(self._num_vertices[i])
        return ModelSpec(self._t.matrices[i, :v, :v], [LABEL_OPS[int(x)] for x in self._t.op_labels[i, :v]])

    def fixed_statistics(self, module_hash: str) -> dict[str, Any]:
        """``module_adjacency`` ((V, V) int8), ``module_operations``, ``trainable_parameters``
        (int, None if unknown) and ``module_hash`` of one model.

        Raises:
            KeyError: if the hash is not in the data.
        """
        i = self.index_of(module_hash)
        v = int(self._num_vertices[i])
        p = int(self._t.params[i])
        return {
            "module_adjacency": self._t.matrices[i, :v, :v].astype(np.int8),
            "module_operations": [LABEL_OPS[int(x)] for x in self._t.op_labels[i, :v]],
            "trainable_parameters": p if p >= 0 else None,
            "module_hash": str(self._t.hashes[i]),
        }

    def computed_statistics(self, module_hash: str) -> dict[int, list[dict[str, float]]]:
        """Per-run metrics of one model: ``{epochs: [run 0, run 1, ...]}``.

        Each run is a dict with the official keys ``halfway_training_time``,
        ``halfway_train_accuracy``, ``halfway_validation_accuracy``,
        ``halfway_test_accuracy``, ``final_training_time``, ``final_train_accuracy``,
        ``final_validation_accuracy``, ``final_test_accuracy``, plus ``total_time``; NaN
        where the file does not hold the value. Budgets without a record are left out.

        Raises:
            KeyError: if the hash is not in the data.
        """
        i = self.index_of(module_hash)
        out: dict[int, list[dict[str, float]]] = {}
        for col, e in enumerate(self.epochs):
            r = int(self._t.num_repeats[i, col])
            if r == 0:
                continue
            runs = []
            for k in range(r):
                runs.append({f: (float(self._t.metrics[f][i, col, k]) if f in self._t.metrics else float("nan"))
                             for f in FIELDS})
            out[e] = runs
        return out

    def get_metrics_from_hash(self, module_hash: str) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """``(fixed_statistics(hash), computed_statistics(hash))`` (official name)."""
        return self.fixed_statistics(module_hash), self.computed_statistics(module_hash)

    def get_metrics_from_spec(self, spec: ModelSpec) -> tuple[dict[str, Any], dict[int, list[dict[str, float]]]]:
        """Like :meth:`get_metrics_from_hash` for a spec; ``ValueError`` if outside the space."""
        spec.check()
        return self.get_metrics_from_hash(spec.module_hash)

    def query(self, spec: ModelSpec | str, epochs: int = 108, reduce: str = "mean",
              seed: int | np.random.Generator | None = None, stop_halfway: bool = False) -> dict[str, Any]:
        r"""Look a model up, as the official ``query`` does, with explicit repeat handling.

        Args:
            spec: a :class:`ModelSpec` (pruned and hashed here) or a module hash.
            epochs: training budget, one of :attr:`epochs`.
            reduce: ``"mean"`` over the repeats (NaN-aware) or ``"sample"`` one repeat
                uniformly at random.
            seed: seed or Generator for ``reduce="sample"`` (None: fresh entropy).
            stop_halfway: report the metrics halfway through training instead of at the end.

        Returns:
            dict with ``module_adjacency``, ``module_operations``, ``trainable_parameters``
            (None if unknown), ``training_time``, ``train_accuracy``,
            ``validation_accuracy``, ``test_accuracy`` (NaN where unknown).

        Raises:
            ValueError: if the spec is invalid / outside the space, or for a bad ``epochs``.
            KeyError: if the spec is valid but not in the data (the message names its hash).
        """
        if isinstance(spec, ModelSpec):
            spec.check()
            module_hash = spec.module_hash
        elif isinstance(spec, str):
            module_hash = spec
        else:
            raise TypeError(f"spec: expected a ModelSpec or a module hash, got {type(spec).__name__}")
        col = self._col(epochs)
        fixed = self.fixed_statistics(module_hash)
        i = self.index_of(module_hash)
        r = int(self._t.num_repeats[i, col])
        prefix = "halfway_" if stop_halfway else "final_"
        if reduce == "sample":
            k = int(np.random.default_rng(seed).integers(r)) if r else 0
        elif reduce != "mean":
            raise ValueError(f"reduce: expected 'mean' or 'sample', got {reduce!r}")
        data = {k_: fixed[k_] for k_ in ("module_adjacency", "module_operations", "trainable_parameters")}
        for key in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy"):
            arr = self._t.metrics.get(prefix + key)
            if arr is None or r == 0:
                data[key] = float("nan")
                continue
            runs = arr[i, col, :r]
            if reduce == "sample":
                data[key] = float(runs[k])
            else:
                known = runs[~np.isnan(runs)]
                data[key] = float(known.mean()) if known.size else float("nan")
        return data

    # ------------------------------------------------------------------ sampling / search
    def sample(self, n: int, seed: int | np.random.Generator | None = None, *, replace: bool = False) -> np.ndarray:
        """``n`` module hashes drawn uniformly from the data ((n,) ``<U32``).

        Args:
            n: how many.
            seed: seed or Generator.
            replace: draw with replacement (default: distinct models).
        """
        if not replace and n > len(self):
            raise ValueError(f"n: cannot draw {n} distinct models from {len(self)}")
        rng = np.random.default_rng(seed)
        return self._t.hashes[rng.choice(len(self), size=n, replace=replace)]

    def best(self, metric: str = "validation_accuracy", epochs: int = 108, reduce: str = "mean",
             *, minimize: bool = False) -> tuple[str, float]:
        """The model with the highest (or lowest) known value of ``metric``: ``(hash, value)``.

        Args:
            metric, epochs, reduce: as in :meth:`metric_array` (``reduce="mean"`` by default).
            minimize: pick the lowest value instead (e.g. for ``training_time``).

        Raises:
            ValueError: if the metric is unknown for every model.
        """
        vals = self.metric_array(metric, epochs=epochs, reduce=reduce)
        if np.isnan(vals).all():
            raise ValueError(f"metric: {metric!r} at {epochs} epochs is unknown for every model in this data")
        i = int(np.nanargmin(vals) if minimize else np.nanargmax(vals))
        return str(self._t.hashes[i]), float(vals[i])

    def __repr__(self) -> str:
        src = os.path.basename(self.path) if self.path else self.load_info.get("source")
        return (f"NASBench101(models={len(self)}, records={self._t.meta.get('records')}, "
                f"epochs={list(self.epochs)}, max_repeats={self._t.max_repeats}, "
                f"fields={len(self.fields)}/{len(FIELDS)}, source={src!r})")
