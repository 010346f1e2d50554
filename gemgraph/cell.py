r"""Cells: small DAGs over ordered nodes, the unit that NASGEM searches over.

A cell is a strictly upper-triangular 0/1 adjacency matrix ``A`` of shape (N, N), N >= 2,
where ``A[i, j] = 1`` is an edge ``i -> j`` (so edges always go from a lower to a higher
index and the graph is acyclic by construction), and optionally one operation name per node.
Node 0 is the cell input.

Operation names
---------------
The vocabulary :data:`OPS` fixes the one-hot index of every operation. NAS-Bench-101's names
are accepted as aliases (``"conv3x3-bn-relu"`` -> ``"conv3x3"``, ``"conv1x1-bn-relu"`` ->
``"conv1x1"``) and stored under the canonical name.
"""
from __future__ import annotations

import functools
import heapq
from collections.abc import Sequence
from typing import Any, Literal, overload

import numpy as np
import torch

from .features import node_features
from .vocab import DEFAULT_VOCAB, OP_ALIASES, OPS, OpVocabulary, as_vocab
from .errors import InputError

__all__ = ["Cell", "OPS", "OP_ALIASES", "OP_INDEX", "canonical_op", "alive_mask", "count_concat", "OpVocabulary"]

#: Canonical operation vocabulary of the supernet (re-exported from :mod:`gemgraph.vocab`); the
#: position is the one-hot index used by :meth:`Cell.to_data` and the encoders for cells of
#: :data:`~gemgraph.vocab.DEFAULT_VOCAB`.
#: Accepted aliases (NAS-Bench-101 spelling) -> canonical name: :data:`gemgraph.vocab.OP_ALIASES`.

OP_INDEX: dict[str, int] = {name: i for i, name in enumerate(OPS)}


def canonical_op(name: Any, *, argument: str = "ops", vocab: OpVocabulary | None = None) -> str:
    """Return the canonical spelling of operation ``name`` in ``vocab`` (default: the supernet's).

    Raises:
        ValueError: if ``name`` is not a known operation (the message names ``argument``).
    """
    return (DEFAULT_VOCAB if vocab is None else vocab).canonical(name, argument=argument)


@functools.lru_cache(maxsize=64)
def _lower_mask(n: int) -> np.ndarray:
    """uint8 (n, n) mask of the diagonal and below (cached per size; read-only)."""
    m = np.tril(np.ones((n, n), dtype=np.uint8))
    m.setflags(write=False)
    return m


def _as_matrix(adjacency: Any, argument: str = "adjacency") -> np.ndarray:
    """Convert numpy / torch / nested lists to a 2-D uint8 numpy array, checking 0/1 values."""
    if isinstance(adjacency, torch.Tensor):
        adjacency = adjacency.detach().cpu().numpy()
    try:
        arr = np.asarray(adjacency)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise InputError(f"{argument}: expected an N x N matrix, could not read it ({exc})") from None
    if arr.dtype == object:
        raise InputError(f"{argument}: expected an N x N numeric matrix, got a ragged or object array")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise InputError(f"{argument}: expected a square N x N matrix, got shape {tuple(arr.shape)}")
    if arr.shape[0] < 2:
        raise InputError(f"{argument}: expected N >= 2 nodes (input + at least one), got N = {arr.shape[0]}")
    if arr.dtype == bool:
        return arr.astype(np.uint8)
    if not np.issubdtype(arr.dtype, np.number):
        raise InputError(f"{argument}: expected a numeric 0/1 matrix, got dtype {arr.dtype}")
    out = arr.astype(np.uint8)
    if not (out == arr).all() or out.max(initial=0) > 1:
        ok = (arr == 0) | (arr == 1)
        bad = arr[~ok].ravel()[:3]
        raise InputError(f"{argument}: expected only 0/1 entries, found {bad.tolist()}")
    return out


