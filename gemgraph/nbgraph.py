r"""NAS-Bench-Graph as a finite, complete search space and a look-up evaluator.

NAS-Bench-Graph (Qin et al., NeurIPS 2022 Datasets and Benchmarks; PyPI ``nas-bench-graph``,
the optional extra ``gemgraph[nbgraph]``) tabulates, for each of 9 node-classification
datasets (:data:`NBGRAPH_DATASETS`), every architecture of its space: an input, 4 computing
nodes each taking *one* earlier node as input and applying one of 9 GNN operations
(:data:`NBGRAPH_OPS`; 5 for ``proteins``, :data:`NBGRAPH_PROTEINS_OPS`), and the leaves (computing
nodes nobody reads) feeding the output. 26,206 architectures up to isomorphism (2,021 for
proteins), each with a validation and a test performance, a latency (s) and a parameter count
(millions).

As gemgraph cells (:func:`arch_to_cell`): 6 nodes, node 0 ``"input"``, nodes 1..4 the computing
nodes (edge ``links[i] -> i + 1``), node 5 ``"output"`` with an edge from every leaf, ops from
the dataset's vocabulary (:data:`NBGRAPH_VOCAB`, :data:`NBGRAPH_PROTEINS_VOCAB`). Isomorphic
variants (another order of the computing nodes, a ``skip`` moved) are found through the
package's canonical hash (``nas_bench_graph.Arch.valid_hash``).

* :func:`load_nbgraph` reads a dataset's table (the "light" pickle inside the wheel) with a
  *restricted* unpickler (plain containers and numbers only, :func:`read_table`), checks it,
  caches it as a verified ``.npz`` and returns an :class:`NBGraphPool` (tensors of all
  architectures, like :class:`gemgraph.nb101.NB101Pool`);
* :class:`NBGraphSpace` is the pool as a :class:`~gemgraph.protocols.Space`
  (``sample``, ``sample_tensors``, ``draw``) with ``neighbours`` / ``mutate`` (one input or one
  op changed, canonicalised);
* :class:`NBGraphEvaluator` looks a cell's validation performance up (what a search sees) and
  counts queries; :meth:`NBGraphEvaluator.report` gives the test performance of the chosen
  model. With ``lam > 0`` the score is the paper's efficiency objective on a measured cost:
  ``valid - lam * ln(latency in ms)`` (or ``ln(params in millions)``).

``NASGEM(NBGraphSpace(pool), encoder, predictor, NBGraphEvaluator(pool), store)`` is the loop a
30-node search runs.
"""
from __future__ import annotations

import hashlib
import io
import itertools
import logging
import math
import os
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .batch import CellBatch
from .cell import Cell
from .utils import check_int, source_digest
from .vocab import OpVocabulary
from .errors import InputError, MissingDependencyError
from .protocols import Result

__all__ = [
    "NBGRAPH_DATASETS", "NBGRAPH_OPS", "NBGRAPH_PROTEINS_OPS", "NBGRAPH_LINKS", "NBGRAPH_VOCAB",
    "NBGRAPH_PROTEINS_VOCAB", "NBGRAPH_NODES", "NBGRAPH_COSTS", "TableError", "check_dataset", "nbgraph_vocab",
    "table_path", "read_table", "load_nbgraph", "arch_hash", "arch_to_cell", "cell_to_arch", "NBGraphPool",
    "NBGraphSpace", "NBGraphEvaluator",
]

logger = logging.getLogger(__name__)

#: The 9 datasets of NAS-Bench-Graph (the names of its tables).
NBGRAPH_DATASETS: tuple[str, ...] = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv",
                                     "proteins")
#: The 9 GNN operations, in the package's order (``nas_bench_graph.architecture.gnn_list``).
NBGRAPH_OPS: tuple[str, ...] = ("gat", "gcn", "gin", "cheb", "sage", "arma", "graph", "fc", "skip")
#: The 5 operations of the proteins space (``gnn_list_proteins``).
NBGRAPH_PROTEINS_OPS: tuple[str, ...] = ("gcn", "sage", "arma", "fc", "skip")
#: The 9 canonical input patterns (``link_list``): node ``i + 1`` reads node ``links[i]``.
NBGRAPH_LINKS: tuple[tuple[int, int, int, int], ...] = (
    (0, 0, 0, 0), (0, 0, 0, 1), (0, 0, 1, 1), (0, 0, 1, 2), (0, 0, 1, 3),
    (0, 1, 1, 1), (0, 1, 1, 2), (0, 1, 2, 2), (0, 1, 2, 3),
)
#: Op vocabularies of the cells (index order: input, output, then the GNN ops).
NBGRAPH_VOCAB = OpVocabulary(("input", "output") + NBGRAPH_OPS, name="nbgraph")
NBGRAPH_PROTEINS_VOCAB = OpVocabulary(("input", "output") + NBGRAPH_PROTEINS_OPS, name="nbgraph-proteins")
#: Nodes of every cell: input, 4 computing nodes, output.
NBGRAPH_NODES = 6
#: The measured costs an efficiency score may use.
NBGRAPH_COSTS: tuple[str, ...] = ("latency", "params")

