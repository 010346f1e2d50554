r"""The NAS-Bench-101 search space: every unique cell, its count, uniform sampling.

The space (Ying et al. 2019) is every labelled DAG with V <= 7 vertices in topological order
(vertex 0 the input, V-1 the output), at most 9 edges, every vertex on an input -> output
path, and each of the V-2 interior vertices labelled with one of 3 operations; two cells are
the same when they are isomorphic (the input and the output map to themselves). The
benchmark de-duplicates with its module hash (:func:`nasbench.hash_module`) and reports
423,624 unique cells.

How it is computed here (no hashing needed to count):

1. For each V, all ``2**(V(V-1)/2)`` upper-triangular bit patterns are screened in numpy
   (edge count, no vertex without an out-edge except the output, none without an in-edge
   except the input). Bit ``x + y(y-1)/2`` is the edge x -> y, the benchmark's order.
2. Graphs are grouped into isomorphism classes by applying all ``(V-2)!`` permutations of
   the interior vertices at once (vectorised) and keeping the smallest upper-triangular bit
   pattern; the class representative is that smallest pattern, and its automorphism group is
   the set of permutations that fix it.
3. Labelled cells on a representative are the orbits of its automorphism group on the
   ``3**(V-2)`` labelings; each orbit is represented by its lexicographically smallest
   labeling.

Representatives therefore come out exactly as the benchmark's own enumeration
(``generate_graphs.py``) keeps them: the first (V, bit pattern, labeling) of each class.
Hashing the representatives (:func:`enumerate_cells`) gives one distinct hash per cell,
which checks the benchmark's "no collisions" claim on the whole space.

Uniform sampling (:func:`sample`) does not enumerate: it draws (V, bit pattern, labeling)
uniformly from all patterns of all sizes, rejects those outside the space, and accepts a
draw with probability ``1 / m``, where m is the number of distinct upper-triangular labelled
graphs isomorphic to it. Every cell then has the same acceptance probability per draw, so the
result is **uniform over the unique cells (isomorphism classes = distinct hashes)**, not over
labelled matrices.
"""
from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .hashing import hash_modules
from .spec import AVAILABLE_OPS, LABEL_OPS, MAX_EDGES, MAX_VERTICES, PAD_LABEL, ModelSpec

__all__ = ["count", "enumerate_cells", "sample", "sample_arrays", "specs_from_arrays", "EnumeratedSpace",
           "NB101_COUNT"]

#: The benchmark's published number of unique cells.
NB101_COUNT = 423_624
WIDTH = MAX_VERTICES


def _check_params(max_vertices: int, max_edges: int, num_ops: int) -> None:
    if not 2 <= max_vertices <= MAX_VERTICES:
        raise ValueError(f"max_vertices: expected 2..{MAX_VERTICES}, got {max_vertices}")
    if max_edges < 1:
        raise ValueError(f"max_edges: expected >= 1, got {max_edges}")
    if not 1 <= num_ops <= len(AVAILABLE_OPS):
        raise ValueError(f"num_ops: expected 1..{len(AVAILABLE_OPS)}, got {num_ops}")


@cache
def _edges(v: int) -> tuple[np.ndarray, np.ndarray]:
    """(src, dst) of upper-triangle bit e, in the benchmark's order e = x + y(y-1)/2."""
    src, dst = [], []
    for y in range(1, v):
        for x in range(y):
            src.append(x)
            dst.append(y)
    return np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64)


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits of each non-negative int64 (numpy >= 2 has it built in; else a byte table)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    b = np.ascontiguousarray(x, dtype=np.int64).view(np.uint8).reshape(*x.shape, 8)
    return table[b].sum(axis=-1)


def _full_dag(bits: np.ndarray, v: int, max_edges: int) -> np.ndarray:
    """Mask of bit patterns that are full DAGs (every vertex on an input -> output path)."""
    src, dst = _edges(v)
    ok = _popcount(bits) <= max_edges
    for r in range(v - 1):  # every vertex but the output has an out-edge
        ok &= (bits & int(sum(1 << e for e in np.flatnonzero(src == r)))) != 0
    for c in range(1, v):  # every vertex but the input has an in-edge
        ok &= (bits & int(sum(1 << e for e in np.flatnonzero(dst == c)))) != 0
    return ok


