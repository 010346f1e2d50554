import numpy as np
import torch
import pytest
from grakel import Graph
from grakel.kernels import VertexHistogram, WeisfeilerLehman

from gemgraph import Cell, SearchSpace, WLKernel


def grakel_gram(cells, h, labels):
    graphs = []
    for c in cells:
        if labels == "degree":
            lab = (c.in_degree + c.out_degree).tolist()
        elif labels == "op":
            lab = list(c.ops)
        elif labels == ("degree", "op"):  # GraKel gets the pair itself as the node label
            lab = list(zip((c.in_degree + c.out_degree).tolist(), c.ops))
        else:
            lab = list(labels(c))
        graphs.append(Graph(c.adjacency.astype(float), node_labels=dict(enumerate(lab))))
    return WeisfeilerLehman(n_iter=h, normalize=True, base_graph_kernel=VertexHistogram).fit_transform(graphs)


def special_cells(n):
    empty = Cell(np.zeros((n, n), dtype=int), ["input"] + ["conv1x1"] * (n - 1))
    full = Cell(np.triu(np.ones((n, n), dtype=int), 1), ["input"] + ["sepconv3x3"] * (n - 1))
    chain = np.zeros((n, n), dtype=int)
    chain[np.arange(n - 1), np.arange(1, n)] = 1
    ops = ["input"] + ["conv1x1", "sepconv3x3"] * ((n - 1) // 2) + ["conv1x1"] * ((n - 1) % 2)
    return [empty, full, Cell(chain, ops)]


@pytest.mark.parametrize("n", [7, 30])
@pytest.mark.parametrize("h", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("labels", ["degree", "op"])
def test_equals_grakel(n, h, labels):
    cells = SearchSpace(n).sample(60, seed=n + h) + special_cells(n)
    K = WLKernel(n_iter=h, node_labels=labels).fit_transform(cells)
    G = grakel_gram(cells, h, labels)
    assert K.shape == (len(cells), len(cells))
    np.testing.assert_allclose(K, G, atol=1e-9, rtol=0)
    assert np.allclose(np.diag(K), 1.0) and K.min() >= 0 and K.max() <= 1 + 1e-12


def test_mixed_sizes_and_callable_labels():
    cells = SearchSpace(5).sample(20, seed=0) + SearchSpace(8).sample(20, seed=1)

    def parity(c):
        return [int(d) % 2 for d in c.in_degree]

    K = WLKernel(n_iter=2, node_labels=parity).fit_transform(cells)
    np.testing.assert_allclose(K, grakel_gram(cells, 2, parity), atol=1e-9, rtol=0)


def test_unnormalized_matches_grakel():
    cells = SearchSpace(10).sample(30, seed=0)
    graphs = [Graph(c.adjacency.astype(float), node_labels=dict(enumerate((c.in_degree + c.out_degree).tolist())))
              for c in cells]
    G = WeisfeilerLehman(n_iter=3, normalize=False, base_graph_kernel=VertexHistogram).fit_transform(graphs)
    np.testing.assert_allclose(WLKernel(3, normalize=False).fit_transform(cells), G, atol=1e-9)


def test_transform_and_pairwise_consistent():
    cells = SearchSpace(12).sample(40, seed=0)
    k = WLKernel(n_iter=3)
    K = k.fit_transform(cells)
    T = k.fit(cells[:25]).transform(cells[25:])
    np.testing.assert_allclose(T, K[25:, :25], atol=1e-12)
    p = k.pairwise(cells[:20], cells[20:])
    np.testing.assert_allclose(p, K[np.arange(20), np.arange(20, 40)], atol=1e-12)
    F = k.normalized_features(cells)
    np.testing.assert_allclose((F @ F.T).toarray(), K, atol=1e-12)
    # also in GraKel's transform
    graphs = [Graph(c.adjacency.astype(float), node_labels=dict(enumerate((c.in_degree + c.out_degree).tolist())))
              for c in cells]
    gk = WeisfeilerLehman(n_iter=3, normalize=True, base_graph_kernel=VertexHistogram).fit(graphs[:25])
    np.testing.assert_allclose(T, gk.transform(graphs[25:]), atol=1e-9)


def test_exact_fallback_path_agrees():
    from gemgraph.wl import _refine, _refine_exact

    cells = SearchSpace(15).sample(200, seed=5)
    k = WLKernel(1)
    flat = k._flatten(cells)
    lab = np.unique(flat.labels, return_inverse=True)[1].ravel()
    for _ in range(3):
        a = _refine(lab, flat)
        b = _refine_exact(lab, flat.src, flat.dst)
        # same partition of the nodes
        assert len(np.unique(a)) == len(np.unique(b)) == len(np.unique(a * (b.max() + 1) + b))
        lab = a


def test_accepts_matrices_and_errors():
    a = np.triu(np.ones((4, 4), dtype=int), 1)
    K = WLKernel(2).fit_transform([a, a])
    assert np.allclose(K, 1)
    with pytest.raises(ValueError, match="n_iter"):
        WLKernel(n_iter=-1).fit_transform([a])
    with pytest.raises(ValueError, match="node_labels"):
        WLKernel(node_labels="colour").fit_transform([a])
    with pytest.raises(ValueError, match="ops"):
        WLKernel(node_labels="op").fit_transform([a])
    with pytest.raises(ValueError, match="single Cell"):
        WLKernel().fit_transform(Cell(a))
    with pytest.raises(ValueError, match=r"X\[1\]"):
        WLKernel().fit_transform([a, np.ones((3, 3))])
    with pytest.raises(ValueError, match="equal lengths"):
        WLKernel().pairwise([a], [a, a])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match="fit"):
        WLKernel().transform([a])
    assert "WLKernel(n_iter=3" in repr(WLKernel())


def test_gram_blocks_match_sparse_product():
    # > 512 graphs: the block-wise mirroring of the symmetric Gram matrix is exercised
    cells = SearchSpace(10).sample(1100, seed=3)
    k = WLKernel(3)
    F = k.features(cells)
    np.testing.assert_allclose(k._gram(F), (F @ F.T).toarray(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(k._gram(F[:700], F[700:]), (F[:700] @ F[700:].T).toarray(), atol=1e-9, rtol=0)


def test_first_hash_collision_falls_back_to_exact(monkeypatch):
    from gemgraph import wl as W

    cells = SearchSpace(9).sample(100, seed=1)
    expected = WLKernel(3).fit_transform(cells)
    real = W._hash_tables

    def colliding(k, bits):
        own, nb = real(k, bits)
        own, nb = own.copy(), nb.copy()
        own[0, :] = 7  # the first hash no longer separates anything
        nb[:, 0] = 3.0
        return own, nb

    calls = []
    exact = W._refine_exact

    def spy(*a):
        calls.append(1)
        return exact(*a)

    monkeypatch.setattr(W, "_hash_tables", colliding)
    monkeypatch.setattr(W, "_refine_exact", spy)
    np.testing.assert_allclose(WLKernel(3).fit_transform(cells), expected, atol=1e-12)
    assert len(calls) == 3


@pytest.mark.parametrize("h", [0, 1, 3])
def test_features_are_canonical_counts(h):
    # the uniform-size fast path builds the CSR directly; compare with scipy's own assembly
    # of the same (graph, label) entries, and with the mixed-size path on the same graphs
    cells = SearchSpace(9).sample(300, seed=h) + special_cells(9)
    k = WLKernel(h)
    F = k.features(cells)
    assert F.has_canonical_format
    for r in range(F.shape[0]):
        row = F.indices[F.indptr[r]:F.indptr[r + 1]]
        assert np.all(np.diff(row) > 0)
    assert F.sum(axis=1).A.ravel().tolist() == [9.0 * (h + 1)] * len(cells)
    # same Gram as through the mixed-size path (one extra 3-node graph forces it)
    extra = [Cell(np.triu(np.ones((3, 3), dtype=int), 1))]
    G = k._gram(k.features(cells + extra))[:-1, :-1]
    np.testing.assert_allclose((F @ F.T).toarray(), G, atol=0, rtol=0)


def test_h0_is_vertex_histogram_across_graph_boundaries():
    # with h = 0 the last label of one graph and the first of the next may be equal: each
    # graph's histogram must still stand alone
    a = np.zeros((3, 3), dtype=int)  # degrees 0, 0, 0
    c = np.zeros((3, 3), dtype=int)
    c[1, 2] = 1  # degrees 0, 1, 1: its first label equals a's last
    K = WLKernel(0, normalize=False).fit_transform([a, c, a])
    np.testing.assert_array_equal(K, [[9, 3, 9], [3, 5, 3], [9, 3, 9]])


def test_threaded_scatter_matches(monkeypatch):
    from gemgraph import wl as W

    cells = SearchSpace(10).sample(600, seed=4)
    k = WLKernel(3)
    F = k.features(cells)
    ref = (F @ F.T).toarray()
    monkeypatch.setattr(W, "_SCATTER_THREADED_NNZ", 0)
    monkeypatch.setattr(W, "_DENSE_FACTOR", 1.0)  # nearly everything through the sparse part
    np.testing.assert_allclose(k._gram(F), ref, atol=1e-9, rtol=0)
    Kn = k._gram(F, normalize=True)
    d = np.sqrt(np.diag(ref))
    np.testing.assert_allclose(Kn, ref / d[:, None] / d[None, :], atol=1e-12, rtol=0)
    assert np.all(np.diag(Kn) == 1.0)


def test_normalised_diagonal_is_exactly_one():
    cells = SearchSpace(30).sample(200, seed=2)
    K = WLKernel(3).fit_transform(cells)
    assert np.all(np.diag(K) == 1.0)
    np.testing.assert_array_equal(K, K.T)


def test_sklearn_estimator_protocol():
    from sklearn.base import clone

    k = WLKernel(n_iter=2, node_labels="op")
    assert k.get_params() == {"n_iter": 2, "normalize": True, "node_labels": "op"}
    c = clone(k)
    assert c is not k and c.get_params() == k.get_params()
    assert k.set_params(n_iter=4) is k and k.n_iter == 4
    cells = SearchSpace(6).sample(5, seed=0)
    fitted = WLKernel(2).fit(cells)
    assert not hasattr(clone(fitted), "X_")
    with pytest.raises(ValueError):
        k.set_params(colour=1)


def test_bad_callable_labels_and_graph_inputs():
    cells = SearchSpace(5).sample(3, seed=0)
    with pytest.raises(ValueError, match="node_labels: callable returned 2 labels for cell 0 with 5 nodes"):
        WLKernel(node_labels=lambda c: [0, 1]).fit_transform(cells)
    with pytest.raises(ValueError, match=r"X: expected a batch of adjacency matrices \(n, N, N\)"):
        WLKernel().fit_transform(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="at least one cell"):
        WLKernel().fit([])
    # networkx DiGraphs, PyG Data and a (n, N, N) array give the same Gram matrix as the cells
    K = WLKernel(2).fit_transform(cells)
    np.testing.assert_allclose(WLKernel(2).fit_transform([c.to_networkx() for c in cells]), K, atol=1e-12)
    np.testing.assert_allclose(WLKernel(2).fit_transform([c.to_data() for c in cells]), K, atol=1e-12)
    np.testing.assert_allclose(WLKernel(2).fit_transform(np.stack([c.adjacency for c in cells])), K, atol=1e-12)


def test_gram_bit_identical_across_thread_counts_and_symmetric(monkeypatch):
    """The Gram must not depend on BLAS blocking or threads (it failed on AMD EPYC: K != K.T)."""
    from gemgraph import wl as W

    cells = SearchSpace(30).sample(400, seed=7)
    k = WLKernel(3)
    F = k.features(cells)
    old = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            monkeypatch.setattr(W, "_SCATTER_THREADED_NNZ", 0 if threads > 1 else 10**12)
            out.append((k._gram(F, normalize=True), k._gram(F[:150], F[150:], normalize=True), k._gram(F)))
    finally:
        torch.set_num_threads(old)
    for K, T, R in out[1:]:
        np.testing.assert_array_equal(K, out[0][0])
        np.testing.assert_array_equal(T, out[0][1])
        np.testing.assert_array_equal(R, out[0][2])
    K, T, R = out[0]
    np.testing.assert_array_equal(K, K.T)
    np.testing.assert_array_equal(R, R.T)
    # the raw kernel is an exact integer matrix; the cross block is the same numbers as the Gram's
    np.testing.assert_array_equal(R, np.round(R))
    np.testing.assert_array_equal(R, (F @ F.T).toarray())
    np.testing.assert_allclose(T, K[:150, 150:], atol=1e-15, rtol=0)


@pytest.mark.parametrize("n", [7, 30])
@pytest.mark.parametrize("h", [1, 2, 3, 5])
def test_degree_op_labels_equal_grakel(n, h):
    space = SearchSpace(n, ops=("conv1x1", "sepconv3x3", "conv3x3"))
    cells = space.sample(60, seed=n + h) + special_cells(n)
    K = WLKernel(n_iter=h, node_labels=("degree", "op")).fit_transform(cells)
    np.testing.assert_allclose(K, grakel_gram(cells, h, ("degree", "op")), atol=1e-9, rtol=0)
    # the spellings agree; the combination is finer than either label alone
    for same in (["degree", "op"], "degree,op", "degree+op"):
        assert np.array_equal(WLKernel(n_iter=h, node_labels=same).fit_transform(cells), K)
    if h > 0:
        assert not np.allclose(K, WLKernel(n_iter=h, node_labels="degree").fit_transform(cells))


def test_degree_op_labels_tell_ops_apart():
    a = np.zeros((4, 4), dtype=int)
    a[0, 1] = a[1, 2] = a[2, 3] = 1
    x = Cell(a, ["input", "conv1x1", "conv1x1", "sepconv3x3"])
    y = Cell(a, ["input", "sepconv3x3", "conv1x1", "conv1x1"])
    assert WLKernel(node_labels="paper").fit_transform([x, y])[0, 1] == pytest.approx(1.0, abs=1e-12)  # same graph
    assert WLKernel(node_labels=("degree", "op")).fit_transform([x, y])[0, 1] < 1.0


def test_label_spellings_and_errors():
    from gemgraph.wl import label_names

    assert label_names("paper") == ("degree",) and label_names(("op", "degree")) == ("op", "degree")
    for bad in ((), ("degree", "degree"), ("degree", "colour"), "degree,", 3, ("degree", 1)):
        with pytest.raises(ValueError, match="node_labels"):
            WLKernel(node_labels=bad).fit_transform([np.triu(np.ones((3, 3), dtype=int), 1)])
    with pytest.raises(ValueError, match="needs cells with ops"):
        WLKernel(node_labels=("degree", "op")).fit_transform([np.triu(np.ones((3, 3), dtype=int), 1)])
    assert "node_labels=('degree', 'op')" in repr(WLKernel(node_labels=("degree", "op")))
