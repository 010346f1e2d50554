"""Tests for gemgraph.store: RunStore (round trips, errors, durability under SIGKILL,
concurrent writers) and RunLock.

The multi-process tests take their child processes from a small pool started with the first
test of this module, so the children's imports (torch) overlap with the in-process tests.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gemgraph import Cell
from gemgraph.store import APPLICATION_ID, RunLock, RunStore, StoreError, cell_from_json, cell_hash, cell_to_json

ROOT = Path(__file__).resolve().parents[2]

# Shared by this module and the child processes (exec'd in both).
HELPERS = r'''
import numpy as np
from gemgraph import Cell

def make_cell(t):
    """A deterministic cell for iteration t: 3..8 nodes, ops on odd t."""
    rng = np.random.default_rng(1000 + t)
    n = 3 + t % 6
    adj = np.triu(rng.integers(0, 2, size=(n, n)), 1).astype(np.uint8)
    ops = None
    if t % 2:
        ops = ["input"] + [str(o) for o in rng.choice(["conv1x1", "sepconv3x3", "conv3x3"], n - 2)] + ["output"]
    return Cell(adj, ops)

def add(store, t, **kw):
    return store.add_candidate(t, make_cell(t), macs=1e6 * (t + 1), params=100 + t, accuracy=0.5 + t / 1e4,
                               score=0.01 * t, seconds=0.1 * t, status="ok", extra={"t": t}, **kw)
'''
_helpers: dict = {}
exec(HELPERS, _helpers)
make_cell, add = _helpers["make_cell"], _helpers["add"]

WORKER = r'''
import json, os, sys, time
sys.path.insert(0, {root!r})
from gemgraph.store import RunLock, RunStore
exec({helpers!r})
print("READY", flush=True)
cmd = json.loads(sys.stdin.readline())
if cmd["op"] == "lock":
    lock = RunLock(cmd["dir"]).acquire()
    print("LOCKED", flush=True)
    sys.stdin.readline()  # hold until killed (or stdin closes)
elif cmd["op"] == "write":
    store = RunStore(cmd["path"], create=True, config={{"test": "store"}})
    while not os.path.exists(cmd["go"]):
        time.sleep(0.005)
    for t in range(cmd["start"], cmd["stop"]):
        add(store, t)
        print(t, flush=True)
        if cmd.get("predictor_every") and t % cmd["predictor_every"] == 0:
            store.save_predictor(t, {{"w": np.random.rand(64, 64), "t": t}})
        store.set_meta("last_" + str(cmd["start"]), t)
        assert t in store.done_iterations()
    store.close()
    print("DONE", flush=True)
'''


class _Pool:
    """Pre-started worker processes (each has imported gemgraph and waits for one command)."""

    def __init__(self, n: int) -> None:
        code = WORKER.format(root=str(ROOT), helpers=HELPERS)
        self._code = code
        self._procs = [self._spawn() for _ in range(n)]
        self._all = list(self._procs)

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", self._code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=ROOT)

    def get(self, cmd: dict) -> subprocess.Popen:
        """A ready worker, sent ``cmd``."""
        p = self._procs.pop() if self._procs else self._spawn()
        self._all.append(p)
        line = p.stdout.readline()
        assert line.strip() == b"READY", (line, p.stderr.read().decode()[-3000:] if p.poll() is not None else "")
        p.stdin.write((json.dumps(cmd) + "\n").encode())
        p.stdin.flush()
        return p

    def close(self) -> None:
        for p in self._all:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                f.close()


#: Worker processes each multi-process test takes from the pool.
WORKERS_NEEDED = {
    "test_sigkill_while_writing_loses_at_most_the_candidate_in_flight": 1,
    "test_two_processes_write_one_store": 1,
    "test_runlock_between_processes": 1,
}


@pytest.fixture(scope="module", autouse=True)
def pool(request):
    """Start, with this module's first test, the workers its selected tests will need."""
    selected = [i for i in request.session.items if i.module is request.module]
    pl = _Pool(sum(WORKERS_NEEDED.get(getattr(i, "originalname", i.name), 0) for i in selected))
    yield pl
    pl.close()


def new_store(tmp_path, name="run.sqlite", config=None) -> RunStore:
    return RunStore(tmp_path / name, create=True, config=config or {"test": "store", "seed": 0})


