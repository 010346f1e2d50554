r"""The NAS-Bench-101 module hash: the key of every model in the official files.

Algorithm (Ying et al. 2019; ``hash_module`` in google-research/nasbench,
``nasbench/lib/graph_util.py``), re-implemented here from its description:

1. every vertex starts with the MD5 hex digest of the text ``"(out_degree, in_degree, label)"``
   (Python tuple formatting);
2. ``V`` times (V = number of vertices), every vertex's digest becomes the MD5 of
   ``sorted in-neighbour digests (concatenated) + "|" + sorted out-neighbour digests + "|" +
   own digest``;
3. the key is the MD5 of the text of the sorted list of vertex digests (Python ``list`` repr).

It is a Weisfeiler-Lehman-style refinement, so isomorphic labelled graphs share a key; for the
NAS-Bench-101 space (<= 7 vertices, <= 9 edges, 3 ops) distinct cells have distinct keys.
Labels: -1 input, -2 output, 0 conv3x3-bn-relu, 1 conv1x1-bn-relu, 2 maxpool3x3.
"""
from __future__ import annotations

from collections.abc import Sequence

try:  # CPython's built-in MD5 has less call overhead than OpenSSL's for short inputs
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - other interpreters
    from hashlib import md5 as _md5

import numpy as np

__all__ = ["hash_module", "hash_modules"]


def _hash_lists(preds: list[list[int]], succs: list[list[int]], labels: Sequence[int],
                memo: dict[tuple[int, int, int], bytes] | None = None) -> str:
    """Module hash from predecessor / successor lists (the inner loop of :func:`hash_module`).

    Digests are kept as hex ``bytes``: sorting them sorts the hex text, and joining them
    builds exactly the text the benchmark hashes.
    """
    n = len(labels)
    digests = []
    for v in range(n):
        key = (len(succs[v]), len(preds[v]), int(labels[v]))
        d = None if memo is None else memo.get(key)
        if d is None:
            d = _md5(b"(%d, %d, %d)" % key).hexdigest().encode()
            if memo is not None:
                memo[key] = d
        digests.append(d)
    verts = range(n)
    for _ in verts:
        new = []
        for v in verts:
            p, s = preds[v], succs[v]
            a = digests[p[0]] if len(p) == 1 else b"".join(sorted([digests[w] for w in p]))
            b = digests[s[0]] if len(s) == 1 else b"".join(sorted([digests[w] for w in s]))
            new.append(_md5(b"%s|%s|%s" % (a, b, digests[v])).hexdigest().encode())
        digests = new
    # str(sorted(list_of_str)) of the original: "['d1', 'd2', ...]"
    return _md5(b"['" + b"', '".join(sorted(digests)) + b"']").hexdigest()


def hash_module(matrix: np.ndarray | Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    r"""The NAS-Bench-101 key of a labelled cell: 32 lowercase hex characters.

    Args:
        matrix: (V, V) 0/1 adjacency matrix, ``matrix[i, j] = 1`` for an edge i -> j. Use the
            *pruned* matrix (see :class:`nasbench.ModelSpec`) to get the benchmark's key.
        labels: V integer labels: -1 input, -2 output, 0 conv3x3-bn-relu, 1 conv1x1-bn-relu,
            2 maxpool3x3.

    Returns:
        The hex digest used as ``module_hash`` in the official files.

    Raises:
        ValueError: for a non-square or non-0/1 matrix, or labels of the wrong length.

    Shapes: matrix (V, V), labels (V,) -> str
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix: expected a square (V, V) array, got shape {m.shape}")
    if m.size and not np.isin(m, (0, 1)).all():
        raise ValueError("matrix: expected 0/1 entries")
    if len(labels) != m.shape[0]:
        raise ValueError(f"labels: expected {m.shape[0]} labels (one per vertex), got {len(labels)}")
    mb = m.astype(bool)
    preds = [np.flatnonzero(mb[:, v]).tolist() for v in range(m.shape[0])]
    succs = [np.flatnonzero(mb[v]).tolist() for v in range(m.shape[0])]
    return _hash_lists(preds, succs, [int(x) for x in labels])


def hash_modules(matrices: np.ndarray, labels: np.ndarray,
                 num_vertices: np.ndarray | None = None) -> np.ndarray:
    r"""Module hashes of many zero-padded cells.

    Args:
        matrices: (n, W, W) 0/1 adjacency matrices; cell i uses ``matrices[i, :V_i, :V_i]``.
        labels: (n, W) integer labels (padding entries are ignored).
        num_vertices: (n,) vertex counts V_i; default W for every cell.

    Returns:
        (n,) array of 32-character hex strings (dtype ``<U32``).

    Shapes: matrices (n, W, W), labels (n, W), num_vertices (n,) -> (n,)
    """
    mats = np.asarray(matrices).astype(bool)
    labs = np.asarray(labels)
    if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or labs.shape != mats.shape[:2]:
        raise ValueError(f"matrices / labels: expected shapes (n, W, W) and (n, W), "
                         f"got {mats.shape} and {labs.shape}")
    n, w = mats.shape[:2]
    nv = np.full(n, w, dtype=np.int64) if num_vertices is None else np.asarray(num_vertices, dtype=np.int64)
    memo: dict[tuple[int, int, int], bytes] = {}
    out = np.empty(n, dtype="<U32")
    # Edge lists for every cell at once, then one Python pass per cell.
    cell, src, dst = np.nonzero(mats)
    bounds = np.searchsorted(cell, np.arange(n + 1))
    src_l, dst_l, labs_l, nv_l = src.tolist(), dst.tolist(), labs.tolist(), nv.tolist()
    for i in range(n):
        v = nv_l[i]
        preds: list[list[int]] = [[] for _ in range(v)]
        succs: list[list[int]] = [[] for _ in range(v)]
        for k in range(bounds[i], bounds[i + 1]):
            a, b = src_l[k], dst_l[k]
            succs[a].append(b)
            preds[b].append(a)
        out[i] = _hash_lists(preds, succs, labs_l[i][:v], memo)
    return out
