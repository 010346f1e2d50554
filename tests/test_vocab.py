"""Op vocabularies owned by the space: the vocabulary itself, cells, batches, features, encoders,
WL labels, the store and the networks with op names gemgraph does not know; bad input."""
import pickle

import numpy as np
import pytest
import torch

from gemgraph import OPS, Cell, SearchSpace, WLKernel, encoders
from gemgraph.batch import CellBatch
from gemgraph.features import node_features
from gemgraph.store import cell_from_json, cell_to_json
from gemgraph.vocab import DEFAULT_VOCAB, NB101_VOCAB, OpVocabulary, as_vocab

GNN = OpVocabulary(("input", "output", "gcn", "gat", "sage"), name="gnn")
# the same names, another index order
GNN2 = OpVocabulary(("sage", "gat", "gcn", "input", "output"), name="gnn2")


def _chain(n=5):
    adj = np.zeros((n, n), dtype=int)
    adj[np.arange(n - 1), np.arange(1, n)] = 1
    adj[0, 2] = 1
    return adj


def _gnn_cells(k=20, seed=0, vocab=GNN):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        n = int(rng.integers(3, 7))
        adj = np.triu(rng.integers(0, 2, (n, n)), 1)
        adj[0, 1] = 1
        ops = ["input"] + [str(rng.choice(["gcn", "gat", "sage"])) for _ in range(n - 2)] + ["output"]
        out.append(Cell(adj, ops, vocab))
    return out


# ---------------------------------------------------------------------- the vocabulary
def test_vocabulary_indexes_names_markers_and_aliases():
    assert DEFAULT_VOCAB.names == OPS and DEFAULT_VOCAB.index("conv3x3-bn-relu") == OPS.index("conv3x3")
    assert NB101_VOCAB.names == ("input", "output", "conv3x3", "conv1x1", "maxpool3x3")
    assert set(NB101_VOCAB.names) <= set(OPS)  # NB101 cells keep their indices in the default vocabulary
    assert GNN.index("gat") == 3 and len(GNN) == 5 and GNN.interior == ("gcn", "gat", "sage") and "gcn" in GNN
    assert list(GNN) == list(GNN.names) and GNN[2] == "gcn"
    assert GNN.lut(GNN2).tolist() == [3, 4, 2, 1, 0] and GNN.lut(("gat",)).tolist() == [-1, -1, -1, 0, -1]
    v = OpVocabulary(("in", "a", "b"), input="in", output=None, aliases={"A": "a"}, ops_on_nodes=False)
    assert v.canonical("A") == "a" and v.output is None and not v.ops_on_nodes
    assert repr(GNN) == "OpVocabulary('gnn', ['input', 'output', 'gcn', 'gat', 'sage'])"
    for x in (GNN, v, DEFAULT_VOCAB):
        assert OpVocabulary.from_dict(x.to_dict()) == x and hash(OpVocabulary.from_dict(x.to_dict())) == hash(x)
        assert pickle.loads(pickle.dumps(x)) == x
    assert pickle.loads(pickle.dumps(DEFAULT_VOCAB)) is DEFAULT_VOCAB
    assert GNN != GNN2 and as_vocab(None) is DEFAULT_VOCAB and as_vocab(GNN.to_dict()) == GNN


@pytest.mark.parametrize("kw, match", [
    ({"ops": ()}, "ops: expected at least one"),
    ({"ops": "abc"}, "ops: expected a sequence"),
    ({"ops": ("input", "a", "a")}, "duplicates"),
    ({"ops": ("input", 3)}, r"ops\[1\]"),
    ({"ops": ("a", "b")}, "input: expected the input marker"),
    ({"ops": ("input", "b")}, "output: expected None or an output marker"),
    ({"ops": ("input", "output"), "aliases": {"x": "nope"}}, "aliases"),
])
def test_a_bad_vocabulary_is_one_clear_error(kw, match):
    with pytest.raises(ValueError, match=match):
        OpVocabulary(**kw)
    with pytest.raises(ValueError, match="unknown operation 'conv9x9'.*'gnn' vocabulary"):
        GNN.index("conv9x9")
    with pytest.raises(ValueError, match="vocab"):
        as_vocab(["gcn"])


