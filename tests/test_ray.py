"""RayExecutor on a local Ray instance (Ray is in the test extra: without it these tests fail, they do not skip)."""

from gemgraph.search import RayExecutor
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