@cache
def _perm_tables(v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every permutation p of the interior vertices (input, output fixed):

    * ``perms`` (P, v): ``perms[p, a]`` = old vertex placed at new position a;
    * ``target`` (P, m): new bit index of old edge e (or -1 if it would point backwards);
    * ``ok_edge`` (P, m) bool: ``target >= 0``.
    """
    src, dst = _edges(v)
    m = src.size
    index = {(int(a), int(b)): e for e, (a, b) in enumerate(zip(src, dst))}
    perms = np.array([(0, *p, v - 1) for p in itertools.permutations(range(1, v - 1))], dtype=np.int64)
    target = np.full((len(perms), m), -1, dtype=np.int64)
    for k, p in enumerate(perms):
        inv = np.empty(v, dtype=np.int64)
        inv[p] = np.arange(v)
        for e in range(m):
            a, b = inv[src[e]], inv[dst[e]]
            if a < b:
                target[k, e] = index[(int(a), int(b))]
    return perms, target, target >= 0


def _images(bits: np.ndarray, v: int) -> tuple[np.ndarray, np.ndarray]:
    """Bit patterns of every interior permutation of each graph: (k, P) codes, (k, P) upper-tri mask."""
    _, target, ok_edge = _perm_tables(v)
    m = target.shape[1]
    k, p = bits.shape[0], target.shape[0]
    codes = np.zeros((k, p), dtype=np.int64)
    upper = np.ones((k, p), dtype=bool)
    for e in range(m):
        has = ((bits >> e) & 1).astype(bool)[:, None]  # (k, 1)
        contrib = np.where(ok_edge[:, e], np.left_shift(1, np.maximum(target[:, e], 0)), 0)  # (P,)
        codes |= np.where(has, contrib[None, :], 0)
        upper &= ~has | ok_edge[None, :, e]
    return codes, upper


@dataclass(frozen=True)
class _Patterns:
    """Every valid bit pattern with v vertices and its images under the interior permutations."""

    bits: np.ndarray  # (N,) ascending
    codes: np.ndarray  # (N, P) image bit pattern, int64 max where not upper-triangular
    n_upper: np.ndarray  # (N,) permutations whose image is upper-triangular
    auts: np.ndarray  # (N, A) automorphism permutation indices, padded with 0 (identity)
    aut_mask: np.ndarray  # (N, A) which entries of auts are real


@lru_cache(maxsize=32)
def _patterns(v: int, max_edges: int) -> _Patterns:
    """Valid patterns of v vertices (full DAG, <= max_edges) with their permutation images."""
    m = v * (v - 1) // 2
    bits = np.arange(1 << m, dtype=np.int64)
    bits = bits[_full_dag(bits, v, max_edges)]
    codes, upper = _images(bits, v)
    codes = np.where(upper, codes, np.iinfo(np.int64).max)
    is_aut = codes == bits[:, None]  # image equal to the pattern itself (implies upper-tri)
    a = max(int(is_aut.sum(axis=1).max(initial=1)), 1)
    order = np.argsort(~is_aut, axis=1, kind="stable")[:, :a]  # automorphisms first
    aut_mask = np.take_along_axis(is_aut, order, axis=1)
    auts = np.where(aut_mask, order, 0)
    for arr in (bits, codes, auts, aut_mask):
        arr.setflags(write=False)
    return _Patterns(bits, codes, upper.sum(axis=1), auts, aut_mask)


@lru_cache(maxsize=32)
def _label_table(v: int, num_ops: int) -> np.ndarray:
    """(num_ops**(v-2), P) int64: code of labeling l after interior permutation p.

    Codes are base-``num_ops`` numbers with the first interior vertex most significant, so the
    code order is the lexicographic (itertools.product) order of labelings.
    """
    labs = _labelings(v, num_ops)
    if v == 2:
        return np.zeros((1, 1), dtype=np.int64)
    perms = _perm_tables(v)[0]
    w = num_ops ** np.arange(v - 3, -1, -1, dtype=np.int64)
    table = labs[:, perms[:, 1:-1] - 1] @ w  # (L, P, v-2) @ (v-2,) -> (L, P)
    table.setflags(write=False)
    return table


def _unlabelled_classes(v: int, max_edges: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Class representatives (smallest bit pattern) and their automorphism groups (perm rows)."""
    pat = _patterns(v, max_edges)
    if pat.bits.size == 0:
        return pat.bits, []
    rep = np.flatnonzero(pat.codes.min(axis=1) == pat.bits)  # its own class minimum
    autos = [pat.auts[i][pat.aut_mask[i]] for i in rep.tolist()]
    return pat.bits[rep], autos


def _labelings(v: int, num_ops: int) -> np.ndarray:
    """All labelings of the interior vertices, lexicographic (itertools.product order): (L, v-2)."""
    if v == 2:
        return np.zeros((1, 0), dtype=np.int64)
    return np.array(list(itertools.product(range(num_ops), repeat=v - 2)), dtype=np.int64)


def _orbit_reps(v: int, num_ops: int, auto: np.ndarray) -> np.ndarray:
    """Labelings (row indices) that are the smallest of their orbit under the automorphisms."""
    table = _label_table(v, num_ops)
    if auto.size <= 1:
        return np.arange(table.shape[0])
    own = table[:, 0]  # permutation 0 is the identity
    return np.flatnonzero(table[:, auto].min(axis=1) == own)


@dataclass
class EnumeratedSpace:
    r"""Every unique cell of a (sub)space, one row per cell, in the benchmark's enumeration order.

    Attributes:
        matrices: (N, 7, 7) uint8 zero-padded adjacency (output at V-1).
        op_labels: (N, 7) int8: -1 input, -2 output, 0/1/2 ops, -3 padding.
        num_vertices: (N,) int64.
        hashes: (N,) ``<U32`` module hashes, or None when not computed.
    """

    matrices: np.ndarray
    op_labels: np.ndarray
    num_vertices: np.ndarray
    hashes: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.num_vertices.shape[0])

    def spec(self, i: int) -> ModelSpec:
        """Cell ``i`` as a :class:`ModelSpec`."""
        v = int(self.num_vertices[i])
        return ModelSpec(self.matrices[i, :v, :v], [LABEL_OPS[int(x)] for x in self.op_labels[i, :v]])

    def __repr__(self) -> str:
        hv = "yes" if self.hashes is not None else "no"
        return f"EnumeratedSpace(cells={len(self)}, max_vertices={int(self.num_vertices.max(initial=0))}, hashes={hv})"