# ---------------------------------------------------------------------- round trips
def test_candidates_round_trip(tmp_path):
    store = new_store(tmp_path)
    assert len(store) == 0 and store.candidates() == [] and store.done_iterations() == set()
    ids = [add(store, t) for t in (3, 0, 1, 2, 7)]  # stored in any order, listed by iteration
    assert ids == sorted(ids) and len(set(ids)) == 5
    store.close()
    with RunStore(tmp_path / "run.sqlite") as again:
        rows = again.candidates()
        assert [r["iteration"] for r in rows] == [0, 1, 2, 3, 7]
        assert again.done_iterations() == {0, 1, 2, 3, 7} and len(again) == 5
        for r in rows:
            t = r["iteration"]
            cell = make_cell(t)
            assert isinstance(r["cell"], Cell) and r["cell"] == cell and (r["cell"].ops is None) == (t % 2 == 0)
            assert r["cell_hash"] == cell_hash(cell)
            assert r["macs"] == 1e6 * (t + 1) and r["params"] == 100 + t and isinstance(r["params"], int)
            assert r["accuracy"] == 0.5 + t / 1e4 and r["score"] == 0.01 * t and r["seconds"] == 0.1 * t
            assert r["status"] == "ok" and r["error"] is None and r["extra"] == {"t": t}
            assert r["created_at"].endswith("+00:00")
        assert {r["id"] for r in rows} == set(ids)
        assert again.candidate(7)["cell"] == make_cell(7) and again.candidate(5) is None
        assert add(again, 8) > max(ids)  # ids keep increasing across sessions
        assert repr(again) == f"RunStore({str(tmp_path / 'run.sqlite')!r}, candidates=6, schema=2)"
    assert repr(again).endswith("closed)")


def test_cell_json_and_hash():
    a = Cell(np.triu(np.ones((4, 4), dtype=np.uint8), 1), ["input", "conv1x1", "conv3x3-bn-relu", "output"])
    assert cell_to_json(a) == {"n": 4, "edges": [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]],
                               "ops": ["input", "conv1x1", "conv3x3", "output"]}
    assert cell_from_json(json.loads(json.dumps(cell_to_json(a)))) == a
    b = Cell(a.adjacency)  # same graph without ops
    assert cell_hash(a) != cell_hash(b) and cell_hash(b) == cell_hash(Cell(a.to_numpy()))
    assert cell_hash(Cell([[0, 1], [0, 0]])) != cell_hash(Cell([[0, 0], [0, 0]]))
    assert len(cell_hash(a)) == 40 and cell_hash(a) == cell_hash(cell_from_json(cell_to_json(a)))


def test_nan_failed_and_extra(tmp_path):
    store = new_store(tmp_path)
    c = make_cell(4)
    store.add_candidate(0, c, macs=np.float32(2.5e6), params=np.int64(7), accuracy=float("nan"), score=np.nan,
                        seconds=float("inf"), status="ok")
    store.add_candidate(1, c, macs=None, params=None, accuracy=None, score=None, seconds=1.5, status="failed",
                        error="CUDA out of memory\nTraceback ...", extra={"loss": np.float64(2.3), "nan": float("nan"),
                                                                         "epochs": [1, 2], "arr": np.arange(3)})
    store.add_candidate(2, c, macs=1.0, params=1, accuracy=0.9, score=0.8, seconds=1.0, status="ok")
    ok, failed = store.candidates("ok"), store.candidates(status="failed")
    assert [r["iteration"] for r in ok] == [0, 2] and [r["iteration"] for r in failed] == [1]
    r0 = ok[0]
    assert r0["accuracy"] is None and r0["score"] is None and r0["seconds"] is None
    assert r0["macs"] == 2.5e6 and r0["params"] == 7 and r0["extra"] == {}
    f = failed[0]
    assert f["error"] == "CUDA out of memory\nTraceback ..." and f["macs"] is None and f["params"] is None
    assert f["extra"] == {"loss": 2.3, "nan": None, "epochs": [1, 2], "arr": [0, 1, 2]}
    s = store.summary()
    assert (s["iterations_done"], s["n_ok"], s["n_failed"]) == (3, 2, 1)
    assert s["best"]["iteration"] == 2  # the NaN score is not a best


def test_predictor_checkpoint_round_trip(tmp_path):
    import torch
    from gemgraph.predictor import EfficiencyPredictor

    rng = np.random.default_rng(0)
    Z, y = rng.random((10, 3)), rng.random(10)
    p = EfficiencyPredictor(max_epochs=5).fit(Z, y)
    store = new_store(tmp_path)
    assert store.latest_predictor() is None
    store.save_predictor(3, {"old": torch.zeros(2)})
    store.save_predictor(5, p.state_dict())
    store.save_predictor(4, {"np": np.ones(3), "f": np.float64(0.5), "i": np.int64(2)})  # numpy -> weights_only-safe
    store.close()
    with RunStore(tmp_path / "run.sqlite", readonly=True) as ro:
        it, state = ro.latest_predictor()
        assert it == 5 and ro.predictor_iterations() == [3, 4, 5]
        q = EfficiencyPredictor.from_state_dict(state)
        Zt = rng.random((20, 3))
        np.testing.assert_array_equal(p.predict(Zt), q.predict(Zt))
        s4 = ro.predictor(4)
        assert torch.equal(s4["np"], torch.ones(3, dtype=torch.float64)) and s4["f"] == 0.5 and s4["i"] == 2
        assert ro.predictor(9) is None and ro.summary()["latest_predictor"] == 5
    with RunStore(tmp_path / "run.sqlite") as rw:
        rw.save_predictor(5, {"new": torch.ones(1)})  # same iteration: replaced
        assert rw.latest_predictor()[1] == {"new": torch.ones(1)} and rw.predictor_iterations() == [3, 4, 5]
        with pytest.raises(ValueError, match="state"):
            rw.save_predictor(6, [1, 2])


