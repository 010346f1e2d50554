"""Search quality: target transforms, ranking loss, incumbent-aware picks, acquisition samplers,
the NAS-Bench-101 space / evaluator, and the benchmark (library and CLI)."""
from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from sklearn.base import is_regressor

from gemgraph import SearchSpace, encoders
from gemgraph.benchmark import parse_methods, run_benchmark, run_trial
from gemgraph.bootstrap import bootstrap_optimize
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import NB101_OPS, NB101Evaluator, NB101Space, load_nb101, nb101_pool
from gemgraph.predictor import PAPER_PREDICTOR, EfficiencyPredictor, normal_scores
from gemgraph.samplers import AcquisitionSampler, RandomSampler, make_sampler
from gemgraph.search import NASGEM


def data(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    y = np.sin(Z[:, 0]) + 0.5 * Z[:, 1] ** 2 - Z[:, 2] + 0.05 * rng.normal(size=n)
    return Z, 10 + 3 * y


# ---------------------------------------------------------------------------- predictor
def test_rank_target_answers_on_the_score_scale_and_resists_outliers():
    Z, y = data()
    y = y.copy()
    y[:15] = -1e6  # failed runs far below everything: they must not flatten the ranking of the rest
    p = EfficiencyPredictor(target="rank", seed=0).fit(Z[:250], y[:250])
    q = EfficiencyPredictor(target="none", n_members=5, seed=0).fit(Z[:250], y[:250])
    mu = p.predict(Z[250:])
    good = y[250:] > -1e5
    from scipy.stats import spearmanr

    rho_rank = spearmanr(mu[good], y[250:][good])[0]
    rho_none = spearmanr(q.predict(Z[250:])[good], y[250:][good])[0]
    assert rho_rank > 0.8 and rho_rank > rho_none + 0.1
    # predictions live on the targets' scale: the training points map into the targets' range
    fit = p.predict(Z[:250])
    inside = (fit >= y[:250].min() - 1e-9) & (fit <= y[:250].max() + 1e-9)
    assert inside.mean() > 0.95


def test_quantile_map_is_monotone_past_the_extremes():
    from gemgraph.predictor import _Monotone

    f = _Monotone(np.array([0.0, 1.0, 2.0, 3.0]), np.array([10.0, 11.0, 15.0, 16.0]))
    v = np.array([-5.0, -1.0, 0.0, 0.5, 2.5, 3.0, 4.0, 10.0])
    out = f(v)
    assert np.all(np.diff(out) > 0)  # strictly increasing: no plateau above the best training point
    assert out[2] == 10.0 and out[5] == 16.0 and out[3] == pytest.approx(10.5)
    np.testing.assert_allclose(normal_scores(np.array([3.0, 1.0, 2.0])), [0.9674, -0.9674, 0.0], atol=1e-4)


def test_pairwise_loss_ranks_and_is_deterministic():
    Z, y = data()
    p = EfficiencyPredictor(loss="pairwise", seed=2).fit(Z[:250], y[:250])
    from scipy.stats import spearmanr

    assert spearmanr(p.predict(Z[250:]), y[250:])[0] > 0.75
    again = EfficiencyPredictor(loss="pairwise", seed=2).fit(Z[:250], y[:250])
    np.testing.assert_array_equal(p.predict(Z), again.predict(Z))
    # a pure ranking model is mapped onto the score scale through the training quantiles
    assert y[:250].min() - 1 < float(np.median(p.predict(Z[:250]))) < y[:250].max() + 1


def test_ensemble_spread_and_state_round_trip():
    Z, y = data()
    p = EfficiencyPredictor(n_members=4, seed=0).fit(Z, y)
    mu, sd = p.predict(Z, return_std=True)
    assert (sd > 0).all() and len(p.epochs_) == 4
    # the fitted ensemble survives a weights_only round trip
    import io

    buf = io.BytesIO()
    torch.save(p.state_dict(), buf)
    buf.seek(0)
    q = EfficiencyPredictor.from_state_dict(torch.load(buf, weights_only=True))
    np.testing.assert_allclose(q.predict(Z), mu, rtol=1e-6)
    with pytest.raises(ValueError, match="state"):
        EfficiencyPredictor.from_state_dict({"params": {}})


def test_loads_format_1_checkpoints():
    """Stores written by gemgraph 0.1 hold one nn.Sequential state per member."""
    from torch import nn

    Z, y = data(n=50)
    torch.manual_seed(0)
    nets = [nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 1)) for _ in range(2)]
    st = {"params": {"hidden": 8, "n_members": 2, "max_epochs": 5, "patience": 5, "val_fraction": 0.15, "lr": 1e-3,
                     "weight_decay": 0.0, "seed": 0},
          "Z": torch.as_tensor(Z), "y": torch.as_tensor(y), "z_mean": torch.as_tensor(Z.mean(0)),
          "z_std": torch.as_tensor(Z.std(0)), "y_mean": float(y.mean()), "y_std": float(y.std()), "epochs": [1, 1],
          "members": [n.state_dict() for n in nets]}
    p = EfficiencyPredictor.from_state_dict(st)
    x = torch.as_tensor((Z - Z.mean(0)) / Z.std(0), dtype=torch.float32)
    ref = torch.stack([n(x).squeeze(1) for n in nets]).detach().double().numpy() * y.std() + y.mean()
    np.testing.assert_allclose(p.predict(Z), ref.mean(0), rtol=1e-5)
    assert p.target == "none" and p.loss == "mse"