# ---------------------------------------------------------------------- cells and batches
def test_cells_take_the_spaces_vocabulary():
    c = Cell(_chain(), ["input", "gcn", "gat", "sage", "output"], vocab=GNN)
    assert c.vocab is GNN and c.op_indices.tolist() == [0, 2, 3, 4, 1]
    same = Cell(_chain(), c.ops, vocab=GNN2)
    assert same == c and hash(same) == hash(c) and same.op_indices.tolist() == [3, 2, 1, 0, 4]
    assert c.prune().vocab is GNN
    # the default is unchanged: no vocabulary given, the supernet's
    d = Cell(_chain(), ["input", "conv1x1", "conv3x3-bn-relu", "sepconv3x3", "output"])
    assert d.vocab is DEFAULT_VOCAB and d.op_indices.tolist() == [OPS.index(o) for o in d.ops]
    with pytest.raises(ValueError, match="unknown operation 'gcn'"):
        Cell(_chain(), ["input", "gcn", "gat", "sage", "output"])
    with pytest.raises(ValueError, match="unknown operation 'conv1x1'"):
        Cell(_chain(), ["input", "conv1x1", "gat", "sage", "output"], vocab=GNN)
    own = OpVocabulary(("src", "x", "y"), input="src", output=None)
    e = Cell(_chain(3), ["src", "x", "y"], vocab=own)
    with pytest.raises(ValueError, match="node 0 is the cell input and must be 'src'"):
        Cell(_chain(3), ["x", "src", "y"], vocab=own)
    with pytest.raises(ValueError, match="'output' is allowed on the last node only"):
        Cell(_chain(), ["input", "output", "gat", "sage", "output"], vocab=GNN)
    assert Cell.from_dag(e.adjacency[::-1, ::-1], ["y", "x", "src"], vocab=own) == e
    pytest.importorskip("torch_geometric")
    data = c.to_data()
    assert data.x.shape == (5, 2 * 5 - 1 + len(GNN)) and data.op.tolist() == c.op_indices.tolist()
    assert data.x[:, 9:].argmax(1).tolist() == c.op_indices.tolist()
    assert Cell.from_data(data, vocab=GNN) == c and Cell.from_data(data, vocab=GNN).vocab is GNN
    assert Cell.from_data(data) != c  # op indices mean names only with their vocabulary
    with pytest.raises(ValueError, match="data.op: expected 5 indices into the vocabulary"):
        Cell.from_data(Cell(_chain(), ["input", "conv1x1", "conv3x3", "maxpool3x3", "output"]).to_data(), vocab=GNN)


def test_batches_keep_the_vocabulary_and_reindex_by_name():
    cells = _gnn_cells()
    b = CellBatch.from_cells(cells, 6)
    assert b.vocab is GNN and b.to_cells() == cells and all(c.vocab is GNN for c in b.to_cells())
    assert b[torch.tensor([1, 2])].vocab is GNN and b.cell(3) == cells[3] and b.cell(3).vocab is GNN
    assert "vocab='gnn'" in repr(b)
    other = CellBatch.from_cells(cells, 6, vocab=GNN2)  # another index order: re-indexed by name
    assert other.vocab is GNN2 and not torch.equal(other.ops, b.ops) and other.to_cells() == cells
    mixed = CellBatch.from_cells(cells[:3] + _gnn_cells(3, seed=1, vocab=GNN2), 6)
    assert mixed.to_cells() == cells[:3] + _gnn_cells(3, seed=1)
    with pytest.raises(ValueError, match=r"cells\[0\].ops: unknown operation 'gcn'"):
        CellBatch.from_cells(cells, 6, vocab=NB101_VOCAB)
    t = CellBatch.from_tensors(b.adj, b.ops, vocab=GNN)
    assert t.to_cells() == cells