def test_pick_meta_summary(tmp_path):
    store = new_store(tmp_path)
    assert store.pick() is None and store.get_meta("status") is None and store.get_meta("x", 3) == 3
    s = store.summary()
    assert s == {"iterations_done": 0, "n_ok": 0, "n_failed": 0, "best": None, "latest_predictor": None, "pick": None}
    for t in range(4):
        add(store, t)
    store.add_candidate(4, make_cell(4), macs=1, params=1, accuracy=None, score=None, seconds=1, status="failed",
                        error="boom")
    store.set_meta("status", "running")
    store.set_meta("encoder_fidelity", {"pearson": 0.93, "rmse": np.float32(0.05)})
    store.set_meta("status", "finished")
    pick = {"best": cell_to_json(make_cell(2)), "top": [{"predicted": 0.7, "verified": None}], "seed": 0}
    store.set_pick({"best": None})
    store.set_pick(pick)
    store.close()
    with RunStore(tmp_path / "run.sqlite", readonly=True) as ro:
        assert ro.pick() == pick and cell_from_json(ro.pick()["best"]) == make_cell(2)
        assert ro.get_meta("status") == "finished"
        assert ro.get_meta("encoder_fidelity") == {"pearson": 0.93, "rmse": pytest.approx(0.05)}
        assert set(ro.meta()) == {"status", "encoder_fidelity"}
        s = ro.summary()
        assert (s["iterations_done"], s["n_ok"], s["n_failed"]) == (5, 4, 1)
        best = ro.candidate(3)
        assert s["best"] == {"id": best["id"], "iteration": 3, "score": 0.03, "accuracy": 0.5003, "macs": 4e6}
        assert s["pick"] == pick and ro.integrity_check() == "ok"
        assert ro.info()["schema_version"] == "2" and ro.config == {"test": "store", "seed": 0}


def test_connection_settings_and_odd_paths(tmp_path):
    path = tmp_path / "my run #1?x=y" / "run.sqlite"
    path.parent.mkdir()
    with RunStore(path, create=True, config={"a": 1}) as st:
        pragma = lambda name: st._conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
        assert pragma("journal_mode") == "wal" and pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1 and pragma("busy_timeout") == 30000
        add(st, 0)
    with RunStore(str(path), readonly=True) as ro:  # the mode=ro URI escapes '#', '?', ' '
        assert len(ro) == 1 and ro._conn.execute("PRAGMA query_only").fetchone()[0] == 1