def test_sklearn_regressor_and_bad_names():
    assert is_regressor(EfficiencyPredictor())
    Z, y = data(n=40)
    for kw, arg in (({"target": "log"}, "target"), ({"loss": "huber"}, "loss"),
                    ({"weight_decay": -1.0}, "weight_decay")):
        with pytest.raises(ValueError, match=arg):
            EfficiencyPredictor(**kw).fit(Z, y)
    with pytest.raises(ValueError, match="magnitude"):
        EfficiencyPredictor().fit(Z, np.full(40, 1e300) * np.linspace(1, 2, 40))
    p = EfficiencyPredictor(**PAPER_PREDICTOR, seed=0).fit(Z, y)
    assert p.n_members == 1 and p.predict(Z, return_std=True)[1].max() == 0


# ---------------------------------------------------------------------------- incumbent-aware bootstrap
@pytest.fixture(scope="module")
def edges_setup():
    space = SearchSpace(10, max_concat=2)
    enc = encoders.create("raw", num_nodes=10)
    cells = space.sample(200, seed=0)
    y = np.array([c.num_edges for c in cells], dtype=float)
    pred = EfficiencyPredictor(seed=0).fit(enc.embed(cells), y)
    return space, enc, pred, cells, y


def test_incumbent_rule_never_returns_a_pick_worse_than_the_best_measured(edges_setup):
    space, enc, pred, cells, y = edges_setup
    for best_score in (-1.0, 20.0, 1e9):
        inc = [(cells[0], best_score), (cells[1], best_score - 5)]
        for acq, kappa in (("mean", 0.0), ("ucb", -2.0), ("ucb", 2.0), ("thompson", 0.0)):
            r = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=3, incumbents=inc,
                                   acquisition=acq, kappa=kappa)
            top = r.best
            # a predicted-only pick must beat the best measurement by its acquisition value
            assert top.measured is not None or top.key > best_score
            if top.measured is None:
                assert top.key >= best_score
            keys = [c.key for c in r.candidates]
            assert keys == sorted(keys, reverse=True)
            assert len({c.cell.prune() for c in r.candidates}) == len(r.candidates)
        if best_score == 1e9:
            assert r.best.measured == 1e9 and r.best.cell == cells[0]


def test_exclude_and_acquisitions(edges_setup):
    space, enc, pred, cells, y = edges_setup
    base = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=3)
    ex = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=3, exclude=[base.best.cell])
    assert base.best.cell.prune() not in {c.cell.prune() for c in ex.candidates}
    ts1 = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=3, acquisition="thompson")
    ts2 = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=3, acquisition="thompson")
    assert [c.cell for c in ts1.candidates] == [c.cell for c in ts2.candidates]
    with pytest.raises(ValueError, match="acquisition"):
        bootstrap_optimize(pred, enc, space, acquisition="ei")
    with pytest.raises(ValueError, match="kappa"):
        bootstrap_optimize(pred, enc, space, kappa=float("nan"))


