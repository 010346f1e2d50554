"""Computation regimes: a MAC window and a minimum number of op nodes, honoured by sampling."""
import math
import time

import numpy as np
import pytest
import torch

from gemgraph import Cell, SearchSpace
from gemgraph.cell import OPS, alive_mask
from gemgraph.cost import CellCost, count
from gemgraph.space import check_macs_window, parse_macs_window

pytestmark = pytest.mark.usefixtures("one_thread")

COST = CellCost("cifarnet", width=4, input_size=16)  # cheap to check against the FLOP counter


def _op_nodes(adj, ops):
    alive = alive_mask(adj)
    return alive[:, 1:].sum(1) - (alive & (ops == OPS.index("output"))).sum(1)


def test_window_and_min_ops_honoured_by_sampling():
    space = SearchSpace(16, max_concat=4, macs=(0.4e6, 0.8e6), min_ops=6, cost=COST)
    adj, ops = space.sample_tensors(3000, seed=0)
    assert adj.shape == (3000, 16, 16) and ops.shape == (3000, 16)
    macs = COST.macs((adj, ops))
    assert bool(((macs >= 0.4e6) & (macs <= 0.8e6)).all())
    assert int(_op_nodes(adj, ops).min()) >= 6
    # the unconstrained space does hold cells outside: the window is doing the work
    a0, o0 = SearchSpace(16, max_concat=4).sample_tensors(3000, seed=0)
    m0 = COST.macs((a0, o0))
    assert bool(((m0 < 0.4e6) | (m0 > 0.8e6)).any()) and int(_op_nodes(a0, o0).min()) < 6
    # every returned cell is a valid sample of the space, and its network's MACs per the FLOP counter agree
    cells = space.sample(40, seed=1)
    assert all(space.contains(c) for c in cells)
    for c in cells[:5]:
        m, _ = count(COST.build(c), (3, 16, 16))
        assert 0.4e6 <= m <= 0.8e6
        assert len(c.prune().ops) - 1 >= 6
    # single-cell draws (the search's candidates) are inside too
    for t in range(30):
        (c,) = space.sample(1, seed=100 + t)
        assert space.contains(c)


def test_window_sampling_is_deterministic_and_open_ended():
    space = SearchSpace(12, macs=(0.5e6, None), cost=COST)
    a, o = space.sample_tensors(500, seed=3)
    b, p = space.sample_tensors(500, seed=3)
    assert torch.equal(a, b) and torch.equal(o, p)
    c, _ = space.sample_tensors(500, seed=4)
    assert not torch.equal(a, c)
    assert bool((COST.macs((a, o)) >= 0.5e6).all())
    assert "macs=[500k, inf]" in repr(space)


def test_contains_checks_the_regime():
    space = SearchSpace(12, macs=(0.3e6, 0.6e6), min_ops=3, cost=COST)
    plain = SearchSpace(12).sample(300, seed=0)
    macs = COST.macs(plain)
    inside = [space.contains(c) for c in plain]
    nops = [len(c.prune().ops) - 1 for c in plain]
    expect = [(0.3e6 <= int(m) <= 0.6e6) and k >= 3 for m, k in zip(macs, nops)]
    assert inside == expect and any(inside) and not all(inside)
    assert space.accept(*SearchSpace.to_tensors(plain)).tolist() == expect


def test_min_ops_only():
    space = SearchSpace(10, min_ops=9, edge_prob=(0.3, 0.9))
    adj, ops = space.sample_tensors(200, seed=0)
    assert bool((alive_mask(adj).sum(1) == 10).all())
    assert not space.contains(Cell(_chain(10, 3))) and space.contains(Cell(_chain(10, 9)))


def _chain(n, k):
    a = np.zeros((n, n), dtype=np.uint8)
    for i in range(k):
        a[i, i + 1] = 1
    return a


