import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace, WLKernel, encoders
from gemgraph.embedding import _batch_count, _graph_batches, _pairs_same_size, batch_gram, fidelity, train_encoder


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
    for bs in (1, 2, 3, 64):  # the schedule's step count matches the batches an epoch yields
        many = np.repeat([3, 4, 5], [130, 67, 1])
        assert _batch_count(many, bs) == len(_graph_batches(many, bs, torch.Generator().manual_seed(1)))
    assert _batch_count(sizes, 2) == len(batches)
    for b in batches:
        assert len(set(sizes[b])) == 1
    cells = SearchSpace(5).sample(150, seed=0) + SearchSpace(7).sample(150, seed=1)
    enc = encoders.create("gin", num_nodes=7, dim=8, hidden=16, layers=2)
    r = train_encoder(enc, cells, WLKernel(2), n_train=200, n_val=40, n_test=40, val_pairs=500,
                      batch_size=32, max_epochs=2, progress=False, device="cpu")
    assert np.isfinite(r.report.rmse)


def test_batch_gram_is_the_kernel_among_the_batch():
    cells = SearchSpace(9).sample(300, seed=2)
    k = WLKernel(3)
    F = k.normalized_features(cells)
    idx = np.random.default_rng(0).permutation(300)[:40]
    np.testing.assert_allclose(batch_gram(F, idx), k.fit_transform([cells[i] for i in idx]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("schedule", ["onecycle", "plateau"])
def test_schedules_train_and_are_deterministic(schedule):
    r = small_run(schedule=schedule, max_epochs=5)
    assert len(r.history) == 5 and r.history[-1]["train_loss"] < r.history[0]["train_loss"]
    assert r.report == small_run(schedule=schedule, max_epochs=5).report


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
    with pytest.raises(ValueError, match="schedule"):
        train_encoder(enc, SearchSpace(8), schedule="cosine-ish")
    with pytest.raises(ValueError, match="exceed"):
        train_encoder(encoders.create("mlp", num_nodes=4, dim=4), SearchSpace(8), n_train=10, n_val=5, n_test=5)
    with pytest.raises(ValueError, match="device"):
        train_encoder(enc, SearchSpace(8), device="tpu")
    with pytest.raises(ValueError, match="distinct"):
        train_encoder(enc, [Cell(np.triu(np.ones((3, 3)), 1))] * 10)


def test_onecycle_factor():
    from gemgraph.embedding import _onecycle

    total = 1000
    f = [_onecycle(s, total) for s in range(total + 5)]
    assert f[0] == pytest.approx(1 / 25) and max(f) == pytest.approx(1.0)
    assert int(np.argmax(f)) == 50  # 5 % warm-up
    assert all(a >= b for a, b in zip(f[50:], f[51:]))  # monotone decay after the warm-up
    assert f[total] == pytest.approx(0.0, abs=1e-12) and f[-1] == pytest.approx(0.0, abs=1e-12)


def test_time_limit_shortens_the_onecycle_schedule(monkeypatch):
    import types

    from gemgraph import embedding

    clock = {"t": 0.0}

    def perf_counter():  # a fake clock: every reading advances it by 0.25 s
        clock["t"] += 0.25
        return clock["t"]

    monkeypatch.setattr(embedding, "time", types.SimpleNamespace(perf_counter=perf_counter))
    r = small_run(max_epochs=500, time_limit=10.0)
    assert r.time_limited
    planned = r.history[-1]["planned_epochs"]
    assert 4 <= planned < 500 and len(r.history) == planned
    lrs = [h["lr"] for h in r.history]
    # the shortened schedule still anneals: warm-up, then decay well below the peak
    assert lrs[0] < max(lrs) and lrs[-1] < 0.5 * max(lrs)
    assert not small_run(max_epochs=3).time_limited


def test_cli_embed(tmp_path, capsys):
    import json

    from gemgraph.app.cli import main

    out = tmp_path / "enc.pt"
    assert main(["embed", "--nodes", "8", "--encoder", "mlp", "--dim", "8", "--hidden", "32", "--train-graphs", "300",
                 "--epochs", "2", "--out", str(out), "--json", "--quiet", "--device", "cpu"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["epochs"] == 2 and info["dim"] == 8 and not info["time_limited"]
    assert set(info["fidelity"]) >= {"rmse", "pearson", "spearman"} and np.isfinite(info["fidelity"]["rmse"])
    enc = encoders.load(out)
    assert enc.embed(SearchSpace(8).sample(5, seed=0)).shape == (5, 8)
    assert main(["embed", "--nodes", "8", "--encoder", "nope", "--quiet"]) != 0


@pytest.mark.parametrize("name", ["mlp", "gin"])
def test_encoder_training_is_the_same_on_any_thread_count(name):
    """Same seed, same encoder with 1 and 2 intra-op threads (PyTorch's LayerNorm backward sums
    its weight gradients per thread, ThreadStableLayerNorm in a fixed order; the training's
    matrix products run on one thread)."""
    from gemgraph import SearchSpace, encoders
    from gemgraph.embedding import train_encoder
    from gemgraph.wl import WLKernel

    cells = SearchSpace(12).sample(700, seed=1)
    before = torch.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            enc = encoders.create(name, num_nodes=12, dim=16)
            res = train_encoder(enc, cells, WLKernel(n_iter=2), seed=0, n_train=500, max_epochs=3, progress=False)
            out.append(res.encoder.embed(cells[:50]))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(out[0], out[1])


def test_thread_stable_layer_norm_is_layer_norm():
    """PyTorch's forward and input gradient to the bit; on one thread its weight / bias gradients
    too; on more, those summed in float64 in a fixed order: within one float32 rounding of the
    exact sums, and never further from them than PyTorch's own float32 sums."""
    from gemgraph.encoders.mlp import ThreadStableLayerNorm

    torch.manual_seed(0)
    x = torch.randn(300, 64, requires_grad=True)
    ref, ours = torch.nn.LayerNorm(64), ThreadStableLayerNorm(64)
    with torch.no_grad():
        ref.weight.uniform_(0.5, 1.5)
        ref.bias.uniform_(-0.5, 0.5)
    ours.load_state_dict(ref.state_dict())
    assert list(ours.state_dict()) == list(ref.state_dict())
    w = torch.linspace(-1, 1, 64)
    before = torch.get_num_threads()
    try:
        grads = []
        for threads, m in ((1, ref), (1, ours), (2, ours)):
            torch.set_num_threads(threads)
            x.grad = None
            m.zero_grad()
            y = m(x)
            (y * w).sum().backward()
            grads.append((y.detach(), x.grad.clone(), m.weight.grad.clone(), m.bias.grad.clone()))
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(a, b) for a, b in zip(grads[0], grads[1]))  # one thread: PyTorch's kernel
    grads = [grads[0], grads[2]]
    assert torch.equal(grads[0][0], grads[1][0]) and torch.equal(grads[0][1], grads[1][1])
    # the exact sums (float64) over the batch, from the same saved statistics
    _, mean, rstd = torch.ops.aten.native_layer_norm(x.detach(), [64], ref.weight.detach(), ref.bias.detach(), 1e-5)
    xhat = (x.detach().double() - mean.double()) * rstd.double()
    exact = {"weight": (w.double() * xhat).sum(0), "bias": w.double().expand(300, 64).sum(0)}
    for k, name in ((2, "weight"), (3, "bias")):
        err_ours = (grads[1][k].double() - exact[name]).abs()
        err_ref = (grads[0][k].double() - exact[name]).abs()
        ulp = torch.finfo(torch.float32).eps * exact[name].abs().clamp_min(1e-30)
        assert bool((err_ours <= ulp).all()), name
        assert bool((err_ours <= err_ref + 1e-12).all()), name
    assert torch.get_num_threads() == before
    with torch.no_grad():
        assert torch.equal(ours(x), ref(x))