# ---------------------------------------------------------------------------- NB101 space, evaluator
@pytest.fixture(scope="module")
def nb():
    return load_nb101()


@pytest.fixture(scope="module")
def small_pool(nb):
    return nb101_pool(nb).subset(np.arange(0, 20001, 25))  # 801 real models of the bundled sample


def test_nb101_evaluator_matches_the_table(nb, small_pool):
    import nasbench

    ev = NB101Evaluator(small_pool)
    space = NB101Space(small_pool)
    for t in range(20):
        cell = space.draw(t, seed=4)
        r = ev.evaluate(cell)
        h = small_pool.hashes[ev.index(cell)]
        assert r.status == "ok" and r.score == r.accuracy
        assert r.accuracy == pytest.approx(nb.query(nb.spec(h))["validation_accuracy"])
    assert ev.queries == 20
    # an isomorphic relabelling of a model is found through the module hash
    c = space.draw(0, seed=4)
    n = c.num_nodes
    perm = np.array([0] + list(range(n - 2, 0, -1)) + [n - 1])
    A = c.adjacency[np.ix_(perm, perm)]
    from gemgraph import Cell

    try:
        iso = Cell(A, tuple(c.ops[i] for i in perm))
    except ValueError:  # the reversed order is not upper-triangular: reorder topologically
        iso = Cell.from_dag(A, tuple(c.ops[i] for i in perm))
    assert ev.evaluate(iso).accuracy == ev.evaluate(c).accuracy
    other = nasbench.space.sample_arrays(200, seed=11)
    known = set(small_pool.hashes.tolist())
    mats, labs, nv = other
    for i in range(200):
        v = int(nv[i])
        h = nasbench.hash_module(mats[i, :v, :v], labs[i, :v].astype(int).tolist())
        if h not in known:
            names = {-1: "input", -2: "output", 0: "conv3x3", 1: "conv1x1", 2: "maxpool3x3"}
            cell = Cell(mats[i, :v, :v], tuple(names[int(x)] for x in labs[i, :v]))
            r = ev.evaluate(cell)
            assert r.status == "failed" and "not a model" in r.error
            break
    # draws are distinct models; sampling returns distinct models
    drawn = {space.draw(t, seed=9) for t in range(len(small_pool))}
    assert len(drawn) == len(small_pool)
    with pytest.raises(ValueError, match="t:"):
        space.draw(len(small_pool), seed=9)
    assert len(set(space.sample(300, seed=1))) == 300


def _guided(pool, seed=0, **opts):
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    store = MemoryStore()
    s = NASGEM(NB101Space(pool), raw, EfficiencyPredictor(n_members=3, max_epochs=60, seed=1), NB101Evaluator(pool),
               store, seed=seed, sampler="acquisition", sampler_options={"n_init": 10, "batch_size": 5, **opts},
               checkpoint_every=0, progress=False)
    return s, store


def test_acquisition_batches_are_distinct_unevaluated_and_see_only_evaluations(small_pool):
    s, store = _guided(small_pool)
    s.evaluate_all(30)
    rows = store.candidates()
    assert [r["iteration"] for r in rows] == list(range(30))
    keys = [r["cell"].prune() for r in rows]
    assert len(set(keys)) == 30  # never an evaluated model again, never a repeat within a batch
    # the first 10 are the random sampler's draws
    assert keys[:10] == [s.candidate(t).prune() for t in range(10)]
    # permuting the accuracies of the models never evaluated leaves every choice unchanged
    ev = NB101Evaluator(small_pool)
    seen = np.array([ev.index(r["cell"]) for r in rows])
    rest = np.setdiff1d(np.arange(len(small_pool)), seen)
    perm = small_pool.subset(np.arange(len(small_pool)))
    perm.accuracy[rest] = perm.accuracy[np.random.default_rng(5).permutation(rest)]
    assert not np.array_equal(perm.accuracy, small_pool.accuracy)
    s2, store2 = _guided(perm)
    s2.evaluate_all(30)
    assert [r["cell"] for r in store2.candidates()] == [r["cell"] for r in rows]
    # ... while changing an evaluated model's accuracy changes later choices
    bent = small_pool.subset(np.arange(len(small_pool)))
    bent.accuracy[seen[:10]] = bent.accuracy[seen[:10]][::-1]
    s3, store3 = _guided(bent)
    s3.evaluate_all(30)
    assert [r["cell"] for r in store3.candidates()][10:] != [r["cell"] for r in rows][10:]