class Cell:
    r"""A cell: a DAG on ``N`` topologically ordered nodes, node 0 the input.

    Args:
        adjacency: strictly upper-triangular 0/1 matrix of shape (N, N), N >= 2, as a numpy
            array, torch tensor or nested lists. ``adjacency[i, j] = 1`` is the edge i -> j.
            Isolated and unreachable nodes are allowed; :meth:`prune` removes them.
        ops: optional sequence of N operation names of ``vocab``. When given, node 0 must
            be the input marker (``"input"``), which may appear nowhere else, and the output
            marker (``"output"``) only on the last node.
        vocab: the :class:`~gemgraph.vocab.OpVocabulary` the ops belong to (their index
            order, markers and aliases); default :data:`~gemgraph.vocab.DEFAULT_VOCAB`, the
            supernet's :data:`OPS`. A space with its own op names passes its vocabulary.

    Raises:
        ValueError: naming the argument, for a non-square, non-0/1 or not strictly
            upper-triangular matrix, or for ``ops`` of the wrong length or with unknown names.

    Cells are immutable; equality and hashing compare the exact labelled matrix and the op
    names (not isomorphism classes, and not the vocabulary object: the same names are the same
    cell).
    """

    __slots__ = ("_adj", "_ops", "_hash", "_pruned", "_vocab")

    def __init__(self, adjacency: Any, ops: Sequence[str] | None = None, vocab: OpVocabulary | None = None) -> None:
        adj = _as_matrix(adjacency)
        n = adj.shape[0]
        if (adj & _lower_mask(n)).any():
            i, j = map(int, np.argwhere(np.tril(adj))[0])
            raise InputError(
                "adjacency: expected a strictly upper-triangular matrix (edges i -> j with i < j); "
                f"found a 1 at [{i}, {j}]. Use Cell.from_dag() for a DAG in another node order."
            )
        adj.setflags(write=False)
        self._adj = adj
        self._vocab = as_vocab(vocab)
        self._ops = self._check_ops(ops, n, self._vocab)
        self._hash: int | None = None
        self._pruned: Cell | None = None  # prune()'s result, computed once (cells are immutable)

    @classmethod
    def from_checked(cls, adj: np.ndarray, ops: tuple[str, ...] | None, vocab: OpVocabulary | None = None) -> "Cell":
        r"""A cell from a matrix and ops already known to be valid, *without* any check: the
        fast path for code that produces cells in bulk (a :class:`~gemgraph.batch.CellBatch`
        turned back into cells, a sampled space, a benchmark's table).

        The caller's contract, which nothing verifies (break it and the cell is silently wrong):

        * ``adj`` is a square (N, N) numpy array of 0/1 (any integer or bool dtype), strictly
          upper-triangular; it is converted to uint8 (no copy when it already is contiguous
          uint8) and made read-only, and the caller must not write to it, or to an array it is
          a view of, afterwards;
        * ``ops`` is None or a tuple of N *canonical* names of ``vocab`` (default
          :data:`OPS`) with its input marker exactly at node 0 and its output marker at most at
          the last node (as :class:`Cell` checks).

        Use :class:`Cell` (``Cell(adj, ops)``) for anything that does not come from such code.
        """
        self = cls.__new__(cls)
        adj = np.ascontiguousarray(adj, dtype=np.uint8)
        adj.setflags(write=False)
        self._adj, self._ops, self._hash, self._pruned = adj, ops, None, None
        self._vocab = DEFAULT_VOCAB if vocab is None else vocab
        return self

    @staticmethod
    def _check_ops(ops: Sequence[str] | None, n: int, vocab: OpVocabulary = DEFAULT_VOCAB) -> tuple[str, ...] | None:
        if ops is None:
            return None
        if isinstance(ops, str):
            raise InputError(f"ops: expected a sequence of {n} operation names, got the string {ops!r}")
        known = vocab._index
        ops = tuple(o if o in known else vocab.canonical(o) for o in ops)
        if len(ops) != n:
            raise InputError(f"ops: expected {n} operation names (one per node), got {len(ops)}")
        inp, out = vocab.input, vocab.output
        if ops[0] != inp:
            raise InputError(f"ops: node 0 is the cell input and must be {inp!r}, got {ops[0]!r}")
        if inp in ops[1:]:
            raise InputError(f"ops: {inp!r} is allowed on node 0 only, found at {ops.index(inp, 1)}")
        if out is not None and out in ops[:-1]:
            raise InputError(f"ops: {out!r} is allowed on the last node only, found at {ops.index(out)}")
        return ops

    # ------------------------------------------------------------------ properties
    @property
    def adjacency(self) -> np.ndarray:
        """Read-only uint8 adjacency matrix, shape (N, N): the cell's own array, not a copy
        (cheap to read in bulk; :meth:`to_numpy` returns a writable copy)."""
        return self._adj

    @property
    def ops(self) -> tuple[str, ...] | None:
        """Canonical operation names, one per node, or None."""
        return self._ops

    @property
    def vocab(self) -> OpVocabulary:
        """The :class:`~gemgraph.vocab.OpVocabulary` of the ops (default: the supernet's)."""
        return self._vocab

    @property
    def num_nodes(self) -> int:
        """N, the number of nodes (isolated ones included)."""
        return int(self._adj.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of edges."""
        return int(self._adj.sum())

    @property
    def in_degree(self) -> np.ndarray:
        """In-degree of every node, shape (N,)."""
        return self._adj.sum(axis=0).astype(np.int64)

    @property
    def out_degree(self) -> np.ndarray:
        """Out-degree of every node, shape (N,)."""
        return self._adj.sum(axis=1).astype(np.int64)

    @property
    def op_indices(self) -> np.ndarray | None:
        """Index of each op in :attr:`vocab` (:data:`OPS` by default), shape (N,) int64, or None without ops."""
        if self._ops is None:
            return None
        index = self._vocab._index
        return np.array([index[o] for o in self._ops], dtype=np.int64)

    def alive_mask(self) -> np.ndarray:
        """Nodes kept by the cell -> network rule, shape (N,) bool.

        Node 0 is always kept; node j > 0 is kept iff it has an edge from a kept node, i.e.
        it lies on a path from the input. This is the fixpoint of "drop non-input nodes of
        zero in-degree, with their edges, repeatedly".
        """
        return alive_mask(self._adj[None].astype(bool))[0]

    @property
    def leaves(self) -> list[int]:
        """Kept nodes other than the input with no outgoing edge to a kept node.

        These are concatenated to form the cell output. Indices refer to *this* cell's nodes.
        """
        alive = self.alive_mask()
        out_alive = (self._adj.astype(bool) & alive[None, :]).any(axis=1)
        idx = np.flatnonzero(alive & ~out_alive)
        return [int(i) for i in idx if i != 0]

    @property
    def num_concat(self) -> int:
        """Number of concatenations after pruning: kept non-input nodes with in-degree >= 2.

        This is what :class:`~gemgraph.SearchSpace`'s ``max_concat`` caps. The output
        concatenation of the leaves is not counted (see :attr:`leaves`).
        """
        return int(count_concat(self._adj[None].astype(bool))[0])

    # ------------------------------------------------------------------ pruning
    @overload
    def prune(self, return_kept: Literal[False] = False) -> "Cell": ...

    @overload
    def prune(self, return_kept: Literal[True]) -> "tuple[Cell, np.ndarray]": ...

    @overload
    def prune(self, return_kept: bool) -> "Cell | tuple[Cell, np.ndarray]": ...

    def prune(self, return_kept: bool = False) -> "Cell | tuple[Cell, np.ndarray]":
        r"""Apply the cell -> network rule and drop every node not on a path from the input.

        Non-input nodes with zero in-degree are removed with their edges, repeatedly, until
        none is left; the remaining nodes keep their relative order.

        Args:
            return_kept: also return the indices (into this cell) of the kept nodes.

        Returns:
            The pruned :class:`Cell` (and, with ``return_kept``, an int64 array of kept node
            indices). The pruned cell's :attr:`leaves` are its output nodes.

        Raises:
            ValueError: if no operation node is reachable from the input (an empty cell).
        """
        if self._pruned is not None and not return_kept:
            return self._pruned
        alive = self.alive_mask()
        kept = np.flatnonzero(alive)
        if len(kept) < 2:
            raise InputError("cell: no node is reachable from the input; the pruned cell would be empty")
        adj = self._adj[np.ix_(kept, kept)]
        ops = None if self._ops is None else [self._ops[i] for i in kept]
        out = self._vocab.output
        if ops is not None and self._ops is not None and out is not None and self._ops[-1] == out and ops[-1] != out:
            raise InputError(f"cell: the {out!r} node is not reachable from the input")
        pruned = Cell(adj, ops, self._vocab)
        self._pruned = pruned
        return (pruned, kept) if return_kept else pruned

    def is_pruned(self) -> bool:
        """True when every node lies on a path from the input (pruning changes nothing)."""
        return bool(self.alive_mask().all())

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_dag(
        cls,
        adjacency: Any,
        ops: Sequence[str] | None = None,
        input_node: int | None = None,
        vocab: OpVocabulary | None = None,
    ) -> "Cell":
        r"""Build a cell from a DAG given in any node order, reordering it topologically.

        Args:
            adjacency: (N, N) 0/1 matrix, ``adjacency[i, j] = 1`` for the edge i -> j, in any
                node order.
            ops: optional op name per node, in the same order as ``adjacency``.
            input_node: index of the cell input. Default: the node whose op is the input
                marker (``"input"``) when ``ops`` is given, else node 0. It must have no
                incoming edge.
            vocab: the ops' vocabulary (default :data:`~gemgraph.vocab.DEFAULT_VOCAB`).

        The order is the lexicographically smallest topological order with the input first
        (ties broken by original index), so the result is deterministic.

        Raises:
            ValueError: if the graph has a cycle (self-loops included), or the input node has
                an incoming edge, or ``input_node`` is out of range.
        """
        adj = _as_matrix(adjacency).astype(bool)
        n = adj.shape[0]
        voc = as_vocab(vocab)
        if ops is not None:
            if isinstance(ops, str) or len(ops) != n:
                raise InputError(f"ops: expected {n} operation names (one per node), got {ops!r}")
            ops = [voc.canonical(o) for o in ops]
        if input_node is None:
            input_node = ops.index(voc.input) if ops is not None and voc.input in ops else 0
        if not 0 <= int(input_node) < n:
            raise InputError(f"input_node: expected an index in [0, {n}), got {input_node}")
        input_node = int(input_node)
        if np.diag(adj).any():
            raise InputError(f"adjacency: self-loop at node {int(np.flatnonzero(np.diag(adj))[0])}; "
                             "a cell must be acyclic")
        if adj[:, input_node].any():
            raise InputError(f"input_node: node {input_node} has an incoming edge; the input must be a source")
        indeg = adj.sum(axis=0).astype(np.int64)
        order: list[int] = [input_node]
        indeg_work = indeg.copy()
        for j in np.flatnonzero(adj[input_node]):
            indeg_work[j] -= 1
        heap = [int(v) for v in range(n) if v != input_node and indeg_work[v] == 0]
        heapq.heapify(heap)
        while heap:
            v = heapq.heappop(heap)
            order.append(v)
            for j in np.flatnonzero(adj[v]):
                indeg_work[j] -= 1
                if indeg_work[j] == 0:
                    heapq.heappush(heap, int(j))
        if len(order) != n:
            cyc = sorted(set(range(n)) - set(order))
            raise InputError(f"adjacency: the graph has a cycle through nodes {cyc}; a cell must be a DAG")
        perm = np.array(order)
        new_ops = None if ops is None else [ops[i] for i in perm]
        return cls(adj[np.ix_(perm, perm)].astype(np.uint8), new_ops, voc)

    @classmethod
    def from_networkx(cls, graph: Any, op_attr: str = "op", input_node: Any = None,
                      vocab: OpVocabulary | None = None) -> "Cell":
        """Build a cell from a ``networkx.DiGraph``.

        Args:
            graph: a directed acyclic graph. Node order is ``list(graph.nodes)`` before the
                topological reordering of :meth:`from_dag`.
            op_attr: node attribute holding the op name; ops are used only if every node has it.
            input_node: the input node's *label* in ``graph`` (default: as in :meth:`from_dag`).
            vocab: the ops' vocabulary (default :data:`~gemgraph.vocab.DEFAULT_VOCAB`).
        """
        import networkx as nx  # noqa: PLC0415 - networkx loads only for the networkx conversions

        if not isinstance(graph, nx.DiGraph):
            raise InputError(f"graph: expected a networkx.DiGraph, got {type(graph).__name__}")
        nodes = list(graph.nodes)
        adj = nx.to_numpy_array(graph, nodelist=nodes, weight=None, dtype=np.uint8)
        attrs = [graph.nodes[v].get(op_attr) for v in nodes]
        ops = attrs if all(a is not None for a in attrs) else None
        idx = None if input_node is None else nodes.index(input_node)
        return cls.from_dag(adj, ops, input_node=idx, vocab=vocab)

    @classmethod
    def from_data(cls, data: Any, vocab: OpVocabulary | None = None) -> "Cell":
        """Build a cell from a PyG ``Data`` made by :meth:`to_data` (or any Data with
        ``edge_index`` and ``num_nodes``; ops are read from ``data.op`` if present, as indices
        into ``vocab``, default :data:`~gemgraph.vocab.DEFAULT_VOCAB`)."""
        edge_index = getattr(data, "edge_index", None)
        n = getattr(data, "num_nodes", None)
        if edge_index is None or n is None:
            raise InputError("data: expected a torch_geometric Data with edge_index and num_nodes")
        edge_index = torch.as_tensor(edge_index)
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise InputError(f"data.edge_index: expected shape [2, E], got {tuple(edge_index.shape)}")
        n = int(n)
        if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
            raise InputError(f"data.edge_index: node index out of range [0, {n})")
        adj = np.zeros((n, n), dtype=np.uint8)
        ei = edge_index.cpu().numpy()
        adj[ei[0], ei[1]] = 1
        ops = None
        op = getattr(data, "op", None)
        if op is not None:
            op = torch.as_tensor(op).cpu().numpy().astype(np.int64)
            voc = as_vocab(vocab)
            if op.shape != (n,) or op.min() < 0 or op.max() >= len(voc):
                raise InputError(f"data.op: expected {n} indices into the vocabulary {list(voc.names)}, "
                                 f"got {op.tolist()}")
            ops = [voc.names[i] for i in op]
            return cls(adj, ops, voc)
        return cls(adj, ops)

    # ------------------------------------------------------------------ conversions
    def to_numpy(self) -> np.ndarray:
        """A writable copy of the adjacency matrix, shape (N, N) uint8."""
        return self._adj.copy()

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` with nodes 0..N-1 (attribute ``op`` when ops are set)."""
        import networkx as nx  # noqa: PLC0415 - networkx loads only for the networkx conversions

        g = nx.DiGraph()
        for v in range(self.num_nodes):
            g.add_node(v, **({} if self._ops is None else {"op": self._ops[v]}))
        g.add_edges_from(zip(*np.nonzero(self._adj)))
        return g

    def to_data(self, num_nodes: int | None = None) -> Any:
        r"""The cell as a PyTorch Geometric ``Data``.

        Args:
            num_nodes: size the degree features are built for (default: this cell's N); give
                the largest cell size when cells of several sizes go into one dataset.

        Returns:
            ``Data`` with ``edge_index`` (2, E) long (source -> target), ``num_nodes`` = N,
            ``x`` = :func:`gemgraph.features.node_features`: one-hot total degree over
            ``2 * num_nodes - 1`` classes, then one-hot ops over :attr:`vocab` (:data:`OPS` by
            default) when the cell has ops, shape (N, 2 num_nodes - 1 [+ len(vocab)]) float (the
            features of the ``"gin"`` / ``"gcn"`` encoders); and ``op`` (N,) long op indices
            into :attr:`vocab` when the cell has ops.
        """
        from torch_geometric.data import Data  # noqa: PLC0415 - torch_geometric is heavy; loaded for to_pyg only


        src, dst = np.nonzero(self._adj)
        edge_index = torch.from_numpy(np.stack([src, dst]).astype(np.int64))
        n = self.num_nodes if num_nodes is None else int(num_nodes)
        if n < self.num_nodes:
            raise InputError(f"num_nodes: expected >= the cell's {self.num_nodes} nodes, got {num_nodes!r}")
        adj = torch.from_numpy(self._adj.copy())
        if self._ops is not None:
            op = torch.from_numpy(self.op_indices)
            x = node_features(adj, op, num_nodes=n, vocab=self._vocab)
            return Data(x=x, edge_index=edge_index, num_nodes=self.num_nodes, op=op)
        return Data(x=node_features(adj, num_nodes=n), edge_index=edge_index, num_nodes=self.num_nodes)

    # ------------------------------------------------------------------ dunder
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self._ops == other._ops and np.array_equal(self._adj, other._adj)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._adj.shape[0], np.packbits(self._adj).tobytes(), self._ops))
        return self._hash

    def __len__(self) -> int:
        return self.num_nodes

    def __repr__(self) -> str:
        ops = "" if self._ops is None else f", ops=[{', '.join(self._ops)}]"
        return f"Cell(num_nodes={self.num_nodes}, num_edges={self.num_edges}{ops})"