def test_lock_timeout_is_a_store_error(tmp_path):
    new_store(tmp_path).close()  # closed: back in the rollback journal
    other = sqlite3.connect(tmp_path / "run.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError, match=r"locked by another connection for more than 0.2 s"):
        RunStore(tmp_path / "run.sqlite", timeout=0.2)  # cannot switch to WAL while another writer holds the lock
    other.execute("ROLLBACK")
    with RunStore(tmp_path / "run.sqlite", timeout=0.2) as st:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the write lock
        assert len(st) == 0  # readers are not blocked (WAL)
        t0 = time.perf_counter()
        with pytest.raises(StoreError, match=r"locked by another connection for more than 0.2 s"):
            add(st, 0)
        assert time.perf_counter() - t0 >= 0.15
        other.execute("ROLLBACK")
        add(st, 0)
        assert len(st) == 1
    other.close()
    with pytest.raises(ValueError, match="timeout"):
        RunStore(tmp_path / "run.sqlite", timeout=-1)


def test_config_create_and_reopen(tmp_path):
    cfg = {"preset": "quick", "ops": ("conv1x1", "sepconv3x3"), "lam": np.float64(0.1), "seed": np.int64(0)}
    store = RunStore(tmp_path / "run.sqlite", create=True, config=cfg)
    assert store.config == {"preset": "quick", "ops": ["conv1x1", "sepconv3x3"], "lam": 0.1, "seed": 0}
    store.config["preset"] = "mutated"  # a copy
    add(store, 0)
    store.close()
    # creating again with an equal config just opens it (tuples vs lists do not matter)
    with RunStore(tmp_path / "run.sqlite", create=True, config=dict(cfg)) as again:
        assert len(again) == 1 and again.config["preset"] == "quick"
    with pytest.raises(StoreError, match="another config"):
        RunStore(tmp_path / "run.sqlite", create=True, config={**cfg, "seed": 1})
    with pytest.raises(StoreError, match="another config"):
        RunStore(tmp_path / "run.sqlite", config={"other": 1})
    with RunStore(tmp_path / "run.sqlite", readonly=True) as ro:
        for write in (lambda: ro.set_meta("k", 1), lambda: add(ro, 1), lambda: ro.set_pick({})):
            with pytest.raises(StoreError, match="read-only"):
                write()
    store = RunStore(tmp_path / "run.sqlite")
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        len(store)
    with pytest.raises(StoreError, match="closed"):
        store.candidates()


def test_concurrent_create_and_thread_writers(tmp_path):
    path = tmp_path / "run.sqlite"
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(k: int) -> None:
        try:
            barrier.wait()
            with RunStore(path, create=True, config={"test": "threads"}) as st:  # all create at once
                for t in range(k, 80, 4):
                    add(st, t)
                    st.set_meta(f"w{k}", t)
                    st.candidates("ok")
        except BaseException as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    with RunStore(path, readonly=True) as ro:
        rows = ro.candidates()
        assert [r["iteration"] for r in rows] == list(range(80)) and len({r["id"] for r in rows}) == 80
        assert all(r["cell"] == make_cell(r["iteration"]) for r in rows)
        assert ro.integrity_check() == "ok" and ro.meta() == {f"w{k}": 76 + k for k in range(4)}


def test_one_store_shared_by_threads(tmp_path):
    store = new_store(tmp_path)
    ths = [threading.Thread(target=lambda k=k: [add(store, t) for t in range(k, 40, 2)]) for k in range(2)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    assert sorted(store.done_iterations()) == list(range(40))


# ---------------------------------------------------------------------- errors
def test_open_errors(tmp_path):
    missing = tmp_path / "nope" / "run.sqlite"
    with pytest.raises(FileNotFoundError, match="nope"):
        RunStore(missing)
    with pytest.raises(FileNotFoundError, match="nope"):
        RunStore(missing, readonly=True)
    assert not missing.exists()

    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(np.random.default_rng(0).bytes(8192))
    with pytest.raises(StoreError, match="junk.sqlite.*not an SQLite database"):
        RunStore(junk)
    with pytest.raises(StoreError, match="junk.sqlite"):
        RunStore(junk, create=True, config={})
    corrupt = tmp_path / "corrupt.sqlite"  # a real store with a damaged header
    new_store(tmp_path, "corrupt.sqlite").close()
    data = bytearray(corrupt.read_bytes())
    data[:16] = b"x" * 16
    corrupt.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="corrupt.sqlite"):
        RunStore(corrupt)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n" * 100)
    with pytest.raises(StoreError, match="notes.txt"):
        RunStore(text, readonly=True)

    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE users (name TEXT)")
    con.commit()
    con.close()
    before = foreign.read_bytes()
    for kw in ({}, {"readonly": True}, {"create": True, "config": {}}):
        with pytest.raises(StoreError, match=r"foreign.db: is an SQLite database but not a gemgraph run store"):
            RunStore(foreign, **kw)
    assert foreign.read_bytes() == before  # untouched (not switched to WAL)

    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="empty"):
        RunStore(empty)
    with RunStore(empty, create=True, config={"a": 1}) as st:  # e.g. left by a kill while creating
        assert st.config == {"a": 1}

    with pytest.raises(StoreError, match="directory"):
        RunStore(tmp_path)
    with pytest.raises(ValueError, match="config"):
        RunStore(tmp_path / "x.sqlite", create=True)
    with pytest.raises(ValueError, match="config"):
        RunStore(tmp_path / "x.sqlite", create=True, config=[1])
    with pytest.raises(ValueError, match="readonly"):
        RunStore(tmp_path / "x.sqlite", create=True, config={}, readonly=True)
    with pytest.raises(ValueError, match="config"):
        RunStore(tmp_path / "x.sqlite", create=True, config={"f": object()})


@pytest.mark.parametrize("version,word", [(99, "newer"), (3, "newer"), (0, "older")])
def test_other_schema_version(tmp_path, version, word):
    path = tmp_path / "run.sqlite"
    new_store(tmp_path).close()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert con.execute("PRAGMA user_version").fetchone()[0] == RunStore.SCHEMA_VERSION
    con.execute(f"PRAGMA user_version = {version}")
    con.close()
    for kw in ({}, {"readonly": True}, {"create": True, "config": {"test": "store", "seed": 0}}):
        with pytest.raises(StoreError, match=rf"schema version {version}, but this gemgraph reads schema version 2 "
                                             rf"\(it was written by an? {word} gemgraph"):
            RunStore(path, **kw)


