"""The field's search methods (gemgraph.peers) and the NB101 neighbourhoods they mutate through."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from gemgraph import Cell, encoders
from gemgraph.batch import CellBatch
from gemgraph.benchmark import DEFAULT_METHODS, PEERS, label, parse_methods, run_trial
from gemgraph.bootstrap import network_key
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import (NB101_OPS, NB101Evaluator, NB101Pool, NB101Space, label_op_ids, load_nb101,
                            nb101_neighbours, nb101_pool)
from gemgraph.peers import (BananasSampler, BowlSampler, EvolutionSampler, LocalSearchSampler, _ensemble_mlp,
                            gp_expected_improvement, mutation_candidates, path_features)
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.samplers import make_sampler
from gemgraph.search import NASGEM


def chain() -> Cell:
    """input -> conv3x3 -> output."""
    return Cell(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]), ("input", "conv3x3", "output"))


def graph(c: Cell) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from((i, {"op": o}) for i, o in enumerate(c.ops))
    g.add_edges_from(zip(*np.nonzero(c.adjacency)))
    return g


@pytest.fixture(scope="module")
def complete_pool() -> NB101Pool:
    """Every NB101 cell with <= 5 vertices (2,532, a complete sub-space) with made-up accuracies:
    better with more conv3x3 and about 5 edges, plus a fixed per-cell jitter."""
    from nasbench.space import enumerate_cells

    e = enumerate_cells(max_vertices=5)
    ops = label_op_ids(e.op_labels)
    n_conv = (e.op_labels == 0).sum(axis=1)
    edges = e.matrices.reshape(len(e), -1).sum(axis=1)
    jitter = np.random.default_rng(0).uniform(0, 0.004, len(e))
    acc = 0.85 + 0.01 * n_conv - 0.003 * np.abs(edges - 5) + jitter
    batch = CellBatch(torch.from_numpy(e.matrices.astype(bool)), torch.from_numpy(ops),
                      torch.from_numpy(e.num_vertices.astype(np.int64)))
    return NB101Pool(hashes=e.hashes, rows=np.arange(len(e)), batch=batch, accuracy=acc.astype(np.float64))


@pytest.fixture(scope="module")
def dev_pool() -> NB101Pool:
    return nb101_pool(load_nb101())  # the bundled 20,001 real models (a 4.7% subset of the space)


# ---------------------------------------------------------------------------- neighbourhoods
def test_neighbours_of_a_chain_counted_and_distinct_up_to_isomorphism():
    nbrs = nb101_neighbours(chain())
    cells = [c for _, c in nbrs]
    # 2 op changes + 1 added edge (input -> output; removing either edge disconnects the cell)
    # + a vertex added (3 ops) in 3 non-isomorphic places: before the conv, beside it, after it
    assert len(cells) == 12
    assert sum(c.num_nodes == 3 and c.num_edges == 2 for c in cells) == 2
    assert sum(c.num_nodes == 3 and c.num_edges == 3 for c in cells) == 1
    assert sum(c.num_nodes == 4 for c in cells) == 9
    # distinct up to isomorphism, checked with networkx (independent of the module hash), none is the cell itself
    gs = [graph(c) for c in cells + [chain()]]
    same = nx.algorithms.isomorphism.categorical_node_match("op", None)
    for i in range(len(gs)):
        for j in range(i + 1, len(gs)):
            assert not nx.is_isomorphic(gs[i], gs[j], node_match=same), (cells[i], (cells + [chain()])[j])
    assert len({h for h, _ in nbrs}) == 12
    # every neighbour is pruned and in the space
    from nasbench import ModelSpec

    names = {"input": "input", "output": "output", "conv3x3": "conv3x3-bn-relu", "conv1x1": "conv1x1-bn-relu",
             "maxpool3x3": "maxpool3x3"}
    for c in cells:
        spec = ModelSpec(c.adjacency, [names[o] for o in c.ops])
        assert spec.is_valid() and spec.num_vertices == c.num_nodes


def test_neighbours_respect_the_edge_cap_and_reject_cells_outside_the_space():
    # 7 vertices, 9 edges: the limit; no neighbour may have 10 edges or 8 vertices
    adj = np.zeros((7, 7), dtype=np.uint8)
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 6), (0, 2), (1, 6)]:
        adj[i, j] = 1
    c = Cell(adj, ("input", "conv3x3", "conv1x1", "maxpool3x3", "conv3x3", "conv1x1", "output"))
    nbrs = [x for _, x in nb101_neighbours(c)]
    assert nbrs and all(x.num_edges <= 9 and x.num_nodes <= 7 for x in nbrs)
    assert sum(x.num_edges == 9 and x.num_nodes == 7 for x in nbrs) == 5 * 2  # only op changes keep the size
    bad = np.zeros((3, 3), dtype=np.uint8)
    bad[0, 1] = 1  # the output is unreachable
    with pytest.raises(ValueError, match="cell: not in the NAS-Bench-101 space"):
        nb101_neighbours(Cell(bad, ("input", "conv3x3", "output")))
    with pytest.raises(ValueError, match="cell"):
        nb101_neighbours(Cell(np.array([[0, 1], [0, 0]])))  # no ops


def test_pool_neighbours_are_the_space_neighbours_inside_the_pool(dev_pool):
    space = NB101Space(dev_pool)
    known = {str(h): i for i, h in enumerate(dev_pool.hashes)}
    counts = []
    for i in range(0, len(dev_pool), 997):
        cell = dev_pool.cells([i])[0]
        got = space.neighbours(cell)
        want = [known[h] for h, _ in nb101_neighbours(cell) if h in known]
        assert [space.index(c) for c in got] == want
        assert all(c == dev_pool.cells([k])[0] for c, k in zip(got, want))  # the pool's own cells
        counts.append(len(got))
    assert min(counts) == 0 and max(counts) >= 1  # a subset pool: some cells have no neighbour in it
    with pytest.raises(ValueError, match="cell: expected a model of this NB101Space"):
        space.neighbours(Cell(np.zeros((3, 3)), ("input", "conv3x3", "output")))  # not even in the space


def test_mutate_is_a_seeded_neighbour(complete_pool, dev_pool):
    space = NB101Space(complete_pool)
    cell = complete_pool.cells([len(complete_pool) - 1])[0]
    nbrs = space.neighbours(cell)
    assert len(nbrs) > 5 and len(set(nbrs)) == len(nbrs)
    draws = [space.mutate(cell, seed=s) for s in range(40)]
    assert draws == [space.mutate(cell, seed=s) for s in range(40)]  # the same for the same seed
    assert all(d in nbrs for d in draws) and len(set(draws)) > 3
    sub = NB101Space(dev_pool)
    lonely = next(c for c in dev_pool.cells(np.arange(200)) if not sub.neighbours(c))
    with pytest.raises(ValueError, match="no neighbour"):
        sub.mutate(lonely, seed=0)


# ---------------------------------------------------------------------------- the methods
FAST = {
    "rea": {"population_size": 10, "sample_size": 5},
    "ls": {"n_init": 10},
    "bananas": {"n_init": 10, "batch_size": 5, "n_members": 2, "layers": 3, "epochs": 20, "num_candidates": 40},
    "bowl": {"n_init": 10, "batch_size": 5, "num_candidates": 60},
}


def _search(pool, method, store=None, seed=0, evaluator=None):
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    store = MemoryStore() if store is None else store
    s = NASGEM(NB101Space(pool), raw, EfficiencyPredictor(n_members=1, seed=0), evaluator or NB101Evaluator(pool),
               store, seed=seed, sampler=method, sampler_options=FAST[method], checkpoint_every=0, progress=False)
    return s, store


@pytest.mark.parametrize("method", PEERS)
def test_each_method_is_deterministic_never_repeats_and_keeps_the_budget(complete_pool, method, one_thread):
    s, store = _search(complete_pool, method)
    s.evaluate_all(40)
    rows = store.candidates()
    assert [r["iteration"] for r in rows] == list(range(40))  # exactly the budget, one query each
    assert s.trainer.queries == 40
    keys = [network_key(r["cell"]) for r in rows]
    assert len(set(keys)) == 40  # never a cell evaluated before
    n0 = 10
    assert keys[:n0] == [network_key(s.candidate(t)) for t in range(n0)]  # the random sampler's draws first
    s2, store2 = _search(complete_pool, method)
    s2.evaluate_all(40)
    assert [r["cell"] for r in store2.candidates()] == [r["cell"] for r in rows]
    s3, store3 = _search(complete_pool, method, seed=1)
    s3.evaluate_all(40)
    assert [r["cell"] for r in store3.candidates()] != [r["cell"] for r in rows]
    # better than the random draws it started from, on this smooth made-up landscape
    assert max(r["accuracy"] for r in rows) > max(r["accuracy"] for r in rows[:n0])


@pytest.mark.parametrize("method", PEERS)
def test_each_method_resumes_to_the_same_run(complete_pool, method, one_thread):
    s, full = _search(complete_pool, method)
    s.evaluate_all(33)

    class Dies(NB101Evaluator):
        def evaluate(self, cell):
            if self.queries >= 22:
                raise KeyboardInterrupt
            return super().evaluate(cell)

    store = MemoryStore()
    with pytest.raises(KeyboardInterrupt):
        _search(complete_pool, method, store=store, evaluator=Dies(complete_pool))[0].evaluate_all(33)
    assert len(store) == 22
    _search(complete_pool, method, store=store)[0].evaluate_all(33)  # a fresh sampler on the stored results
    assert [r["cell"] for r in store.candidates()] == [r["cell"] for r in full.candidates()]


def test_evolution_and_local_search_move_through_neighbours(complete_pool, one_thread):
    space = NB101Space(complete_pool)
    for method in ("rea", "ls"):
        s, store = _search(complete_pool, method)
        s.evaluate_all(40)
        rows = store.candidates()
        start = FAST["rea"]["population_size"] if method == "rea" else FAST["ls"]["n_init"]
        # on a complete space almost every later cell is one change away from an earlier one
        near = [any(r["cell"] in space.neighbours(q["cell"]) for q in rows[: r["iteration"]]) for r in rows[start:]]
        assert np.mean(near) > 0.8, (method, np.mean(near))
    # local search: the cell after the best initial one is one of its neighbours
    s, store = _search(complete_pool, "ls")
    s.evaluate_all(11)
    rows = store.candidates()
    best = max(rows[:10], key=lambda r: (r["score"], -r["iteration"]))
    assert rows[10]["cell"] in space.neighbours(best["cell"])


def test_methods_fall_back_at_random_on_a_sparse_pool(dev_pool, one_thread):
    small = dev_pool.subset(np.arange(0, len(dev_pool), 25))  # 801 models: almost no neighbour inside
    for method in PEERS:
        s, store = _search(small, method)
        s.evaluate_all(30)
        keys = [network_key(r["cell"]) for r in store.candidates()]
        assert len(keys) == 30 == len(set(keys))


def test_sampler_names_and_bad_options():
    assert isinstance(make_sampler("rea"), EvolutionSampler)
    assert isinstance(make_sampler("ls", n_init=3), LocalSearchSampler)
    assert isinstance(make_sampler("bananas"), BananasSampler)
    assert isinstance(make_sampler("bowl", batch_size=4), BowlSampler)
    assert [list(b) for b in EvolutionSampler(population_size=3, sample_size=2).batches(5)] == [[0, 1, 2], [3], [4]]
    assert [list(b) for b in BowlSampler(n_init=2, batch_size=3).batches(7)] == [[0, 1], [2, 3, 4], [5, 6]]
    with pytest.raises(ValueError, match="sample_size"):
        EvolutionSampler(population_size=5, sample_size=6)
    with pytest.raises(ValueError, match="lr"):
        BananasSampler(lr=0.0)
    with pytest.raises(ValueError, match="noises"):
        BowlSampler(noises=(0.0,))
    with pytest.raises(ValueError, match="n_iters"):
        BowlSampler(n_iters=())


def test_a_space_without_neighbours_is_refused():
    from gemgraph import SearchSpace
    from gemgraph.builders import sampler_args
    from gemgraph.config import RunConfig

    space = SearchSpace(num_nodes=6)
    with pytest.raises(ValueError, match="neighbours"):
        mutation_candidates(space, [chain()], set(), 5, seed=0)
    raw = encoders.create("raw", num_nodes=6)
    for method in PEERS:  # refused when the search is made, before anything is trained
        name, opts = sampler_args(RunConfig().with_overrides({"sampler.name": method, "sampler.batch_size": 4,
                                                              "sampler.n_init": 3}))
        with pytest.raises(ValueError, match=f"sampler: '{method}' mutates cells and needs a space with neighbours"):
            NASGEM(space, raw, EfficiencyPredictor(), None, MemoryStore(), sampler=name, sampler_options=opts)


# ---------------------------------------------------------------------------- the pieces
def test_path_features_of_small_cells():
    c = chain()
    adj = np.array([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    d = Cell(adj, ("input", "conv1x1", "maxpool3x3", "output"))
    X, paths = path_features([c, d, Cell(np.array([[0, 1], [0, 0]]), ("input", "output"))])
    assert paths == [(), ("conv1x1",), ("conv3x3",), ("maxpool3x3",)]
    assert X.tolist() == [[0, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0]]
    with pytest.raises(ValueError, match="ops"):
        path_features([Cell(np.array([[0, 1], [0, 0]]))])


def _autograd_ensemble(X, y, Xc, *, members, layers, width, epochs, lr, batch_size, seed):
    """The ensemble as it was first written: autograd and torch.optim.Adam on the stacked
    weights, one minibatch shuffle per epoch (the reference for the hand-written backward pass)."""
    g = torch.Generator().manual_seed(int(seed) & ((1 << 63) - 1))
    dims = [X.shape[1]] + [width] * layers + [1]
    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / np.sqrt(a)
        params += [((torch.rand(members, a, b, generator=g) * 2 - 1) * bound).requires_grad_(),
                   ((torch.rand(members, 1, b, generator=g) * 2 - 1) * bound).requires_grad_()]

    def forward(x):
        h = x.expand(members, *x.shape)
        for k in range(0, len(params), 2):
            h = torch.baddbmm(params[k + 1], h, params[k])
            if k + 2 < len(params):
                h = torch.relu(h)
        return h.squeeze(-1)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(epochs):
        perm = torch.randperm(len(Xt), generator=g)
        for s in range(0, len(Xt), batch_size):
            idx = perm[s: s + batch_size]
            loss = (forward(Xt[idx]) - yt[idx]).abs().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        p = forward(torch.from_numpy(Xc)).double().numpy()
    return p.mean(axis=0), p.std(axis=0)


def test_batched_ensemble_matches_autograd_and_adam(one_thread):
    rng = np.random.default_rng(3)
    X = (rng.random((45, 13)) < 0.4).astype(np.float32)  # 45 points: the last minibatch is partial
    y = X[:, :4].sum(axis=1) - X[:, 4:].mean(axis=1) + 0.1 * rng.standard_normal(45)
    Xc = (rng.random((30, 13)) < 0.4).astype(np.float32)
    kw = {"members": 3, "layers": 4, "width": 8, "epochs": 25, "lr": 0.01, "batch_size": 16, "seed": 11}
    mean, std = _ensemble_mlp(X, y, Xc, **kw)
    ref_mean, ref_std = _autograd_ensemble(X, y, Xc, **kw)
    assert mean.shape == std.shape == (30,) and std.min() > 0  # the members differ
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(std, ref_std, rtol=1e-4, atol=1e-5)
    untrained = _autograd_ensemble(X, y, Xc, **{**kw, "epochs": 1})[0]
    assert np.abs(mean - untrained).max() > 1e-2  # the comparison is not between two untrained nets
    # the fit runs on one thread and gives the caller's setting back
    torch.set_num_threads(2)
    again = _ensemble_mlp(X, y, Xc, **kw)
    assert torch.get_num_threads() == 2
    assert np.array_equal(again[0], mean) and np.array_equal(again[1], std)


def test_bananas_proposes_the_same_cells_on_one_or_two_threads(complete_pool, one_thread):
    opts = {"n_init": 10, "batch_size": 5, "n_members": 3, "layers": 4, "width": 10, "epochs": 30,
            "num_candidates": 40}
    runs = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
        store = MemoryStore()
        NASGEM(NB101Space(complete_pool), raw, EfficiencyPredictor(n_members=1, seed=0), NB101Evaluator(complete_pool),
               store, seed=5, sampler="bananas", sampler_options=opts, checkpoint_every=0,
               progress=False).evaluate_all(25)
        runs.append([network_key(r["cell"]) for r in store.candidates()])
    assert len(runs[0]) == 25 and runs[0] == runs[1]


def test_expected_improvement_prefers_the_neighbourhood_of_the_best():
    # 1-D points on a line, an RBF kernel: the candidate beside the best training point wins
    x = np.array([0.0, 1.0, 2.0, 3.0, 2.9, 0.1])  # 4 training points, then 2 candidates
    K = {0: np.exp(-0.5 * (x[:, None] - x[None, :4]) ** 2)}
    y = np.array([0.0, 0.5, 1.0, 2.0])
    ei, info = gp_expected_improvement(K, (y - y.mean()) / y.std(), 4, (1e-3, 1e-1))
    assert ei[0] > ei[1] >= 0 and info["h"] == 0


def test_benchmark_names_and_a_trial_of_each_peer(dev_pool, one_thread):
    assert parse_methods("rea,ls,bananas,bowl,nasgem-seq") == [
        ("rea", None), ("ls", None), ("bananas", None), ("bowl", None), ("nasgem-seq", "embedding")]
    assert label("nasgem-seq", "embedding") == "nasgem-seq" and label("nasgem-seq", "raw") == "nasgem-seq:raw"
    assert label("rea", None) == "rea"
    assert set(PEERS) <= set(DEFAULT_METHODS) and "nasgem-seq" in DEFAULT_METHODS
    with pytest.raises(ValueError, match="'rea' uses no predictor features"):
        parse_methods("rea:raw")
    with pytest.raises(ValueError, match="twice"):
        parse_methods("nasgem-seq,nasgem-seq:embedding")
    small = dev_pool.subset(np.arange(0, len(dev_pool), 25))
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    rnd = run_trial("random", None, small, raw, trial=2, queries=30, seed=1)
    for m in PEERS:
        rows = run_trial(m, None, small, raw, trial=2, queries=30, seed=1)
        assert [r["method"] for r in rows] == [m] * 3 and [r["queries"] for r in rows] == [10, 20, 30]
        assert all(np.diff([r["best_accuracy"] for r in rows]) >= 0)
        assert rows[0]["best_accuracy"] == rnd[0]["best_accuracy"]  # the same first random draws


def test_local_search_resumes_from_a_run_store_on_disk(complete_pool, tmp_path, one_thread):
    from gemgraph.store import RunStore

    s, full = _search(complete_pool, "ls")
    s.evaluate_all(30)
    store = RunStore(tmp_path / "run.sqlite", create=True, config={"t": 1})
    _search(complete_pool, "ls", store=store)[0].evaluate_all(17)
    store.close()
    store = RunStore(tmp_path / "run.sqlite")  # cells come back from JSON
    _search(complete_pool, "ls", store=store)[0].evaluate_all(30)
    assert [r["cell"] for r in store.candidates()] == [r["cell"] for r in full.candidates()]
    store.close()
