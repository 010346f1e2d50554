"""PyG conventions of CellDataset and NB101Dataset; node features shared with the GNN encoders."""
import re
import time
import warnings

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader
from torch_geometric.transforms import Constant

from gemgraph import SearchSpace, encoders
from gemgraph.datasets import CellDataset, NB101Dataset
from gemgraph.encoders.base import CellBatch
from gemgraph.features import feature_dim, node_features
from gemgraph.nasbench_bridge import nb101_cells
from nasbench import NASBench101
from tests.conftest import need_data
from tests.nasbench._fixtures import build


def test_node_features_are_what_the_gnn_encoders_consume():
    cells = SearchSpace(8, ops=("conv1x1", "sepconv3x3")).sample(5, seed=0)
    for ops in (None, ("input", "conv1x1", "sepconv3x3")):
        enc = encoders.create("gin", num_nodes=10, dim=8, ops=ops)
        batch = CellBatch.from_cells(cells, 10)
        x, _, mask = enc.graph_inputs(batch)
        assert x.shape[1] == feature_dim(10, ops)
        for k, c in enumerate(cells):
            d = c.to_data(num_nodes=10)
            got = x.reshape(5, 10, -1)[k, : c.num_nodes]
            if ops is None:
                assert torch.equal(got, d.x[:, : 2 * 10 - 1])
            else:  # same degree part; the op part over the encoder's vocabulary
                assert torch.equal(got[:, :19], d.x[:, :19])
                assert torch.equal(got[:, 19:], node_features(torch.from_numpy(c.adjacency.copy()),
                                                              torch.from_numpy(c.op_indices), num_nodes=10,
                                                              op_vocab=ops)[:, 19:])
    # the definition: one-hot of in + out degree, then one-hot op
    adj = torch.tensor([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    x = node_features(adj, torch.tensor([0, 2, 1]), num_nodes=3, op_vocab=("input", "output", "conv1x1"))
    assert x.tolist() == [[0, 0, 1, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0, 1, 0]]
    with pytest.raises(ValueError, match="not among"):
        node_features(adj, torch.tensor([0, 3, 1]), op_vocab=("input", "output"))
    with pytest.raises(ValueError, match="adj"):
        node_features(torch.zeros(3, 4))


def test_cell_dataset_follows_pyg_conventions(tmp_path, monkeypatch):
    cells = SearchSpace(num_nodes=6).sample(12, seed=0)
    ds = CellDataset(tmp_path, cells=cells, y=np.arange(12.0))
    assert ds.processed_paths[0].endswith(ds.processed_file_names[0]) and ds.raw_file_names == []
    assert (tmp_path / "processed" / ds.processed_file_names[0]).is_file()
    assert (tmp_path / "processed" / "pre_transform.pt").is_file()
    calls = []
    monkeypatch.setattr(CellDataset, "process", lambda self: calls.append(1))
    again = CellDataset(tmp_path, cells=cells, y=np.arange(12.0))
    assert calls == [] and [again.cell(i) for i in range(12)] == cells  # loaded, not processed
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="pre_transform"):
        CellDataset(tmp_path, cells=cells, y=np.arange(12.0), pre_transform=Constant(2.0))
    redone = CellDataset(tmp_path, cells=cells, y=np.arange(12.0), pre_transform=Constant(2.0), force_reload=True)
    assert redone[0].x.shape[1] == ds[0].x.shape[1] + 1  # Constant appended a feature
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CellDataset(tmp_path, cells=cells, y=np.arange(12.0), pre_transform=Constant(2.0))  # now it matches
    kept = CellDataset(tmp_path / "f", cells=cells, y=np.arange(12.0), pre_filter=lambda d: float(d.y) < 5)
    assert len(kept) == 5
    mem = CellDataset(cells=cells)  # no root: in memory, nothing written
    assert len(mem) == 12 and mem[0].x.shape == (6, 2 * 6 - 1 + 6)


@pytest.fixture
def fx(tmp_path):
    (tmp_path / "src").mkdir()
    return build(tmp_path / "src" / "tiny.tfrecord")


def test_nb101_dataset_raw_processed_and_reload(fx, tmp_path, monkeypatch):
    root = tmp_path / "nb101"
    with pytest.raises(FileNotFoundError, match="raw"):
        NB101Dataset(root, file_name="tiny.tfrecord")
    ds = NB101Dataset(root, file_name="tiny.tfrecord", source=fx.path)
    assert (root / "raw" / "tiny.tfrecord").exists() and len(ds) == 3
    assert re.fullmatch(r"nb101_tiny_validation_accuracy_108_mean_[0-9a-f]{16}\.pt", ds.processed_file_names[0])
    nb = NASBench101(fx.path, cache=False)
    acc = nb.metric_array("validation_accuracy", epochs=108)
    cells = nb101_cells(nb)
    for i in range(3):
        d = ds[i]
        assert float(d.y) == pytest.approx(acc[i]) and int(d.model_index) == i and d.module_hash == nb.hashes[i]
        ref = cells[i].to_data(num_nodes=7)
        assert torch.equal(d.x, ref.x) and torch.equal(d.edge_index, ref.edge_index) and torch.equal(d.op, ref.op)
    monkeypatch.setattr(NB101Dataset, "process", lambda self: pytest.fail("processed twice"))
    again = NB101Dataset(root, file_name="tiny.tfrecord")
    assert torch.equal(again._data.x, ds._data.x)
    monkeypatch.undo()
    other = NB101Dataset(root, file_name="tiny.tfrecord", metric="test_accuracy")  # another target: another file
    assert np.isnan(float(other[2].y)) and len(list((root / "processed").glob("nb101_*.pt"))) == 2
    with pytest.warns(UserWarning, match="pre_transform"):
        NB101Dataset(root, file_name="tiny.tfrecord", pre_transform=Constant())
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch.num_graphs == 3 and batch.x.shape == (12, 19) and batch.y.shape == (3,)
    with pytest.raises(ValueError, match="metric"):
        NB101Dataset(root, file_name="tiny.tfrecord", metric="accuracy")
    with pytest.raises(FileNotFoundError, match="source"):
        NB101Dataset(tmp_path / "x", file_name="a.tfrecord", source=tmp_path / "missing")


@pytest.mark.realdata
def test_nb101_dataset_dev_file_processes_once_and_reloads_fast(tmp_path):
    src = need_data("nasbench101/nb101_dev_20k.tfrecord")
    t0 = time.perf_counter()
    ds = NB101Dataset(tmp_path, file_name="nb101_dev_20k.tfrecord", source=src)
    first = time.perf_counter() - t0
    assert len(ds) == 20_001
    reload = []
    for _ in range(3):
        t0 = time.perf_counter()
        again = NB101Dataset(tmp_path, file_name="nb101_dev_20k.tfrecord", source=src)
        reload.append(time.perf_counter() - t0)
    assert len(again) == 20_001 and again[17].module_hash == ds[17].module_hash
    assert min(reload) < 1.0 and min(reload) < first / 3, (first, reload)
    bundled = NB101Dataset(tmp_path / "b", file_name=None)
    assert bundled.processed_file_names[0].startswith("nb101_bundled_sample")
    assert len(bundled) == 20_001 and torch.allclose(bundled._data.y, ds._data.y, equal_nan=True)


def test_gnn_predictor_example_runs(tmp_path, monkeypatch, capsys):
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "nb101_gnn_predictor.py"
    spec = importlib.util.spec_from_file_location("nb101_gnn_predictor", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sys, "argv", ["x", "--train", "150", "--test", "300", "--epochs", "3",
                                      "--root", str(tmp_path)])
    n = torch.get_num_threads()
    try:
        mod.main()
    finally:
        torch.set_num_threads(n)
    out = capsys.readouterr().out
    rhos = [float(line.split()[-3]) for line in out.splitlines() if "Spearman" not in line and "(" in line
            and line.strip().startswith(("GIN", "MLP"))]
    assert len(rhos) == 2 and all(-1 <= r <= 1 for r in rhos)
    assert "reload" in out and list(tmp_path.glob("processed/nb101_bundled_sample_*.pt"))