def test_features_and_encoders_one_hot_the_spaces_ops_by_name():
    cells = _gnn_cells()
    b = CellBatch.from_cells(cells, 6)
    x = node_features(b.adj, b.ops, vocab=GNN)
    assert x.shape == (20, 6, 11 + 5)
    b2 = CellBatch.from_cells(cells, 6, vocab=GNN2)
    x2 = node_features(b2.adj, b2.ops, vocab=GNN2, op_vocab=GNN)  # the one-hot order is the names given
    assert torch.equal(x, x2)
    for name in ("raw", "mlp", "gin"):
        enc = encoders.create(name, num_nodes=6, dim=8, ops=GNN)
        assert enc.ops == GNN.names
        z, z2 = enc.embed(b), enc.embed(b2)
        assert torch.allclose(z, z2, atol=1e-6)  # the same cells in another vocabulary: the same vectors
        assert torch.allclose(enc.embed(cells), z, atol=1e-6)
    raw = encoders.create("raw", num_nodes=6, ops=("input", "output", "gcn", "gat"))
    with pytest.raises(ValueError, match="op 'sage' is not among this encoder's ops"):
        raw.embed(b)
    flat = encoders.create("raw", num_nodes=6, ops=GNN).embed(b)
    onehot = flat[:, 15:].reshape(20, 6, 5)
    for k, c in enumerate(cells):  # slot = position of the op's *name* in the encoder's ops
        assert onehot[k, : c.num_nodes].argmax(1).tolist() == [GNN.names.index(o) for o in c.ops]


def test_wl_op_labels_are_by_name_and_agree_with_grakel():
    grakel = pytest.importorskip("grakel")
    cells = _gnn_cells(30, seed=2)
    for labels in ("op", ("degree", "op")):
        K = WLKernel(n_iter=3, node_labels=labels).fit_transform(cells)
        graphs = []
        for c in cells:
            lab = list(c.ops) if labels == "op" else list(zip((c.in_degree + c.out_degree).tolist(), c.ops))
            graphs.append(grakel.Graph(c.adjacency.astype(float), node_labels=dict(enumerate(lab))))
        G = grakel.kernels.WeisfeilerLehman(n_iter=3, normalize=True,
                                            base_graph_kernel=grakel.kernels.VertexHistogram).fit_transform(graphs)
        np.testing.assert_allclose(K, G, atol=1e-12)
        # the same cells in another vocabulary (another index order) give the same kernel
        K2 = WLKernel(n_iter=3, node_labels=labels).fit_transform(_gnn_cells(30, seed=2, vocab=GNN2))
        np.testing.assert_array_equal(K, K2)
    # same indices, different names: different labels (index 2 is 'gcn' in GNN, 'conv1x1' in the default)
    a = Cell(_chain(3), ["input", "gcn", "output"], GNN)
    b = Cell(_chain(3), ["input", "conv1x1", "output"])
    assert a.op_indices.tolist() == b.op_indices.tolist()
    assert WLKernel(n_iter=1, node_labels="op").fit([a]).transform([b])[0, 0] < 1
    # the supernet's cells: labels as before (ids = OPS indices), a 30-node space unchanged
    sup = SearchSpace(8).sample(10, seed=0)
    np.testing.assert_array_equal(WLKernel(2, node_labels="op").fit_transform(sup),
                                  WLKernel(2, node_labels=lambda c: c.op_indices.tolist()).fit_transform(sup))


def test_the_store_keeps_a_spaces_vocabulary(tmp_path):
    from gemgraph.store import RunStore

    c = _gnn_cells(1)[0]
    d = cell_to_json(c)
    assert d["vocab"] == GNN.to_dict() and cell_from_json(d) == c and cell_from_json(d).vocab == GNN
    sup = SearchSpace(6).sample(1, seed=0)[0]
    assert "vocab" not in cell_to_json(sup)  # rows of the supernet: written as before vocabularies existed
    assert cell_from_json({"n": 3, "edges": [[0, 1], [1, 2]], "ops": ["input", "gcn", "output"]}, GNN).vocab == GNN
    with pytest.raises(ValueError, match="unknown operation 'gcn'"):
        cell_from_json({"n": 3, "edges": [[0, 1], [1, 2]], "ops": ["input", "gcn", "output"]})
    with pytest.raises(ValueError, match="cell.vocab"):
        cell_from_json({**d, "vocab": ["gcn"]})
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"t": 1})
    store.add_candidate(0, c, macs=0, params=0, accuracy=0.5, score=0.5, seconds=0.0, status="ok")
    store.add_candidate(1, sup, macs=0, params=0, accuracy=0.5, score=0.5, seconds=0.0, status="ok")
    store.close()
    rows = RunStore(tmp_path / "run.sqlite").candidates()
    assert rows[0]["cell"] == c and rows[0]["cell"].vocab == GNN and rows[1]["cell"].vocab is DEFAULT_VOCAB


