import itertools
import time

import numpy as np
import pytest
from scipy.stats import chisquare

from nasbench import ModelSpec, hash_module, hash_modules, space


def _brute_force(max_vertices, max_edges=9, num_ops=3):
    """The benchmark's own procedure, literally: hash every labelled full DAG, keep the first."""
    buckets = {}
    for v in range(2, max_vertices + 1):
        pairs = [(x, y) for y in range(1, v) for x in range(y)]  # bit x + y(y-1)/2 is edge x -> y
        for bits in range(2 ** len(pairs)):
            m = np.zeros((v, v), dtype=np.int64)
            for e, (x, y) in enumerate(pairs):
                m[x, y] = (bits >> e) & 1
            if m.sum() > max_edges or (m[:-1].sum(axis=1) == 0).any() or (m[:, 1:].sum(axis=0) == 0).any():
                continue
            for lab in itertools.product(range(num_ops), repeat=v - 2):
                labels = [-1, *lab, -2]
                buckets.setdefault(hash_module(m, labels), (m, labels))
    return buckets


@pytest.mark.parametrize("params", [(2, 9, 3), (3, 9, 3), (4, 9, 3), (5, 9, 3), (5, 4, 2), (5, 9, 1), (6, 6, 1)])
def test_count_agrees_with_the_official_procedure(params):
    assert space.count(*params) == len(_brute_force(*params))


def test_enumeration_reproduces_the_official_representatives():
    buckets = _brute_force(5)
    cells = space.enumerate_cells(max_vertices=5)
    assert len(cells) == len(buckets) == 2532
    assert cells.hashes.tolist() == list(buckets)  # same cells, same (first-seen) order
    for i, (m, labels) in enumerate(buckets.values()):
        v = len(labels)
        assert cells.num_vertices[i] == v
        assert np.array_equal(cells.matrices[i, :v, :v], m) and cells.matrices[i, v:].sum() == 0
        assert cells.op_labels[i, :v].tolist() == labels and (cells.op_labels[i, v:] == -3).all()
    assert "cells=2532" in repr(cells)
    assert cells.spec(0).module_hash == cells.hashes[0]


def test_count_of_the_full_space_is_the_official_figure():
    t = time.perf_counter()
    assert space.count() == space.NB101_COUNT == 423_624
    assert time.perf_counter() - t < 120


@pytest.mark.slow
def test_enumerate_the_full_space_with_hashes():
    cells = space.enumerate_cells(n_jobs=2)
    assert len(cells) == 423_624
    assert len(set(cells.hashes.tolist())) == 423_624  # no collisions: one hash per cell
    assert np.bincount(cells.num_vertices).tolist()[2:] == [1, 6, 84, 2441, 62010, 359082]


def test_sampling_is_uniform_over_unique_cells():
    cells = space.enumerate_cells(max_vertices=4)
    index = {h: i for i, h in enumerate(cells.hashes.tolist())}
    m, lab, nv = space.sample_arrays(150 * len(cells), seed=0, max_vertices=4)
    counts = np.bincount([index[h] for h in hash_modules(m, lab, nv).tolist()], minlength=len(cells))
    assert counts.min() > 0
    assert chisquare(counts).pvalue > 1e-3
    # on NB101 itself: the share of each vertex count matches the enumeration
    exact = np.bincount(space.enumerate_cells(hashes=False).num_vertices, minlength=8) / 423_624
    _, _, nv = space.sample_arrays(40_000, seed=1)
    share = np.bincount(nv, minlength=8) / nv.size
    assert np.all(np.abs(share - exact) < 5 * np.sqrt(exact * (1 - exact) / nv.size) + 1e-9)


def test_uniform_over_classes_not_over_matrices():
    # V <= 4: the cell input -> a -> b -> output with a, b in a chain has 1 upper-triangular
    # form, while the "diamond" input -> {a, b} -> output with a != b has 2; class sampling
    # must not favour the latter.
    cells = space.enumerate_cells(max_vertices=4)
    index = {h: i for i, h in enumerate(cells.hashes.tolist())}
    m, lab, nv = space.sample_arrays(60_000, seed=2, max_vertices=4)
    counts = np.bincount([index[h] for h in hash_modules(m, lab, nv).tolist()], minlength=len(cells))
    expected = 60_000 / len(cells)
    assert np.abs(counts - expected).max() < 6 * np.sqrt(expected)


def test_samples_are_valid_specs_and_reproducible():
    specs = space.sample(200, seed=7)
    assert all(isinstance(s, ModelSpec) and s.is_valid() for s in specs)
    assert all(s.num_vertices == len(s.original_ops) for s in specs)  # full DAGs: nothing pruned
    assert [s.module_hash for s in specs[:20]] == [s.module_hash for s in space.sample(200, seed=7)[:20]]
    assert [s.module_hash for s in specs[:5]] != [s.module_hash for s in space.sample(200, seed=8)[:5]]
    m, lab, nv = space.sample_arrays(100, seed=1)
    assert m.shape == (100, 7, 7) and lab.shape == (100, 7) and nv.shape == (100,)
    for i in range(100):
        v = nv[i]
        assert m[i, v:].sum() == 0 and m[i, :, v:].sum() == 0 and (lab[i, v:] == -3).all()
        assert lab[i, 0] == -1 and lab[i, v - 1] == -2
    assert len(space.sample(0)) == 0


def test_unique_sampling():
    specs = space.sample(500, seed=3, unique=True)
    assert len({s.module_hash for s in specs}) == 500
    m, lab, nv = space.sample_arrays(91, seed=0, max_vertices=4, unique=True)  # the whole subspace
    assert len(set(hash_modules(m, lab, nv).tolist())) == 91
    with pytest.raises(ValueError, match="distinct"):
        space.sample_arrays(8, seed=0, max_vertices=3, unique=True)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_vertices": 8}, "max_vertices"), ({"max_vertices": 1}, "max_vertices"),
    ({"max_edges": 0}, "max_edges"), ({"num_ops": 4}, "num_ops"),
])
def test_bad_space_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        space.count(**kwargs)
    with pytest.raises(ValueError, match=match):
        space.sample(1, **kwargs)
