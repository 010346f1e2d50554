r"""NAS-Bench-101 cell specifications: operations, pruning, validity, hashing.

A NAS-Bench-101 cell is a DAG on V <= 7 vertices in topological order: vertex 0 is the
``input``, vertex V-1 the ``output``, every other vertex one of three operations. The
adjacency matrix is strictly upper-triangular 0/1 with at most 9 edges.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .hashing import hash_module

__all__ = [
    "INPUT", "OUTPUT", "CONV3X3", "CONV1X1", "MAXPOOL3X3", "AVAILABLE_OPS", "OP_LABELS",
    "LABEL_OPS", "PAD_LABEL", "MAX_VERTICES", "MAX_EDGES", "ModelSpec", "prune",
]

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
#: The interior operations, in the benchmark's canonical order (their label is the index).
AVAILABLE_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
#: Op name -> integer label used by :func:`nasbench.hash_module` and ``op_labels`` arrays.
OP_LABELS: dict[str, int] = {INPUT: -1, OUTPUT: -2, CONV3X3: 0, CONV1X1: 1, MAXPOOL3X3: 2}
#: Integer label -> op name.
LABEL_OPS: dict[int, str] = {v: k for k, v in OP_LABELS.items()}
#: Label of the padding entries of zero-padded ``op_labels`` arrays.
PAD_LABEL = -3
MAX_VERTICES = 7
MAX_EDGES = 9


def prune(matrix: np.ndarray) -> np.ndarray | None:
    r"""Vertices that lie on some input -> output path, or None if there is no such path.

    Vertex 0 is the input and vertex V-1 the output. This is the benchmark's pruning rule:
    every vertex not reachable from the input, or not reaching the output, is extraneous.

    Args:
        matrix: (V, V) upper-triangular 0/1 matrix.

    Returns:
        Sorted int64 indices of the kept vertices (input and output included), or None when
        fewer than two vertices survive (the input does not reach the output).
    """
    m = np.asarray(matrix).astype(bool)
    v = m.shape[0]
    fwd = np.zeros(v, dtype=bool)
    fwd[0] = True
    for j in range(1, v):  # topological order: predecessors of j are < j
        fwd[j] = bool((m[:j, j] & fwd[:j]).any())
    bwd = np.zeros(v, dtype=bool)
    bwd[v - 1] = True
    for i in range(v - 2, -1, -1):
        bwd[i] = bool((m[i, i + 1:] & bwd[i + 1:]).any())
    keep = np.flatnonzero(fwd & bwd)
    if keep.size < 2:
        return None
    return keep


class ModelSpec:
    r"""A NAS-Bench-101 cell: adjacency matrix plus one operation per vertex, pruned.

    As in the official API, the spec is pruned on construction: vertices not on an
    input -> output path are removed with their edges. If the input does not reach the output,
    the spec is *invalid*: ``valid_spec`` is False and ``matrix`` / ``ops`` are None.
    Whether the pruned cell lies in the benchmark's space (<= 7 vertices, <= 9 edges, known
    ops, ``input`` first and ``output`` last) is a separate question: see :meth:`check`.

    Args:
        matrix: (V, V) strictly upper-triangular 0/1 matrix (numpy array or nested lists);
            ``matrix[i, j] = 1`` is the edge i -> j.
        ops: V operation names (``"input"``, ``"conv3x3-bn-relu"``, ``"conv1x1-bn-relu"``,
            ``"maxpool3x3"``, ``"output"``); integer labels (-1, 0, 1, 2, -2) are accepted too.

    Attributes:
        original_matrix: the matrix as given, (V, V) int8.
        original_ops: the ops as given (names).
        matrix: the pruned matrix, (V', V') int8, or None if invalid.
        ops: the pruned op names, or None if invalid.
        valid_spec: False when pruning left no input -> output path.

    Raises:
        ValueError: for a matrix that is not square, not 0/1 or not strictly upper-triangular,
            or ops of the wrong length or type.
    """

    def __init__(self, matrix: Any, ops: Sequence[str | int]) -> None:
        try:
            m = np.array(matrix)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"matrix: could not read a (V, V) matrix ({exc})") from None
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"matrix: expected a square (V, V) matrix, got shape {m.shape}")
        if m.shape[0] < 2:
            raise ValueError(f"matrix: expected V >= 2 vertices (input and output), got {m.shape[0]}")
        if m.dtype == bool:
            m = m.astype(np.int8)
        if m.dtype == object or not np.issubdtype(m.dtype, np.number) or not np.isin(m, (0, 1)).all():
            raise ValueError("matrix: expected only 0/1 entries")
        if np.tril(m).any():
            i, j = map(int, np.argwhere(np.tril(m))[0])
            raise ValueError(f"matrix: expected a strictly upper-triangular matrix, found a 1 at [{i}, {j}]")
        if isinstance(ops, str):
            raise ValueError("ops: expected a sequence of operation names, got a single string")
        ops = list(ops)
        if len(ops) != m.shape[0]:
            raise ValueError(f"ops: expected {m.shape[0]} operations (one per vertex), got {len(ops)}")
        names = []
        for o in ops:
            if isinstance(o, (int, np.integer)) and not isinstance(o, bool):
                if int(o) not in LABEL_OPS:
                    raise ValueError(f"ops: unknown integer label {int(o)}; expected one of {sorted(LABEL_OPS)}")
                names.append(LABEL_OPS[int(o)])
            elif isinstance(o, str):
                names.append(o)
            else:
                raise ValueError(f"ops: expected operation names (str), got {type(o).__name__} {o!r}")
        self.original_matrix = m.astype(np.int8)
        self.original_ops = names
        keep = prune(self.original_matrix)
        self.valid_spec = keep is not None
        if keep is None:
            self.matrix = None
            self.ops = None
        else:
            self.matrix = self.original_matrix[np.ix_(keep, keep)].copy()
            self.ops = [names[k] for k in keep.tolist()]
        self._hash: str | None = None

    # ------------------------------------------------------------------ properties
    @property
    def num_vertices(self) -> int:
        """Vertices after pruning (0 when invalid)."""
        return 0 if self.ops is None else len(self.ops)

    @property
    def num_edges(self) -> int:
        """Edges after pruning (0 when invalid)."""
        return 0 if self.matrix is None else int(self.matrix.sum())

    @property
    def labels(self) -> list[int]:
        """Integer labels of the pruned ops (-1 input, -2 output, 0/1/2 ops).

        Raises:
            ValueError: if the spec is invalid or uses an op outside the space.
        """
        self.check()
        return [OP_LABELS[o] for o in self.ops]  # type: ignore[union-attr]

    def problem(self) -> str | None:
        """Why the pruned spec is outside the NAS-Bench-101 space, or None if it is inside."""
        if not self.valid_spec:
            return "invalid spec: the input does not reach the output (graph disconnected)"
        assert self.ops is not None and self.matrix is not None
        if len(self.ops) > MAX_VERTICES:
            return f"too many vertices after pruning: {len(self.ops)} (max {MAX_VERTICES})"
        if self.num_edges > MAX_EDGES:
            return f"too many edges after pruning: {self.num_edges} (max {MAX_EDGES})"
        if self.ops[0] != INPUT:
            return f"first operation must be {INPUT!r}, got {self.ops[0]!r}"
        if self.ops[-1] != OUTPUT:
            return f"last operation must be {OUTPUT!r}, got {self.ops[-1]!r}"
        for i, o in enumerate(self.ops[1:-1], start=1):
            if o not in AVAILABLE_OPS:
                return f"unsupported operation {o!r} at pruned vertex {i}; expected one of {list(AVAILABLE_OPS)}"
        return None

    def is_valid(self) -> bool:
        """True when the pruned spec is in the NAS-Bench-101 space (see :meth:`problem`)."""
        return self.problem() is None

    def check(self) -> None:
        """Raise ``ValueError`` saying why the spec is outside the space; return if it is inside."""
        why = self.problem()
        if why is not None:
            raise ValueError(why)

    def hash_spec(self, canonical_ops: Sequence[str] = AVAILABLE_OPS) -> str:
        """The benchmark key (module hash) of the pruned spec.

        Args:
            canonical_ops: interior ops in label order (the official ``available_ops``).

        Raises:
            ValueError: if the spec is invalid or outside the space.
        """
        if tuple(canonical_ops) == AVAILABLE_OPS:
            return self.module_hash
        self.check()
        labeling = [-1] + [list(canonical_ops).index(o) for o in self.ops[1:-1]] + [-2]  # type: ignore[index]
        return hash_module(self.matrix, labeling)  # type: ignore[arg-type]

    @property
    def module_hash(self) -> str:
        """The benchmark key of the pruned spec (cached). Raises ``ValueError`` if invalid."""
        if self._hash is None:
            self._hash = hash_module(self.matrix, self.labels)  # type: ignore[arg-type]
        return self._hash

    # ------------------------------------------------------------------ conversions
    def padded(self, width: int = MAX_VERTICES) -> tuple[np.ndarray, np.ndarray]:
        """Zero-padded pruned matrix (width, width) uint8 and labels (width,) int8 (-3 padding).

        The output vertex stays at index V-1; rows / columns V.. are zero.
        """
        labels = self.labels
        v = len(labels)
        if v > width:
            raise ValueError(f"width: the spec has {v} vertices, more than width={width}")
        m = np.zeros((width, width), dtype=np.uint8)
        assert self.matrix is not None  # self.labels has raised for an invalid spec
        m[:v, :v] = self.matrix
        lab = np.full(width, PAD_LABEL, dtype=np.int8)
        lab[:v] = labels
        return m, lab

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelSpec):
            return NotImplemented
        return (np.array_equal(self.original_matrix, other.original_matrix)
                and self.original_ops == other.original_ops)

    def __hash__(self) -> int:
        return hash((self.original_matrix.tobytes(), self.original_matrix.shape, tuple(self.original_ops)))

    def __repr__(self) -> str:
        if not self.valid_spec:
            return f"ModelSpec(invalid, original_vertices={len(self.original_ops)})"
        pruned = len(self.original_ops) - len(self.ops)  # type: ignore[arg-type]
        extra = f", pruned={pruned}" if pruned else ""
        rows = ["".join(str(int(x)) for x in row) for row in self.matrix]  # type: ignore[union-attr]
        return (f"ModelSpec(vertices={self.num_vertices}, edges={self.num_edges}{extra}, "
                f"matrix={rows}, ops={self.ops})")
