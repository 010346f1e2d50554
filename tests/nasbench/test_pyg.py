"""Conversions to gemgraph cells and PyG datasets."""
import numpy as np
import pytest

from nasbench import NASBench101

from ._fixtures import build

gemgraph = pytest.importorskip("gemgraph")
pytest.importorskip("torch_geometric")


@pytest.fixture
def nb(tmp_path):
    return NASBench101(build(tmp_path / "f.tfrecord").path, cache=False)


def test_to_cells(nb):
    cells = nb.to_cells()
    assert len(cells) == 3 and all(isinstance(c, gemgraph.Cell) for c in cells)
    for i, c in enumerate(cells):
        v = int(nb.num_vertices[i])
        assert c.num_nodes == v
        assert np.array_equal(c.adjacency, nb.matrices[i, :v, :v])
        assert c.ops[0] == "input" and c.ops[-1] == "output"
    assert len(nb.to_cells([2, 0])) == 2 and nb.to_cells([2])[0].num_nodes == 2


def test_to_pyg(nb):
    ds = nb.to_pyg("validation_accuracy", epochs=108)
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
    sub = nb.to_pyg("test_accuracy", indices=[2])
    assert len(sub) == 1 and np.isnan(float(sub[0].y))


def test_bundled_sample_to_pyg_batches():
    from torch_geometric.loader import DataLoader

    nb = NASBench101.sample_dataset()
    ds = nb.to_pyg(indices=np.arange(256))
    batch = next(iter(DataLoader(ds, batch_size=64)))
    assert batch.num_graphs == 64 and batch.y.shape == (64,)
    assert nb.spec(nb.hashes[0]).to_cell().num_nodes == int(nb.num_vertices[0])
