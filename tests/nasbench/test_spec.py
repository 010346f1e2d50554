import itertools

import numpy as np
import pytest

from nasbench import ModelSpec, hash_module, hash_modules
from nasbench.spec import prune

from ._fixtures import INCEPTION

# A real benchmark key (first record of nb101_dev_20k.tfrecord), with its spec.
REAL_KEY = "00005c142e6f48ac74fdcf73e3439874"
REAL_ADJ = "0100110001000000010010000010000001000000010000000"
REAL_OPS = "input,conv3x3-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,conv1x1-bn-relu,output"


def test_hash_reproduces_a_real_benchmark_key():
    matrix = np.array([int(c) for c in REAL_ADJ]).reshape(7, 7)
    spec = ModelSpec(matrix, REAL_OPS.split(","))
    assert spec.module_hash == REAL_KEY
    assert hash_module(matrix, [-1, 0, 2, 0, 0, 1, -2]) == REAL_KEY


def test_hash_is_invariant_under_relabelling_and_sensitive_to_ops():
    matrix = np.array(INCEPTION[0])
    labels = [-1, 1, 0, 0, 0, 2, -2]
    base = hash_module(matrix, labels)
    for perm in itertools.permutations(range(1, 6)):
        p = np.array((0, *perm, 6))
        m2 = matrix[np.ix_(p, p)]
        assert hash_module(m2, [labels[i] for i in p]) == base  # any vertex order, same key
    # vertices 1 and 2 are interchangeable (input -> v -> output), so swapping their ops is an
    # isomorphism; changing the pooling vertex's op is not
    assert hash_module(matrix, [-1, 0, 1, 0, 0, 2, -2]) == base
    assert hash_module(matrix, [-1, 1, 0, 0, 0, 1, -2]) != base


def test_hash_modules_matches_hash_module():
    rng = np.random.default_rng(0)
    mats = np.triu(rng.integers(0, 2, (30, 7, 7)), 1).astype(np.uint8)
    labs = np.concatenate([np.full((30, 1), -1), rng.integers(0, 3, (30, 5)), np.full((30, 1), -2)], axis=1)
    nv = rng.integers(2, 8, 30)
    for i, v in enumerate(nv):
        mats[i, v:, :] = 0
        mats[i, :, v:] = 0
        labs[i, v - 1] = -2
        labs[i, v:] = -3
    got = hash_modules(mats, labs, nv)
    assert got.tolist() == [hash_module(mats[i, :v, :v], labs[i, :v].tolist()) for i, v in enumerate(nv)]


def test_hash_rejects_bad_input():
    with pytest.raises(ValueError, match="square"):
        hash_module(np.zeros((2, 3)), [-1, -2])
    with pytest.raises(ValueError, match="labels"):
        hash_module(np.zeros((3, 3)), [-1, -2])


def test_pruning_removes_vertices_off_the_input_output_paths():
    # vertex 2 is a dead end (no path to output), vertex 3 is unreachable from input
    m = [[0, 1, 1, 0, 0],
         [0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0],
         [0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0]]
    spec = ModelSpec(m, ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"])
    assert spec.valid_spec and spec.is_valid()
    assert spec.ops == ["input", "conv3x3-bn-relu", "output"]
    assert spec.matrix.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert spec.original_matrix.shape == (5, 5)
    assert prune(np.array(m)).tolist() == [0, 1, 4]
    # the pruned spec hashes like the equivalent 3-vertex cell
    assert spec.module_hash == ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]],
                                         ["input", "conv3x3-bn-relu", "output"]).module_hash


def test_disconnected_spec_is_invalid():
    spec = ModelSpec([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    assert not spec.valid_spec and spec.matrix is None and spec.ops is None
    assert not spec.is_valid()
    with pytest.raises(ValueError, match="disconnected"):
        _ = spec.module_hash
    assert "invalid" in repr(spec)


@pytest.mark.parametrize("matrix, ops, match", [
    (np.triu(np.ones((8, 8), int), 1), ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"], "too many vertices"),
    (np.triu(np.ones((7, 7), int), 1), ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"], "too many edges"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unsupported operation"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["conv3x3-bn-relu", "conv3x3-bn-relu", "output"], "first operation"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "maxpool3x3"], "last operation"),
])
def test_out_of_space_specs_are_flagged(matrix, ops, match):
    spec = ModelSpec(matrix, ops)
    assert spec.valid_spec and not spec.is_valid()
    assert match in spec.problem()
    with pytest.raises(ValueError, match=match):
        spec.check()


def test_extra_edges_on_pruned_vertices_do_not_count():
    # 10 edges, but vertex 5 has no in-edge: pruning it leaves 9, inside the space
    m = np.zeros((7, 7), int)
    for a, b in [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (4, 6), (1, 6), (0, 6), (2, 4), (5, 6)]:
        m[a, b] = 1
    spec = ModelSpec(m, ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"])
    assert spec.is_valid() and spec.num_edges == 9 and spec.num_vertices == 6


@pytest.mark.parametrize("matrix, ops, match", [
    ([[0, 1], [0, 0], [0, 0]], ["input", "output"], "square"),
    ([[0, 1], [0, 0]], ["input"], "ops"),
    ([[0, 1], [1, 0]], ["input", "output"], "upper-triangular"),
    ([[0, 2], [0, 0]], ["input", "output"], "0/1"),
    ([[0, 1], [0, 0]], "io", "string"),
    ([[0, 1], [0, 0]], ["input", 7], "integer label"),
    ([[0]], ["input"], "V >= 2"),
])
def test_malformed_specs_raise(matrix, ops, match):
    with pytest.raises(ValueError, match=match):
        ModelSpec(matrix, ops)


def test_integer_labels_padding_and_repr():
    spec = ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [-1, 2, -2])
    assert spec.ops == ["input", "maxpool3x3", "output"]
    m, lab = spec.padded()
    assert m.shape == (7, 7) and m[:3, :3].tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]] and m[3:].sum() == 0
    assert lab.tolist() == [-1, 2, -2, -3, -3, -3, -3]
    assert spec.hash_spec() == spec.module_hash
    assert "vertices=3" in repr(spec) and "maxpool3x3" in repr(spec)
    assert spec == ModelSpec([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