def test_acquisition_resume_mid_batch_gives_the_same_run(small_pool, tmp_path):
    from gemgraph.store import RunStore

    s, full = _guided(small_pool, acquisition="ucb")
    s.evaluate_all(25)

    class Dies(NB101Evaluator):
        def evaluate(self, cell):
            if self.queries >= 17:
                raise KeyboardInterrupt
            return super().evaluate(cell)

    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"t": 1})

    def search(ev):
        return NASGEM(NB101Space(small_pool), raw, EfficiencyPredictor(n_members=3, max_epochs=60, seed=1), ev, store,
                      seed=0, sampler="acquisition", sampler_options={"n_init": 10, "batch_size": 5,
                                                                       "acquisition": "ucb"},
                      checkpoint_every=0, progress=False)

    with pytest.raises(KeyboardInterrupt):
        search(Dies(small_pool)).evaluate_all(25)
    assert len(store) == 17  # killed inside the third guided batch (iterations 15..19)
    search(NB101Evaluator(small_pool)).evaluate_all(25)
    assert [r["cell"] for r in store.candidates()] == [r["cell"] for r in full.candidates()]
    store.close()


def test_samplers_by_name_and_bad_input(small_pool):
    assert isinstance(make_sampler("random"), RandomSampler)
    ts = make_sampler("thompson", batch_size=4)
    assert isinstance(ts, AcquisitionSampler) and ts.acquisition == "thompson" and ts.batch_size == 4
    assert [list(b) for b in AcquisitionSampler(n_init=3, batch_size=2).batches(8)] == [[0, 1, 2], [3, 4], [5, 6], [7]]
    assert [list(b) for b in RandomSampler().batches(3)] == [[0, 1, 2]]
    with pytest.raises(ValueError, match="sampler"):
        make_sampler("bayesopt")
    with pytest.raises(ValueError, match="acquisition"):
        AcquisitionSampler(acquisition="pi")
    with pytest.raises(ValueError, match="n_init"):
        AcquisitionSampler(n_init=1)
    # a finite space runs out: a clear error, not a hang
    tiny = small_pool.subset(np.arange(12))
    s, _ = _guided(tiny)
    with pytest.raises(ValueError, match="exhausted"):
        s.evaluate_all(15)


def test_search_pick_is_never_worse_than_the_best_measured(small_pool):
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    for verify in (0, 3):
        store = MemoryStore()
        s = NASGEM(NB101Space(small_pool), raw, EfficiencyPredictor(n_members=3, max_epochs=60, seed=1),
                   NB101Evaluator(small_pool), store, seed=2, top_k=3, verify_top=verify, kappa=-1.0,
                   checkpoint_every=0, progress=False)
        res = s.run(20)
        best = max(r["score"] for r in store.candidates(status="ok"))
        top = res.top[0]
        if top["measured"] is None:  # predicted-only: its pessimistic value beat every measurement
            assert top["predicted"] - 1.0 * top["std"] > best
        else:
            assert top["measured"] >= best
        if verify:
            assert top["measured"] is not None and top["measured"] >= best
            assert store.pick()["verify_top"] == 3


def test_verify_top_verifies_the_best_unevaluated_even_when_incumbents_fill_the_top(small_pool):
    """All but 4 models evaluated: verify_top=4 evaluates exactly those 4 (the measured ones
    outrank most predictions, so the first top_k + verify_top ranks are mostly incumbents)."""
    pool = small_pool.subset(np.arange(60))
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    ev = NB101Evaluator(pool)
    s = NASGEM(NB101Space(pool), raw, EfficiencyPredictor(n_members=3, max_epochs=40, seed=1), ev, MemoryStore(),
               seed=4, top_k=4, verify_top=4, checkpoint_every=0, progress=False)
    s.evaluate_all(56)
    assert ev.queries == 56
    res = s.bootstrap()
    assert ev.queries == 60
    measured = {ev.index(r["cell"]) for r in s.store.candidates()}
    boot_new = [c for c in res.bootstrap.candidates if c.measured is None]
    assert len(boot_new) == 4 and {c.index for c in boot_new} == set(range(60)) - measured
    assert res.top[0]["accuracy"] == pytest.approx(pool.best_accuracy)  # every model seen: the best found


