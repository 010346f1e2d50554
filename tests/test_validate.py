"""The reference check of a finished run (gemgraph.validate, `gemgraph validate`), on a tiny run
trained on the embedded subset and a tiny synthetic reference set (the real one: test_datasets)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gemgraph.app.cli import main
from gemgraph.validate import REFERENCE, ReferenceProtocol, TrainingLog, role_cells, validate_run

TINY = ReferenceProtocol(epochs=1, width=4, resolution=8, batch_size=32, seeds=2)


def _ref_root(tmp_path, n_train=96, n_eval=48):
    rng = np.random.default_rng(0)
    y_tr, y_ev = np.arange(n_train) % 10, np.arange(n_eval) % 10
    x_tr = (rng.integers(0, 120, (n_train, 32, 32, 3)) + y_tr[:, None, None, None] * 12).astype(np.uint8)
    x_ev = (rng.integers(0, 120, (n_eval, 32, 32, 3)) + y_ev[:, None, None, None] * 12).astype(np.uint8)
    root = tmp_path / "data"
    (root / "cifar10-ref").mkdir(parents=True)
    np.savez(root / "cifar10-ref" / "cifar10_ref.npz", x_train=x_tr, y_train=y_tr.astype(np.int64), x_eval=x_ev,
             y_eval=y_ev.astype(np.int64))
    return root


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished quick-preset run of 6-node cells (4 candidates, top 2 verified) on the embedded subset."""
    run = tmp_path_factory.mktemp("validate") / "run"
    args = ["search", "--preset", "quick", "--nodes", "6", "--iterations", "4", "--num-samples", "300",
            "--width", "4", "--epochs", "1", "--train-images", "640", "--macs", "0:", "--min-ops", "1",
            "--out", str(run), "--quiet", "--device", "cpu"]
    import os

    old = os.environ.pop("GEMGRAPH_DATA", None)
    try:
        assert main(args) == 0
    finally:
        if old is not None:
            os.environ["GEMGRAPH_DATA"] = old
    return run


def test_roles_and_paired_differences(tiny_run, tmp_path, monkeypatch):
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    root = _ref_root(tmp_path)
    out = tmp_path / "val"
    v = validate_run(tiny_run, out=out, protocol=TINY, data_root=root, plot=True)
    assert [r.role for r in v.roles] == ["pick", "best_measured", "cost_only", "random"]
    d = v.to_dict()
    assert d["objective"] == "efficiency" and set(d["paired"]) >= {"pick-cost_only", "pick-random"}
    for r in d["roles"]:
        assert len(r["accuracies"]) == 2 and all(0 <= a <= 1 for a in r["accuracies"])
        assert r["macs"] > 0 and r["score"] is not None and r["accuracy_ci"] is not None
    # paired differences are the seed-wise differences of the objective
    pick, cost = v.role("pick"), v.role("cost_only")
    diffs = [a - b for a, b in zip(pick.scores, cost.scores)]
    assert d["paired"]["pick-cost_only"]["mean"] == pytest.approx(np.mean(diffs))
    assert d["paired"]["pick-cost_only"]["n"] == 2
    # the cost-only cell is the cheapest of the role cells on the regime's network
    assert cost.macs <= min(r.macs for r in v.roles)
    # files whole: csv one row per role and seed, json equal to the returned dict, a png
    lines = (out / "validate.csv").read_text().splitlines()
    assert lines[0].startswith("role,seed,accuracy") and len(lines) == 1 + 4 * 2
    assert json.loads((out / "validate.json").read_text())["paired"] == json.loads(json.dumps(d["paired"]))
    assert (out / "validate.png").stat().st_size > 5_000
    assert not list(out.glob("*.tmp*"))
    # a rerun reuses every training (the log holds them), so it gives the same figures at once
    n = len(TrainingLog(out / "trainings.jsonl"))
    v2 = validate_run(tiny_run, out=out, protocol=TINY, data_root=root, plot=False)
    assert v2.to_dict()["paired"] == d["paired"] and len(TrainingLog(out / "trainings.jsonl")) == n


