"""RayExecutor on a local Ray instance (Ray is in the test extra: without it these tests fail, they do not skip)."""

from gemgraph.executors import RayExecutor
from gemgraph.store import RunStore

from ._search_helpers import tiny_search


def test_ray_executor_matches_local(tmp_path):
    local = RunStore(tmp_path / "local.sqlite", create=True, config={"t": "ray"})
    res_local = tiny_search(local).run(4)
    ex = RayExecutor(num_cpus=2, num_cpus_per_trial=1)
    try:
        assert ex.num_gpus_per_trial == 0  # no GPU here
        remote = RunStore(tmp_path / "ray.sqlite", create=True, config={"t": "ray"})
        res_ray = tiny_search(remote, executor=ex).run(4)
    finally:
        ex.close()
    a, b = local.candidates(), remote.candidates()
    assert [r["iteration"] for r in b] == [0, 1, 2, 3]
    assert [r["cell"] for r in a] == [r["cell"] for r in b]
    assert [r["macs"] for r in a] == [r["macs"] for r in b]
    assert [r["status"] for r in b] == [r["status"] for r in a]
    assert res_ray.best == res_local.best


def test_ray_worker_that_raises_or_dies_is_a_failed_candidate_and_not_retried(tmp_path):
    from gemgraph.executors import LocalExecutor

    from ._search_helpers import FaultyTrainer

    store = RunStore(tmp_path / "ray.sqlite", create=True, config={"t": "ray-faults"})
    s = tiny_search(store)
    s.trainer = FaultyTrainer(s.trainer, raise_on=[s.candidate(1)], kill_on=[s.candidate(2)])
    ex = RayExecutor(num_cpus=2, num_cpus_per_trial=1)
    try:
        assert "log_to_driver=False" in repr(ex) and "max_retries=0" in repr(ex)
        s.executor = ex
        res = s.run(5)  # neither the exception nor the dead worker stops the search
    finally:
        ex.close()
    rows = {r["iteration"]: r for r in store.candidates()}
    assert sorted(rows) == [0, 1, 2, 3, 4] and res.iterations_done == 5
    assert rows[1]["status"] == "failed" and "RuntimeError" in rows[1]["error"] and "boom" in rows[1]["error"]
    assert rows[2]["status"] == "failed" and "worker died" in rows[2]["error"]
    assert [rows[t]["status"] for t in (0, 3, 4)] == ["ok"] * 3 and store.pick() is not None

    class MustNotRun:
        def evaluate(self, cell):
            raise AssertionError(f"resume retried {cell}")

    again = tiny_search(store, executor=LocalExecutor())
    again.trainer = MustNotRun()
    again.run(5)  # --resume: nothing left to do, the failed candidates are done
    assert len(store) == 5
    store.close()
