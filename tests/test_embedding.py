import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace, WLKernel, encoders
from gemgraph.embedding import _graph_batches, _pairs_same_size, fidelity, train_encoder


def small_run(name="mlp", seed=0, **kw):
    enc = encoders.create(name, num_nodes=8, dim=16, **({"hidden": (64,)} if name == "mlp" else {}))
    args = dict(seed=seed, n_train=400, n_val=100, n_test=100, val_pairs=2000, batch_size=64,
                max_epochs=4, patience=10, progress=False, device="cpu")
    args.update(kw)
    return train_encoder(enc, SearchSpace(8), WLKernel(2), **args)


def test_training_improves_fidelity_and_is_deterministic():
    r = small_run()
    assert len(r.history) == 4 and r.best_epoch >= 1
    assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]
    assert r.report.n_graphs == 100 and r.report.n_pairs == 2000
    assert r.report.pearson > 0.5 and r.report.rmse < 0.3
    r2 = small_run()
    assert [h["val_rmse"] for h in r.history] == [h["val_rmse"] for h in r2.history]
    assert r.report == r2.report
    r3 = small_run(seed=1)
    assert r3.report != r.report


def test_trained_beats_untrained_and_raw_is_evaluated_only():
    trained = small_run(max_epochs=6).report
    untrained = small_run(max_epochs=0).report
    assert trained.rmse < untrained.rmse
    raw = small_run("raw")
    assert raw.history == [] and np.isfinite(raw.report.rmse)


def test_fidelity_function_matches_training_report_protocol():
    enc = encoders.create("raw", num_nodes=8)
    cells = SearchSpace(8).sample(50, seed=9)
    rep = fidelity(enc, cells, WLKernel(2), n_pairs=500)
    assert rep.n_pairs == 500 and -1 <= rep.pearson <= 1
    assert "Pearson" in str(rep)


def test_cells_of_mixed_sizes_pair_within_size():
    sizes = np.array([3, 3, 4, 4, 4, 5])
    pairs = _pairs_same_size(sizes, 1000, np.random.default_rng(0))
    assert (sizes[pairs[:, 0]] == sizes[pairs[:, 1]]).all() and (pairs[:, 0] != pairs[:, 1]).all()
    batches = _graph_batches(sizes, 2, torch.Generator().manual_seed(0))
    for b in batches:
        assert len(set(sizes[b])) == 1
    cells = SearchSpace(5).sample(150, seed=0) + SearchSpace(7).sample(150, seed=1)
    enc = encoders.create("gin", num_nodes=7, dim=8, hidden=16, layers=2)
    r = train_encoder(enc, cells, WLKernel(2), n_train=200, n_val=40, n_test=40, val_pairs=500,
                      batch_size=32, max_epochs=2, progress=False, device="cpu")
    assert np.isfinite(r.report.rmse)


def test_bad_arguments():
    enc = encoders.create("mlp", num_nodes=8, dim=4)
    with pytest.raises(ValueError, match="encoder"):
        train_encoder("mlp", SearchSpace(8))
    with pytest.raises(ValueError, match="kernel"):
        train_encoder(enc, SearchSpace(8), WLKernel(normalize=False))
    with pytest.raises(ValueError, match="n_train"):
        train_encoder(enc, SearchSpace(8), n_train=0)
    with pytest.raises(ValueError, match="lr"):
        train_encoder(enc, SearchSpace(8), lr=float("nan"))
    with pytest.raises(ValueError, match="exceed"):
        train_encoder(encoders.create("mlp", num_nodes=4, dim=4), SearchSpace(8), n_train=10, n_val=5, n_test=5)
    with pytest.raises(ValueError, match="device"):
        train_encoder(enc, SearchSpace(8), device="tpu")
    with pytest.raises(ValueError, match="distinct"):
        train_encoder(enc, [Cell(np.triu(np.ones((3, 3)), 1))] * 10)
