import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemgraph.search import LocalExecutor, NASGEM, cell_from_json, derive_seed, make_executor
from gemgraph.store import RunStore

from ._search_helpers import tiny_search

ROOT = Path(__file__).resolve().parents[1]


def test_derive_seed_streams():
    assert derive_seed(0, "candidate", 1) == derive_seed(0, "candidate", 1)
    assert len({derive_seed(0, "candidate", t) for t in range(100)}) == 100
    assert derive_seed(0, "bootstrap") != derive_seed(1, "bootstrap")


def test_run_end_to_end(tmp_path):
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"test": 1})
    s = tiny_search(store)
    res = s.run(5)
    assert res.iterations_done == 5 and len(store) == 5
    rows = store.candidates()
    assert [r["iteration"] for r in rows] == list(range(5))
    assert all(r["status"] in ("ok", "failed") for r in rows)
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(0 <= r["accuracy"] <= 1 and r["macs"] > 0 and r["params"] > 0 for r in ok)
    assert all(s.space.contains(r["cell"]) for r in rows)
    assert rows[0]["cell"] == s.candidate(0)
    # predictor checkpoints and the pick are stored
    assert store.latest_predictor() is not None
    pick = store.pick()
    assert cell_from_json(pick["best"]) == res.best
    assert len(res.top) == 3 and s.space.contains(res.best)
    preds = [e["predicted"] for e in res.top]
    assert preds == sorted(preds, reverse=True)
    store.close()


def test_verify_top_reranks(tmp_path):
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"test": 2})
    res = tiny_search(store, verify_top=2).run(4)
    verified = [e["verified"] for e in res.top[:2]]
    assert all(v is not None for v in verified) and verified == sorted(verified, reverse=True)
    store.close()


def test_resume_in_process_gives_same_pick(tmp_path):
    a = RunStore(tmp_path / "a.sqlite", create=True, config={"t": 3})
    full = tiny_search(a).run(6)
    b = RunStore(tmp_path / "b.sqlite", create=True, config={"t": 3})
    s1 = tiny_search(b)
    s1.evaluate_all(3)  # "interrupted" after 3
    s2 = tiny_search(b)  # a fresh process would rebuild everything from the config
    resumed = s2.run(6)
    assert [r["cell"] for r in a.candidates()] == [r["cell"] for r in b.candidates()]
    assert [r["score"] for r in a.candidates()] == [r["score"] for r in b.candidates()]
    assert resumed.best == full.best
    a.close(), b.close()


KILL_SCRIPT = r"""
import sys, time
sys.path.insert(0, {root!r})
from gemgraph.store import RunStore
from tests._search_helpers import tiny_search
store = RunStore({path!r}, create=True, config={{"t": 4}})
s = tiny_search(store)
s.run({iters})
print("DONE", flush=True)
"""


def _spawn(path, iters):
    code = KILL_SCRIPT.format(root=str(ROOT), path=str(path), iters=iters)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)


def test_sigkill_then_resume_same_pick(tmp_path):
    iters = 6
    ref = _spawn(tmp_path / "ref.sqlite", iters)
    out, err = ref.communicate(timeout=300)
    assert ref.returncode == 0, err.decode()[-2000:]
    victim = _spawn(tmp_path / "kill.sqlite", iters)
    deadline = time.time() + 240
    while time.time() < deadline:
        time.sleep(0.2)
        if (tmp_path / "kill.sqlite").exists():
            try:
                with RunStore(tmp_path / "kill.sqlite", readonly=True) as st:
                    if len(st) >= 2:
                        break
            except Exception:  # noqa: BLE001 - the victim may be mid-write: any failure means try again
                pass
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    with RunStore(tmp_path / "kill.sqlite", readonly=True) as st:
        n_before = len(st)
    assert 2 <= n_before < iters
    resumed = _spawn(tmp_path / "kill.sqlite", iters)  # same config: create=True opens it
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err.decode()[-2000:]
    with RunStore(tmp_path / "ref.sqlite", readonly=True) as a, RunStore(tmp_path / "kill.sqlite", readonly=True) as b:
        assert [r["cell"] for r in a.candidates()] == [r["cell"] for r in b.candidates()]
        assert [r["score"] for r in a.candidates()] == [r["score"] for r in b.candidates()]
        assert a.pick()["best"] == b.pick()["best"]


def test_bad_arguments(tmp_path):
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"t": 5})
    s = tiny_search(store)
    with pytest.raises(ValueError, match="iterations"):
        s.run(1)
    with pytest.raises(ValueError, match="space"):
        NASGEM("space", s.encoder, s.predictor, s.trainer, store)
    with pytest.raises(ValueError, match="trainer"):
        NASGEM(s.space, s.encoder, s.predictor, object(), store)
    with pytest.raises(ValueError, match="verify_top"):
        tiny_search(store, verify_top=5)
    with pytest.raises(ValueError, match="executor"):
        make_executor("dask")
    assert isinstance(make_executor("local"), LocalExecutor)
    with pytest.raises(ValueError, match="fewer than 2"):
        s.bootstrap()
    store.close()