def test_min_predicted_runs_past_top_k_only_for_predictions(edges_setup):
    space, enc, pred, cells, y = edges_setup
    inc = [(c, 1e9 - i) for i, c in enumerate(cells[:30])]  # measured far above every prediction
    r = bootstrap_optimize(pred, enc, space, num_samples=500, top_k=2, seed=3, incumbents=inc)
    assert len(r.candidates) == 2 and all(c.measured is not None for c in r.candidates)
    r = bootstrap_optimize(pred, enc, space, num_samples=500, top_k=2, seed=3, incumbents=inc, min_predicted=3)
    assert sum(c.measured is None for c in r.candidates) == 3
    n_inc = len({c.prune() for c in cells[:30]})  # distinct networks among the incumbents
    assert len(r.candidates) == n_inc + 3 and all(c.measured is None for c in r.candidates[n_inc:])
    keys = [c.key for c in r.candidates]
    assert keys == sorted(keys, reverse=True)
    with pytest.raises(ValueError, match="min_predicted"):
        bootstrap_optimize(pred, enc, space, min_predicted=-1)


def test_nb101_space_sample_indices_match_its_tensors(small_pool):
    space = NB101Space(small_pool)
    idx = space.sample_indices(100, seed=7)
    adj, ops = space.sample_tensors(100, seed=7)
    assert len(set(idx.tolist())) == 100 and np.all(np.diff(idx) > 0)
    assert torch.equal(adj, small_pool.batch.adj[torch.from_numpy(idx)])
    assert np.array_equal(space.sample_indices(10_000, seed=7), np.arange(len(small_pool)))
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    pred = EfficiencyPredictor(n_members=2, max_epochs=20, seed=0).fit(raw.embed(small_pool.batch[:50]),
                                                                     small_pool.accuracy[:50])
    r = bootstrap_optimize(pred, raw, space, num_samples=100, top_k=3, seed=7)
    assert np.array_equal(r.pool_index, idx)  # a finite space reports its members' positions
    ev = NB101Evaluator(small_pool, count=False)
    assert all(ev.index(c.cell) == c.index for c in r.candidates)


# ---------------------------------------------------------------------------- benchmark
def test_parse_methods():
    assert parse_methods("random, nasgem-seq:embedding,nasgem") == [
        ("random", None), ("nasgem-seq", "embedding"), ("nasgem", "embedding")]
    for bad, arg in (("random:raw", "random"), ("nasgem:pixels", "feature"), ("foo", "unknown method"),
                     ("random,random", "twice"), ("", "at least one")):
        with pytest.raises(ValueError, match=arg):
            parse_methods(bad)


def test_trials_share_random_draws_and_a_failed_trial_is_kept_out(small_pool, monkeypatch):
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    kw = dict(queries=30, seed=3, n_init=10, batch_size=10, top_k=10, predictor={"n_members": 2, "max_epochs": 40})
    rnd = run_trial("random", None, small_pool, raw, trial=1, **kw)
    seq = run_trial("nasgem-seq", "raw", small_pool, raw, trial=1, **kw)
    one = run_trial("nasgem", "raw", small_pool, raw, trial=1, **kw)
    assert [r["queries"] for r in rnd] == [10, 20, 30]
    # the first 10 models are the same draws for every method
    assert rnd[0]["best_accuracy"] == seq[0]["best_accuracy"] == one[0]["best_accuracy"]
    assert all(r["regret"] == pytest.approx(small_pool.best_accuracy - r["best_accuracy"]) for r in rnd + seq + one)
    assert all(np.diff([r["best_accuracy"] for r in seq]) >= 0)
    import gemgraph.benchmark as B

    real = B.run_trial

    def flaky(method, features, pool, encoder, *, trial, **k):
        if trial == 1 and method == "nasgem-seq":
            raise RuntimeError("worker lost")
        return real(method, features, pool, encoder, trial=trial, **k)

    monkeypatch.setattr(B, "run_trial", flaky)
    rows, failures, _ = run_benchmark(small_pool, {"raw": raw}, [("random", None), ("nasgem-seq", "raw")], trials=3,
                                      progress=False, **{k: v for k, v in kw.items()})
    assert failures == [{"method": "nasgem-seq:raw", "trial": 1, "error": "RuntimeError: worker lost"}]
    assert sorted({r["trial"] for r in rows if r["method"] == "nasgem-seq:raw"}) == [0, 2]
    assert sorted({r["trial"] for r in rows if r["method"] == "random"}) == [0, 1, 2]
    with pytest.raises(ValueError, match="queries"):
        run_benchmark(small_pool, {"raw": raw}, [("nasgem-seq", "raw")], queries=5, progress=False)
    with pytest.raises(ValueError, match="queries"):
        run_benchmark(small_pool, {"raw": raw}, [("random", None)], queries=len(small_pool) + 1, progress=False)