def _cells_for(v: int, max_edges: int, num_ops: int) -> tuple[np.ndarray, np.ndarray]:
    """(bit patterns, labelings) of every unique cell with v vertices, in enumeration order."""
    reps, autos = _unlabelled_classes(v, max_edges)
    labs = _labelings(v, num_ops)
    out_bits, out_labs = [], []
    for b, auto in zip(reps.tolist(), autos):
        keep = _orbit_reps(v, num_ops, auto)
        out_bits.append(np.full(keep.size, b, dtype=np.int64))
        out_labs.append(labs[keep])
    if not out_bits:
        return np.zeros(0, dtype=np.int64), np.zeros((0, v - 2), dtype=np.int64)
    return np.concatenate(out_bits), np.concatenate(out_labs)


def count(max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, num_ops: int = 3) -> int:
    r"""Number of unique cells in the space (423,624 for NAS-Bench-101's defaults).

    Counts isomorphism classes exactly (automorphism orbits, see the module docstring); with
    the defaults this takes a few seconds. Every class has one module hash and distinct
    classes have distinct hashes (checked by :func:`enumerate_cells`), so this is also the
    number of distinct hashes.

    Args:
        max_vertices: at most this many vertices, input and output included (2..7).
        max_edges: at most this many edges.
        num_ops: number of interior operations (1..3).
    """
    _check_params(max_vertices, max_edges, num_ops)
    total = 0
    for v in range(2, max_vertices + 1):
        _, autos = _unlabelled_classes(v, max_edges)
        n_labs = num_ops ** (v - 2)
        for auto in autos:
            total += n_labs if auto.size <= 1 else int(_orbit_reps(v, num_ops, auto).size)
    return total


