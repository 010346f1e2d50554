import networkx as nx
import numpy as np
import pytest
import torch

from gemgraph import Cell
from gemgraph.cell import OPS


def chain(n):
    a = np.zeros((n, n), dtype=int)
    for i in range(n - 1):
        a[i, i + 1] = 1
    return a


def test_accepts_numpy_torch_lists():
    a = chain(4)
    c1, c2, c3 = Cell(a), Cell(torch.tensor(a)), Cell(a.tolist())
    assert c1 == c2 == c3
    assert hash(c1) == hash(c2)
    assert c1.num_nodes == 4 and c1.num_edges == 3
    assert c1.adjacency.dtype == np.uint8
    with pytest.raises(ValueError):
        c1.adjacency[0, 1] = 0  # read-only


@pytest.mark.parametrize(
    "adj, match",
    [
        (np.zeros((3, 4)), "square"),
        (np.zeros((1, 1)), "N >= 2"),
        (np.array([[0, 2], [0, 0]]), "0/1"),
        (np.array([[0, 0.5], [0, 0]]), "0/1"),
        (np.array([[1, 0], [0, 0]]), "upper-triangular"),
        (np.array([[0, 0], [1, 0]]), "upper-triangular"),
        ([[0, 1], [0]], "adjacency"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
    ],
)
def test_bad_adjacency(adj, match):
    with pytest.raises(ValueError, match=match) as e:
        Cell(adj)
    assert "adjacency" in str(e.value)


def test_ops_validation_and_aliases():
    a = chain(3)
    c = Cell(a, ["input", "conv3x3-bn-relu", "output"])
    assert c.ops == ("input", "conv3x3", "output")
    assert c.op_indices.tolist() == [OPS.index("input"), OPS.index("conv3x3"), OPS.index("output")]
    for ops, match in [
        (["input", "conv1x1"], "expected 3"),
        (["input", "bogus", "conv1x1"], "unknown operation"),
        (["conv1x1", "conv1x1", "conv1x1"], "node 0"),
        (["input", "output", "conv1x1"], "last node"),
        (["input", "input", "conv1x1"], "node 0 only"),
        ("input", "string"),
        (["input", 3, "conv1x1"], "str"),
    ]:
        with pytest.raises(ValueError, match=match) as e:
            Cell(a, ops)
        assert "ops" in str(e.value)


def test_isolated_nodes_allowed_and_prune():
    a = np.zeros((6, 6), dtype=int)
    a[0, 1] = a[1, 3] = a[2, 3] = a[2, 4] = 1  # node 2 unreachable (in-degree 0), 4 only from 2, 5 isolated
    c = Cell(a, ["input", "conv1x1", "sepconv3x3", "conv1x1", "sepconv3x3", "conv1x1"])
    assert c.alive_mask().tolist() == [True, True, False, True, False, False]
    p, kept = c.prune(return_kept=True)
    assert kept.tolist() == [0, 1, 3]
    assert p.adjacency.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert p.ops == ("input", "conv1x1", "conv1x1")
    assert p.leaves == [2]
    assert p.is_pruned() and not c.is_pruned()
    assert c.leaves == [3]


def test_prune_empty_raises():
    a = np.zeros((3, 3), dtype=int)
    a[1, 2] = 1
    with pytest.raises(ValueError, match="reachable"):
        Cell(a).prune()


def test_num_concat():
    a = np.zeros((4, 4), dtype=int)
    a[0, 1] = a[0, 2] = a[1, 2] = a[0, 3] = a[1, 3] = a[2, 3] = 1
    assert Cell(a).num_concat == 2
    assert Cell(a).leaves == [3]


def test_from_dag_reorders_and_detects_cycles():
    # input is node 2; edges 2->0, 0->1, 2->1
    a = np.zeros((3, 3), dtype=int)
    a[2, 0] = a[0, 1] = a[2, 1] = 1
    c = Cell.from_dag(a, ["conv1x1", "sepconv3x3", "input"])
    assert c.ops == ("input", "conv1x1", "sepconv3x3")
    assert c.adjacency.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    cyc = np.zeros((3, 3), dtype=int)
    cyc[0, 1] = cyc[1, 2] = cyc[2, 1] = 1
    with pytest.raises(ValueError, match="cycle"):
        Cell.from_dag(cyc)
    loop = np.zeros((2, 2), dtype=int)
    loop[1, 1] = 1
    with pytest.raises(ValueError, match="self-loop"):
        Cell.from_dag(loop)
    with pytest.raises(ValueError, match="incoming"):
        Cell.from_dag(np.array([[0, 0], [1, 0]]), input_node=0)
    with pytest.raises(ValueError, match="input_node"):
        Cell.from_dag(chain(3), input_node=5)


def test_from_dag_random_permutation_preserves_graph():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = int(rng.integers(2, 9))
        a = np.triu(rng.integers(0, 2, (n, n)), 1)
        ops = ["input"] + list(rng.choice(["conv1x1", "sepconv3x3"], n - 1))
        perm = rng.permutation(n)
        inv = np.argsort(perm)
        b = a[np.ix_(perm, perm)]
        c = Cell.from_dag(b, [ops[p] for p in perm], input_node=int(inv[0]))
        g1 = Cell(a, ops).to_networkx()
        g2 = c.to_networkx()
        assert nx.is_isomorphic(g1, g2, node_match=lambda x, y: x["op"] == y["op"])
        assert np.all(np.tril(c.adjacency) == 0)


def test_networkx_round_trip():
    c = Cell(chain(5), ["input", "conv1x1", "sepconv3x3", "conv1x1", "output"])
    g = c.to_networkx()
    assert list(g.edges) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert Cell.from_networkx(g) == c
    with pytest.raises(ValueError, match="DiGraph"):
        Cell.from_networkx(nx.Graph())


def test_pyg_round_trip():
    a = chain(4)
    a[0, 3] = 1
    c = Cell(a, ["input", "conv1x1", "sepconv3x3", "conv1x1"])
    d = c.to_data()
    assert d.edge_index.dtype == torch.long and d.edge_index.shape == (2, 4)
    assert d.num_nodes == 4 and d.x.shape == (4, 2 * 4 - 1 + len(OPS))
    assert d.edge_index[:, 0].tolist() == [0, 1]  # source -> target
    assert Cell.from_data(d) == c
    # x: one-hot total degree (degrees 2, 2, 2, 2 here) then one-hot op
    assert d.x[:, :7].argmax(1).tolist() == [2, 2, 2, 2] and d.x[:, :7].sum().item() == 4
    assert d.x[:, 7:].argmax(1).tolist() == [OPS.index(o) for o in c.ops]
    d2 = Cell(a).to_data()
    assert d2.x.shape == (4, 7)
    assert Cell.from_data(d2) == Cell(a)
    # wider degree one-hot, for datasets of cells of several sizes
    assert Cell(a).to_data(num_nodes=7).x.shape == (4, 13)
    with pytest.raises(ValueError, match="num_nodes"):
        Cell(a).to_data(num_nodes=3)


def test_from_data_bad():
    from torch_geometric.data import Data

    with pytest.raises(ValueError, match="out of range"):
        Cell.from_data(Data(edge_index=torch.tensor([[0], [5]]), num_nodes=3))
    with pytest.raises(ValueError, match="edge_index"):
        Cell.from_data(Data(edge_index=torch.tensor([0, 1, 2]), num_nodes=3))


def test_repr_and_eq():
    c = Cell(chain(3))
    assert "Cell(num_nodes=3, num_edges=2" in repr(c)
    assert c != Cell(chain(3), ["input", "conv1x1", "conv1x1"])
    assert len({c, Cell(chain(3)), Cell(np.zeros((3, 3)))}) == 2


def test_from_checked_is_the_unchecked_constructor():
    import numpy as np

    from gemgraph import Cell

    adj = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]], dtype=np.uint8)
    ops = ("input", "conv3x3", "output")
    c = Cell.from_checked(adj, ops)
    assert c == Cell(adj, ops) and hash(c) == hash(Cell(adj, ops))
    assert c.adjacency is adj and not c.adjacency.flags.writeable  # the caller's array, not a copy, read-only
    assert Cell.from_checked(adj.astype(bool), None) == Cell(adj)
    assert not hasattr(Cell, "_trusted")  # the old private name is gone: from_checked is the one