def test_results_without_a_usable_score_are_stored_as_failed(tmp_path):
    import math

    from gemgraph.evaluate import Result

    class Scripted:
        """Iteration t's result: a NaN score reported as 'ok', a failure, then real scores."""

        def __init__(self):
            self.calls = 0

        def evaluate(self, cell):
            t, self.calls = self.calls, self.calls + 1
            if t == 0:
                return Result(float("nan"), 1e6, 10, float("nan"), 1.0)
            if t == 1:
                return Result(math.nan, None, None, math.nan, 0.0, status="failed", error="CUDA out of memory")
            return Result(0.5 + 0.01 * t, 2e6 + t, 20, 0.1 * t, 1.0)

    store = RunStore(tmp_path / "run.sqlite", create=True, config={"test": 2})
    s = tiny_search(store)
    s.trainer = Scripted()
    s.run(4)
    rows = {r["iteration"]: r for r in store.candidates()}
    got = (rows[0]["status"], rows[0]["error"], rows[0]["score"], rows[0]["macs"])
    assert got == ("failed", "non-finite score", None, 1e6)
    assert (rows[1]["status"], rows[1]["error"], rows[1]["macs"]) == ("failed", "CUDA out of memory", None)
    assert [rows[t]["status"] for t in (2, 3)] == ["ok", "ok"] and rows[3]["score"] == pytest.approx(0.3)
    assert store.pick() is not None  # the predictor was fitted on the two real scores


def test_guided_sampler_on_the_30_node_loop_is_resumable(tmp_path):
    """The acquisition sampler in the real proxy-training loop: distinct cells inside the space,
    the first ones the random sampler's, and an interrupted run resumes to the same candidates."""
    opts = {"n_init": 3, "batch_size": 2}
    a = RunStore(tmp_path / "a.sqlite", create=True, config={"t": 9})
    full = tiny_search(a, sampler="ucb", sampler_options=opts, verify_top=1).run(7)
    rows = a.candidates()
    assert [r["iteration"] for r in rows] == list(range(7))
    s = tiny_search(a, sampler="ucb", sampler_options=opts)
    assert all(s.space.contains(r["cell"]) for r in rows)
    assert len({r["cell"].prune() for r in rows}) == 7
    assert [r["cell"] for r in rows[:3]] == [s.candidate(t) for t in range(3)]
    assert "AcquisitionSampler" in a.pick()["sampler"]
    b = RunStore(tmp_path / "b.sqlite", create=True, config={"t": 9})
    tiny_search(b, sampler="ucb", sampler_options=opts).evaluate_all(4)  # stopped inside the first guided batch
    resumed = tiny_search(b, sampler="ucb", sampler_options=opts, verify_top=1).run(7)
    assert [r["cell"] for r in b.candidates()] == [r["cell"] for r in rows]
    assert resumed.best == full.best
    a.close(), b.close()


def test_an_incumbent_pick_reports_the_row_of_its_measured_score():
    """Two stored evaluations of one network: the pick stands with the better score, and its
    accuracy / MACs come from that same row (not from whichever row was stored last)."""
    from gemgraph import SearchSpace, encoders
    from gemgraph.memstore import MemoryStore
    from gemgraph.predictor import EfficiencyPredictor

    space = SearchSpace(6, max_concat=2)
    cells = space.sample(6, seed=0)
    store = MemoryStore()
    store.add_candidate(0, cells[0], macs=1e6, params=10, accuracy=0.95, score=9.0)  # the best, stored first
    for t, c in enumerate(cells[1:], start=1):
        store.add_candidate(t, c, macs=2e6, params=20, accuracy=0.3, score=0.1 * t)
    store.add_candidate(6, cells[0], macs=3e6, params=30, accuracy=0.5, score=0.5)  # same network, worse run
    search = NASGEM(space, encoders.create("raw", num_nodes=6), EfficiencyPredictor(n_members=2, max_epochs=20),
                    None, store, num_samples=50, top_k=2, checkpoint_every=0, progress=False)
    best = search.bootstrap().top[0]
    assert best["measured"] == 9.0
    assert (best["accuracy"], best["macs"], best["params"]) == (0.95, 1e6, 10)


def test_progress_bar_shows_the_best_stored_score(tmp_path, capsys):
    from gemgraph.memstore import MemoryStore

    store = MemoryStore()
    tiny_search(store, progress=True).evaluate_all(4)
    best = max(r["score"] for r in store.candidates(status="ok"))
    err = capsys.readouterr().err
    import re

    shown = re.findall(r"best_score=(-?[0-9.]+)", err)[-1]  # the bar's last postfix
    assert shown == f"{best:.3f}"