_FIELDS = ("valid_perf", "perf", "latency", "para")
_BASE = len(NBGRAPH_OPS) + 1  # the package's hash: base 10 digits, one per computing node
_OP_DIGIT = {o: i for i, o in enumerate(NBGRAPH_OPS)}
_CACHE_VERSION = 1


class TableError(InputError):
    """A NAS-Bench-Graph table that is not what the package ships (tampered, truncated, foreign)."""


def check_dataset(dataset: Any) -> str:
    """``dataset`` if it names one of :data:`NBGRAPH_DATASETS` (case-insensitive), else a ValueError."""
    if isinstance(dataset, str) and dataset.lower() in NBGRAPH_DATASETS:
        return dataset.lower()
    raise InputError(f"dataset: expected one of {list(NBGRAPH_DATASETS)}, got {dataset!r}")


def nbgraph_vocab(dataset: str) -> OpVocabulary:
    """The op vocabulary of ``dataset``'s cells (:data:`NBGRAPH_PROTEINS_VOCAB` for proteins)."""
    return NBGRAPH_PROTEINS_VOCAB if check_dataset(dataset) == "proteins" else NBGRAPH_VOCAB


def _dataset_ops(dataset: str) -> tuple[str, ...]:
    return NBGRAPH_PROTEINS_OPS if dataset == "proteins" else NBGRAPH_OPS


def table_path(dataset: str) -> Path:
    """Path of ``dataset``'s light table inside the installed ``nas_bench_graph`` package.

    Raises:
        ValueError: for an unknown dataset.
        MissingDependencyError: (a ModuleNotFoundError) when ``nas-bench-graph`` is not installed
            (``pip install gemgraph[nbgraph]``).
    """
    dataset = check_dataset(dataset)
    try:
        import nas_bench_graph  # noqa: PLC0415 - optional dependency (gemgraph[nbgraph])
    except ModuleNotFoundError:
        raise MissingDependencyError("NAS-Bench-Graph needs the package nas-bench-graph: "
                                     "pip install 'gemgraph[nbgraph]'") from None
    return Path(nas_bench_graph.__file__).resolve().parent / "light" / f"{dataset}.bench"


# ---------------------------------------------------------------------- restricted unpickling
_NUMERIC_DTYPES = frozenset({"f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "b1"})


class _DType:
    """Stand-in for ``numpy.dtype`` while unpickling: numeric dtype names only, never numpy's own code."""

    __slots__ = ("name", "order")

    def __init__(self, name: Any, align: Any = False, copy: Any = True) -> None:
        if not isinstance(name, str) or name not in _NUMERIC_DTYPES:
            raise TableError(f"numpy.dtype({name!r}): only numeric dtypes {sorted(_NUMERIC_DTYPES)} are allowed")
        self.name, self.order = name, "<"

    def __setstate__(self, state: Any) -> None:
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else None
        if order not in ("<", ">", "|", "="):
            raise TableError(f"numpy.dtype state {state!r}: expected a plain numeric dtype")
        self.order = "=" if order == "|" else order

    def numpy(self) -> np.dtype:
        dt = np.dtype(self.name)
        return dt.newbyteorder(">") if self.order == ">" else dt.newbyteorder("<") if self.order == "<" else dt


def _scalar(dtype: Any, data: Any = None) -> float | int | bool:
    """Stand-in for ``numpy.core.multiarray.scalar``: a numeric scalar from its bytes, as a Python number."""
    if not isinstance(dtype, _DType) or not isinstance(data, bytes):
        raise TableError(f"numpy scalar: expected a numeric dtype and its bytes, got {type(dtype).__name__}, "
                         f"{type(data).__name__}")
    dt = dtype.numpy()
    if len(data) != dt.itemsize:
        raise TableError(f"numpy scalar: {len(data)} bytes for a {dt.itemsize}-byte {dtype.name}")
    return np.frombuffer(data, dtype=dt)[0].item()


_ALLOWED = {
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "dtype"): _DType,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numbers only: the one global it resolves is a numeric numpy
    scalar (rebuilt from its bytes here, not by numpy's reconstruction code)."""

    def __init__(self, file: Any, where: str) -> None:
        super().__init__(file)
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        fn = _ALLOWED.get((module, name))
        if fn is None:
            raise TableError(f"{self.where}: the pickle names {module}.{name}; a NAS-Bench-Graph table holds only "
                             "plain containers and numbers (a tampered or foreign file: not loaded)")
        return fn

    def persistent_load(self, pid: Any) -> Any:
        raise TableError(f"{self.where}: the pickle asks for a persistent object {pid!r}; not a NAS-Bench-Graph table")


def read_table(path: str | os.PathLike) -> dict[int, dict[str, float]]:
    r"""Read a NAS-Bench-Graph light table with a restricted unpickler, and check its structure.

    Args:
        path: a ``.bench`` file (the package's ``light/<dataset>.bench``).

    Returns:
        ``{hash: {"valid_perf", "perf", "latency", "para": float}}``.

    Raises:
        TableError: (a ValueError) naming the file, for a pickle that names anything but
            plain containers and numbers (e.g. ``os.system``), a damaged pickle, or a table of
            the wrong shape (the message names the first bad entry).
        FileNotFoundError: for a missing file.
    """
    where = os.fspath(path)
    raw = Path(path).read_bytes()
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), where).load()
    except TableError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            OverflowError, RecursionError, MemoryError) as exc:  # a damaged pickle
        raise TableError(f"{where}: not a readable NAS-Bench-Graph table ({type(exc).__name__}: {exc})") from None
    if not isinstance(obj, dict) or not obj:
        raise TableError(f"{where}: expected a non-empty dict hash -> record, got {type(obj).__name__}")
    out: dict[int, dict[str, float]] = {}
    for key, rec in obj.items():
        if isinstance(key, bool) or not isinstance(key, int) or key < 0:
            raise TableError(f"{where}: expected architecture hashes (ints >= 0) as keys, got {key!r}")
        if not isinstance(rec, dict) or not set(_FIELDS) <= set(rec):
            raise TableError(f"{where}: record {key}: expected a dict with {list(_FIELDS)}, got {rec!r}")
        vals = {}
        for f in _FIELDS:
            v = rec[f]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise TableError(f"{where}: record {key}: {f} is {v!r}, expected a finite number")
            vals[f] = float(v)
        out[key] = vals
    return out


