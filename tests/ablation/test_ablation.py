"""The NAS-Bench-101 ablation: data handling, pairing, statistics, files, CLI, real data."""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from gemgraph import SearchSpace, encoders
from gemgraph.ablation import (
    PAIRED_COLUMNS, ROW_COLUMNS, SUMMARY_COLUMNS, embed_pool, nb101_ablation, nb101_pool, paired_differences,
    read_csv, run_ablation, summarize,
)
from gemgraph.bootstrap import bootstrap_optimize
from gemgraph.nasbench_bridge import nb101_cells
from gemgraph.predictor import EfficiencyPredictor
from nasbench import NASBench101, hash_module
from nasbench.space import sample_arrays
from nasbench.spec import LABEL_OPS
from tests.conftest import need_data
from tests.nasbench._fixtures import eval_data, frame, model_metrics, payload

TINY_ENCODER = {"dim": 8, "hidden": (16,), "n_train": 200, "max_epochs": 2, "time_limit": None}
OPS5 = ("input", "output", "conv3x3", "conv1x1", "maxpool3x3")


def _accuracy(mat: np.ndarray, labs: np.ndarray, rng: np.random.Generator) -> float:
    """A made-up but learnable accuracy: more conv3x3 and edges help, plus noise."""
    return float(0.80 + 0.02 * (labs == 0).sum() + 0.005 * mat.sum() + 0.01 * rng.random())


def write_nb101(path: Path, n: int = 150, seed: int = 0, test: str = "some") -> dict:
    """A tiny file in the official layout: ``n`` distinct cells, 108 epochs, one repeat.

    ``test``: "all" (every model has a test accuracy), "some" (every fifth lacks it), "none".
    """
    rng = np.random.default_rng(seed)
    mats, labs, nv = sample_arrays(n, seed=seed, unique=True)
    data, hashes, val, tst = b"", [], [], []
    for i, v in enumerate(nv.tolist()):
        m, lab = mats[i, :v, :v], labs[i, :v].astype(int)
        h = hash_module(m, lab.tolist())
        a = _accuracy(m, lab, rng)
        t = None if test == "none" or (test == "some" and i % 5 == 0) else a - 0.01
        mm = model_metrics([eval_data(epoch=0.0), eval_data(epoch=54.0),
                            eval_data(epoch=108.0, time=100.0, train=1.0, valid=a, test=t)], params=1000 + i)
        data += frame(payload(h, 108, m, [LABEL_OPS[int(x)] for x in lab], mm))
        hashes.append(h)
        val.append(a)
        tst.append(np.nan if t is None else t)
    path.write_bytes(data)
    return {"path": path, "hashes": hashes, "val": np.array(val), "test": np.array(tst)}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_nb101(tmp_path_factory.mktemp("nb") / "tiny.tfrecord")


@pytest.fixture(scope="module")
def tiny_nb(tiny):
    return NASBench101(tiny["path"], cache=False)


