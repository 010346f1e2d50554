r"""Weisfeiler-Lehman subtree kernel on cells, vectorised, GraKel-exact.

The kernel follows Shervashidze et al. (2011) exactly as GraKel implements
``WeisfeilerLehman(n_iter=h, normalize=True, base_graph_kernel=VertexHistogram)`` for graphs
given as adjacency matrices:

* edges are directed, ``i -> j`` for ``A[i, j] = 1``; a node's neighbours are its
  *successors* (the out-neighbours, as in GraKel's edge dictionary);
* iteration 0 uses the initial labels; each further iteration relabels every node by the pair
  (own label, sorted multiset of its neighbours' labels), with fresh label ids per iteration;
* ``n_iter`` is the number of refinement iterations ``h``: ``h + 1`` label sets are
  compared, the initial one included (GraKel's convention: its ``WeisfeilerLehman(n_iter=h)``
  also sums ``h + 1`` vertex-histogram kernels); ``n_iter=0`` is the plain vertex histogram;
* the kernel is the sum over iterations of the dot products of label histograms; with
  ``normalize=True`` it is divided by ``sqrt(k(x, x) k(y, y))`` and lies in [0, 1].

Relabelling is vectorised over *all* nodes of *all* graphs at once (one sparse product and one
sort per iteration, no per-node Python loop) and histograms are sparse. The Gram matrix splits
labels by how many graphs share them: labels of one graph touch only the diagonal, labels of
a few graphs go through a sparse product, and labels of many graphs through one dense BLAS
product. All of it runs on the integer label counts, so every sum is exact and the raw Gram is
bit-identical on any CPU and thread count (and exactly symmetric); normalisation is one
symmetric scaling afterwards. Timings: ``benchmarks/wl_vs_grakel.py``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Union

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from .cell import OPS, Cell
from .errors import InputError

NodeLabels = Union[str, Sequence[str], Callable[[Cell], Sequence[Any]]]

#: Names of the built-in initial labels; a tuple of them combines them into one label per node.
LABEL_NAMES: tuple[str, ...] = ("degree", "op")


def label_names(node_labels: Any, argument: str = "node_labels") -> tuple[str, ...] | None:
    r"""The built-in label names that ``node_labels`` combines, or None for a callable.

    ``"degree"`` -> ``("degree",)``; ``("degree", "op")``, ``["degree", "op"]`` and the
    spelling ``"degree,op"`` / ``"degree+op"`` -> ``("degree", "op")``; ``"paper"`` is the
    paper's ``("degree",)``.

    Raises:
        ValueError: naming ``argument``, for unknown names, duplicates or an empty tuple.
    """
    if callable(node_labels):
        return None
    if isinstance(node_labels, str):
        text = "degree" if node_labels == "paper" else node_labels
        names = tuple(p.strip() for p in text.replace("+", ",").split(","))
    elif isinstance(node_labels, (tuple, list)) and all(isinstance(v, str) for v in node_labels):
        names = tuple(node_labels)
    else:
        names = ()
    if not names or any(n not in LABEL_NAMES for n in names) or len(set(names)) != len(names):
        raise InputError(f"{argument}: expected 'degree', 'op', a tuple of them such as ('degree', 'op'), "
                         f"'paper' (= 'degree') or a callable, got {node_labels!r}")
    return names


def _op_name_ids(cells: list[Cell]) -> tuple[np.ndarray, int]:
    r"""Initial op labels of every node of ``cells`` by op *name*: ``(ids (T,) int64, number of ids)``.

    Equal names get equal ids whatever the cells' vocabularies (two spaces that both call an op
    ``"gcn"`` label it alike), so only name equality matters, as in GraKel. Names are numbered
    in the supernet's order (:data:`~gemgraph.cell.OPS`: the labels gemgraph always used), then
    other names in sorted order, so the ids do not depend on the order of the cells either.
    """
    luts: dict[int, tuple[Any, np.ndarray]] = {}
    names: set[str] = set()
    for c in cells:
        v = c.vocab
        if id(v) not in luts:
            luts[id(v)] = (v, np.zeros(0, np.int64))
            names.update(v.names)
    order = {o: i for i, o in enumerate(OPS)}
    for o in sorted(names - set(OPS)):
        order[o] = len(order)
    for key, (v, _) in luts.items():
        luts[key] = (v, np.array([order[o] for o in v.names], dtype=np.int64))
    parts = [luts[id(c.vocab)][1][c.op_indices] for c in cells]
    return (np.concatenate(parts) if parts else np.zeros(0, np.int64)), len(order)


GraphsLike = Union[Sequence[Any], tuple]


def as_cells(graphs: Any, argument: str = "X") -> list[Cell]:
    """Coerce a list of cells / (N, N) matrices / networkx DiGraphs / PyG Data to cells."""
    if isinstance(graphs, Cell):
        raise InputError(f"{argument}: expected a sequence of cells, got a single Cell (wrap it in a list)")
    if isinstance(graphs, (torch.Tensor, np.ndarray)):
        if graphs.ndim != 3:
            raise InputError(f"{argument}: expected a batch of adjacency matrices (n, N, N), "
                             f"got shape {tuple(graphs.shape)}")
        return [Cell(a) for a in graphs]
    try:
        items = list(graphs)
    except TypeError:
        raise InputError(f"{argument}: expected a sequence of cells, got {type(graphs).__name__}") from None
    out = []
    for k, g in enumerate(items):
        if isinstance(g, Cell):
            out.append(g)
        elif hasattr(g, "edge_index") and hasattr(g, "num_nodes"):
            out.append(Cell.from_data(g))
        elif type(g).__name__ in ("DiGraph",):
            out.append(Cell.from_networkx(g))
        else:
            try:
                out.append(Cell(g))
            except ValueError as exc:
                raise InputError(f"{argument}[{k}]: {exc}") from None
    return out


class _Flat:
    """All graphs of a batch as one big disjoint graph.

    Attributes:
        n_graphs: number of graphs.
        graph_of: (T,) graph index of every node, non-decreasing.
        src, dst: (E,) int64 edge endpoints (global node ids), sorted by ``src`` then ``dst``.
        indptr: (T + 1,) CSR row pointers of the edges (out-neighbours of node t are
            ``dst[indptr[t]:indptr[t + 1]]``).
        labels: (T,) int64 initial labels (any non-negative ids).
        size: the common node count when all graphs have the same size, else None.
    """

    __slots__ = ("n_graphs", "graph_of", "src", "dst", "indptr", "labels", "size", "max_degree")

    def __init__(self, n_graphs: int, graph_of: np.ndarray, src: np.ndarray, dst: np.ndarray, labels: np.ndarray,
                 size: int | None = None) -> None:
        self.n_graphs, self.graph_of, self.src, self.dst, self.labels = n_graphs, graph_of, src, dst, labels
        T = graph_of.shape[0]
        self.indptr = np.zeros(T + 1, dtype=np.int64)
        deg = np.bincount(src, minlength=T)
        np.cumsum(deg, out=self.indptr[1:])
        self.max_degree = int(deg.max()) if T else 0
        self.size = size

    def adjacency(self) -> sp.csr_matrix:
        """(T, T) float64 CSR matrix of the disjoint union (row t holds t's out-neighbours)."""
        T = self.graph_of.shape[0]
        return sp.csr_matrix((np.ones(self.dst.shape[0]), self.dst, self.indptr), shape=(T, T))


_ODD = np.uint64(0x9E3779B97F4A7C15)

# a label shared by a and b graphs goes through the dense product when a * b * _DENSE_FACTOR
# exceeds n * m (1600 measured fastest: benchmarks/wl_vs_grakel.py --sweep)
_DENSE_FACTOR = 1600.0

# sparse products with more entries than this are scattered into the Gram matrix by threads
_SCATTER_THREADED_NNZ = 200_000


def _hash_tables(k: int, bits: int = 46) -> tuple[np.ndarray, np.ndarray]:
    """Two fixed random tables for k labels (constant seed: results never depend on it).

    Returns:
        own: (2, k) uint64 words for a node's own label;
        nb: (k, 2) float64 *integers* in [0, 2**bits) for a neighbour's label, so that sums of
        up to 2**(53 - bits) of them are exact in float64 (order-independent).
    """
    rng = np.random.default_rng(0x5EED_6E16)
    own = rng.integers(0, 2**64, size=(2, k), dtype=np.uint64, endpoint=False)
    nb = rng.integers(0, 2**bits, size=(k, 2), dtype=np.int64).astype(np.float64)
    return own, nb


def _compact(labels: np.ndarray) -> np.ndarray:
    """Map non-negative int labels to 0..K-1 preserving order (counting, no sort when dense)."""
    if labels.shape[0] == 0:
        return labels.astype(np.int64)
    hi = int(labels.max())
    if labels.min() >= 0 and hi <= 4 * labels.shape[0] + 1024:
        present = np.zeros(hi + 1, dtype=np.int64)
        present[labels] = 1
        return (np.cumsum(present) - 1)[labels]
    return np.unique(labels, return_inverse=True)[1].ravel().astype(np.int64)


def _refine_exact(labels: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """WL step by sorting explicit signatures (own label, sorted neighbour labels)."""
    T = labels.shape[0]
    nl = labels[dst]
    order = np.lexsort((nl, src))
    s, nl = src[order], nl[order]
    deg = np.bincount(s, minlength=T)
    maxd = int(deg.max()) if deg.size else 0
    starts = np.cumsum(deg) - deg
    pos = np.arange(s.shape[0]) - starts[s]
    width = maxd + 1
    sig = np.full((T, width), -1, dtype=np.int64)
    sig[:, 0] = labels
    sig[s, pos + 1] = nl
    view = np.ascontiguousarray(sig).view(np.dtype((np.void, 8 * width))).ravel()
    _, inv = np.unique(view, return_inverse=True)
    return inv.astype(np.int64).ravel()


def _refine(labels: np.ndarray, flat: _Flat, adj: sp.csr_matrix | None = None) -> np.ndarray:
    r"""One WL step: new compact label ids for (own label, multiset of out-neighbour labels).

    Fast path: two independent multiset hashes per node. A neighbour multiset is hashed as
    the sum of random integers of its labels, computed exactly in float64 by one sparse
    matrix product (the integers are small enough that no sum is rounded); that sum is mixed
    with a random 64-bit word of the own label. Nodes are grouped by the first hash (one
    sort); the grouping is used only when the second hash is constant within every group, so
    a collision of the first hash shows up as a disagreement (both colliding together has
    probability about 2^-90) and the exact sorting path is taken instead.

    Args:
        labels: (T,) int64 compact labels of all nodes (0..K-1).
        flat: the batch (edges and CSR pointers).
        adj: ``flat.adjacency()``, when the caller already built it.

    Returns:
        (T,) int64 compact labels (0..K'-1), equal iff the signatures are equal.
    """
    T = labels.shape[0]
    if T == 0:
        return labels.astype(np.int64)
    k = int(labels.max()) + 1
    bits = max(8, min(46, 52 - max(1, flat.max_degree).bit_length()))
    own, nb = _hash_tables(k, bits)
    keys = own[:, labels]  # (2, T)
    if flat.dst.shape[0]:
        adj = flat.adjacency() if adj is None else adj
        sums = (adj @ nb[labels]).T.astype(np.uint64)  # exact integer sums, (2, T)
        keys += sums * _ODD  # modulo 2**64
    order = np.argsort(keys[0])
    s0 = keys[0][order]
    same = s0[1:] == s0[:-1]
    s1 = keys[1][order]
    # the second hash must be constant within every group of the first: a collision of the
    # first hash alone shows up here
    if not np.array_equal(s1[1:][same], s1[:-1][same]):
        return _refine_exact(labels, flat.src, flat.dst)
    ids = np.empty(T, dtype=np.int64)
    ids[0] = 0
    np.cumsum(~same, out=ids[1:])
    out = np.empty(T, dtype=np.int64)
    out[order] = ids
    return out


def _dense_product(A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """``A @ B.T`` (``A @ A.T`` when ``B`` is None) as a new C-ordered float64 array.

    Through torch's BLAS into a ``np.zeros`` buffer (lazily zeroed pages, which the product
    fills in parallel), faster than numpy's ``A @ A.T`` (a symmetric rank-k update plus a
    single-threaded mirror); ``benchmarks/wl_vs_grakel.py --sweep`` times both
    (``benchmarks/README.md``).
    """
    At = torch.from_numpy(np.ascontiguousarray(A, dtype=np.float64))
    Bt = At if B is None else torch.from_numpy(np.ascontiguousarray(B, dtype=np.float64))
    K = np.zeros((At.shape[0], Bt.shape[0]))
    torch.from_numpy(K).addmm_(At, Bt.T)
    return K


def _scatter_add(flatK: np.ndarray, n_cols: int, P: sp.csr_matrix) -> None:
    """``K += P`` for a dense C-ordered ``K`` given flat, and a CSR ``P`` of the same shape.

    Random writes into a large matrix are memory-latency bound; row ranges go to a few
    threads (numpy releases the GIL in fancy-index assignment), which nearly halves the time
    on two cores.
    """
    P = P.tocsr()
    n_rows = P.shape[0]

    def part(lo: int, hi: int) -> None:
        a, b = P.indptr[lo], P.indptr[hi]
        r = np.repeat(np.arange(lo, hi), np.diff(P.indptr[lo : hi + 1]))
        flatK[r * n_cols + P.indices[a:b]] += P.data[a:b]

    workers = min(max(torch.get_num_threads(), 1), 4) if P.nnz > _SCATTER_THREADED_NNZ else 1
    if workers == 1:
        part(0, n_rows)
        return
    # split by entries, not rows, so the parts carry equal work
    cuts = np.searchsorted(P.indptr, np.linspace(0, P.nnz, workers + 1)[1:-1]).tolist()
    bounds = list(zip([0] + cuts, cuts + [n_rows]))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda ab: part(*ab), bounds))


def _row_ids(F: sp.csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(F.shape[0]), np.diff(F.indptr))


def _unit_rows(rows: np.ndarray, data: np.ndarray, n: int) -> np.ndarray:
    """``data`` of a CSR matrix with row ids ``rows`` divided by its row norms (zero rows stay zero)."""
    norms = np.sqrt(np.bincount(rows, data * data, minlength=n))
    norms[norms == 0] = 1.0
    return data / norms[rows]


def _scale_rows(F: sp.csr_matrix) -> sp.csr_matrix:
    """Rows of ``F`` divided by their Euclidean norms (zero rows stay zero)."""
    return sp.csr_matrix((_unit_rows(_row_ids(F), F.data, F.shape[0]), F.indices, F.indptr), shape=F.shape)


def _inv_norms(F: sp.csr_matrix) -> np.ndarray:
    """(n,) ``1 / ||F[i]||`` of the rows of a count matrix (1 for empty rows).

    The squared norms are sums of squared integer counts, hence exact in float64.
    """
    sq = np.bincount(_row_ids(F), F.data * F.data, minlength=F.shape[0])
    sq[sq == 0] = 1.0
    return 1.0 / np.sqrt(sq)


# rows of the n x m result scaled per block, so the scale factors never need an n x m buffer
_SCALE_BLOCK = 512


def _scale_outer(K: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    """``K[i, j] *= a[i] * b[j]`` in place, by row blocks (torch, multi-threaded).

    The factor ``a[i] * b[j]`` is formed first, so with ``a is b`` the scaled matrix keeps the
    exact symmetry of ``K``.
    """
    Kt, at, bt = torch.from_numpy(K), torch.from_numpy(a), torch.from_numpy(b)
    for lo in range(0, K.shape[0], _SCALE_BLOCK):
        hi = min(lo + _SCALE_BLOCK, K.shape[0])
        Kt[lo:hi].mul_(torch.outer(at[lo:hi], bt))


class WLKernel(BaseEstimator):
    r"""Weisfeiler-Lehman subtree kernel between cells (scikit-learn style).

    Args:
        n_iter: number of WL refinement iterations ``h`` (GraKel's ``n_iter``): the kernel
            sums the histograms of ``h + 1`` label sets, the initial one included. >= 0.
        normalize: divide by ``sqrt(k(x, x) k(y, y))`` so values lie in [0, 1].
        node_labels: initial node labels: ``"degree"`` = in-degree + out-degree (networkx
            ``DiGraph.degree``, the paper's choice, also spelled ``"paper"``), ``"op"`` = the
            cell's op names (every cell must have ops), a tuple of both, ``("degree", "op")``
            (or ``"degree,op"``): one label per distinct ``(degree, op)`` pair, for op-labelled
            spaces, or a callable ``cell -> sequence of N hashable labels``. Combined labels
            equal GraKel's with the tuple ``(degree, op)`` as each node's label.

    A scikit-learn estimator: ``get_params`` / ``set_params`` and ``sklearn.base.clone`` work.

    Attributes (after :meth:`fit`):
        ``X_``: the fitted cells (list of :class:`~gemgraph.Cell`).

    Shapes:
        ``fit_transform(X)``: n cells -> (n, n) float64 Gram matrix;
        ``transform(Y)``: m cells -> (m, n_fit);
        ``pairwise(a, b)``: two lists of n cells -> (n,).

    Example:
        >>> K = WLKernel(n_iter=3).fit_transform(space.sample(100, seed=0))   # (100, 100)
    """

    def __init__(self, n_iter: int = 3, normalize: bool = True, node_labels: NodeLabels = "degree") -> None:
        self.n_iter = n_iter
        self.normalize = normalize
        self.node_labels = node_labels

    def __repr__(self) -> str:
        nl = self.node_labels if not callable(self.node_labels) else getattr(self.node_labels, "__name__", "callable")
        return f"WLKernel(n_iter={self.n_iter}, normalize={self.normalize}, node_labels={nl!r})"

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        if isinstance(self.n_iter, bool) or not isinstance(self.n_iter, (int, np.integer)) or self.n_iter < 0:
            raise InputError(f"n_iter: expected an int >= 0, got {self.n_iter!r}")
        label_names(self.node_labels)

    # ------------------------------------------------------------------ core
    def _initial_labels(self, cells: list[Cell], src: np.ndarray, dst: np.ndarray, T: int) -> np.ndarray:
        names = label_names(self.node_labels)
        if names is not None:
            lab = np.zeros(T, dtype=np.int64)
            for name in names:
                if name == "degree":
                    part = np.bincount(src, minlength=T) + np.bincount(dst, minlength=T)
                    lab = lab * (int(part.max(initial=0)) + 1) + part  # a distinct id per combination
                else:
                    missing = [k for k, c in enumerate(cells) if c.ops is None]
                    if missing:
                        raise InputError(f"node_labels={self.node_labels!r} needs cells with ops; "
                                         f"cell {missing[0]} has none")
                    op_ids, n_ids = _op_name_ids(cells)
                    lab = lab * n_ids + op_ids
            return lab
        fn = self.node_labels
        assert callable(fn)  # label_names is None for a callable only
        raw: list[Any] = []
        for k, c in enumerate(cells):
            vals = list(fn(c))
            if len(vals) != c.num_nodes:
                raise InputError(f"node_labels: callable returned {len(vals)} labels for cell {k} "
                                 f"with {c.num_nodes} nodes")
            raw.extend(vals)
        ids: dict[Any, int] = {}
        return np.array([ids.setdefault(v, len(ids)) for v in raw], dtype=np.int64)

    def _flatten(self, cells: list[Cell]) -> _Flat:
        sizes = np.fromiter((c.adjacency.shape[0] for c in cells), dtype=np.int64, count=len(cells))
        graph_of = np.repeat(np.arange(len(cells)), sizes)
        if len(cells) > 0 and (sizes == sizes[0]).all():
            N = int(sizes[0])
            A = np.stack([c.adjacency for c in cells])
            idx = np.flatnonzero(A.view(bool))  # (g, i, j) in C order: sorted by source, then target
            src = idx // N
            dst = (idx // (N * N)) * N + idx % N
            return _Flat(len(cells), graph_of, src, dst, self._initial_labels(cells, src, dst, graph_of.shape[0]), N)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        srcs, dsts = [], []
        for c, off in zip(cells, offsets):
            i, j = np.nonzero(c.adjacency)
            srcs.append(i + off)
            dsts.append(j + off)
        src = np.concatenate(srcs).astype(np.int64) if srcs else np.zeros(0, np.int64)
        dst = np.concatenate(dsts).astype(np.int64) if dsts else np.zeros(0, np.int64)
        return _Flat(len(cells), graph_of, src, dst, self._initial_labels(cells, src, dst, graph_of.shape[0]))

    def _label_sets(self, flat: _Flat) -> list[np.ndarray]:
        """Compact labels of every node for iterations 0..h: list of h + 1 (T,) arrays."""
        labels = _compact(flat.labels)
        out = [labels]
        adj = flat.adjacency() if self.n_iter and flat.dst.shape[0] else None
        for _ in range(self.n_iter):
            labels = _refine(labels, flat, adj)
            out.append(labels)
        return out

    @staticmethod
    def _histograms(flat: _Flat, sets: list[np.ndarray]) -> sp.csr_matrix:
        """Canonical CSR (n, F) of label counts: columns of iteration ``it`` follow those of ``it - 1``."""
        offsets = np.cumsum([0] + [int(s.max()) + 1 for s in sets])
        n, h1 = flat.n_graphs, len(sets)
        if flat.size is None:
            col = np.concatenate([s + o for s, o in zip(sets, offsets)])
            row = np.tile(flat.graph_of, h1)
            F = sp.csr_matrix((np.ones(col.shape[0]), (row, col)), shape=(n, int(offsets[-1])))
            F.sum_duplicates()
            return F
        N = flat.size
        # (n, h+1, N): each graph's labels per iteration; column ranges of iterations are
        # disjoint and increasing, so sorting within each (graph, iteration) sorts the row
        cols = np.stack([s.reshape(n, N) + o for s, o in zip(sets, offsets)], axis=1)
        cols.sort(axis=2)
        cols = cols.reshape(-1)
        new = np.ones(cols.shape[0], dtype=bool)
        new[1:] = cols[1:] != cols[:-1]
        new[:: h1 * N] = True  # a new graph starts a new entry
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, cols.shape[0])).astype(np.float64)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(new.reshape(n, h1 * N).sum(axis=1), out=indptr[1:])
        F = sp.csr_matrix((counts, cols[starts], indptr), shape=(n, int(offsets[-1])))
        F.has_canonical_format = True
        return F

    def features(self, X: Any) -> sp.csr_matrix:
        r"""WL label histograms of all iterations, stacked, for the cells in ``X``.

        Label ids are only comparable *within one call*: compute features of every graph you
        want to compare in the same call.

        Args:
            X: sequence of n cells (or (N, N) matrices, networkx DiGraphs, PyG Data).

        Returns:
            ``scipy.sparse.csr_matrix`` (n, F) of float64 label counts, canonical (sorted
            column indices, no duplicates); the raw (unnormalised) kernel is ``F @ F.T``.
        """
        self._check_params()
        cells = as_cells(X)
        if not cells:
            return sp.csr_matrix((0, 0))
        flat = self._flatten(cells)
        return self._histograms(flat, self._label_sets(flat))

    @staticmethod
    def _gram(Fa: sp.csr_matrix, Fb: sp.csr_matrix | None = None, normalize: bool = False) -> np.ndarray:
        r"""Dense ``Fa @ Fb.T`` (``Fb = Fa`` when None), exploiting the label statistics.

        Columns (labels) used by a single graph only touch the diagonal of a Gram matrix;
        labels used by many graphs go through dense BLAS; the rest through a sparse product.
        ``Fa`` and ``Fb`` must be canonical CSR matrices of label *counts* (as :meth:`features`
        returns).

        Exactness: the raw kernel is accumulated on the integer counts, so every partial sum
        is an integer below 2**53 and is exact in float64 whatever order BLAS, the sparse
        product or the threads add in. The result is therefore bit-identical on every CPU and
        thread count, and exactly symmetric. With ``normalize`` it is then scaled by
        ``s_i * s_j`` (``s = 1 / sqrt(diag)``; the product is commutative, so the normalised
        matrix stays exactly symmetric) and the diagonal of non-empty rows is set to 1.
        """
        if Fb is not None:
            n, m = Fa.shape[0], Fb.shape[0]
            da = np.bincount(Fa.indices, minlength=Fa.shape[1]).astype(bool)
            db = np.bincount(Fb.indices, minlength=Fb.shape[1]).astype(bool)
            shared = np.flatnonzero(da & db)
            A, B = Fa[:, shared], Fb[:, shared]
            # a label used by a and b graphs costs a*b scattered multiply-adds in the sparse
            # product and n*m in a dense BLAS pass, which is far faster per operation
            # (measured crossover near a*b = n*m / _DENSE_FACTOR)
            use_a = np.bincount(A.indices, minlength=A.shape[1]).astype(np.float64)
            use_b = np.bincount(B.indices, minlength=B.shape[1]).astype(np.float64)
            dense_mask = use_a * use_b * _DENSE_FACTOR > float(n) * float(m)
            dense_cols, sparse_cols = np.flatnonzero(dense_mask), np.flatnonzero(~dense_mask)
            if dense_cols.size:
                K = _dense_product(A[:, dense_cols].toarray(), B[:, dense_cols].toarray())
            else:
                K = np.zeros((n, m))
            if sparse_cols.size:
                _scatter_add(K.reshape(-1), m, A[:, sparse_cols] @ B[:, sparse_cols].T)
            if normalize:
                _scale_outer(K, _inv_norms(Fa), _inv_norms(Fb))
            return K
        n = Fa.shape[0]
        rows, cols, data = _row_ids(Fa), Fa.indices, Fa.data
        df = np.bincount(cols, minlength=Fa.shape[1])  # graphs per label (canonical: no duplicates)
        dfe = df[cols]
        dense_lab = (df >= 2) & (df.astype(np.float64) ** 2 * _DENSE_FACTOR > float(n) * float(n))
        de = dense_lab[cols]
        se = (dfe >= 2) & ~de
        one = dfe == 1
        if de.any():
            # labels shared by many graphs: one dense product
            dmap = np.cumsum(dense_lab) - 1
            D = np.zeros((n, int(dmap[-1]) + 1))
            D[rows[de], dmap[cols[de]]] = data[de]
            K = _dense_product(D)
        else:
            K = np.zeros((n, n))
        flatK = K.reshape(-1)
        if se.any():
            # labels shared by a few graphs: a sparse product (symmetric, both triangles)
            smap = np.cumsum((df >= 2) & ~dense_lab) - 1
            r = rows[se]
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
            S = sp.csr_matrix((data[se], smap[cols[se]], indptr), shape=(n, int(smap[-1]) + 1))
            _scatter_add(flatK, n, S @ S.T)
        if one.any():
            # labels of a single graph only add to its diagonal entry
            flatK[:: n + 1] += np.bincount(rows[one], data[one] ** 2, minlength=n)
        if normalize:
            inv = _inv_norms(Fa)
            _scale_outer(K, inv, inv)
            nz = np.diff(Fa.indptr) > 0
            flatK[:: n + 1][nz] = 1.0  # k(x, x) / k(x, x), exactly
        return K

    def fit(self, X: Any, y: Any = None) -> "WLKernel":
        """Store the cells to compare against. Returns self."""
        self._check_params()
        self.X_ = as_cells(X)
        if not self.X_:
            raise InputError("X: expected at least one cell")
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit on ``X`` and return its (n, n) Gram matrix (normalised if ``normalize``)."""
        self.fit(X)
        return self._gram(self.features(self.X_), normalize=self.normalize)

    def transform(self, X: Any) -> np.ndarray:
        """Kernel values between new cells ``X`` (m) and the fitted cells: shape (m, n_fit)."""
        check_is_fitted(self, "X_", msg="%(name)s: not fitted yet; call fit(X) before transform()")
        new = as_cells(X)
        F = self.features(new + self.X_)
        return self._gram(F[: len(new)], F[len(new):], normalize=self.normalize)

    def pairwise(self, a: Any, b: Any) -> np.ndarray:
        """Row-wise kernel values ``k(a[i], b[i])`` for two equal-length lists: shape (n,)."""
        ca, cb = as_cells(a, "a"), as_cells(b, "b")
        if len(ca) != len(cb):
            raise InputError(f"a, b: expected equal lengths, got {len(ca)} and {len(cb)}")
        F = self.features(ca + cb)
        if self.normalize:
            F = _scale_rows(F)
        return np.asarray(F[: len(ca)].multiply(F[len(ca):]).sum(axis=1)).ravel()

    def normalized_features(self, X: Any) -> sp.csr_matrix:
        """Features scaled to unit norm, so that ``k(i, j) = F[i] . F[j]`` (normalised kernel).

        Use this to compute many pair values from one feature pass (e.g. encoder training).
        """
        return _scale_rows(self.features(X))
