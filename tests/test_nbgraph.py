"""NAS-Bench-Graph: restricted table reading, the cache, cells <-> architectures, the space,
its neighbourhoods, the evaluator, the loop on it, and bad input."""
import collections
import io
import itertools
import os
import pickle
import time

import numpy as np
import pytest
import torch

from tests.conftest import _require

if _require():
    import nas_bench_graph  # noqa: F401 - a test dependency: CI must have it
else:
    pytest.importorskip("nas_bench_graph")

from gemgraph import Cell  # noqa: E402
from gemgraph.nbgraph import (NBGRAPH_DATASETS, NBGRAPH_OPS, NBGRAPH_PROTEINS_OPS, NBGRAPH_VOCAB,  # noqa: E402
                              NBGraphEvaluator, NBGraphPool, NBGraphSpace, TableError, arch_hash, arch_to_cell,
                              cell_to_arch, load_nbgraph, read_table, table_path)
from gemgraph.protocols import Evaluator, Space  # noqa: E402


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("nbgraph-cache")


@pytest.fixture(scope="module")
def cora(cache):
    return load_nbgraph("cora", cache_dir=cache)


@pytest.fixture(scope="module")
def proteins(cache):
    return load_nbgraph("proteins", cache_dir=cache)


# ---------------------------------------------------------------------- the tables
def test_read_table_equals_the_packages_own_reader_on_every_dataset():
    from nas_bench_graph import light_read

    for d in NBGRAPH_DATASETS:
        ours = read_table(table_path(d))
        theirs = light_read(d)  # the package's plain pickle.load, trusted here: it is the reference
        assert set(ours) == set(theirs)
        for k, rec in theirs.items():
            assert ours[k] == {f: float(rec[f]) for f in ("valid_perf", "perf", "latency", "para")}
            assert all(type(v) is float for v in ours[k].values())


def test_every_dataset_loads_with_its_size_and_the_second_load_is_fast(tmp_path):
    for d in NBGRAPH_DATASETS:
        t0 = time.perf_counter()
        pool = load_nbgraph(d, cache_dir=tmp_path)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = load_nbgraph(d, cache_dir=tmp_path)
        second = time.perf_counter() - t0
        assert len(pool) == (2021 if d == "proteins" else 26206)
        assert second < 5.0, (d, first, second)
        assert np.array_equal(pool.hashes, again.hashes) and np.array_equal(pool.accuracy, again.accuracy)
        assert np.array_equal(pool.test_accuracy, again.test_accuracy)
        assert torch.equal(pool.batch.adj, again.batch.adj) and torch.equal(pool.ops, again.ops)
    assert len(list(tmp_path.glob("*-v1-*.npz"))) == len(NBGRAPH_DATASETS) + 1  # + the raw hashes, shared


def test_a_tampered_cache_is_rebuilt_not_trusted(tmp_path, caplog):
    good = load_nbgraph("citeseer", cache_dir=tmp_path)
    (f,) = tmp_path.glob("citeseer-*.npz")
    with np.load(f) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["valid"] = arrays["valid"] + 0.01  # a doctored figure, the old checksum kept
    np.savez(f, **arrays)
    with caplog.at_level("WARNING"):
        again = load_nbgraph("citeseer", cache_dir=tmp_path)
    assert "does not verify" in caplog.text
    assert np.array_equal(again.accuracy, good.accuracy)