def _to_padded(v: int, bits: np.ndarray, labs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src, dst = _edges(v)
    k = bits.size
    mats = np.zeros((k, WIDTH, WIDTH), dtype=np.uint8)
    for e in range(src.size):
        mats[:, src[e], dst[e]] = (bits >> e) & 1
    lab = np.full((k, WIDTH), PAD_LABEL, dtype=np.int8)
    lab[:, 0] = -1
    lab[:, 1:v - 1] = labs
    lab[:, v - 1] = -2
    return mats, lab


def _hash_chunk(args: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    return hash_modules(*args)


def enumerate_cells(max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, num_ops: int = 3,
                    *, hashes: bool = True, n_jobs: int = 1) -> EnumeratedSpace:
    r"""Every unique cell of the space, with its module hash.

    Args:
        max_vertices, max_edges, num_ops: the space (defaults: NAS-Bench-101).
        hashes: compute the module hashes (the slow part; ``n_jobs`` spreads it over processes).
        n_jobs: processes for hashing (-1: all CPUs).

    Returns:
        :class:`EnumeratedSpace`, rows in the benchmark's enumeration order (V, bit pattern,
        labeling), each row the representative the benchmark's generator keeps.
    """
    _check_params(max_vertices, max_edges, num_ops)
    mats, labs, nv = [], [], []
    for v in range(2, max_vertices + 1):
        bits, lab = _cells_for(v, max_edges, num_ops)
        m, lp = _to_padded(v, bits, lab)
        mats.append(m)
        labs.append(lp)
        nv.append(np.full(bits.size, v, dtype=np.int64))
    space = EnumeratedSpace(np.concatenate(mats), np.concatenate(labs), np.concatenate(nv))
    if hashes:
        n = len(space)
        jobs = (os.cpu_count() or 1) if n_jobs == -1 else max(1, int(n_jobs))
        if jobs == 1 or n < 10_000:
            space.hashes = hash_modules(space.matrices, space.op_labels, space.num_vertices)
        else:
            bounds = np.linspace(0, n, 4 * jobs + 1).astype(np.int64)
            parts = [(space.matrices[a:b], space.op_labels[a:b], space.num_vertices[a:b])
                     for a, b in zip(bounds[:-1], bounds[1:])]
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                space.hashes = np.concatenate(list(pool.map(_hash_chunk, parts)))
    return space


# ---------------------------------------------------------------------- sampling
def _class_sizes(v: int, pidx: np.ndarray, lidx: np.ndarray, max_edges: int, num_ops: int) -> np.ndarray:
    """Distinct upper-triangular labelled graphs isomorphic to each (pattern, labeling).

    Orbit-stabiliser: the permutations with an upper-triangular image split into cosets of the
    labelled automorphism group, so the count is ``n_upper / |Aut(pattern, labeling)|``.
    """
    pat = _patterns(v, max_edges)
    table = _label_table(v, num_ops)
    auts = pat.auts[pidx]  # (k, A)
    fixed = pat.aut_mask[pidx] & (table[lidx[:, None], auts] == table[lidx, 0][:, None])
    return pat.n_upper[pidx] // fixed.sum(axis=1)


def _canonical(v: int, pidx: np.ndarray, lidx: np.ndarray, max_edges: int, num_ops: int) -> np.ndarray:
    """Class invariant: smallest (pattern, labeling) code over the upper-triangular images."""
    pat = _patterns(v, max_edges)
    table = _label_table(v, num_ops)
    out = np.empty(pidx.size, dtype=np.int64)
    big = np.iinfo(np.int64).max
    step = 8192
    for a in range(0, pidx.size, step):
        codes = pat.codes[pidx[a:a + step]]
        full = np.where(codes == big, big, codes * table.shape[0] + table[lidx[a:a + step]])
        out[a:a + step] = full.min(axis=1)
    return out


def _lab_rows(v: int, lidx: np.ndarray, num_ops: int) -> np.ndarray:
    return _labelings(v, num_ops)[lidx]


def sample_arrays(n: int, seed: int | np.random.Generator | None = None, *,
                  max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, num_ops: int = 3,
                  unique: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""``n`` cells drawn uniformly over the unique cells, as zero-padded arrays.

    Exact rejection sampling (see the module docstring): uniform over isomorphism classes,
    i.e. over the 423,624 distinct hashes for the defaults; the space is never enumerated.

    Args:
        n: number of cells.
        seed: seed or Generator.
        max_vertices, max_edges, num_ops: the space.
        unique: draw distinct cells (without replacement) instead of independent draws.

    Returns:
        ``(matrices (n, 7, 7) uint8, op_labels (n, 7) int8, num_vertices (n,) int64)``; each
        cell is a random member of its class (a valid, unpruned full DAG).
    """
    _check_params(max_vertices, max_edges, num_ops)
    if n < 0:
        raise ValueError(f"n: expected >= 0, got {n}")
    if n == 0:
        return (np.zeros((0, WIDTH, WIDTH), np.uint8), np.zeros((0, WIDTH), np.int8),
                np.zeros(0, np.int64))
    rng = np.random.default_rng(seed)
    sizes = np.arange(2, max_vertices + 1)
    pats = {int(v): _patterns(int(v), max_edges) for v in sizes}
    # P(V) proportional to the number of (pattern, labeling) pairs with V vertices.
    weights = np.array([pats[int(v)].bits.size * float(num_ops) ** (v - 2) for v in sizes])
    if weights.sum() == 0:
        raise ValueError("the space is empty")
    weights /= weights.sum()
    out_m, out_l, out_v = [], [], []
    seen: set[tuple[int, int]] = set()
    got = 0
    draws = 0
    while got < n:
        batch = min(max(64, 4 * (n - got)), 1 << 18)  # acceptance is about 1/3
        vs = sizes[rng.choice(sizes.size, size=batch, p=weights)]
        for v in np.unique(vs).tolist():
            k = int((vs == v).sum())
            pidx = rng.integers(0, pats[v].bits.size, size=k)
            lidx = rng.integers(0, num_ops ** (v - 2), size=k)
            accept = rng.random(k) * _class_sizes(v, pidx, lidx, max_edges, num_ops) < 1.0
            pidx, lidx = pidx[accept], lidx[accept]
            if unique and pidx.size:
                keep = []
                for i, c in enumerate(_canonical(v, pidx, lidx, max_edges, num_ops).tolist()):
                    if (v, c) not in seen:
                        seen.add((v, c))
                        keep.append(i)
                pidx, lidx = pidx[keep], lidx[keep]
            bits, labs = pats[v].bits[pidx], _lab_rows(v, lidx, num_ops)
            mats, lab = _to_padded(v, bits, labs)
            out_m.append(mats)
            out_l.append(lab)
            out_v.append(np.full(bits.size, v, dtype=np.int64))
            got += bits.size
        draws += batch
        if unique and draws > 200 * max(n, 1000) and got < n:
            raise ValueError(f"n: could not draw {n} distinct cells; the space may hold fewer "
                             f"(count() gives the size)")
    # Shuffle away the grouping by V, then keep n.
    mats, labs_, nv = np.concatenate(out_m), np.concatenate(out_l), np.concatenate(out_v)
    order = rng.permutation(nv.size)[:n]
    return mats[order], labs_[order], nv[order]


def sample(n: int, seed: int | np.random.Generator | None = None, *,
           max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, num_ops: int = 3,
           unique: bool = False) -> list[ModelSpec]:
    r"""``n`` valid cells drawn uniformly over the unique cells, as :class:`ModelSpec` objects.

    Uniform over isomorphism classes (equivalently over distinct module hashes, 423,624 for
    the defaults), by exact rejection sampling without enumerating; independent draws unless
    ``unique=True``. See :func:`sample_arrays` for the arguments and a vectorised form.
    """
    mats, labs, nv = sample_arrays(n, seed, max_vertices=max_vertices, max_edges=max_edges,
                                   num_ops=num_ops, unique=unique)
    return [ModelSpec(mats[i, :v, :v], [LABEL_OPS[int(x)] for x in labs[i, :v]])
            for i, v in enumerate(nv.tolist())]


def specs_from_arrays(matrices: np.ndarray, op_labels: np.ndarray,
                      num_vertices: Sequence[int] | np.ndarray) -> list[ModelSpec]:
    """Zero-padded arrays -> :class:`ModelSpec` objects."""
    return [ModelSpec(matrices[i, :v, :v], [LABEL_OPS[int(x)] for x in op_labels[i, :v]])
            for i, v in enumerate(np.asarray(num_vertices).tolist())]
