import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace
from gemgraph.cell import OPS, alive_mask, count_concat


def test_sample_valid_and_deterministic():
    space = SearchSpace(num_nodes=12)
    a, o = space.sample_tensors(300, seed=3)
    b, p = space.sample_tensors(300, seed=3)
    assert torch.equal(a, b) and torch.equal(o, p)
    c, _ = space.sample_tensors(300, seed=4)
    assert not torch.equal(a, c)
    assert a.shape == (300, 12, 12) and a.dtype == torch.bool
    assert not torch.tril(a).any()
    alive = alive_mask(a)
    assert (alive.sum(1) >= 2).all()
    has_edge = a.any(1) | a.any(2)
    assert not (has_edge & ~alive).any()  # every node with an edge is on a path from the input
    assert (o[:, 0] == OPS.index("input")).all()
    assert set(o[:, 1:].unique().tolist()) <= {OPS.index("conv1x1"), OPS.index("sepconv3x3")}
    cells = space.sample(300, seed=3)
    assert all(space.contains(x) for x in cells)
    assert cells[0] == Cell(a[0].numpy().astype(int), [OPS[i] for i in o[0]])
    # distinct by chance
    assert len(set(cells)) > 290


@pytest.mark.parametrize("cap", [0, 1, 3])
def test_max_concat_cap(cap):
    space = SearchSpace(num_nodes=20, max_concat=cap, edge_prob=(0.3, 0.9))
    a, _ = space.sample_tensors(400, seed=0)
    assert int(count_concat(a).max()) <= cap
    cells = space.sample(50, seed=1)
    assert max(c.num_concat for c in cells) <= cap
    assert all(c.prune().num_concat <= cap for c in cells)
    uncapped = SearchSpace(num_nodes=20, edge_prob=(0.3, 0.9)).sample(50, seed=1)
    assert not all(SearchSpace(num_nodes=20, max_concat=cap).contains(c) for c in uncapped)


def test_supernet_and_conversions():
    space = SearchSpace(num_nodes=5)
    assert space.supernet.num_edges == 10
    cells = space.sample(10, seed=0)
    adj, ops = SearchSpace.to_tensors(cells)
    assert SearchSpace.to_cells(adj, ops) == cells
    with pytest.raises(ValueError, match="one size"):
        SearchSpace.to_tensors([cells[0], Cell(np.triu(np.ones((3, 3)), 1))])
    assert "SearchSpace(num_nodes=5" in repr(space)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"num_nodes": 1}, "num_nodes"),
        ({"ops": ()}, "ops"),
        ({"ops": ("conv1x1", "nope")}, "unknown operation"),
        ({"ops": ("input",)}, "structural"),
        ({"max_concat": -1}, "max_concat"),
        ({"edge_prob": (0.5, 0.2)}, "edge_prob"),
        ({"edge_prob": 0.0}, "edge_prob"),
    ],
)
def test_bad_params(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(**kw)


def test_bad_sample_args():
    with pytest.raises(ValueError, match="n:"):
        SearchSpace(5).sample(-1)
    with pytest.raises(ValueError, match="seed"):
        SearchSpace(5).sample(3, seed="x")