# ---------------------------------------------------------------------- networks
@pytest.fixture
def registry():
    from gemgraph.nn import ops as nn_ops

    saved = dict(nn_ops.OP_REGISTRY), dict(nn_ops.OP_BUILDERS)
    yield nn_ops
    for d, s in zip((nn_ops.OP_REGISTRY, nn_ops.OP_BUILDERS), saved):
        d.clear()
        d.update(s)


IMG = OpVocabulary(("input", "output", "conv1x1", "t_conv5x5", "t_dil3x3"), name="img")


def _img_cells():
    adj = _chain()
    return [Cell(adj, ["input", "conv1x1", "t_conv5x5", "conv1x1", "output"], IMG),
            Cell(adj, ["input", "t_dil3x3", "conv1x1", "t_conv5x5", "output"], IMG),
            Cell(adj, ["input", "conv1x1", "conv1x1", "conv1x1", "output"], IMG)]


def test_registered_ops_build_and_cost_exactly_and_never_zero(registry):
    from torch import nn

    from gemgraph.cost import CellCost, NoCostRule, cell_stats, count
    from gemgraph.nn import CellModule, ConvBNReLU, build_op, register_op

    with pytest.raises(ValueError, match="unknown operation 't_conv5x5'.*register_op"):
        build_op("t_conv5x5", 4, 4)
    register_op("t_conv5x5", lambda i, o, s: ConvBNReLU(i, o, 5, s), cost=lambda k: (25 * k, 0 * k, 1 + 0 * k))
    register_op("t_dil3x3", lambda i, o, s: nn.Sequential(nn.Conv2d(i, o, 3, s, 2, dilation=2, bias=False),
                                                          nn.BatchNorm2d(o), nn.ReLU()))
    with pytest.raises(ValueError, match="already registered"):
        register_op("t_conv5x5", lambda i, o, s: nn.Identity())
    with pytest.raises(ValueError, match="built-in"):
        register_op("conv1x1", lambda i, o, s: nn.Identity(), replace=True)
    with pytest.raises(ValueError, match="structural"):
        register_op("output", lambda i, o, s: nn.Identity())
    assert build_op("t_conv5x5", 4, 6)(torch.zeros(1, 4, 8, 8)).shape == (1, 6, 8, 8)
    cells = _img_cells()
    block = CellModule(cells[1], in_channels=8, channels=8)
    assert block(torch.randn(2, 8, 16, 16)).shape == (2, 8, 16, 16)
    cost = CellCost("cifarnet", width=8)
    macs, params = cost(cells)
    for k, c in enumerate(cells):  # the closed form (cells 0, 2) and the FLOP counter (cell 1) agree with count()
        m, p = count(cost.build(c), (3, 32, 32))
        assert (int(macs[k]), int(params[k])) == (m, p) and m > 0
    assert int(macs[1]) > int(macs[2])  # the unruled op costs, it is not 0
    with pytest.raises(NoCostRule, match="'t_dil3x3' has no closed-form cost rule"):
        cell_stats(cells)
    assert cell_stats(cells[:1]).shape == (1, 4)
    b = CellBatch.from_cells(cells, 5)
    assert torch.equal(cost(b)[0], macs) and torch.equal(cost((b.adj, b.ops), vocab=IMG)[0], macs)


def test_an_unregistered_op_is_a_clear_error_when_building(registry):
    from gemgraph.cost import CellCost
    from gemgraph.nn import CellModule

    with pytest.raises(ValueError, match="op: unknown operation 't_conv5x5'"):
        CellModule(_img_cells()[0], in_channels=8, channels=8)
    with pytest.raises(ValueError, match="unknown operation 't_conv5x5'"):
        CellCost("cifarnet", width=8)(_img_cells()[:1])
