"""NAS-Bench-101 models as gemgraph cells and PyG datasets (gemgraph.nasbench_bridge)."""
import numpy as np
import pytest

import gemgraph
from gemgraph.nasbench_bridge import cell_from_spec, nb101_cells, nb101_pyg
from nasbench import NASBench101
from tests.nasbench._fixtures import build


@pytest.fixture
def nb(tmp_path):
    return NASBench101(build(tmp_path / "f.tfrecord").path, cache=False)


def test_to_cells(nb):
    cells = nb101_cells(nb)
    assert len(cells) == 3 and all(isinstance(c, gemgraph.Cell) for c in cells)
    for i, c in enumerate(cells):
        v = int(nb.num_vertices[i])
        assert c.num_nodes == v
        assert np.array_equal(c.adjacency, nb.matrices[i, :v, :v])
        assert c.ops[0] == "input" and c.ops[-1] == "output"
    assert len(nb101_cells(nb, [2, 0])) == 2 and nb101_cells(nb, [2])[0].num_nodes == 2


def test_to_pyg(nb):
    ds = nb101_pyg(nb, "validation_accuracy", epochs=108)
    assert len(ds) == 3
    acc = nb.metric_array("validation_accuracy", epochs=108)
    for i in range(3):
        d = ds[i]
        v = int(nb.num_vertices[i])
        assert d.num_nodes == v and d.x.shape[0] == v
        assert float(d.y) == pytest.approx(acc[i])
        assert int(d.model_index) == i
        edges = sorted(map(tuple, d.edge_index.t().tolist()))
        assert edges == sorted(map(tuple, np.argwhere(nb.matrices[i, :v, :v]).tolist()))
    sub = nb101_pyg(nb, "test_accuracy", indices=[2])
    assert len(sub) == 1 and np.isnan(float(sub[0].y))


def test_bundled_sample_to_pyg_batches():
    from torch_geometric.loader import DataLoader

    nb = NASBench101.sample_dataset()
    ds = nb101_pyg(nb, indices=np.arange(256))
    batch = next(iter(DataLoader(ds, batch_size=64)))
    assert batch.num_graphs == 64 and batch.y.shape == (64,)
    assert cell_from_spec(nb.spec(nb.hashes[0])).num_nodes == int(nb.num_vertices[0])


def test_errors_name_the_argument(nb):
    from nasbench import ModelSpec

    with pytest.raises(ValueError, match="indices"):
        nb101_cells(nb, [[0, 1]])
    with pytest.raises(ValueError, match="indices"):
        nb101_cells(nb, [0, 3])
    with pytest.raises(ValueError, match="indices"):
        nb101_pyg(nb, indices=[0.5])
    assert nb101_cells(nb, [-1]) == nb101_cells(nb, [2])
    bad = ModelSpec(np.zeros((3, 3), dtype=int), ["input", "conv3x3-bn-relu", "output"])  # input never reaches output
    with pytest.raises(ValueError):
        cell_from_spec(bad)