def _pickle_bytes(obj):
    return pickle.dumps(obj, protocol=4)


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_a_tampered_table_is_refused_and_never_runs_code(tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "cora.bench"
    rec = {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1, "para": 1.0, "x": _Evil(marker)}
    bad.write_bytes(_pickle_bytes({0: rec}))
    with pytest.raises(TableError, match=r"cora\.bench: the pickle names (posix|os|nt)\.system"):
        read_table(bad)
    with pytest.raises(TableError, match="plain containers and numbers"):
        load_nbgraph("cora", path=bad, cache_dir=tmp_path)
    assert not marker.exists()
    # numpy arrays are not plain numbers either (their reconstruction is a global)
    bad.write_bytes(_pickle_bytes({0: {"valid_perf": np.zeros(3), "perf": 0.5, "latency": 0.1, "para": 1.0}}))
    with pytest.raises(TableError, match="_reconstruct"):
        read_table(bad)


@pytest.mark.parametrize("obj, match", [
    ([1, 2], "expected a non-empty dict"),
    ({}, "expected a non-empty dict"),
    ({"0": {"valid_perf": 1.0, "perf": 1.0, "latency": 1.0, "para": 1.0}}, "hashes"),
    ({0: {"valid_perf": 1.0, "perf": 1.0}}, "record 0"),
    ({0: {"valid_perf": "high", "perf": 1.0, "latency": 1.0, "para": 1.0}}, "valid_perf is 'high'"),
    ({0: {"valid_perf": float("nan"), "perf": 1.0, "latency": 1.0, "para": 1.0}}, "finite"),
])
def test_a_table_of_the_wrong_shape_is_refused(tmp_path, obj, match):
    f = tmp_path / "t.bench"
    f.write_bytes(_pickle_bytes(obj))
    with pytest.raises(TableError, match=match):
        read_table(f)


def test_damaged_bytes_and_foreign_hashes_are_refused(tmp_path):
    f = tmp_path / "t.bench"
    f.write_bytes(table_path("cora").read_bytes()[:5000])  # truncated
    with pytest.raises(TableError, match="not a readable NAS-Bench-Graph table"):
        read_table(f)
    # a well-formed pickle whose hash is not the canonical one of its architecture (ops of 4 parallel
    # nodes out of their sorted order)
    rec = {"valid_perf": 0.5, "perf": 0.5, "latency": 0.1, "para": 1.0}
    f.write_bytes(_pickle_bytes({1000: rec}))
    with pytest.raises(TableError, match="hash 1000 is not the canonical hash"):
        load_nbgraph("cora", path=f, cache=False)
    # an architecture with a gat for proteins, whose space has no gat
    f.write_bytes(_pickle_bytes({0: rec}))
    with pytest.raises(TableError, match="outside the proteins space"):
        load_nbgraph("proteins", path=f, cache=False)


def test_numpy_scalars_in_a_table_are_read_as_plain_numbers(tmp_path):
    f = tmp_path / "t.bench"
    f.write_bytes(_pickle_bytes({1111: {"valid_perf": np.float64(0.25), "perf": np.float32(0.5),
                                        "latency": np.int64(3), "para": 1.0}}))
    t = read_table(f)
    assert t == {1111: {"valid_perf": 0.25, "perf": 0.5, "latency": 3.0, "para": 1.0}}


@pytest.mark.parametrize("name", ["Cora", "nope", "", None, 3])
def test_an_unknown_dataset_is_one_clear_error(name):
    if name == "Cora":  # case-insensitive: accepted
        assert table_path(name).name == "cora.bench"
        return
    with pytest.raises(ValueError, match=r"dataset: expected one of \['cora'"):
        load_nbgraph(name)


# ---------------------------------------------------------------------- cells
def test_pool_cells_are_the_architectures_of_the_table(cora):
    assert isinstance(cora, NBGraphPool) and cora.vocab == NBGRAPH_VOCAB
    cells = cora.cells(np.arange(0, len(cora), 997))
    for i, c in zip(range(0, len(cora), 997), cells):
        links, ops = cell_to_arch(c)
        assert arch_hash(links, ops) == int(cora.hashes[i])
        assert c == arch_to_cell(links, ops)
        assert c.vocab == NBGRAPH_VOCAB and c.ops[0] == "input" and c.ops[-1] == "output"
        # the leaves and only they feed the output
        assert [j for j in range(1, 5) if c.adjacency[j, 5]] == [j for j in range(1, 5) if j not in links]
    c = arch_to_cell((0, 1, 2, 3), ("gcn", "gat", "sage", "fc"))
    assert c.adjacency.tolist() == [[0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0], [0, 0, 0, 1, 0, 0],
                                    [0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]]
    table = read_table(table_path("cora"))
    assert cora.best_accuracy == max(rec["valid_perf"] for rec in table.values())
    assert cora.accuracy.tolist() == [table[h]["valid_perf"] for h in cora.hashes.tolist()]


def test_isomorphic_variants_are_found_through_the_canonical_hash(cora):
    space = NBGraphSpace(cora)
    # (0, 0, 0, 2): node 4 reads node 2, node 1 is a leaf; the package calls it (0, 0, 0, 1) reordered
    variant = arch_to_cell((0, 0, 0, 2), ("gcn", "gat", "sage", "fc"))
    canon = space.canonical(variant)
    assert canon != variant and space.index(canon) == space.index(variant)
    assert canon == arch_to_cell((0, 0, 0, 1), ("gat", "gcn", "sage", "fc"))
    # the same architecture written in another node order (nodes 1 and 2 swapped)
    a = arch_to_cell((0, 1, 0, 3), ("gin", "cheb", "arma", "graph"))
    perm = [0, 3, 4, 1, 2, 5]
    swapped = Cell.from_dag(a.adjacency[np.ix_(perm, perm)], [a.ops[p] for p in perm], vocab=NBGRAPH_VOCAB)
    assert swapped != a and space.index(swapped) == space.index(a) is not None


def test_a_cell_outside_the_space_is_one_clear_error(cora, proteins):
    space = NBGraphSpace(cora)
    two_inputs = np.array(arch_to_cell((0, 0, 1, 1), ("gcn",) * 4).adjacency)
    two_inputs[0, 3] = 1
    cases = [
        (Cell(np.triu(np.ones((4, 4), dtype=int), 1)), "expected 6 nodes"),
        (Cell(two_inputs), "no ops"),
        (Cell(two_inputs, ("input", "gcn", "gcn", "gcn", "gcn", "output"), NBGRAPH_VOCAB), "node 3 has 2 inputs"),
        (arch_to_cell((0, 0, 0, 0), ("skip",) * 4), "not in its table"),
    ]
    for cell, match in cases:
        with pytest.raises(ValueError, match="cell: not a NAS-Bench-Graph architecture of 'cora': " + ".*" + match):
            space.neighbours(cell)
        assert not space.contains(cell) and space.index(cell) is None
        res = NBGraphEvaluator(cora).evaluate(cell)
        assert res.status == "failed" and "not a NAS-Bench-Graph architecture" in res.error
    gat = arch_to_cell((0, 1, 2, 3), ("gat", "gcn", "gcn", "gcn"))
    with pytest.raises(ValueError, match="'proteins': node 1 has op 'gat'; expected one of"):
        NBGraphSpace(proteins).canonical(gat)
    with pytest.raises(ValueError, match="unknown operation 'conv9x9'"):
        arch_to_cell((0, 1, 2, 3), ("conv9x9", "gcn", "gcn", "gcn"))
    with pytest.raises(ValueError, match="links"):
        arch_to_cell((0, 2, 0, 0), ("gcn",) * 4)


# ---------------------------------------------------------------------- the space
def test_the_space_follows_the_protocol_and_samples_deterministically(cora):
    from tests.test_protocols import _check

    space = NBGraphSpace(cora)
    _check(Space, space)  # the methods and the signatures the loop calls
    _check(Evaluator, NBGraphEvaluator(cora))
    assert space.num_nodes == 6 and space.vocab == NBGRAPH_VOCAB and len(space) == 26206
    adj, ops = space.sample_tensors(500, seed=3)
    assert adj.shape == (500, 6, 6) and adj.dtype == torch.bool and ops.shape == (500, 6) and ops.dtype == torch.int64
    cells = space.sample(500, seed=3)
    assert cells == space.sample(500, seed=3) and len(set(cells)) == 500
    assert cells == cora.cells(space.sample_indices(500, seed=3))
    assert cells != space.sample(500, seed=4)
    drawn = [space.draw(t, seed=1) for t in range(50)]
    assert len(set(drawn)) == 50 and drawn == [space.draw(t, seed=1) for t in range(50)]
    with pytest.raises(ValueError, match="t:"):
        space.draw(len(space), seed=1)
    assert len(space.sample(10**6)) == len(space)


@pytest.fixture(scope="module")
def classes():
    """Canonical hash -> the raw architectures (links, ops) of its class, through the package's Arch."""
    from nas_bench_graph.architecture import Arch

    out = collections.defaultdict(list)
    for lk in itertools.product(range(1), range(2), range(3), range(4)):
        for ops in itertools.product(NBGRAPH_OPS, repeat=4):
            out[Arch(list(lk), list(ops)).valid_hash()].append((lk, ops))
    return out


def test_neighbours_are_one_change_away_distinct_canonical_and_symmetric(cora, proteins, classes):
    from nas_bench_graph.architecture import Arch

    for pool, ops in ((cora, NBGRAPH_OPS), (proteins, NBGRAPH_PROTEINS_OPS)):
        space = NBGraphSpace(pool)
        rng = np.random.default_rng(0)
        for i in rng.choice(len(pool), 25, replace=False).tolist():
            cell = pool.cells([i])[0]
            nb = space.neighbours(cell)
            idx = [space.index(c) for c in nb]
            assert None not in idx and i not in idx and len(set(idx)) == len(idx) == len(nb) > 0
            assert nb == pool.cells(idx)  # the pool's representatives
            for j in idx:
                assert i in space.neighbour_indices(j).tolist()  # the relation is symmetric
            # brute force with the package alone: every one-change edit of every variant of the class
            expect = set()
            for links, arch_ops in classes[int(pool.hashes[i])]:
                for k in range(4):
                    edits = [(links[:k] + (v,) + links[k + 1:], arch_ops) for v in range(k + 1)]
                    edits += [(links, arch_ops[:k] + (o,) + arch_ops[k + 1:]) for o in ops]
                    for lk, oo in edits:
                        expect.add(pool.index_of_hash(Arch(list(lk), list(oo)).valid_hash()))
            assert set(idx) == expect - {None, i}
            # the same neighbours from any variant of the cell
            lk, oo = classes[int(pool.hashes[i])][-1]
            assert space.neighbours(arch_to_cell(lk, oo, pool.vocab)) == nb


def test_mutate_is_a_seeded_draw_among_the_neighbours(cora):
    space = NBGraphSpace(cora)
    cell = cora.cells([123])[0]
    nb = set(space.neighbours(cell))
    draws = [space.mutate(cell, seed=s) for s in range(40)]
    assert all(d in nb for d in draws) and len(set(draws)) > 5
    assert draws == [space.mutate(cell, seed=s) for s in range(40)]


# ---------------------------------------------------------------------- the evaluator
def test_the_evaluator_looks_up_validation_and_reports_test(cora):
    ev = NBGraphEvaluator(cora)
    best = cora.cells([cora.best_index])[0]
    r = ev.evaluate(best)
    assert r.status == "ok" and r.accuracy == r.score == cora.best_accuracy and ev.queries == 1
    assert r.params == round(cora.params[cora.best_index] * 1e6)
    rep = ev.report(best)
    assert rep["valid"] == cora.best_accuracy and rep["test"] == cora.test_accuracy[cora.best_index]
    assert rep["test"] != rep["valid"] and ev.queries == 1  # a report is not a query
    eff = NBGraphEvaluator(cora, lam=0.01, cost="latency")
    s = eff.evaluate(best).score
    assert s == pytest.approx(cora.best_accuracy - 0.01 * np.log(cora.latency[cora.best_index] * 1e3))
    assert eff.best_score == pytest.approx(cora.score(0.01, "latency").max())
    with pytest.raises(ValueError, match="cost"):
        NBGraphEvaluator(cora, lam=0.1, cost="flops")
    with pytest.raises(ValueError, match="pool"):
        NBGraphEvaluator("cora")


def test_the_search_loop_runs_on_nbgraph_with_its_own_op_names(cora):
    from gemgraph import encoders
    from gemgraph.memstore import MemoryStore
    from gemgraph.predictor import EfficiencyPredictor
    from gemgraph.search import NASGEM

    raw = encoders.create("raw", num_nodes=6, ops=NBGRAPH_VOCAB)
    store = MemoryStore()
    ev = NBGraphEvaluator(cora)
    s = NASGEM(NBGraphSpace(cora), raw, EfficiencyPredictor(n_members=2, max_epochs=30, seed=0), ev, store, seed=0,
               sampler="acquisition", sampler_options={"n_init": 8, "batch_size": 4}, num_samples=3000,
               checkpoint_every=0, progress=False)
    res = s.run(16)
    rows = store.candidates(status="ok")
    assert len(rows) == 16 and ev.queries >= 16
    assert all(r["cell"].vocab == NBGRAPH_VOCAB for r in rows)
    assert NBGraphSpace(cora).contains(res.best)


def test_pyg_dataset_of_the_cells(tmp_path, cache):
    pytest.importorskip("torch_geometric")
    from gemgraph.datasets import NBGraphDataset

    ds = NBGraphDataset(tmp_path / "nbg", "proteins", cache_dir=cache)
    pool = load_nbgraph("proteins", cache_dir=cache)
    assert len(ds) == len(pool) == 2021
    d = ds[5]
    assert d.num_nodes == 6 and d.x.shape == (6, 11 + 7) and d.edge_index.shape[0] == 2
    assert float(d.y) == pytest.approx(pool.accuracy[5]) and float(d.test) == pytest.approx(pool.test_accuracy[5])
    assert Cell.from_data(d, vocab=pool.vocab) == pool.cells([5])[0]
    again = NBGraphDataset(tmp_path / "nbg", "proteins", cache_dir=cache)  # from the processed file
    assert torch.equal(again[5].x, d.x)
    with pytest.raises(ValueError, match="dataset"):
        NBGraphDataset(tmp_path / "x", "mnist")


def test_restricted_unpickler_is_used_not_plain_pickle(monkeypatch, tmp_path):
    # plain pickle.load must never be what reads a table
    def boom(*a, **k):
        raise AssertionError("plain pickle.load used")

    monkeypatch.setattr(pickle, "load", boom)
    monkeypatch.setattr(pickle, "loads", boom)
    t = read_table(table_path("proteins"))
    assert len(t) == 2021
    buf = io.BytesIO(_pickle_bytes({1: 2}))
    assert buf.getvalue()


def test_benchmark_nbgraph_cli_writes_the_nb101_files(tmp_path, capsys):
    """`gemgraph benchmark nbgraph` runs every named method on the same draws through the loop and
    writes the same regret.csv / summary.csv as the NB101 benchmark."""
    import csv

    from gemgraph.app.cli import main

    out = tmp_path / "b"
    assert main(["benchmark", "nbgraph", "--dataset", "citeseer", "--trials", "2", "--queries", "20",
                 "--methods", "random,rea,ls,nasgem-seq:raw", "--out", str(out), "--quiet", "--no-plot"]) == 0
    rows = list(csv.DictReader((out / "regret.csv").open()))
    assert {r["method"] for r in rows} == {"random", "rea", "ls", "nasgem-seq:raw"}
    assert all(float(r["regret"]) >= 0 for r in rows) and {int(r["queries"]) for r in rows} == {10, 20}
    # the first n_init draws are shared: every method has the same best after 10 queries
    first = {(r["method"], r["trial"]): float(r["best_accuracy"]) for r in rows if r["queries"] == "10"}
    for t in ("0", "1"):
        assert len({v for (m, tr), v in first.items() if tr == t and m != "rea"}) == 1
    assert "NAS-Bench-Graph citeseer" in capsys.readouterr().out
    assert main(["benchmark", "nbgraph", "--trials", "1", "--quiet"]) == 2
    assert "--dataset" in capsys.readouterr().err
    assert main(["benchmark", "nbgraph", "--dataset", "nope", "--quiet"]) == 2


def test_the_cache_is_keyed_on_the_table_and_the_parser_code(tmp_path, monkeypatch):
    """A new parser (this module's source digest) makes new cache files; the same code and table
    reuse them (the table is not read again)."""
    import gemgraph.nbgraph as nbg

    first = load_nbgraph("proteins", cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.glob("*.npz"))
    code = nbg._parser_digest()
    assert len(files) == 2 and all(f.endswith(f"-{code[:12]}.npz") for f in files)

    def no_reading(*a, **k):
        raise AssertionError("the table was read again")

    with monkeypatch.context() as m:
        m.setattr(nbg, "read_table", no_reading)
        again = load_nbgraph("proteins", cache_dir=tmp_path)  # same code, same table: from the cache
    assert np.array_equal(again.hashes, first.hashes)
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == files

    monkeypatch.setattr(nbg, "_parser_digest", lambda: "a" * 32)  # the parser changed
    built: list[int] = []
    real = nbg.read_table
    monkeypatch.setattr(nbg, "read_table", lambda path: built.append(1) or real(path))
    new = load_nbgraph("proteins", cache_dir=tmp_path)
    assert built == [1]
    now = sorted(p.name for p in tmp_path.glob("*.npz"))
    assert len(now) == 4 and set(files) < set(now) and sum(f.endswith("-aaaaaaaaaaaa.npz") for f in now) == 2
    assert np.array_equal(new.hashes, first.hashes) and np.array_equal(new.raw_class, first.raw_class)