@pytest.fixture(scope="module")
def small_run(tiny, tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation")
    res = nb101_ablation(tiny["path"], out, budgets=(20, 40), seeds=3, num_samples=100, top_k=3,
                         encoder_options=TINY_ENCODER, fidelity_sample=60, progress=False)
    return res, out


# ---------------------------------------------------------------------------- data
def test_pool_excludes_unknown_metric(tiny, tiny_nb):
    pool = nb101_pool(tiny_nb, "validation_accuracy")
    assert len(pool) == 150 and pool.n_excluded == 0
    assert pool.best_accuracy == pytest.approx(tiny["val"].max())
    assert pool.batch.adj.shape == (150, 7, 7) and int(pool.batch.sizes.max()) <= 7
    # the CellBatch holds the same cells as the official conversion
    cells = nb101_cells(tiny_nb)
    assert pool.cells([0, 7, 42]) == [cells[0], cells[7], cells[42]]
    with pytest.warns(UserWarning, match="30 of 150 models have no test_accuracy"):
        tp = nb101_pool(tiny_nb, "test_accuracy")
    assert len(tp) == 120 and tp.n_excluded == 30 and np.isfinite(tp.accuracy).all()
    assert tp.best_accuracy == pytest.approx(np.nanmax(tiny["test"]))
    assert set(tp.hashes) == {h for h, t in zip(tiny["hashes"], tiny["test"]) if np.isfinite(t)}


def test_pool_errors(tmp_path, tiny_nb):
    nb = NASBench101(write_nb101(tmp_path / "notest.tfrecord", n=30, test="none")["path"], cache=False)
    with pytest.raises(ValueError, match="this file has no test accuracies"):
        nb101_pool(nb, "test_accuracy")
    with pytest.raises(ValueError, match="metric"):
        nb101_pool(tiny_nb, "training_time")
    with pytest.raises(ValueError, match="epochs"):
        nb101_pool(tiny_nb, "validation_accuracy", epochs=12)


# ---------------------------------------------------------------------------- the small run
def test_files_and_columns(small_run):
    res, out = small_run
    for name in ("ablation.csv", "summary.csv", "paired.csv", "bias.png", "encoder.pt", "encoder.json",
                 "encoder_fidelity.json", "run.json"):
        assert (out / name).is_file(), name
    assert (out / "bias.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(out / "ablation.csv") as f:
        header = next(csv.reader(f))
    assert tuple(header) == ROW_COLUMNS
    assert {"budget", "seed", "arm", "picked_hash", "picked_accuracy", "best_accuracy", "bias"} <= set(header)
    with open(out / "summary.csv") as f:
        assert tuple(next(csv.reader(f))) == SUMMARY_COLUMNS
    with open(out / "paired.csv") as f:
        assert tuple(next(csv.reader(f))) == PAIRED_COLUMNS
    arms = ["embedding", "raw", "embedding_paper", "raw_paper", "random", "embedding_top3", "raw_top3", "random+3"]
    rows = read_csv(out / "ablation.csv")
    assert len(rows) == 2 * 3 * len(arms)
    for K in (20, 40):
        for s in range(3):
            assert sorted(r["arm"] for r in rows if r["budget"] == K and r["seed"] == s) == sorted(arms)
    assert "embedding" in res.table() and "95% CI" in res.table()
    lines = res.table().splitlines()  # the shared plain-text table (gemgraph.tables) under a caption
    assert lines[0].startswith("bias, % points") and set(lines[2]) == {"-", " "} and len(lines) == 3 + 2
    assert lines[3].split()[0] == "20" and "[" in lines[3]


def test_bias_is_best_minus_picked(small_run, tiny):
    res, out = small_run
    acc = dict(zip(tiny["hashes"], tiny["val"]))
    best = max(tiny["val"])
    best_hash = tiny["hashes"][int(np.argmax(tiny["val"]))]
    for r in read_csv(out / "ablation.csv"):
        assert r["best_accuracy"] == pytest.approx(best)
        assert r["picked_accuracy"] == pytest.approx(acc[r["picked_hash"]])
        assert r["bias"] == pytest.approx(best - r["picked_accuracy"], abs=1e-12)
        assert r["bias"] >= 0
        assert (r["bias"] == 0) == (r["picked_hash"] == best_hash)
        base = r["budget"] + (3 if ("_top" in r["arm"] or "+" in r["arm"]) else 0)
        if r["arm"] in ("embedding", "raw"):  # incumbent-aware: K when the best evaluated model is kept
            assert r["evaluations"] in (base, base + 1)
        else:
            assert r["evaluations"] == base + (1 if r["arm"] in ("embedding_paper", "raw_paper") else 0)
        assert r["num_candidates"] == (0 if r["arm"].startswith("random") else 100)


def test_pairing_shows_in_the_results(small_run):
    """Top-k variants keep the best of the same K models random search saw, plus k more."""
    rows = small_run[0].rows
    b = {(r["budget"], r["seed"], r["arm"]): r["bias"] for r in rows}
    for (K, s, arm), v in b.items():
        if arm in ("embedding_top3", "raw_top3", "random+3"):
            assert v <= b[(K, s, "random")] + 1e-15
        if K == 40 and arm in ("random", "random+3"):  # budgets share the permutation
            assert v <= b[(20, s, arm)] + 1e-15


def test_same_draws_for_every_arm(tiny_nb, monkeypatch):
    """Every predictor arm is fitted on the same K models, and random search keeps their best."""
    pool = nb101_pool(tiny_nb)
    seen: list[tuple[int, np.ndarray]] = []

    class Spy(EfficiencyPredictor):
        def fit(self, Z, y):
            seen.append((self.seed, np.asarray(Z)[:, 0].round().astype(int)))
            return super().fit(Z, y)

    # vectors whose first column is the model's position: the fitted rows reveal the sample
    idx = torch.arange(len(pool), dtype=torch.float32)[:, None]
    vec = {"a": torch.cat([idx, torch.randn(len(pool), 3)], 1), "b": torch.cat([idx, torch.zeros(len(pool), 1)], 1)}
    enc = encoders.create("raw", num_nodes=7, ops=OPS5)
    rows = run_ablation(pool, {"a": enc, "b": enc}, vec, budgets=(10, 30), seeds=(0, 5), num_samples=50, top_k=2,
                        make_predictor=lambda seed: Spy(max_epochs=5, seed=seed), progress=False)
    assert len(seen) == 2 * 2 * 2
    for k in range(0, len(seen), 2):
        (sa, ia), (sb, ib) = seen[k], seen[k + 1]
        assert sa == sb and np.array_equal(ia, ib)
    runs = [(K, s) for s in (0, 5) for K in (10, 30)]
    for (K, s), (_, ia) in zip(runs, seen[::2]):
        assert len(ia) == K
        rnd = next(r for r in rows if r["budget"] == K and r["seed"] == s and r["arm"] == "random")
        assert rnd["picked_index"] == int(pool.rows[ia[np.argmax(pool.accuracy[ia])]])
    # the K=10 sample is a prefix of the K=30 sample of the same seed; seeds differ
    assert np.array_equal(seen[2][1][:10], seen[0][1])
    assert not np.array_equal(seen[0][1], seen[4][1])


def test_the_ablation_runs_the_nasgem_loop(tiny_nb, monkeypatch):
    """Each predictor arm is one NASGEM.bootstrap() of the search loop, over the loop's own draws:
    random search's pick is the best of what a NASGEM random-sampler run of the same seed evaluated."""
    from gemgraph.ablation import runner
    from gemgraph.memstore import MemoryStore
    from gemgraph.utils import derive_seed
    from gemgraph.nb101 import NB101Evaluator, NB101Space
    from gemgraph.search import NASGEM

    pool = nb101_pool(tiny_nb)
    calls = []
    orig = NASGEM.bootstrap

    def spy(self):
        calls.append((self.seed, len(self.store.candidates()), self.verify_top))
        return orig(self)

    monkeypatch.setattr(runner.NASGEM, "bootstrap", spy)
    enc = encoders.create("raw", num_nodes=7, ops=OPS5)
    rows = run_ablation(pool, {"a": enc, "b": enc}, budgets=(10, 30), seeds=(0, 5), num_samples=500, top_k=2,
                        predictor={"max_epochs": 5}, progress=False)
    assert len(calls) == 2 * 2 * 2 and all(v == 2 for _, _, v in calls)
    assert [n for _, n, _ in calls] == [10, 10, 30, 30] * 2
    for s in (0, 5):
        run_seed = derive_seed(0, "ablation", s)
        assert {c[0] for c in calls[:4] if s == 0} | {c[0] for c in calls[4:] if s == 5} == {run_seed}
        store = MemoryStore()
        NASGEM(NB101Space(pool), enc, EfficiencyPredictor(), NB101Evaluator(pool), store, seed=run_seed,
               checkpoint_every=0, progress=False).evaluate_all(30)
        ok = store.candidates()
        for K in (10, 30):
            best = max((r for r in ok if r["iteration"] < K), key=lambda r: r["accuracy"])
            rnd = next(r for r in rows if r["budget"] == K and r["seed"] == s and r["arm"] == "random")
            assert rnd["picked_accuracy"] == best["accuracy"]
            for arm in ("a", "b"):  # the loop's incumbent-aware pick is never worse than the best measured
                r = next(r for r in rows if r["budget"] == K and r["seed"] == s and r["arm"] == arm)
                if r["evaluations"] == K:
                    assert r["picked_hash"] == rnd["picked_hash"]
                top = next(r for r in rows if r["budget"] == K and r["seed"] == s and r["arm"] == f"{arm}_top2")
                assert top["evaluations"] == K + 2 and top["bias"] <= rnd["bias"]


def test_bias_zero_when_every_model_is_evaluated(tiny_nb):
    pool = nb101_pool(tiny_nb)
    enc = encoders.create("raw", num_nodes=7, ops=OPS5)
    n = len(pool)
    rows = run_ablation(pool, {"raw": enc}, budgets=(n - 4,), seeds=2, top_k=4, predictor={"max_epochs": 5},
                        progress=False)
    best_hash = pool.hashes[pool.best_index]
    for r in rows:
        if r["arm"] in ("raw_top4", "random+4"):  # K + k = every model: the best is found
            assert r["bias"] == 0.0 and r["picked_hash"] == best_hash
            assert r["evaluations"] == n


def test_summary_matches_hand_computation(small_run):
    res, out = small_run
    rows = read_csv(out / "ablation.csv")
    summ = read_csv(out / "summary.csv")
    assert len(summ) == 2 * 8
    for srow in summ:
        b = np.array([r["bias"] for r in sorted(rows, key=lambda r: r["seed"])
                      if r["budget"] == srow["budget"] and r["arm"] == srow["arm"]])
        assert srow["n"] == 3
        assert srow["mean"] == pytest.approx(b.mean(), abs=1e-15)
        assert srow["median"] == pytest.approx(np.median(b), abs=1e-15)
        assert srow["std"] == pytest.approx(b.std(ddof=1), abs=1e-15)
        from gemgraph.stats import ci_bounds

        assert (srow["ci_low"], srow["ci_high"]) == pytest.approx(ci_bounds(b, method="bca", seed=0), abs=1e-15)
        assert srow["ci_low"] <= srow["mean"] <= srow["ci_high"] or srow["ci_low"] == srow["ci_high"]
    # the percentile interval (gemgraph 0.1's default, still available) by hand
    b = np.array([0.01, 0.02, 0.04])
    hand3 = [{"budget": 5, "seed": s, "arm": "x", "bias": v, "evaluations": 5, "picked_accuracy": 0.9}
             for s, v in enumerate(b)]
    (pc,) = summarize(hand3, ci="percentile")
    from scipy.stats import bootstrap

    ref = bootstrap((b,), np.mean, n_resamples=10_000, method="percentile", random_state=np.random.default_rng(0))
    assert (pc["ci_low"], pc["ci_high"]) == pytest.approx((ref.confidence_interval.low, ref.confidence_interval.high))
    # t-interval on hand-made rows
    from scipy import stats

    hand = [{"budget": 5, "seed": s, "arm": "x", "bias": v, "evaluations": 5, "picked_accuracy": 0.9}
            for s, v in enumerate([0.01, 0.02, 0.04, 0.0])]
    (t,) = summarize(hand, ci="t")
    x = np.array([0.01, 0.02, 0.04, 0.0])
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert (t["ci_low"], t["ci_high"]) == pytest.approx((x.mean() - half, x.mean() + half))
    with pytest.raises(ValueError, match="ci"):
        summarize(hand, ci="normal")
    with pytest.raises(ValueError, match="n_boot"):  # named here, not as the bootstrap's n_resamples
        summarize(hand, n_boot=50)


def test_paired_differences():
    rows = [{"budget": 10, "seed": s, "arm": a, "bias": v}
            for s, (ea, ra) in enumerate([(0.01, 0.03), (0.02, 0.02), (0.05, 0.01)])
            for a, v in (("embedding", ea), ("raw", ra))]
    (p,) = paired_differences(rows, [("embedding", "raw")], ci="t")
    assert p["mean_diff"] == pytest.approx(np.mean([0.02, 0.0, -0.04]))
    assert (p["wins"], p["ties"], p["losses"]) == (1, 1, 1)
    with pytest.raises(ValueError, match="pairs"):
        paired_differences(rows, [("embedding", "nope")])


def test_deterministic(tiny, small_run, tmp_path):
    """Same seed -> identical ablation.csv (encoder retrained from scratch, not reused)."""
    res, out = small_run
    res2 = nb101_ablation(tiny["path"], tmp_path, budgets=(20, 40), seeds=3, num_samples=100, top_k=3,
                          encoder_options=TINY_ENCODER, fidelity_sample=60, plot=False, progress=False)
    assert res2.info["encoder"]["cached"] is False
    assert (tmp_path / "ablation.csv").read_bytes() == (out / "ablation.csv").read_bytes()
    # a rerun in the same folder reuses the saved encoder and still gives the same rows
    res3 = nb101_ablation(tiny["path"], tmp_path, budgets=(20, 40), seeds=3, num_samples=100, top_k=3,
                          encoder_options=TINY_ENCODER, fidelity_sample=0, plot=False, progress=False)
    assert res3.info["encoder"]["cached"] is True
    assert (tmp_path / "ablation.csv").read_bytes() == (out / "ablation.csv").read_bytes()
    # another base seed draws other samples
    res4 = nb101_ablation(tiny["path"], None, budgets=(20, 40), seeds=3, seed=1, num_samples=100, top_k=3,
                          encoder_options=TINY_ENCODER, fidelity_sample=0, plot=False, progress=False)
    assert [r["picked_hash"] for r in res4.rows] != [r["picked_hash"] for r in res2.rows]


def test_bad_arguments(tiny_nb):
    pool = nb101_pool(tiny_nb)
    enc = {"raw": encoders.create("raw", num_nodes=7, ops=OPS5)}
    with pytest.raises(ValueError, match="budgets"):
        run_ablation(pool, enc, budgets=(148,), top_k=3, progress=False)
    with pytest.raises(ValueError, match="budgets"):
        run_ablation(pool, enc, budgets=(1,), progress=False)
    with pytest.raises(ValueError, match="seeds"):
        run_ablation(pool, enc, budgets=(10,), seeds=0, progress=False)
    with pytest.raises(ValueError, match="top_k"):
        run_ablation(pool, enc, budgets=(10,), top_k=-1, progress=False)
    with pytest.raises(ValueError, match="num_samples"):
        run_ablation(pool, enc, budgets=(10,), num_samples=0, progress=False)
    with pytest.raises(ValueError, match="arm names"):
        run_ablation(pool, {"random": enc["raw"]}, budgets=(10,), progress=False)
    with pytest.raises(ValueError, match="hidden"):
        run_ablation(pool, enc, budgets=(10,), predictor={"hidden": 0}, progress=False)
    with pytest.raises(ValueError, match="make_predictor"):
        run_ablation(pool, enc, budgets=(10,), make_predictor=3, progress=False)
    with pytest.raises(ValueError, match="not both"):
        run_ablation(pool, enc, budgets=(10,), predictor={"hidden": 4}, make_predictor=EfficiencyPredictor,
                     progress=False)
    with pytest.raises(ValueError, match="vectors"):
        run_ablation(pool, enc, {"raw": torch.zeros(3, 4)}, budgets=(10,), progress=False)
    with pytest.raises(ValueError, match="pool"):
        run_ablation(list(range(5)), enc, budgets=(10,), progress=False)
    with pytest.raises(ValueError, match="encoder_options"):
        nb101_ablation(None, None, encoder_options={"depth": 3}, progress=False)
    with pytest.raises(ValueError, match="metric"):
        nb101_ablation(None, None, metric="total_time", progress=False)


# ---------------------------------------------------------------------------- bootstrap with precomputed vectors
def test_bootstrap_precomputed_vectors_match_embedding():
    space = SearchSpace(8, max_concat=3)
    enc = encoders.create("mlp", num_nodes=8, dim=16, hidden=(32,))
    cells = space.sample(300, seed=0)
    Z = enc.embed(cells)
    pred = EfficiencyPredictor(seed=0, max_epochs=50).fit(Z[:100], np.array([c.num_edges for c in cells[:100]], float))
    for num_samples in (1000, 120):  # the whole pool, and a subsample of it
        a = bootstrap_optimize(pred, enc, cells, num_samples=num_samples, top_k=4, seed=3)
        b = bootstrap_optimize(pred, enc, cells, num_samples=num_samples, top_k=4, seed=3, vectors=Z)
        assert [c.index for c in a.candidates] == [c.index for c in b.candidates]
        np.testing.assert_allclose(a.predicted, b.predicted, rtol=1e-5, atol=1e-6)
        assert np.array_equal(a.pool_index, b.pool_index) and len(b.pool_index) == min(num_samples, 300)
        assert b.best.cell == cells[b.best.index]
    # vectors are really used (not recomputed): different vectors, different ranking
    c = bootstrap_optimize(pred, enc, cells, num_samples=1000, seed=3, vectors=torch.zeros_like(Z))
    assert np.allclose(c.predicted, c.predicted[0])
    with pytest.raises(ValueError, match="vectors"):
        bootstrap_optimize(pred, enc, cells, vectors=Z[:10])
    with pytest.raises(ValueError, match="vectors"):
        bootstrap_optimize(pred, enc, space, vectors=Z)


def test_embed_pool_normalises(tiny_nb):
    pool = nb101_pool(tiny_nb)
    enc = encoders.create("mlp", num_nodes=7, dim=6, ops=OPS5, hidden=(8,))
    z = embed_pool(enc, pool.batch, normalize=True)
    assert z.shape == (len(pool), 6)
    np.testing.assert_allclose(z.norm(dim=1).numpy(), 1.0, rtol=1e-5)
    raw = embed_pool(encoders.create("raw", num_nodes=7, ops=OPS5), pool.batch)
    assert raw.shape == (len(pool), 21 + 35) and set(raw.unique().tolist()) <= {0.0, 1.0}


# ---------------------------------------------------------------------------- CLI
def test_cli(tiny, tmp_path, capsys):
    from gemgraph.app.cli import main

    argv = ["ablation", "nb101", "--data", str(tiny["path"]), "--budgets", "20,40", "--seeds", "2",
            "--num-samples", "100", "--top-k", "3", "--encoder-dim", "8", "--encoder-hidden", "16",
            "--encoder-train-graphs", "200", "--encoder-epochs", "1", "--encoder-time-limit", "0",
            "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "embedding_top3" in text and "random+3" in text and "95% CI" in text and "encoder (mlp" in text
    assert {r["arm"] for r in read_csv(tmp_path / "ablation.csv")} >= {"embedding", "raw", "random"}
    assert (tmp_path / "bias.png").is_file()
    # test accuracies are missing for some models: excluded with a note
    assert main(argv + ["--metric", "test_accuracy", "--no-plot"]) == 0
    assert "note: 30 of 150 models have no test_accuracy" in capsys.readouterr().out
    # the bundled sample has no test accuracies at all: a clear error, exit code 2
    assert main(["ablation", "nb101", "--metric", "test_accuracy", "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "no test accuracies" in capsys.readouterr().err
    assert main(["ablation", "nb101", "--budgets", "10,x", "--out", str(tmp_path / "y"), "--quiet"]) == 2
    assert "--budgets" in capsys.readouterr().err


# ---------------------------------------------------------------------------- real data
def test_real_dev_file(tmp_path):
    path = need_data("nasbench101/nb101_dev_20k.tfrecord")
    nb = NASBench101(path)
    pool = nb101_pool(nb)
    assert len(pool) == 20_001 and pool.n_excluded == 0
    best_hash, best = nb.best("validation_accuracy")
    assert pool.best_accuracy == best and pool.hashes[pool.best_index] == best_hash
    with pytest.raises(ValueError, match="no test accuracies"):
        nb101_pool(nb, "test_accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # nothing excluded: no warning
        res = nb101_ablation(path, tmp_path, budgets=(50,), seeds=2, num_samples=3000, top_k=5,
                             encoder_options=TINY_ENCODER, fidelity_sample=200, plot=False, progress=False)
    assert res.info["models_used"] == 20_001 and res.info["num_candidates"] == 3000
    val = nb.metric_array("validation_accuracy")
    for r in res.rows:
        assert r["picked_accuracy"] == val[r["picked_index"]] and r["bias"] == best - r["picked_accuracy"]
        assert nb.hashes[r["picked_index"]] == r["picked_hash"]
    # the sample of real architectures: random search's best of 50 is well above the median
    rnd = [r["picked_accuracy"] for r in res.rows if r["arm"] == "random"]
    assert min(rnd) > np.median(val)
