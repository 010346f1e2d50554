import numpy as np
import pytest

from gemgraph import SearchSpace, encoders
from gemgraph.bootstrap import bootstrap_optimize
from gemgraph.predictor import EfficiencyPredictor


@pytest.fixture(scope="module")
def setup():
    space = SearchSpace(10, max_concat=2)
    enc = encoders.create("raw", num_nodes=10)
    cells = space.sample(200, seed=0)
    Z = enc.embed(cells)
    y = np.array([c.num_edges for c in cells], dtype=float)  # score = number of edges
    pred = EfficiencyPredictor(seed=0).fit(Z, y)
    return space, enc, pred


def test_ranks_space_samples(setup):
    space, enc, pred = setup
    r = bootstrap_optimize(pred, enc, space, num_samples=3000, top_k=5, seed=1)
    assert r.num_evaluated == 3000 and len(r.candidates) == 5
    preds = [c.predicted for c in r.candidates]
    assert preds == sorted(preds, reverse=True)
    assert len({c.cell for c in r.candidates}) == 5
    assert r.best.predicted == pytest.approx(float(r.predicted.max()))
    # candidates respect the space's cap
    assert all(space.contains(c.cell) for c in r.candidates)
    # the predictor learned "more edges is better": the pick is far above the average sample
    mean_edges = np.mean([c.num_edges for c in space.sample(500, seed=2)])
    assert r.best.cell.num_edges > mean_edges
    # deterministic
    r2 = bootstrap_optimize(pred, enc, space, num_samples=3000, top_k=5, seed=1)
    assert [c.cell for c in r2.candidates] == [c.cell for c in r.candidates]
    assert "BootstrapResult(num_evaluated=3000" in repr(r)


def test_pool_of_cells_and_tensors(setup):
    space, enc, pred = setup
    cells = space.sample(100, seed=5)
    r = bootstrap_optimize(pred, enc, cells, num_samples=50_000, top_k=3)
    assert r.num_evaluated == 100  # fewer than num_samples: all of them
    p = pred.predict(enc.embed(cells))
    assert r.best.index == int(np.argmax(p)) and r.best.cell == cells[r.best.index]
    adj, ops = SearchSpace.to_tensors(cells)
    r2 = bootstrap_optimize(pred, enc, (adj, ops), top_k=3)
    assert [c.index for c in r2.candidates] == [c.index for c in r.candidates]
    sub = bootstrap_optimize(pred, enc, cells, num_samples=30, top_k=1, seed=0)
    assert sub.num_evaluated == 30 and sub.best.cell == cells[sub.best.index]


def test_bad_args(setup):
    space, enc, pred = setup
    with pytest.raises(ValueError, match="num_samples"):
        bootstrap_optimize(pred, enc, space, num_samples=0)
    with pytest.raises(ValueError, match="top_k"):
        bootstrap_optimize(pred, enc, space, top_k=0)
    with pytest.raises(ValueError, match="fitted"):
        bootstrap_optimize(EfficiencyPredictor(), enc, space)
    with pytest.raises(ValueError, match="encoder"):
        bootstrap_optimize(pred, "mlp", space)
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_optimize(pred, enc, [])


def test_top_k_distinct_after_pruning():
    # every 1-edge cell 0 -> j is the same network; only one of them may be returned
    import numpy as np

    from gemgraph import Cell

    cells = []
    for j in range(1, 6):
        a = np.zeros((6, 6), dtype=int)
        a[0, j] = 1
        cells.append(Cell(a, ["input"] + ["conv1x1"] * 5))
    a = np.zeros((6, 6), dtype=int)
    a[0, 1] = a[1, 2] = 1
    cells.append(Cell(a, ["input"] + ["conv1x1"] * 5))
    enc = encoders.create("raw", num_nodes=6)
    pred = EfficiencyPredictor(seed=0, max_epochs=5).fit(enc.embed(cells), np.arange(6.0))
    r = bootstrap_optimize(pred, enc, cells, top_k=6)
    assert len(r.candidates) == 2
    assert {c.cell.prune().num_edges for c in r.candidates} == {1, 2}