# ---------------------------------------------------------------------- architectures <-> cells
def _digits(h: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The package's hash -> (links, ops) of the canonical architecture."""
    lk, ops = divmod(int(h), _BASE ** 4)
    if not 0 <= lk < len(NBGRAPH_LINKS):
        raise TableError(f"hash {h}: its link code {lk} is not one of the 9 input patterns")
    names = []
    for p in (3, 2, 1, 0):
        d = (ops // _BASE ** p) % _BASE
        if d >= len(NBGRAPH_OPS):
            raise TableError(f"hash {h}: op digit {d} is not one of the 9 operations")
        names.append(NBGRAPH_OPS[d])
    return NBGRAPH_LINKS[lk], tuple(names)


def arch_hash(links: Sequence[int], ops: Sequence[str]) -> int | None:
    r"""The package's canonical hash (``Arch(links, ops).valid_hash()``) of an architecture, the
    same for all its isomorphic variants; None when it has none (a pattern the package does not
    canonicalise). Whether the hash is *in* a dataset's table is for the pool to say.

    Args:
        links: 4 ints, ``links[i] <= i``: node ``i + 1`` reads node ``links[i]`` (0 = input).
        ops: 4 op names of :data:`NBGRAPH_OPS`.
    """
    from nas_bench_graph.architecture import Arch  # noqa: PLC0415 - optional dependency (gemgraph[nbgraph])

    try:
        return int(Arch(list(links), list(ops)).valid_hash())
    except (KeyError, IndexError, UnboundLocalError, ValueError):
        return None


def arch_to_cell(links: Sequence[int], ops: Sequence[str], vocab: OpVocabulary = NBGRAPH_VOCAB) -> Cell:
    r"""An architecture as a 6-node cell: input, the 4 computing nodes (edge ``links[i] -> i + 1``),
    output (an edge from every leaf, a computing node no other reads).

    Raises:
        ValueError: for links not of the form ``links[i] in 0..i`` or ops outside ``vocab``.
    """
    links = [int(v) for v in links]
    if len(links) != 4 or any(not 0 <= v <= i for i, v in enumerate(links)):
        raise InputError(f"links: expected 4 ints with links[i] in 0..i, got {links}")
    if isinstance(ops, str) or len(ops) != 4:
        raise InputError(f"ops: expected 4 op names, got {ops!r}")
    adj = np.zeros((NBGRAPH_NODES, NBGRAPH_NODES), dtype=np.uint8)
    for i, src in enumerate(links):
        adj[src, i + 1] = 1
    for j in range(1, 5):
        if j not in links:
            adj[j, 5] = 1
    return Cell(adj, ("input", *ops, "output"), vocab)


def cell_to_arch(cell: Cell, dataset: str = "cora") -> tuple[tuple[int, ...], tuple[str, ...]]:
    r"""The architecture ``(links, ops)`` a cell writes (in the cell's own node order).

    Raises:
        ValueError: ``cell: not a NAS-Bench-Graph architecture ...`` saying why (size, ops,
            a node with other than one input, output edges that are not the leaves), for a
            cell outside ``dataset``'s space.
    """
    dataset = check_dataset(dataset)
    allowed = _dataset_ops(dataset)

    def bad(why: str) -> ValueError:
        return ValueError(f"cell: not a NAS-Bench-Graph architecture of {dataset!r}: {why}")

    if not isinstance(cell, Cell):
        raise InputError(f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
    if cell.num_nodes != NBGRAPH_NODES:
        raise bad(f"expected {NBGRAPH_NODES} nodes (input, 4 computing nodes, output), got {cell.num_nodes}")
    if cell.ops is None:
        raise bad("the cell has no ops")
    ops = cell.ops
    if ops[0] != "input" or ops[-1] != "output":
        raise bad(f"expected 'input' first and 'output' last, got ops {list(ops)}")
    for j, o in enumerate(ops[1:5], start=1):
        if o not in allowed:
            raise bad(f"node {j} has op {o!r}; expected one of {list(allowed)}")
    adj = cell.adjacency
    links = []
    for j in range(1, 5):
        src = np.flatnonzero(adj[:, j])
        if len(src) != 1:
            raise bad(f"computing node {j} has {len(src)} inputs {src.tolist()}; each takes exactly one")
        links.append(int(src[0]))
    leaves = [j for j in range(1, 5) if j not in links]
    if np.flatnonzero(adj[:, 5]).tolist() != leaves:
        raise bad(f"the output reads nodes {np.flatnonzero(adj[:, 5]).tolist()}; expected the leaves {leaves}")
    return tuple(links), tuple(ops[1:5])


# ---------------------------------------------------------------------- the table as tensors
def _cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    root = os.environ.get("GEMGRAPH_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "gemgraph") / "nbgraph"


def _parser_digest() -> str:
    """The digest of this module's source (:func:`gemgraph.utils.source_digest`): the table
    reader, the hash canonicalisation and the op digits that build every cached array live
    here, so an edit to them makes new cache entries (``_CACHE_VERSION`` need not be bumped)."""
    return source_digest(("gemgraph.nbgraph",))


def _payload_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        h.update(k.encode() + str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return h.hexdigest()


def _arrays_from_table(table: dict[int, dict[str, float]], dataset: str, where: str) -> dict[str, np.ndarray]:
    """Check every hash is canonical and of the dataset's ops; the table as sorted arrays."""
    allowed = set(_dataset_ops(dataset))
    keys = np.array(sorted(table), dtype=np.int64)
    links = np.zeros((len(keys), 4), dtype=np.int64)
    ops = np.zeros((len(keys), 4), dtype=np.int64)
    for r, h in enumerate(keys.tolist()):
        try:
            lk, names = _digits(h)
        except TableError as exc:
            raise TableError(f"{where}: {exc}") from None
        if not set(names) <= allowed:
            raise TableError(f"{where}: hash {h} has ops {list(names)} outside the {dataset} space {sorted(allowed)}")
        if arch_hash(lk, names) != h:
            raise TableError(f"{where}: hash {h} is not the canonical hash of its architecture {lk}, {list(names)}")
        links[r] = lk
        ops[r] = [_OP_DIGIT[o] for o in names]
    col = {f: np.array([table[h][f] for h in keys.tolist()], dtype=np.float64) for f in _FIELDS}
    return {"hashes": keys, "links": links, "ops": ops, "valid": col["valid_perf"], "test": col["perf"],
            "latency": col["latency"], "params": col["para"]}


def _verified_cache(cfile: Path, src: str, build: Any, cache: bool) -> dict[str, np.ndarray]:
    """The arrays cached in ``cfile`` when both digests verify (``src``: of what they are built
    from; the payload's: of the arrays themselves), else ``build()``, written there atomically."""
    if cache and cfile.is_file():
        try:
            with np.load(cfile, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files if not k.startswith("_")}
                ok = str(z["_source"]) == src and str(z["_payload"]) == _payload_digest(arrays)
            if ok:
                return arrays
            logger.warning("nbgraph cache %s does not verify; rebuilding it", cfile)
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("nbgraph cache %s is unreadable (%s); rebuilding it", cfile, exc)
    arrays = build()
    if cache:
        try:
            cfile.parent.mkdir(parents=True, exist_ok=True)
            tmp = cfile.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(tmp, **arrays, _source=np.array(src), _payload=np.array(_payload_digest(arrays)))
            os.replace(tmp, cfile)
        except OSError as exc:  # a read-only cache folder: the data is still good
            logger.warning("nbgraph: could not write the cache %s (%s)", cfile, exc)
    return arrays


def _load_arrays(dataset: str, path: Path, cache: bool, cache_dir: str | os.PathLike | None
                 ) -> dict[str, np.ndarray]:
    table, code = hashlib.sha256(path.read_bytes()).hexdigest(), _parser_digest()
    cfile = _cache_dir(cache_dir) / f"{dataset}-v{_CACHE_VERSION}-{table[:20]}-{code[:12]}.npz"
    return _verified_cache(cfile, f"{table}:{code}",
                           lambda: _arrays_from_table(read_table(path), dataset, os.fspath(path)), cache)


#: The 24 input patterns of 4 computing nodes (``links[i] in 0..i``), in product order: the
#: raw (not canonicalised) architectures are ``link pattern x 9^4 op digits``.
_RAW_LINKS: tuple[tuple[int, ...], ...] = tuple(itertools.product(range(1), range(2), range(3), range(4)))
_RAW_LINK_INDEX = {lk: i for i, lk in enumerate(_RAW_LINKS)}
_NOPS = len(NBGRAPH_OPS)
_OP_WEIGHTS = np.array([_NOPS ** 3, _NOPS ** 2, _NOPS, 1], dtype=np.int64)
_RAW_SIZE = len(_RAW_LINKS) * _NOPS ** 4
# (24, 6): the link patterns one input change away from each
_LINK_EDITS = np.array([[_RAW_LINK_INDEX[lk[:i] + (v,) + lk[i + 1:]] for i in range(4) for v in range(i + 1)
                         if v != lk[i]] for lk in _RAW_LINKS], dtype=np.int64)


def _raw_code(links: Sequence[int], ops: Sequence[str]) -> int:
    """Index of a raw architecture in the raw space (see :data:`_RAW_LINKS`)."""
    return _RAW_LINK_INDEX[tuple(links)] * _NOPS ** 4 + int(np.dot(_OP_WEIGHTS, [_OP_DIGIT[o] for o in ops]))


def _raw_hashes(cache: bool, cache_dir: str | os.PathLike | None) -> np.ndarray:
    """(157464,) int64: the package's canonical hash of every raw architecture (computed once
    with ``Arch.valid_hash``, cached like the tables)."""
    import nas_bench_graph.architecture as arch_mod  # noqa: PLC0415 - optional dependency (gemgraph[nbgraph])

    hasher = hashlib.sha256(Path(arch_mod.__file__).read_bytes()).hexdigest()  # the hash function's own code
    code = _parser_digest()  # and ours, that enumerates the raw space and calls it
    src = f"{hasher}:{code}"

    def build() -> dict[str, np.ndarray]:
        out = np.empty(_RAW_SIZE, dtype=np.int64)
        k = 0
        for lk in _RAW_LINKS:
            for ops in itertools.product(NBGRAPH_OPS, repeat=4):
                h = arch_hash(lk, ops)
                out[k] = -1 if h is None else h
                k += 1
        return {"raw_hash": out}

    cfile = _cache_dir(cache_dir) / f"raw-hashes-v{_CACHE_VERSION}-{hasher[:20]}-{code[:12]}.npz"
    return _verified_cache(cfile, src, build, cache)["raw_hash"]


@dataclass
class NBGraphPool:
    r"""Every architecture of a NAS-Bench-Graph dataset, as tensors (the interface of
    :class:`gemgraph.nb101.NB101Pool`).

    Attributes:
        dataset: the dataset's name.
        hashes: (n,) int64 canonical hashes (the table's keys), ascending.
        rows: (n,) int64 positions (``arange(n)``; the table has no other row numbers).
        links: (n, 4) int64 input of each computing node (canonical architecture).
        arch_ops: (n, 4) int64 op of each computing node, index into :data:`NBGRAPH_OPS`.
        batch: :class:`~gemgraph.batch.CellBatch` of the n cells (6 nodes, the dataset's vocabulary).
        accuracy: (n,) float64 validation performance (what a search maximises).
        test_accuracy: (n,) float64 test performance (reported for a chosen model only).
        latency: (n,) float64 inference latency in seconds.
        params: (n,) float64 parameters in millions.
        raw_class: (24 * 9^4,) int64 pool position of every *raw* architecture (any input
            pattern ``links[i] in 0..i``, any ops; position ``_raw_code(links, ops)``), -1 for
            one outside the pool: the isomorphism classes, from the package's canonical hash.
        metric: ``"valid_perf"``.
        n_excluded: 0 (every architecture is tabulated).
    """

    dataset: str
    hashes: np.ndarray
    rows: np.ndarray
    links: np.ndarray
    arch_ops: np.ndarray
    batch: CellBatch
    accuracy: np.ndarray
    test_accuracy: np.ndarray
    latency: np.ndarray
    params: np.ndarray
    raw_class: np.ndarray
    metric: str = "valid_perf"
    n_excluded: int = 0

    def __post_init__(self) -> None:
        self._index = {int(h): i for i, h in enumerate(self.hashes.tolist())}

    def __len__(self) -> int:
        return int(self.accuracy.shape[0])

    @property
    def vocab(self) -> OpVocabulary:
        """The cells' op vocabulary."""
        return self.batch.vocab

    @property
    def ops(self) -> torch.Tensor:
        """(n, 6) int64 op indices of the cells in :attr:`vocab`."""
        assert self.batch.ops is not None  # a pool's batch always has ops
        return self.batch.ops

    @property
    def best_index(self) -> int:
        """Position of the best architecture by validation performance (first one on ties)."""
        return int(np.argmax(self.accuracy))

    @property
    def best_accuracy(self) -> float:
        """Best validation performance in the space."""
        return float(self.accuracy[self.best_index])

    @property
    def best_test_accuracy(self) -> float:
        """Best test performance in the space (an oracle's, for reference)."""
        return float(self.test_accuracy.max())

    def index_of_hash(self, h: int) -> int | None:
        """Position of the architecture with canonical hash ``h``, or None."""
        return self._index.get(int(h))

    def cells(self, indices: Sequence[int] | np.ndarray | None = None) -> list[Cell]:
        """The architectures at ``indices`` (default all) as :class:`~gemgraph.Cell` objects."""
        idx = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        return self.batch[torch.from_numpy(idx)].to_cells()

    def score(self, lam: float = 0.0, cost: str = "latency") -> np.ndarray:
        r"""Efficiency score of every architecture, (n,) float64:
        ``accuracy - lam * ln(cost)`` with the latency in milliseconds or the parameters in
        millions (``lam = 0``: the validation performance itself)."""
        lam = float(lam)
        if not math.isfinite(lam) or lam < 0:
            raise InputError(f"lam: expected a finite number >= 0, got {lam!r}")
        if cost not in NBGRAPH_COSTS:
            raise InputError(f"cost: expected one of {list(NBGRAPH_COSTS)}, got {cost!r}")
        if lam == 0:
            return self.accuracy.copy()
        c = self.latency * 1e3 if cost == "latency" else self.params
        return self.accuracy - lam * np.log(c)

    def subset(self, indices: Sequence[int] | np.ndarray) -> "NBGraphPool":
        """The architectures at ``indices`` (distinct positions in this pool) as a new pool."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= len(self):
            raise InputError(f"indices: expected a non-empty 1-D array of positions in 0..{len(self) - 1}")
        if np.unique(idx).size != idx.size:
            raise InputError("indices: expected distinct positions")
        new = np.full(len(self) + 1, -1, dtype=np.int64)  # old position -> new one (-1: dropped; last: -1 -> -1)
        new[idx] = np.arange(idx.size)
        return NBGraphPool(self.dataset, self.hashes[idx], np.arange(idx.size), self.links[idx], self.arch_ops[idx],
                           self.batch[torch.from_numpy(idx)], self.accuracy[idx].copy(),
                           self.test_accuracy[idx].copy(), self.latency[idx].copy(), self.params[idx].copy(),
                           new[self.raw_class], self.metric, 0)

    def __repr__(self) -> str:
        return f"NBGraphPool({self.dataset!r}, models={len(self)}, best={self.best_accuracy:.4f})"


def load_nbgraph(dataset: str, *, path: str | os.PathLike | None = None, cache: bool = True,
                 cache_dir: str | os.PathLike | None = None) -> NBGraphPool:
    r"""Load a NAS-Bench-Graph dataset's table as an :class:`NBGraphPool`.

    The first load reads the pickle with the restricted unpickler (:func:`read_table`), checks
    that every hash is the package's canonical hash of an architecture of the dataset's space,
    and writes the arrays to ``<cache>/nbgraph/<dataset>-v1-<sha256 of the table>-<digest of
    this module's source>.npz`` with a checksum of its contents; later loads read that file
    (``allow_pickle=False``) after checking its digests (of the table and the parser, and of
    the payload), and rebuild it when they do not verify: a changed table or parser is a new
    file. The cache folder is ``cache_dir``, else ``$GEMGRAPH_CACHE/nbgraph``, else
    ``~/.cache/gemgraph/nbgraph``.

    Args:
        dataset: one of :data:`NBGRAPH_DATASETS`.
        path: the table to read (default: the installed package's ``light/<dataset>.bench``).
        cache: read / write the verified cache.
        cache_dir: the cache folder.

    Raises:
        ValueError: for an unknown dataset.
        TableError: for a tampered or damaged table (the message names the file and what is wrong).
        MissingDependencyError: (a ModuleNotFoundError) without the package ``nas-bench-graph``.
    """
    dataset = check_dataset(dataset)
    src = table_path(dataset) if path is None else Path(path)
    if path is not None:
        table_path(dataset)  # the canonical hash needs the package: a MissingDependencyError without it
    a = _load_arrays(dataset, src, cache, cache_dir)
    vocab = nbgraph_vocab(dataset)
    n = int(a["hashes"].shape[0])
    links, ops = a["links"].astype(np.int64), a["ops"].astype(np.int64)
    adj = np.zeros((n, NBGRAPH_NODES, NBGRAPH_NODES), dtype=bool)
    rows = np.arange(n)
    for i in range(4):
        adj[rows, links[:, i], i + 1] = True
    read = np.zeros((n, NBGRAPH_NODES), dtype=bool)
    for i in range(4):
        read[rows, links[:, i]] = True
    adj[:, 1:5, 5] = ~read[:, 1:5]
    to_vocab = np.array([vocab.index(o) if o in vocab else -1 for o in NBGRAPH_OPS], dtype=np.int64)
    cell_ops = np.empty((n, NBGRAPH_NODES), dtype=np.int64)
    cell_ops[:, 0] = vocab.index("input")
    cell_ops[:, 5] = vocab.index("output")
    cell_ops[:, 1:5] = to_vocab[ops]
    batch = CellBatch(torch.from_numpy(adj), torch.from_numpy(cell_ops), torch.full((n,), NBGRAPH_NODES), vocab)
    hashes = a["hashes"].astype(np.int64)
    raw = _raw_hashes(cache, cache_dir)
    pos = np.minimum(np.searchsorted(hashes, raw), n - 1)
    raw_class = np.where(hashes[pos] == raw, pos, -1).astype(np.int64)
    return NBGraphPool(dataset, hashes, rows, links, ops, batch, a["valid"].astype(np.float64),
                       a["test"].astype(np.float64), a["latency"].astype(np.float64), a["params"].astype(np.float64),
                       raw_class)


# ---------------------------------------------------------------------- space and evaluator
class NBGraphSpace:
    r"""A NAS-Bench-Graph dataset's architectures as a finite, complete search space (the
    interface of :class:`gemgraph.nb101.NB101Space`, plus neighbourhoods).

    Args:
        pool: the architectures (:func:`load_nbgraph`).

    Attributes:
        num_nodes: 6; vocab: the dataset's :class:`~gemgraph.vocab.OpVocabulary`;
        ops: its names.

    Shapes:
        ``sample_tensors(n)``: ``(n, 6, 6)`` bool adjacency and ``(n, 6)`` int64 op indices in
        :attr:`vocab`, ``n = min(n, len(pool))`` distinct architectures.
    """

    def __init__(self, pool: NBGraphPool) -> None:
        if not isinstance(pool, NBGraphPool):
            raise InputError(f"pool: expected an NBGraphPool (see load_nbgraph), got {type(pool).__name__}")
        self.pool = pool
        self.dataset = pool.dataset
        self.num_nodes = NBGRAPH_NODES
        self.vocab = pool.vocab
        self.ops = pool.vocab.names
        self._orders: dict[Any, np.ndarray] = {}
        self._neigh: dict[int, np.ndarray] = {}
        self._members: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.pool)

    def __repr__(self) -> str:
        return f"NBGraphSpace({self.dataset!r}, models={len(self)})"

    # ------------------------------------------------------------------ sampling (the Space protocol)
    def draw(self, t: int, seed: int = 0) -> Cell:
        """The ``t``-th architecture of the random order of ``seed`` (distinct for distinct ``t``)."""
        t = check_int(t, "t", 0)
        if t >= len(self.pool):
            raise InputError(f"t: the space holds {len(self.pool)} models, got draw number {t}")
        if seed not in self._orders:
            self._orders = {seed: np.random.default_rng([int(seed), 0x0B6]).permutation(len(self.pool))}
        return self.pool.cells([self._orders[seed][t]])[0]

    def sample_indices(self, n: int, seed: int | None = 0) -> np.ndarray:
        """Pool positions of :meth:`sample_tensors`' architectures: ``min(n, len)`` distinct, ascending."""
        n = check_int(n, "n", 1)
        if n >= len(self.pool):
            return np.arange(len(self.pool))
        return np.sort(np.random.default_rng(seed).choice(len(self.pool), n, replace=False))

    def sample_tensors(self, n: int, seed: int | None = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """``min(n, len)`` distinct architectures drawn with ``seed``, in pool order."""
        idx = self.sample_indices(n, seed)
        adj, ops = self.pool.batch.adj, self.pool.ops
        if len(idx) == len(self.pool):
            return adj.clone(), ops.clone()
        t = torch.from_numpy(idx)
        return adj[t], ops[t]

    def sample(self, n: int, seed: int | None = 0) -> list[Cell]:
        """``min(n, len)`` distinct architectures as cells."""
        adj, ops = self.sample_tensors(n, seed)
        return CellBatch.from_tensors(adj, ops, vocab=self.vocab).to_cells()

    # ------------------------------------------------------------------ membership
    def index(self, cell: Cell) -> int | None:
        """Pool position of ``cell`` (any isomorphic variant), or None when it is outside the space."""
        try:
            return self.index_strict(cell)
        except ValueError:
            return None

    def index_strict(self, cell: Cell) -> int:
        """Pool position of ``cell``; ValueError ``cell: not a NAS-Bench-Graph architecture ...`` otherwise."""
        links, ops = cell_to_arch(cell, self.dataset)
        i = int(self.pool.raw_class[_raw_code(links, ops)])
        if i < 0:
            raise InputError(f"cell: not a NAS-Bench-Graph architecture of {self.dataset!r}: links {list(links)}, "
                             f"ops {list(ops)} are not in its table (e.g. every op 'skip')")
        return i

    def contains(self, cell: Cell) -> bool:
        """Whether ``cell`` (or an isomorphic variant) is an architecture of the space."""
        return self.index(cell) is not None

    def canonical(self, cell: Cell) -> Cell:
        """The pool's representative of ``cell``'s isomorphism class (ValueError outside the space)."""
        return self.pool.cells([self.index_strict(cell)])[0]

    # ------------------------------------------------------------------ neighbourhoods
    def neighbour_indices(self, index: int) -> np.ndarray:
        r"""Pool positions of the architectures one change away from the one at ``index``: one
        computing node's input or op changed in *any* of its variants (the raw architectures of
        its isomorphism class), canonicalised, distinct, in the space, itself excluded;
        ascending (int64). The relation is symmetric, and the same whichever variant a cell is.
        """
        index = check_int(index, "index", 0)
        n = len(self.pool)
        if index >= n:
            raise InputError(f"index: expected a position in 0..{n - 1}, got {index}")
        got = self._neigh.get(index)
        if got is not None:
            return got
        if self._members is None:  # raw architectures grouped by class, once
            rc = self.pool.raw_class
            order = np.argsort(rc, kind="stable")
            self._members = (order, np.searchsorted(rc[order], np.arange(n + 1)))
        order, starts = self._members
        codes = order[starts[index]:starts[index + 1]].astype(np.int64)  # (m,) the class's raw architectures
        lk, digits = np.divmod(codes, _NOPS ** 4)
        link_edits = (_LINK_EDITS[lk] * _NOPS ** 4 + digits[:, None]).ravel()
        d = (digits[:, None] // _OP_WEIGHTS[None, :]) % _NOPS  # (m, 4)
        allowed = np.array([_OP_DIGIT[o] for o in _dataset_ops(self.dataset)], dtype=np.int64)
        op_edits = (codes[:, None, None] + (allowed[None, None, :] - d[:, :, None]) * _OP_WEIGHTS[None, :, None])
        cls = self.pool.raw_class[np.concatenate([link_edits, op_edits.ravel()])]
        arr = np.unique(cls[(cls >= 0) & (cls != index)])
        self._neigh[index] = arr
        return arr

    def neighbours(self, cell: Cell) -> list[Cell]:
        r"""All cells one change away from ``cell`` (one input or one op changed), canonicalised
        (the pool's representatives), distinct, in the space, ``cell``'s own class excluded; in
        pool order.

        Raises:
            ValueError: for a cell outside the space (the message says why).
        """
        return self.pool.cells(self.neighbour_indices(self.index_strict(cell)))

    def mutate(self, cell: Cell, seed: Any = 0) -> Cell:
        """One neighbour of ``cell`` drawn uniformly (:meth:`neighbours`); the same for the same seed.

        Raises:
            ValueError: for a cell outside the space, or one without neighbours.
        """
        nb = self.neighbour_indices(self.index_strict(cell))
        if nb.size == 0:
            raise InputError("cell: has no neighbour in the space")
        k = int(np.random.default_rng(seed).integers(nb.size))
        return self.pool.cells([nb[k]])[0]


class NBGraphEvaluator:
    r"""Evaluates a cell by looking it up in an :class:`NBGraphPool` (no training).

    The result's ``accuracy`` is the validation performance (what a search sees); ``score`` is
    it too with ``lam = 0``, else the efficiency score ``valid - lam * ln(cost)`` with the
    latency in ms (``cost="latency"``) or the parameters in millions (``cost="params"``);
    ``params`` is the parameter count and ``macs`` 0 (not tabulated). The test performance is
    never in a result: :meth:`report` gives it for the chosen model. A cell outside the space
    gives a ``"failed"`` result saying why.

    Args:
        pool: the architectures.
        count: count queries in :attr:`queries`.
        lam: weight of the cost term (0: accuracy only).
        cost: ``"latency"`` or ``"params"``.

    Attributes:
        queries: number of :meth:`evaluate` calls so far.
    """

    def __init__(self, pool: NBGraphPool, count: bool = True, lam: float = 0.0, cost: str = "latency") -> None:
        if not isinstance(pool, NBGraphPool):
            raise InputError(f"pool: expected an NBGraphPool (see load_nbgraph), got {type(pool).__name__}")
        self.pool = pool
        self.count = bool(count)
        self.lam, self.cost = float(lam), cost
        self.scores = pool.score(lam, cost)
        self.queries = 0
        self._space = NBGraphSpace(pool)

    def __repr__(self) -> str:
        lam = "" if self.lam == 0 else f", lam={self.lam}, cost={self.cost!r}"
        return f"NBGraphEvaluator({self.pool.dataset!r}, models={len(self.pool)}{lam}, queries={self.queries})"

    @property
    def best_score(self) -> float:
        """Best score in the space (the reference of a regret)."""
        return float(self.scores.max())

    def index(self, cell: Cell) -> int | None:
        """Position of ``cell`` (or an isomorphic variant) in the pool, or None."""
        return self._space.index(cell) if isinstance(cell, Cell) else None

    def evaluate(self, cell: Cell) -> Any:
        """A :class:`gemgraph.protocols.Result` with the looked-up validation performance
        (``status="failed"`` outside the space)."""

        if self.count:
            self.queries += 1
        if not isinstance(cell, Cell):
            return Result(accuracy=float("nan"), macs=0, params=0, score=float("nan"), train_seconds=0.0,
                          status="failed", error=f"cell: expected a gemgraph.Cell, got {type(cell).__name__}")
        try:
            i = self._space.index_strict(cell)
        except ValueError as exc:
            return Result(accuracy=float("nan"), macs=0, params=0, score=float("nan"), train_seconds=0.0,
                          status="failed", error=str(exc))
        return Result(accuracy=float(self.pool.accuracy[i]), macs=0, params=int(round(self.pool.params[i] * 1e6)),
                      score=float(self.scores[i]), train_seconds=0.0)

    def report(self, cell: Cell) -> dict[str, Any]:
        """What the table says of a (chosen) cell: ``index, hash, valid, test, latency (s), params
        (millions), score``; ValueError outside the space. Not counted as a query."""
        i = self._space.index_strict(cell)
        p = self.pool
        return {"index": i, "hash": int(p.hashes[i]), "valid": float(p.accuracy[i]), "test": float(p.test_accuracy[i]),
                "latency": float(p.latency[i]), "params": float(p.params[i]), "score": float(self.scores[i])}