def test_unsatisfiable_window_fails_after_bounded_draws():
    space = SearchSpace(12, macs=(1e12, 2e12), cost=COST, max_draws=20_000)
    t = time.perf_counter()
    with pytest.raises(ValueError,
                       match=r"macs: only 0 of 20000 drawn cells \(the max_draws bound\) have .* span") as err:
        space.sample(1, seed=0)
    assert time.perf_counter() - t < 20
    assert "widen the window" in str(err.value)
    # a window that some but too few cells meet also stops at the bound
    lo = float(np.quantile(COST.macs(SearchSpace(12).sample_tensors(5000, seed=0)).numpy(), 0.999))
    rare = SearchSpace(12, macs=(lo, None), cost=COST, max_draws=5000)
    with pytest.raises(ValueError, match=r"macs: only \d+ of 5000 drawn cells"):
        rare.sample_tensors(1000, seed=1)
    with pytest.raises(ValueError, match=r"min_ops: only 0 of 3000 drawn cells \(the max_draws bound\) "
                                         r"have at least 9 operation nodes"):
        SearchSpace(10, min_ops=9, edge_prob=(0.01, 0.02), max_draws=3000).sample(1, seed=0)


def test_default_bound_is_finite():
    space = SearchSpace(8, macs=(1e12, None))  # default cost (CifarNet width 16), default max_draws
    with pytest.raises(ValueError, match="only 0 of 100000 drawn cells"):
        space.sample(1, seed=0)


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"macs": (5e6, 1e6)}, "macs: empty window"),
        ({"macs": (1e6, 1e6)}, "macs: empty window"),
        ({"macs": (-1, 1e6)}, "macs: expected 0 <= low < high"),
        ({"macs": (math.nan, 1e6)}, "macs: expected 0 <= low < high"),
        ({"macs": "1M:2M"}, "macs: expected None or a"),
        ({"macs": (1, 2, 3)}, "macs: expected None or a"),
        ({"macs": ("a", 2)}, "macs: expected numbers"),
        ({"min_ops": 0}, "min_ops"),
        ({"min_ops": 12}, "min_ops: expected at most num_nodes - 1"),
        ({"min_ops": 2.5}, "min_ops"),
        ({"cost": "cifarnet"}, "cost"),
        ({"cost": {"network": "nope"}}, "network"),
        ({"max_draws": 0}, "max_draws"),
    ],
)
def test_bad_regime_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(12, **kw)


def test_parse_macs_window():
    assert parse_macs_window("440M:486M") == (440e6, 486e6)
    assert parse_macs_window("2e7:1e8") == (2e7, 1e8)
    assert parse_macs_window("20m:") == (20e6, None)
    assert parse_macs_window(":1.5G") == (0.0, 1.5e9)
    assert parse_macs_window(" 500k : 2M ") == (5e5, 2e6)
    for bad in ("", ":", "abc", "1M", "1M:2M:3M", "x:2M", "1M:y", "-1M:2M", "1MM:2M"):
        with pytest.raises(ValueError, match="--macs: expected LOW:HIGH"):
            parse_macs_window(bad)
    with pytest.raises(ValueError, match="--macs: empty window"):
        parse_macs_window("5M:1M")
    assert check_macs_window(None) is None and check_macs_window((0, math.inf)) == (0.0, None)


def test_bootstrap_and_search_candidates_stay_inside(tmp_path):
    from gemgraph import encoders
    from gemgraph.bootstrap import bootstrap_optimize
    from gemgraph.predictor import EfficiencyPredictor
    from gemgraph.search import derive_seed

    space = SearchSpace(10, max_concat=3, macs=(0.25e6, 0.5e6), min_ops=4, cost=COST)
    enc = encoders.create("mlp", num_nodes=10, dim=8, hidden=(16,))
    cells = space.sample(20, seed=0)
    pred = EfficiencyPredictor(hidden=8, max_epochs=20, seed=0).fit(enc.embed(cells), np.arange(20.0))
    res = bootstrap_optimize(pred, enc, space, num_samples=2000, top_k=5, seed=1)
    assert res.num_evaluated == 2000
    assert all(space.contains(c.cell) for c in res.candidates)
    # the search's candidate t is space.sample(1, seed=derive_seed(seed, "candidate", t))
    for t in range(10):
        (c,) = space.sample(1, seed=derive_seed(0, "candidate", t))
        assert space.contains(c)