def test_inconsistent_schema_info(tmp_path):
    new_store(tmp_path).close()
    con = sqlite3.connect(tmp_path / "run.sqlite")
    con.execute("DROP TRIGGER store_info_no_update")
    con.execute("UPDATE store_info SET value = '7' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="inconsistent.*'7'"):
        RunStore(tmp_path / "run.sqlite")


def test_write_errors(tmp_path):
    store = new_store(tmp_path)
    cid = add(store, 0)
    with pytest.raises(StoreError, match=rf"iteration 0 is already stored \(candidate id {cid}\)"):
        add(store, 0)
    c = make_cell(1)
    kw = dict(macs=1.0, params=1, accuracy=0.5, score=0.1, seconds=1.0)
    with pytest.raises(ValueError, match="status: expected one of \\['ok', 'failed'\\], got 'done'"):
        store.add_candidate(1, c, **kw, status="done")
    with pytest.raises(ValueError, match="status"):
        store.candidates(status="OK")
    with pytest.raises(ValueError, match="iteration"):
        store.add_candidate(-1, c, **kw, status="ok")
    with pytest.raises(ValueError, match="iteration"):
        store.add_candidate(1.0, c, **kw, status="ok")
    with pytest.raises(ValueError, match="cell"):
        store.add_candidate(1, np.eye(3), **kw, status="ok")
    with pytest.raises(ValueError, match="params"):
        store.add_candidate(1, c, **{**kw, "params": -3}, status="ok")
    with pytest.raises(ValueError, match="accuracy"):
        store.add_candidate(1, c, **{**kw, "accuracy": "high"}, status="ok")
    with pytest.raises(ValueError, match="extra"):
        store.add_candidate(1, c, **kw, status="ok", extra={"f": object()})
    with pytest.raises(ValueError, match="key"):
        store.set_meta("", 1)
    with pytest.raises(ValueError, match="payload"):
        store.set_pick([1])
    assert store.done_iterations() == {0} and store.integrity_check() == "ok"
    # store_info (config, schema) cannot be changed through SQL either
    with pytest.raises(sqlite3.DatabaseError, match="immutable"):
        store._conn.execute("UPDATE store_info SET value = '{}' WHERE key = 'config'")


# ---------------------------------------------------------------------- processes
def test_sigkill_while_writing_loses_at_most_the_candidate_in_flight(tmp_path, pool):
    path, go = tmp_path / "run.sqlite", tmp_path / "go"
    go.touch()
    p = pool.get({"op": "write", "path": str(path), "go": str(go), "start": 0, "stop": 10**9, "predictor_every": 3})
    printed = []
    deadline = time.time() + 60
    while len(printed) < 40 and time.time() < deadline:
        line = p.stdout.readline()
        assert line, p.stderr.read().decode()[-3000:]
        printed.append(int(line))
    os.kill(p.pid, signal.SIGKILL)  # while it is writing (the loop does nothing else)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    printed += [int(x) for x in p.stdout.read().split()]  # lines written before the kill
    last = printed[-1]
    assert printed == list(range(last + 1))
    for kw in ({"readonly": True}, {}):  # a reader and a resuming writer both open it
        with RunStore(path, **kw) as st:
            assert st.integrity_check() == "ok"
            rows = st.candidates()
            its = [r["iteration"] for r in rows]
            assert its == list(range(len(its))) and last + 1 <= len(its) <= last + 2  # at most 1 in flight
            for r in rows:
                t = r["iteration"]
                assert r["cell"] == make_cell(t) and r["score"] == 0.01 * t and r["extra"] == {"t": t}
            m = its[-1]  # checkpoints follow their candidate: the last one may be lost with it
            assert st.latest_predictor()[0] in ({m, m - 3} if m % 3 == 0 else {m - m % 3})
    with RunStore(path) as st:  # resume: the next iteration is accepted
        add(st, len(its))
        assert len(st) == len(its) + 1


def test_two_processes_write_one_store(tmp_path, pool):
    path, go = tmp_path / "run.sqlite", tmp_path / "go"
    p = pool.get({"op": "write", "path": str(path), "go": str(go), "start": 1000, "stop": 1050})
    with RunStore(path, create=True, config={"test": "store"}) as mine:  # this process is the other writer
        time.sleep(0.2)
        go.touch()  # both start writing at once
        for t in range(50):
            add(mine, t)
            mine.set_meta("last_0", t)
            assert t in mine.done_iterations()
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()[-3000:]
    assert out.split()[-1] == b"DONE"
    with RunStore(path, readonly=True) as st:
        assert st.integrity_check() == "ok"
        rows = st.candidates()
        assert [r["iteration"] for r in rows] == list(range(50)) + list(range(1000, 1050))
        assert len({r["id"] for r in rows}) == 100
        assert all(r["cell"] == make_cell(r["iteration"]) for r in rows)
        assert st.meta() == {"last_0": 49, "last_1000": 1049}


def test_runlock_between_processes(tmp_path, pool):
    run = tmp_path / "RUN"
    run.mkdir()
    p = pool.get({"op": "lock", "dir": str(run)})
    assert p.stdout.readline().strip() == b"LOCKED", p.stderr.read().decode()[-3000:]
    lock = RunLock(run)
    with pytest.raises(StoreError, match=rf"run {run} is in use by PID {p.pid} on \S+ \(since "):
        lock.acquire()
    assert not lock.locked and lock.holder()["pid"] == p.pid
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert lock.holder() is None  # the OS dropped the dead process's lock
    with lock:
        assert lock.locked and "held" in repr(lock)
        assert json.loads((run / RunLock.HOLDER_FILENAME).read_text())["pid"] == os.getpid()
    assert not lock.locked and "free" in repr(lock)


def test_runlock_in_process(tmp_path):
    run = tmp_path / "RUN"
    with pytest.raises(FileNotFoundError, match="RUN"):
        RunLock(run).acquire()
    run.mkdir()
    a, b = RunLock(run), RunLock(run)
    with a:
        with pytest.raises(StoreError, match=f"in use by PID {os.getpid()}"):
            b.acquire()
        with pytest.raises(StoreError, match="already acquired"):
            a.acquire()
        assert b.holder()["pid"] == os.getpid()
    assert b.acquire() is b and b.locked
    b.release()
    b.release()  # idempotent
    assert RunLock(run).holder() is None


# ---------------------------------------------------------------------- history, integrity, journal
# written by gemgraph's schema-1 store (3 candidates, a pick)
FIXTURE_V1 = ROOT / "tests" / "data" / "run_schema1.sqlite"


def test_pick_history_keeps_every_pick(tmp_path):
    store = new_store(tmp_path)
    first = {"best": cell_to_json(make_cell(2)), "top": [{"predicted": 0.7, "verified": 0.65},
                                                        {"predicted": 0.6, "verified": None}],
             "num_samples": 500, "seed": 0, "iterations_done": 4}
    second = {"best": cell_to_json(make_cell(3)), "top": [{"predicted": 0.9, "verified": None}], "num_samples": 50,
              "seed": 7, "iterations_done": 4}
    a = store.set_pick(first)
    b = store.set_pick(second, settings={"command": "bootstrap"})
    assert b > a and store.pick() == second
    hist = store.picks()
    assert [h["id"] for h in hist] == [a, b] and [h["payload"] for h in hist] == [first, second]
    assert hist[0]["settings"] == {"num_samples": 500, "seed": 0, "iterations_done": 4, "top_k": 2, "verified": 1}
    assert hist[1]["settings"] == {"num_samples": 50, "seed": 7, "iterations_done": 4, "top_k": 1, "verified": 0,
                                   "command": "bootstrap"}
    assert hist[0]["created_at"] <= hist[1]["created_at"]
    for sql in ("UPDATE picks SET payload = '{}'", "DELETE FROM picks"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store._conn.execute(sql)
    with pytest.raises(ValueError, match="settings"):
        store.set_pick(first, settings=[1])
    store.close()
    with RunStore(tmp_path / "run.sqlite", readonly=True) as ro:
        assert ro.pick() == second and [h["payload"] for h in ro.picks()] == [first, second]
        assert ro.summary()["pick"] == second


def _flip_float_bit(path: Path, value: float) -> None:
    """Flip the lowest mantissa bit of the (big-endian) REAL ``value`` in ``path``, in every copy
    (the table row and the score index), so that the file stays consistent and only the value changed."""
    import struct

    data = bytearray(path.read_bytes())
    pat = struct.pack(">d", value)
    hits = [k for k in range(len(data) - 7) if data[k:k + 8] == pat]
    assert hits, "the value must be stored in the file"
    for k in hits:
        data[k + 7] ^= 1
    path.write_bytes(bytes(data))


def test_bit_flip_in_a_candidate_row_is_reported_naming_the_row(tmp_path):
    store = new_store(tmp_path)
    for t in range(5):
        add(store, t)
    cid = store.add_candidate(5, make_cell(5), macs=2e6, params=9, accuracy=0.7, score=0.123456789, seconds=1.0,
                              status="ok")
    store.close()
    path = tmp_path / "run.sqlite"
    assert not Path(str(path) + "-wal").exists()  # closed: everything is in the main file
    _flip_float_bit(path, 0.123456789)  # bit rot: the page stays well-formed, the value changes
    with RunStore(path, readonly=True) as ro:  # the b-tree is intact: opening works
        assert len(ro) == 6 and ro.candidate(4)["iteration"] == 4
        for read in (ro.candidates, ro.summary, lambda: ro.candidate(5)):
            with pytest.raises(StoreError, match=rf"candidate id {cid} \(iteration 5\) fails its checksum"):
                read()
    with RunStore(path, readonly=True, verify=False) as ro:  # salvage: read it anyway
        assert ro.candidate(5)["score"] != 0.123456789


def test_bit_flip_in_a_predictor_checkpoint_is_reported(tmp_path):
    import torch

    store = new_store(tmp_path)
    store.save_predictor(3, {"w": torch.tensor([0.123456789], dtype=torch.float64)})
    store.close()
    data = bytearray((tmp_path / "run.sqlite").read_bytes())
    k = data.find(np.float64(0.123456789).tobytes())  # torch stores little-endian
    assert k > 0
    data[k] ^= 1
    (tmp_path / "run.sqlite").write_bytes(bytes(data))
    with RunStore(tmp_path / "run.sqlite", readonly=True) as ro:
        with pytest.raises(StoreError, match="predictor checkpoint of iteration 3 fails its checksum"):
            ro.latest_predictor()


def test_damaged_btree_is_reported_on_open(tmp_path):
    store = new_store(tmp_path)
    for t in range(40):
        add(store, t)
    store.close()
    path = tmp_path / "run.sqlite"
    con = sqlite3.connect(path)
    page = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'candidates'").fetchone()[0]
    con.close()
    data = bytearray(path.read_bytes())
    off = (root - 1) * page
    data[off + 3: off + 5] = b"\xff\xff"  # the table's root page claims 65535 cells
    path.write_bytes(bytes(data))
    for kw in ({}, {"readonly": True}):
        with pytest.raises(StoreError, match=r"run.sqlite: .*(damaged|corrupt)"):
            RunStore(path, **kw)


def test_schema_1_store_is_read_unchecked_and_migrated_for_writing(tmp_path):
    import shutil

    path = tmp_path / "run.sqlite"
    shutil.copy(FIXTURE_V1, path)
    with RunStore(path, readonly=True) as ro:  # read as it is: no checksums to check
        assert repr(ro).endswith("schema=1, readonly)") and ro.info()["schema_version"] == "1"
        rows = ro.candidates()
        assert [r["iteration"] for r in rows] == [0, 1, 2] and ro.summary()["best"]["iteration"] == 2
        old_pick = ro.pick()
        assert old_pick["top"][0]["verified"] == 0.25 and [h["payload"] for h in ro.picks()] == [old_pick]
        assert ro.latest_predictor()[0] == 2
    assert path.read_bytes() == FIXTURE_V1.read_bytes()  # untouched
    with RunStore(path) as rw:  # migrated in place
        assert rw.info()["schema_version"] == "2" and "migrated_from_schema_1" in rw.info()
        assert [r["score"] for r in rw.candidates()] == [r["score"] for r in rows]
        assert rw.picks()[0]["payload"] == old_pick and rw.picks()[0]["settings"]["verified"] == 1
        rw.set_pick({"best": None, "top": []})
        assert len(rw.picks()) == 2 and rw.picks()[0]["payload"] == old_pick
        assert rw.latest_predictor()[0] == 2
        checks = rw._conn.execute("SELECT checksum FROM candidates").fetchall()
        assert all(len(c[0]) == 32 for c in checks)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 2
    con.close()


def _journal_mode_in_header(path: Path) -> str:
    """SQLite's file header bytes 18-19: 1, 1 = rollback journal; 2, 2 = WAL."""
    b = path.read_bytes()[18:20]
    return {b"\x01\x01": "rollback", b"\x02\x02": "wal"}[b]


def test_closed_store_is_one_file_that_opens_on_read_only_media(tmp_path):
    from .._readonly import read_only_dir

    path = tmp_path / "run.sqlite"
    store = new_store(tmp_path)
    add(store, 0)
    reader = RunStore(path, readonly=True)
    store.close()  # a reader is still open: SQLite keeps WAL mode
    assert _journal_mode_in_header(path) == "wal"
    reader.close()
    with RunStore(path) as again:
        add(again, 1)
        assert again._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # writers use WAL
    assert _journal_mode_in_header(path) == "rollback"
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    media = tmp_path / "media"
    media.mkdir()
    (media / "run.sqlite").write_bytes(path.read_bytes())
    with read_only_dir(media):
        with RunStore(media / "run.sqlite", readonly=True) as ro:
            assert [r["iteration"] for r in ro.candidates()] == [0, 1]
        with pytest.raises(StoreError, match="read-only"):
            RunStore(media / "run.sqlite")
        assert sorted(p.name for p in media.iterdir()) == ["run.sqlite"]


def test_wal_mode_store_without_its_wal_opens_on_read_only_media(tmp_path):
    from .._readonly import read_only_dir

    store = new_store(tmp_path)
    add(store, 0)
    store.close()
    media = tmp_path / "media"
    media.mkdir()
    (media / "run.sqlite").write_bytes((tmp_path / "run.sqlite").read_bytes())
    con = sqlite3.connect(media / "run.sqlite")  # e.g. a copy made by an older gemgraph: still in WAL mode
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    assert _journal_mode_in_header(media / "run.sqlite") == "wal"
    with read_only_dir(media):
        with RunStore(media / "run.sqlite", readonly=True) as ro:
            assert len(ro) == 1 and ro.candidate(0)["iteration"] == 0


class _Evil:
    """Unpickling this would run code (create a marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_predictor_checkpoint_is_never_unpickled(tmp_path):
    """Even with its checksum forged to match, a checkpoint holding pickled code is refused, not run."""
    import io

    import torch

    from gemgraph.store.schema import blob_checksum as _blob_checksum

    store = new_store(tmp_path)
    store.save_predictor(0, {"w": torch.zeros(2)})
    marker = tmp_path / "ran"
    buf = io.BytesIO()
    torch.save({"w": _Evil(marker)}, buf)
    blob = buf.getvalue()
    store._conn.execute("UPDATE predictors SET state = ?, checksum = ? WHERE iteration = 0",
                        (blob, _blob_checksum(blob)))
    with pytest.raises(StoreError, match="predictor checkpoint of iteration 0 cannot be loaded"):
        store.latest_predictor()
    assert not marker.exists()
    store.close()


def test_runlock_ignores_a_stale_holder_record(tmp_path):
    """A holder record left by a killed search does not block the run: the lock itself
    (``filelock`` on ``RUN/.lock``) decides, and the new holder overwrites the record."""
    run = tmp_path / "RUN"
    run.mkdir()
    (run / RunLock.HOLDER_FILENAME).write_text(json.dumps({"pid": 999999, "host": "gone", "started": "then"}))
    lock = RunLock(run)
    assert lock.holder() is None
    with lock:
        assert json.loads((run / RunLock.HOLDER_FILENAME).read_text())["pid"] == os.getpid()
    assert not (run / RunLock.HOLDER_FILENAME).exists()


def test_serialisation_is_public():
    from gemgraph import store
    from gemgraph.store import serialise

    assert store.to_plain is serialise.to_plain and not hasattr(store, "_plain")  # the old private name is gone
    assert store.to_plain({"a": (np.float32(1.5), float("nan")), 2: np.arange(2)}) == {"a": [1.5, None], "2": [0, 1]}


# ---------------------------------------------------------------------- picks and meta carry checksums too
def _edit_text_in_file(path: Path, old: str, new: str) -> None:
    """A same-length edit of ``old`` to ``new`` in every copy inside ``path`` (the page stays
    well-formed, so PRAGMA quick_check passes: only a checksum can tell)."""
    assert len(old.encode()) == len(new.encode()) and old != new
    data = path.read_bytes()
    assert old.encode() in data, "the text must be stored in the file"
    path.write_bytes(data.replace(old.encode(), new.encode()))


def _pick_store(tmp_path: Path) -> Path:
    store = new_store(tmp_path)
    store.set_pick({"best": cell_to_json(make_cell(2)), "top": [{"predicted": 0.7, "measured": 0.2350}], "seed": 0})
    store.set_meta("status", "finished")
    store.close()
    return tmp_path / "run.sqlite"


@pytest.mark.parametrize("old,new", [('"measured":0.235', '"measured":0.935'), ("[0,2]", "[0,3]")])
def test_same_length_edit_of_a_pick_is_reported(tmp_path, old, new):
    path = _pick_store(tmp_path)
    with RunStore(path, readonly=True) as ro:
        assert old in json.dumps(ro.pick(), separators=(",", ":"))
    _edit_text_in_file(path, old, new)
    with RunStore(path, readonly=True) as ro:  # the b-tree is intact: opening works
        for read in (ro.pick, ro.picks, ro.summary):
            with pytest.raises(StoreError, match=r"pick id 1 fails its checksum") as e:
                read()
            assert "\n" not in str(e.value)
    with RunStore(path, readonly=True, verify=False) as ro:  # salvage: read it anyway
        assert new in json.dumps(ro.pick(), separators=(",", ":"))


def test_same_length_edit_of_a_meta_value_is_reported(tmp_path):
    path = _pick_store(tmp_path)
    _edit_text_in_file(path, '"finished"', '"finishes"')
    with RunStore(path, readonly=True) as ro:
        for read in (lambda: ro.get_meta("status"), ro.meta):
            with pytest.raises(StoreError, match=r"meta value 'status' fails its checksum"):
                read()
        assert ro.get_meta("missing", 3) == 3


def test_store_made_before_pick_and_meta_checksums_opens_and_gets_them(tmp_path):
    path = _pick_store(tmp_path)
    con = sqlite3.connect(path)  # as gemgraph wrote schema 2 before picks and meta carried checksums
    con.execute("DROP TRIGGER picks_no_update")
    con.execute("ALTER TABLE picks DROP COLUMN checksum")
    con.execute("CREATE TRIGGER picks_no_update BEFORE UPDATE ON picks "
                "BEGIN SELECT RAISE(ABORT, 'the pick history is append-only'); END")
    con.execute("ALTER TABLE meta DROP COLUMN checksum")
    con.commit()
    con.close()
    before = path.read_bytes()
    with RunStore(path, readonly=True) as ro:  # read as it is, unchecked, untouched
        assert ro.pick()["top"][0]["measured"] == 0.235 and ro.get_meta("status") == "finished"
        assert len(ro.picks()) == 1 and ro.meta() == {"status": "finished"}
    assert path.read_bytes() == before
    with RunStore(path) as rw:  # opened for writing: the rows get their checksums
        sums = rw._conn.execute("SELECT checksum FROM picks UNION ALL SELECT checksum FROM meta").fetchall()
        assert len(sums) == 2 and all(len(s[0]) == 32 for s in sums)
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):  # still append-only
            rw._conn.execute("UPDATE picks SET payload = '{}'")
        rw.set_meta("other", 1)  # an old gemgraph's row (no checksum) is accepted as it is
        rw._conn.execute("INSERT INTO meta (key, value, updated_at) VALUES ('legacy', '2', 'then')")
        assert rw.get_meta("legacy") == 2
    _edit_text_in_file(path, '"measured":0.235', '"measured":0.935')
    with RunStore(path, readonly=True) as ro:
        with pytest.raises(StoreError, match="pick id 1 fails its checksum"):
            ro.pick()