# ---------------------------------------------------------------------- batched helpers
@overload
def alive_mask(adj: torch.Tensor) -> torch.Tensor: ...


@overload
def alive_mask(adj: np.ndarray) -> np.ndarray: ...


def alive_mask(adj: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    r"""Batched reachability from node 0 for upper-triangular adjacency.

    Args:
        adj: bool array/tensor of shape (B, N, N), strictly upper-triangular.

    Returns:
        bool of shape (B, N): node 0 always True; node j True iff some i < j is True with
        ``adj[:, i, j]``. One vectorised step per node (N steps, each over the batch).
    """
    B, N, _ = adj.shape
    adj_t: Any  # the same kind as adj (the loop below is written for both)
    alive: Any
    if isinstance(adj, torch.Tensor):
        # column j of adj as a contiguous row: in-edges of node j
        adj_t = adj.transpose(1, 2).contiguous()
        alive = torch.zeros((B, N), dtype=torch.bool, device=adj.device)
    else:
        adj_t = np.ascontiguousarray(adj.transpose(0, 2, 1))
        alive = np.zeros((B, N), dtype=bool)
    alive[:, 0] = True
    for j in range(1, N):
        alive[:, j] = (adj_t[:, j, :j] & alive[:, :j]).any(1)
    return alive


def count_concat(adj: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Batched :attr:`Cell.num_concat`: (B, N, N) bool -> (B,) number of kept non-input nodes
    whose in-degree from kept nodes is >= 2."""
    alive = alive_mask(adj)
    indeg = (adj & alive[:, :, None]).sum(1)
    return ((indeg >= 2) & alive).sum(1)