# ---------------------------------------------------------------------- presets and CLI
def test_presets_carry_their_regime():
    from gemgraph.app.runs import PRESETS, build_config, make_space

    assert {"quick", "default", "paper", "imagenet-a", "imagenet-b"} <= set(PRESETS)
    quick = make_space(build_config("quick"))
    assert quick.macs == (25e6, 100e6) and quick.min_ops == 5 and quick.cost.network == "cifarnet"
    assert quick.cost.input_size == (32, 32) and quick.cost.options["width"] == 16
    paper = make_space(build_config("paper"))
    assert paper.macs is None and paper.min_ops is None and not paper.constrained
    for name, budget in (("imagenet-a", 463e6), ("imagenet-b", 563e6)):
        space = make_space(build_config(name))
        lo, hi = space.macs
        assert lo < budget < hi and hi / lo < 1.11
        assert space.cost.network == "mobilenet" and space.cost.input_size == (224, 224)
        cells = space.sample(3, seed=0)
        macs = space.cost.macs(cells)
        assert bool(((macs >= lo) & (macs <= hi)).all())
    # the encoder learns the unrestricted supernet
    assert not make_space(build_config("imagenet-a"), regime=False).constrained
    # --macs overrides land in the config; runs stored without the keys get no window
    assert make_space(build_config("default", macs=[1e6, 2e6])).macs == (1e6, 2e6)
    old = build_config("default")
    for k in ("macs", "min_ops", "macs_network"):
        old.pop(k)
    assert not make_space(old).constrained


@pytest.mark.parametrize(
    "flags, match",
    [
        (["--macs", "lots"], "--macs: expected LOW:HIGH"),
        (["--macs", "1M:2M:3M"], "--macs: expected LOW:HIGH"),
        (["--macs", "100M:20M"], "--macs: empty window"),
        (["--macs", "20M:20M"], "--macs: empty window"),
        (["--min-ops", "0"], "--min-ops: expected an int >= 1"),
        (["--macs", "50G:"], "computation regime .* cannot be met: macs: only 0 of 100000 drawn cells"),
        (["--nodes", "4", "--min-ops", "3", "--macs", "0:1M"], "cannot be met"),
    ],
)
def test_cli_bad_regime(tmp_path, capsys, flags, match):
    from gemgraph.app.cli import main

    run = tmp_path / "run"
    assert main(["search", "--preset", "quick", "--out", str(run), "--quiet", *flags]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("gemgraph search: error:")
    import re

    assert re.search(match, err), err
    assert not run.exists()  # nothing written, no encoder trained


def test_regime_report_of_a_pick():
    from gemgraph.app.runs import build_config, make_space, regime_report
    from gemgraph.store import cell_to_json

    cfg = build_config("quick", nodes=12, macs=[0.3e6, 0.6e6], macs_network=COST.config)
    space = make_space(cfg)
    (cell,) = space.sample(1, seed=0)
    rep = regime_report(cfg, {"best": cell_to_json(cell)})
    assert rep["pick_inside"] and 0.3e6 <= rep["pick_macs"] <= 0.6e6 and rep["pick_op_nodes"] >= 5
    assert rep["network"] == COST.config and rep["macs"] == [0.3e6, 0.6e6]
    outside = next(c for c in SearchSpace(12).sample(50, seed=0) if not space.contains(c))
    assert regime_report(cfg, {"best": cell_to_json(outside)})["pick_inside"] is False
    assert regime_report(build_config("paper"), None) is None