def test_random_role_uses_the_runs_own_stream(tiny_run, tmp_path, monkeypatch):
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    log = TrainingLog(tmp_path / "t.jsonl")
    cells = role_cells(tiny_run, log=log)
    # 4 candidates + 2 verified = 6 trainings; the random sampler's 4 are shared, 2 are trained extra
    assert "6 random cells" in cells["random"].how and "4 of them are the run's own" in cells["random"].how
    assert len(log) == 2
    assert cells["random"].proxy_score is not None


def test_damaged_training_log_line_is_trained_again(tmp_path):
    log = TrainingLog(tmp_path / "t.jsonl")
    log.add({"k": 1}, {"accuracy": 0.5})
    log.add({"k": 2}, {"accuracy": 0.6})
    text = (tmp_path / "t.jsonl").read_text().replace("0.5", "0.9")
    (tmp_path / "t.jsonl").write_text(text + '{"key": {"k": 3}, "resu')  # an edit and a cut-off line
    again = TrainingLog(tmp_path / "t.jsonl")
    assert again.get({"k": 1}) is None and again.get({"k": 2}) == {"accuracy": 0.6} and again.skipped == 2


def test_cli_validate_json_and_table(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    root = _ref_root(tmp_path)
    monkeypatch.setattr("gemgraph.validate.REFERENCE", TINY)
    out = tmp_path / "v"
    assert main(["validate", str(tiny_run), "--out", str(out), "--seeds", "2", "--data", str(root), "--json",
                 "--quiet", "--device", "cpu", "--no-plot"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [r["role"] for r in d["roles"]] == ["pick", "best_measured", "cost_only", "random"]
    assert {"accuracy", "accuracy_ci", "macs", "score"} <= set(d["roles"][0])
    assert set(d["paired"]["pick-random"]) >= {"mean", "ci"}
    assert main(["validate", str(tiny_run), "--out", str(out), "--seeds", "2", "--data", str(root), "--quiet",
                 "--device", "cpu", "--no-plot"]) == 0
    text = capsys.readouterr().out
    assert "objective efficiency" in text and "paired pick-cost_only" in text and "MMACs (" in text


def test_cli_validate_bad_input(tiny_run, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    # a missing reference set: one line, exit 2, nothing written
    out = tmp_path / "none"
    assert main(["validate", str(tiny_run), "--out", str(out), "--data", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "reference set not found" in err and not out.exists()
    # not a run
    assert main(["validate", str(tmp_path / "missing"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a run directory" in err
    (tmp_path / "empty").mkdir()
    assert main(["validate", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "holds no run store" in capsys.readouterr().err
    # an unreadable store
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "run.sqlite").write_bytes(b"this is not a database" * 100)
    from gemgraph.store import store_path

    store_path(bad).write_bytes(b"this is not a database" * 100)
    assert main(["validate", str(bad), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert main(["validate", str(tiny_run), "--seeds", "0", "--quiet"]) == 2
    assert "--seeds" in capsys.readouterr().err


def test_run_without_pick_is_refused(tmp_path, monkeypatch, capsys):
    """A search interrupted before its bootstrap (Ctrl-C then): candidates stored, no pick."""
    monkeypatch.delenv("GEMGRAPH_DATA", raising=False)
    from gemgraph.search import NASGEM

    def interrupted(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(NASGEM, "bootstrap", interrupted)
    run = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--nodes", "6", "--iterations", "2", "--num-samples", "100",
                 "--width", "4", "--epochs", "1", "--train-images", "320", "--macs", "0:", "--min-ops", "1",
                 "--out", str(run), "--quiet", "--device", "cpu"]) == 130
    capsys.readouterr()
    assert main(["validate", str(run), "--quiet", "--data", str(_ref_root(tmp_path))]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no pick" in err and not (run / "validate").exists()


def test_reference_protocol_checks():
    assert REFERENCE.seeds == 3 and REFERENCE.training_key()["epochs"] == REFERENCE.epochs
    for bad in ({"epochs": 0}, {"resolution": 12}, {"lr": float("nan")}, {"seeds": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ReferenceProtocol(**bad)