def test_benchmark_cli_end_to_end(tmp_path, capsys):
    from gemgraph.app.cli import main

    out = tmp_path / "bench"
    rc = main(["benchmark", "nb101", "--trials", "2", "--queries", "20", "--methods", "random,nasgem-seq:raw",
               "--ensemble", "2", "--out", str(out), "--quiet"])
    text = capsys.readouterr().out
    assert rc == 0 and "nasgem-seq:raw" in text and "x)" in text
    with open(out / "regret.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["method", "trial", "queries", "best_accuracy", "regret"]
    assert len(rows) == 2 * 2 * 2  # methods x trials x checkpoints (10, 20)
    with open(out / "summary.csv") as f:
        summ = list(csv.DictReader(f))
    assert {r["method"] for r in summ} == {"random", "nasgem-seq:raw"}
    assert (out / "regret.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["benchmark", "nb101", "--methods", "nasgem:rgb", "--out", str(out)]) == 2
    assert "feature set" in capsys.readouterr().err
    assert main(["benchmark", "nb101", "--queries", "8", "--methods", "nasgem-seq", "--out", str(out)]) == 2
    assert "n_init" in capsys.readouterr().err


def test_bootstrap_progress_bar(edges_setup, capsys):
    space, enc, pred, cells, y = edges_setup
    bootstrap_optimize(pred, enc, space, num_samples=3000, batch_size=1000, progress=True)
    err = capsys.readouterr().err
    assert "bootstrap" in err and "3/3" in err
    bootstrap_optimize(pred, enc, space, num_samples=3000, batch_size=1000, progress=False)
    assert "bootstrap" not in capsys.readouterr().err


def test_cached_encoder_from_vectors(small_pool):
    from gemgraph.encoders.cached import CachedEncoder

    v = torch.randn(len(small_pool), 5)
    enc = CachedEncoder.from_vectors(small_pool.batch, v, ops=NB101_OPS)
    assert enc.dim == 5 and enc.num_nodes == 7
    cells = small_pool.cells([3, 0, 800])
    assert torch.equal(enc.embed(cells), v[[3, 0, 800]])
    assert torch.equal(enc.embed(small_pool.batch), v)
    other = nb101_pool(load_nb101()).subset([1])  # a model not among the 801 cached ones
    with pytest.raises(ValueError, match="not among"):
        enc.embed(other.cells())
    with pytest.raises(ValueError, match="vectors"):
        CachedEncoder.from_vectors(small_pool.batch, v[:-1])


def test_bad_counts_are_refused_before_any_loading_or_encoder_training(monkeypatch):
    import gemgraph.benchmark as bm

    def boom(*a, **k):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(bm, "load_nb101", boom)
    monkeypatch.setattr(bm, "train_nb101_encoder", boom)
    monkeypatch.setattr(bm, "load_nbgraph", boom)
    with pytest.raises(ValueError, match="n_init"):
        bm.nb101_benchmark(methods="nasgem-seq", queries=8, progress=False)
    with pytest.raises(ValueError, match="trials"):
        bm.nb101_benchmark(methods="random", trials=0, progress=False)
    with pytest.raises(ValueError, match="top_k"):
        bm.nbgraph_benchmark("cora", methods="nasgem", top_k=0, progress=False)
