"""The CLI at its edge: bad input is one line naming the argument (exit 2), never a traceback;
input is never silently ignored; a run's status, picks and encoder stay truthful.

Runs are made with tiny settings (6-node cells, a 300-graph encoder); nothing here needs the
real data: the proxy data is a small synthetic set (or a deliberately damaged file).
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gemgraph.app.cli import main
from gemgraph.app.runs import build_config, make_predictor, make_space, prepare_encoder, store_path
from gemgraph.store import RunLock, RunStore

from .._readonly import read_only_dir

ROOT = Path(__file__).resolve().parents[2]


def _tiny_config() -> dict:
    # 6-node cells cannot reach the quick preset's 25M-100M MAC regime: no window here
    return build_config("quick", nodes=6, iterations=4, macs=[0.0, None], min_ops=1,
                        **{"encoder.n_train": 300, "encoder.max_epochs": 1, "encoder.dim": 8,
                           "bootstrap.num_samples": 200})


@pytest.fixture(scope="module")
def _made_run(tmp_path_factory) -> Path:
    """A finished 6-candidate run: store, encoder.pt (identity recorded), a predictor checkpoint
    and a first pick whose top entry was verified."""
    cfg = _tiny_config()
    run = tmp_path_factory.mktemp("made") / "run"
    run.mkdir()
    with RunStore(store_path(run), create=True, config=cfg) as st:
        enc = prepare_encoder(run, cfg, st, device="cpu", progress=False)
        cells = make_space(cfg).sample(6, seed=1)
        scores = np.linspace(-0.2, 0.4, 6)
        for t, (c, y) in enumerate(zip(cells, scores)):
            st.add_candidate(t, c, macs=1e6 * (t + 1), params=100 + t, accuracy=0.5 + 0.01 * t, score=float(y),
                             seconds=1.0, status="ok")
        st.save_predictor(5, make_predictor(cfg).fit(enc.embed(cells), scores).state_dict())
        from gemgraph.store import cell_to_json

        st.set_pick({"best": cell_to_json(cells[5]), "num_samples": 200, "seed": 0, "iterations_done": 6,
                     "top": [{"cell": cell_to_json(cells[5]), "predicted": 0.41, "verified": 0.3876}]})
        st.set_meta("status", "finished")
    return run


@pytest.fixture
def run(_made_run, tmp_path) -> Path:
    """A private copy of the made run."""
    dst = tmp_path / "run"
    shutil.copytree(_made_run, dst)
    return dst


def _one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for n in needles:
        assert n in err, err
    return err


# ---------------------------------------------------------------------- paths, checked before any work
def test_embed_out_must_be_a_writable_file_path(tmp_path, capsys):
    args = ["embed", "--nodes", "6", "--train-graphs", "200", "--epochs", "1", "--dim", "8", "--quiet"]
    assert main(args + ["--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "--out: expected a file path", str(tmp_path))
    assert main(args + ["--out", str(tmp_path / "missing" / "enc.pt")]) == 2
    _one_line_error(capsys, "--out:", "is not a folder")
    (tmp_path / "afile").write_text("x")
    assert main(args + ["--out", str(tmp_path / "afile" / "enc.pt")]) == 2
    _one_line_error(capsys, "--out:")


def test_search_out_that_is_a_file_or_under_one(tmp_path, capsys, monkeypatch):
    from .. import _search_helpers

    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    (tmp_path / "afile").write_text("x")
    base = ["search", "--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--quiet",
            "--device", "cpu"]
    assert main(base + ["--out", str(tmp_path / "afile")]) == 2
    _one_line_error(capsys, "--out: expected a run directory, got the file")
    assert main(base + ["--out", str(tmp_path / "afile" / "run")]) == 2
    _one_line_error(capsys, "--out: cannot create the run directory")


def _damaged_data_root(tmp_path: Path, how: str) -> Path:
    rng = np.random.default_rng(0)
    arrs = {f"x_{s}": rng.integers(0, 255, (40, 3, 32, 32), dtype=np.uint8) for s in ("train", "val", "test")}
    arrs.update({f"y_{s}": np.arange(40) % 10 for s in ("train", "val", "test")})
    root = tmp_path / f"data-{how}"
    (root / "cifar10-proxy").mkdir(parents=True)
    path = root / "cifar10-proxy" / "cifar10_proxy.npz"
    np.savez(path, **arrs)
    b = bytearray(path.read_bytes())
    if how == "truncated":
        b = b[: len(b) // 2]
    else:  # bytes zeroed inside a member: the zip directory is intact, a CRC is not
        b[len(b) // 3: len(b) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(b))
    return root


@pytest.mark.parametrize("how", ["truncated", "zeroed"])
def test_corrupt_npz_is_reported_before_the_encoder_trains(tmp_path, capsys, monkeypatch, how):
    root = _damaged_data_root(tmp_path, how)
    trained = []
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder", lambda *a, **k: trained.append(1))
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--out", str(out),
                 "--data", str(root),
                 "--quiet", "--device", "cpu"]) == 2
    err = _one_line_error(capsys, "cifar10_proxy.npz")  # the file is named, with the reason
    assert "BadZipFile" in err or "corrupt" in err or "CRC" in err or "readable" in err, err
    assert not trained and not out.exists()  # nothing created, nothing trained


def test_resume_read_only_run_is_refused_clearly(run, capsys):
    with read_only_dir(run):
        assert main(["search", "--resume", str(run), "--quiet", "--device", "cpu"]) == 2
        _one_line_error(capsys, "--resume: the run", "is read-only here")
        assert main(["bootstrap", str(run)]) == 2
        _one_line_error(capsys, "RUN: the run", "is read-only here")
        assert main(["report", str(run), "--json"]) == 0  # reading it is fine
        capsys.readouterr()


# ---------------------------------------------------------------------- status of a run that stops
def _fake_search_env(monkeypatch, exc: BaseException):
    from gemgraph import encoders
    from gemgraph.search import NASGEM

    from .. import _search_helpers

    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder",
                        lambda *a, **k: encoders.create("mlp", num_nodes=6, dim=8, hidden=(16,)))

    def boom(self, iterations):
        raise exc

    monkeypatch.setattr(NASGEM, "run", boom)


def test_sigint_leaves_the_run_interrupted(tmp_path, capsys, monkeypatch):
    _fake_search_env(monkeypatch, KeyboardInterrupt())
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--out", str(out),
                 "--quiet", "--device", "cpu"]) == 130
    with RunStore(store_path(out), readonly=True) as st:
        assert st.get_meta("status") == "interrupted"


def test_crash_leaves_the_run_failed(tmp_path, monkeypatch, capsys):
    _fake_search_env(monkeypatch, RuntimeError("a bug"))
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--nodes", "6", "--macs", "0:", "--min-ops", "1", "--out", str(out),
                 "--quiet", "--device", "cpu"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err and "RuntimeError: a bug" in err, err  # a bug keeps it
    with RunStore(store_path(out), readonly=True) as st:
        assert st.get_meta("status") == "failed"
    assert "ERROR gemgraph.app.cli: stopped: RuntimeError: a bug" in (out / "log.txt").read_text()


def test_report_says_killed_when_a_running_run_has_no_process(run, capsys):
    with RunStore(store_path(run)) as st:
        st.set_meta("status", "running")  # as a SIGKILLed search leaves it
    assert main(["report", str(run), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["meta"]["status"] == "killed"
    with RunLock(run):  # a live search holds the lock: it is running
        assert main(["report", str(run), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["meta"]["status"] == "running"


# ---------------------------------------------------------------------- input never silently ignored
def test_resume_with_a_conflicting_flag_is_refused(run, capsys):
    assert main(["search", "--resume", str(run), "--nodes", "7", "--seed", "3", "--quiet"]) == 2
    _one_line_error(capsys, "--nodes 7 (the run has 6)", "--seed 3 (the run has 0)", "keeps its config")
    assert main(["search", "--resume", str(run), "--preset", "paper", "--quiet"]) == 2
    _one_line_error(capsys, "--preset paper (the run has quick)")
    # the regime flags too (they were silently ignored on --resume)
    assert main(["search", "--resume", str(run), "--macs", "1M:2M", "--min-ops", "3", "--quiet"]) == 2
    _one_line_error(capsys, "--macs [1000000.0, 2000000.0]", "--min-ops 3", "keeps its config")


@pytest.mark.parametrize("argv,needle", [
    (["report", "{run}", "--top", "-1"], "--top: expected an int >= 0, got -1"),
    (["bootstrap", "{run}", "--num-samples", "0"], "--num-samples: expected an int >= 1, got 0"),
    (["bootstrap", "{run}", "--top-k", "0"], "--top-k: expected an int >= 1, got 0"),
    (["bootstrap", "{run}", "--num-samples", str(10**12)], "--num-samples: expected at most"),
])
def test_bad_numbers_are_refused(run, capsys, argv, needle):
    assert main([a.format(run=run) for a in argv]) == 2
    _one_line_error(capsys, needle)


def test_report_top_zero_and_the_pick_line(run, capsys):
    assert main(["report", str(run), "--top", "0"]) == 0
    out = capsys.readouterr().out
    assert "pick: 6-node cell" in out and "verified score 0.3876" in out


def test_report_into_a_closed_pipe_exits_quietly(run):
    with RunStore(store_path(run)) as st:  # enough output to overflow the pipe buffer
        cells = make_space(_tiny_config()).sample(400, seed=5)
        for t, c in enumerate(cells, start=6):
            st.add_candidate(t, c, macs=1e6, params=1, accuracy=0.5, score=0.0, seconds=1.0, status="ok")
    for extra in ([], ["--json"]):
        cmd = (f"set -o pipefail; {sys.executable} -m gemgraph report {run} --top 1000 {' '.join(extra)} | head -1")
        r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert r.returncode == 0 and r.stdout.strip() and r.stderr.strip() == "", r.stderr[-2000:]


# ---------------------------------------------------------------------- picks and the encoder
def test_bootstrap_keeps_the_verified_pick_in_the_history_and_takes_the_lock(run, capsys):
    assert main(["bootstrap", str(run), "--num-samples", "150", "--top-k", "2"]) == 0
    cap = capsys.readouterr()
    assert "previous pick (verified score 0.3876) is kept" in cap.out
    assert "ranking 150 sampled cells" in cap.err  # a progress line before the (long) work
    assert main(["bootstrap", str(run), "--num-samples", "120", "--seed", "4", "--quiet"]) == 0
    capsys.readouterr()
    with RunStore(store_path(run), readonly=True) as st:
        hist = st.picks()
        assert len(hist) == 3 and hist[0]["payload"]["top"][0]["verified"] == 0.3876
        assert [h["settings"]["num_samples"] for h in hist] == [200, 150, 120]
        assert [h["settings"]["seed"] for h in hist] == [0, 0, 4] and st.pick() == hist[-1]["payload"]
    assert main(["report", str(run), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert len(rep["picks"]) == 3 and rep["pick"] == rep["picks"][-1]["payload"]
    assert main(["report", str(run), "--history"]) == 0
    out = capsys.readouterr().out
    assert "pick history" in out and "0.3876" in out and len(out.strip().splitlines()) >= 6
    with RunLock(run):  # a search is writing the run: the bootstrap waits its turn
        assert main(["bootstrap", str(run), "--num-samples", "100"]) == 2
        _one_line_error(capsys, "is in use by")


def test_swapped_encoder_is_refused_unless_reembed(run, capsys):
    from gemgraph import encoders
    from gemgraph.app.runs import encoder_identity

    with RunStore(store_path(run), readonly=True) as st:
        recorded = st.get_meta("encoder")
    other = encoders.create("mlp", num_nodes=6, dim=8)  # same config, other weights
    assert encoder_identity(other) != recorded and encoder_identity(encoders.load(run / "encoder.pt")) == recorded
    other.save(run / "encoder.pt")
    assert main(["bootstrap", str(run), "--num-samples", "100"]) == 2
    _one_line_error(capsys, "encoder:", "not the encoder this run was made with", "--reembed")
    assert main(["search", "--resume", str(run), "--quiet", "--device", "cpu"]) == 2  # before training anything
    capsys.readouterr()
    assert main(["bootstrap", str(run), "--num-samples", "100", "--reembed", "--quiet"]) == 0
    capsys.readouterr()
    with RunStore(store_path(run), readonly=True) as st:
        assert st.get_meta("encoder") == encoder_identity(other) and len(st.picks()) == 2
    assert main(["bootstrap", str(run), "--num-samples", "100", "--quiet"]) == 0  # now it is the run's encoder
    capsys.readouterr()


def test_tampered_encoder_blob_is_one_line(run, capsys):
    import torch

    blob = torch.load(run / "encoder.pt", weights_only=True)
    key = next(iter(blob["state_dict"]))
    blob["state_dict"][key] = torch.zeros(2, 2)
    torch.save(blob, run / "encoder.pt")
    assert main(["bootstrap", str(run), "--num-samples", "100"]) == 2
    _one_line_error(capsys, "encoder:", "cannot be loaded", "damaged encoder file")


def test_old_run_without_an_encoder_identity_records_it(run, capsys):
    import sqlite3

    con = sqlite3.connect(store_path(run))
    con.execute("DELETE FROM meta WHERE key = 'encoder'")
    con.commit()
    con.close()
    assert main(["bootstrap", str(run), "--num-samples", "100", "--quiet"]) == 0
    capsys.readouterr()
    with RunStore(store_path(run), readonly=True) as st:
        assert st.get_meta("encoder")["name"] == "mlp"


def test_ablation_data_that_is_not_a_tfrecord_file(tmp_path, capsys):
    other = tmp_path / "models.json"
    other.write_text('{"models": []}\n' * 20)
    assert main(["ablation", "nb101", "--data", str(other), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    _one_line_error(capsys, "--data:", "not a TFRecord file")
    assert main(["ablation", "nb101", "--data", str(tmp_path / "missing.tfrecord"), "--quiet"]) == 2
    _one_line_error(capsys, "--data: no such")


def test_benchmark_data_that_is_not_a_tfrecord_file(tmp_path, capsys):
    other = tmp_path / "models.json"
    other.write_text('{"models": []}\n' * 20)
    # nasbench's NASBenchFormatError is a plain ValueError: named as --data here, not taken for a bug
    assert main(["benchmark", "nb101", "--data", str(other), "--out", str(tmp_path / "out"), "--trials", "1",
                 "--quiet"]) == 2
    _one_line_error(capsys, "gemgraph benchmark: error: --data:", "not a TFRecord file")


# ---------------------------------------------------------------------- a damaged pick is never a silent answer
@pytest.mark.parametrize("edit", ["score", "edge"])
def test_edited_pick_is_refused_by_report_and_export(run, capsys, tmp_path, edit):
    with RunStore(store_path(run), readonly=True) as st:
        text = json.dumps(st.pick(), sort_keys=True, separators=(",", ":"))
    if edit == "score":
        new = text.replace('"verified":0.3876', '"verified":0.9876')
    else:  # the first edge [i, j] becomes [i, j'] with another target, same digits count
        i, j = json.loads(text)["best"]["edges"][0]
        new = text.replace(f"[{i},{j}]", f"[{i},{j + 1 if j < 5 else j - 1}]", 1)
    assert new != text and len(new) == len(text)
    data = store_path(run).read_bytes()
    assert data.count(text.encode()) == 1
    store_path(run).write_bytes(data.replace(text.encode(), new.encode()))
    assert main(["report", str(run), "--cv-folds", "0"]) == 2
    _one_line_error(capsys, "pick id 1 fails its checksum")
    out = tmp_path / "cell.json"
    assert main(["export", str(run), "--format", "json", "--out", str(out)]) == 2
    _one_line_error(capsys, "pick id 1 fails its checksum")
    assert not out.exists()


# ---------------------------------------------------------------------- every value checked before any work
@pytest.mark.parametrize("extra,needle", [
    (["--nodes", "100000"], "--nodes: expected an int in [2, 256], got 100000"),
    (["--num-samples", "0"], "--num-samples: expected an int >= 1, got 0"),
    (["--iterations", "1"], "--iterations: expected an int >= 2, got 1"),
    (["--set", "encoder.dim=0"], "--set: encoder.dim: expected an int in [1, 4,096], got 0"),
    (["--top-k", "0"], "--top-k: expected an int >= 1, got 0"),
    (["--sampler", "ucb", "--sampler-batch", "0"], "--sampler-batch: expected an int >= 1, got 0"),
    (["--sampler-batch", "0"], "--sampler-batch: expected an int >= 1, got 0"),
    (["--seed", "99999999999999999999999"], "--seed: expected an int in [0, "),
    (["--seed", "-1"], "--seed: expected an int in [0, "),
    (["--verify-top", "9"], "--verify-top: expected at most bootstrap.top_k = 5, got 9"),
    (["--num-samples", str(10**11)], "--num-samples: expected at most"),
    (["--set", "encoder.n_train=100000000000"], "encoder.n_train: expected at most"),
    (["--set", "encoder.name=foo"], "encoder.name: expected one of"),
    (["--set", "sampler.name=foo"], "sampler.name: expected one of"),
    (["--set", "trainer.epochs=-3"], "--set: trainer.epochs: expected an int >= 1, got -3"),
    (["--epochs", "0"], "--epochs: expected an int >= 1, got 0"),
    (["--set", "trainer.lr=0"], "--set: trainer.lr: expected a number > 0, got 0.0"),
    (["--device", "cuda:99"], "--device:"),
])
def test_bad_search_input_is_refused_before_any_work_or_file(tmp_path, capsys, monkeypatch, extra, needle):
    trained = []
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder", lambda *a, **k: trained.append(1))
    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda *a, **k: trained.append("data"))
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--out", str(out), "--quiet", *extra]) == 2
    _one_line_error(capsys, needle)
    assert not trained and not out.exists()  # nothing read, trained or created: the corrected command just runs


def test_device_cuda_without_cuda_is_refused_at_once(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    monkeypatch.setattr("gemgraph.app.runs.prepare_encoder", lambda *a, **k: pytest.fail("trained"))
    out = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--out", str(out), "--quiet", "--device", "cuda"]) == 2
    _one_line_error(capsys, "--device:", "CUDA is not available")
    assert not out.exists()
    assert main(["embed", "--device", "cuda", "--quiet"]) == 2
    _one_line_error(capsys, "--device:", "CUDA is not available")


def test_resume_to_one_iteration_is_refused(run, capsys):
    assert main(["search", "--resume", str(run), "--iterations", "1", "--quiet", "--device", "cpu"]) == 2
    _one_line_error(capsys, "--iterations: expected an int >= 2")


@pytest.mark.parametrize("extra,needle", [
    (["--nodes", "100000"], "--nodes: expected an int in [2, 256], got 100000"),
    (["--dim", "0"], "--dim: expected an int in [1, 4,096], got 0"),
    (["--train-graphs", "1"], "--train-graphs: expected an int >= 2, got 1"),
    (["--epochs", "0"], "--epochs: expected an int >= 1, got 0"),
    (["--time-limit", "-1"], "--time-limit: expected seconds >= 0"),
])
def test_bad_embed_input_is_refused_before_training(capsys, monkeypatch, extra, needle):
    monkeypatch.setattr("gemgraph.embedding.train_encoder", lambda *a, **k: pytest.fail("trained"))
    assert main(["embed", "--quiet", *extra]) == 2
    _one_line_error(capsys, needle)


@pytest.mark.parametrize("cmd", [["bootstrap", "{run}"], ["plot", "surface", "{run}"], ["embed"]])
def test_huge_seed_is_a_usage_error_naming_it(run, capsys, cmd):
    assert main([a.format(run=run) for a in cmd] + ["--seed", "99999999999999999999999"]) == 2
    err = capsys.readouterr().err
    assert "argument --seed: expected an int in [0, 9,223,372,036,854,775,807]" in err and "Traceback" not in err


# ---------------------------------------------------------------------- one line, whatever the file holds
def _foreign_torch_file(path: Path) -> None:
    import datetime

    import torch

    torch.save({"format": "gemgraph-encoder", "when": datetime.datetime(2020, 1, 1)}, path)


def test_foreign_encoder_file_is_one_line_without_colour_codes(run, capsys):
    _foreign_torch_file(run / "encoder.pt")
    assert main(["bootstrap", str(run), "--num-samples", "100"]) == 2
    err = _one_line_error(capsys, "encoder:", "is not a gemgraph encoder file", "datetime.datetime")
    assert "\x1b" not in err and "weights_only" not in err, err


def test_foreign_gemnet_file_is_one_line(run, capsys, tmp_path):
    _foreign_torch_file(run / "gemnet.pt")
    assert main(["export", str(run), "--format", "onnx", "--out", str(tmp_path / "g.onnx")]) == 2
    err = _one_line_error(capsys, "gemnet.pt", "not a readable torch checkpoint", "datetime.datetime")
    assert "\x1b" not in err and "weights_only" not in err, err


def test_damaged_store_is_one_line_and_the_details_at_v(run, capsys):
    import sqlite3

    path = store_path(run)
    con = sqlite3.connect(path)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'candidates_cell_hash'").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page + 7] = 77  # the index page's header: 77 fragmented bytes that are not there
    path.write_bytes(bytes(data))
    con = sqlite3.connect(path)
    report = [r[0] for r in con.execute("PRAGMA quick_check")]
    con.close()
    assert "\n" in report[0] and "Fragmentation" in report[0]  # SQLite's report: several lines
    assert main(["report", str(run), "--cv-folds", "0"]) == 2
    err = _one_line_error(capsys, "the database file is damaged (PRAGMA quick_check:", "-v")
    assert len(err) < 600, err
    assert main(["report", str(run), "--cv-folds", "0", "-v"]) == 2
    assert "PRAGMA quick_check:\n" in capsys.readouterr().err  # the full report


# ---------------------------------------------------------------------- the run's length, and config show
def test_resume_with_more_iterations_is_the_run_length_everywhere(run, capsys, monkeypatch):
    from gemgraph.search import NASGEM

    from .. import _search_helpers

    asked = []

    def stop(self, iterations):  # the search is asked for this many, then stopped (no training here)
        asked.append(iterations)
        raise KeyboardInterrupt

    monkeypatch.setattr(NASGEM, "run", stop)
    monkeypatch.setattr("gemgraph.app.runs.load_data", lambda cfg, root=None, **kw: _search_helpers.tiny_data())
    assert main(["report", str(run), "--cv-folds", "0"]) == 0
    assert "6/4 iterations" in capsys.readouterr().out  # the fixture: 6 candidates of a 4-iteration config
    assert main(["search", "--resume", str(run), "--iterations", "9", "--quiet", "--device", "cpu"]) == 130
    assert main(["report", str(run), "--cv-folds", "0"]) == 0
    assert "6/9 iterations" in capsys.readouterr().out
    assert main(["report", str(run), "--json", "--cv-folds", "0"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["iterations"] == 9 and rep["config"]["iterations"] == 4  # the stored config never changes
    assert main(["search", "--resume", str(run), "--quiet", "--device", "cpu"]) == 130  # continues to 9
    assert main(["search", "--resume", str(run), "--iterations", "7", "--quiet", "--device", "cpu"]) == 130
    capsys.readouterr()
    assert asked == [9, 9, 9]  # a resume never shortens the run


@pytest.mark.parametrize("text", ['{"trainer": {"epochs": -3}}', '{"nodes": 100000}', '{"seed": -1}'])
def test_config_show_validates_the_file(tmp_path, capsys, text):
    f = tmp_path / "cfg.json"
    f.write_text(text)
    assert main(["config", "show", "--config", str(f)]) == 2
    err = _one_line_error(capsys, "--config", "expected an int")
    assert capsys.readouterr().out == "", err
    assert main(["config", "show", "--set", "trainer.epochs=-3"]) == 2
    _one_line_error(capsys, "--set: trainer.epochs: expected an int >= 1, got -3")
