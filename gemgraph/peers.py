r"""The field's search methods as samplers of the NASGEM loop, for comparisons on the same draws.

Each is a sampler (:mod:`gemgraph.samplers`: ``batches(iterations)`` and ``propose(search,
iterations)``), so it runs through the same :class:`~gemgraph.search.NASGEM` loop, evaluator and
store as random search and the predictor-guided samplers, and counts queries the same way: one
evaluation is one query, and a cell already evaluated (its pruned network,
:func:`gemgraph.bootstrap.network_key`) is never proposed again. A proposal depends only on the
seed and on the candidates stored before its batch, so a resumed run proposes the same cells.

They use only what a space offers (``sample``, ``neighbours(cell)``, ``mutate(cell, seed)``;
:class:`~gemgraph.nb101.NB101Space` and any space with the same methods) and the stored results:

* :class:`EvolutionSampler` (``"rea"``): regularized evolution (Real et al. 2019): a random
  population, then one child per iteration: a tournament of ``sample_size`` members drawn from
  the ``population_size`` most recent evaluations (ageing: the oldest leaves), the winner
  mutated (one change, :meth:`~gemgraph.nb101.NB101Space.neighbours`).
* :class:`LocalSearchSampler` (``"ls"``): local search (White et al. 2021, "Exploring the loss
  landscape in neural architecture search"): the best of ``n_init`` random cells, then its
  neighbours in a seeded random order, moving to the first better one; at a local optimum (no
  unevaluated neighbour left) a random restart.
* :class:`BananasSampler` (``"bananas"``): BANANAS (White et al. 2021): the path encoding of a
  cell, an ensemble of feed-forward networks, independent Thompson sampling over candidates made
  by mutating the best evaluated cells.
* :class:`BowlSampler` (``"bowl"``): NAS-BOWL (Ru et al. 2021): a Gaussian process on the
  Weisfeiler-Lehman kernel (op labels; the number of WL iterations and the noise chosen by the
  marginal likelihood) with expected improvement over mutation-made candidates.

Where a cell has fewer unevaluated neighbours than a method needs (a subset pool such as the
20,001 of NAS-Bench-101's 423,624 models holds only the neighbours inside it; a cell may have
none), the methods fall back as documented on each class: evolution tries the tournament's
next-best member, then a random cell; the candidate sets are topped up with random cells.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .bootstrap import network_key
from .cell import Cell
from .utils import check_finite, check_int, derive_seed, init_then_batches, single_thread
from .errors import InputError

__all__ = ["EvolutionSampler", "LocalSearchSampler", "BananasSampler", "BowlSampler", "path_features",
           "random_unevaluated", "mutation_candidates"]


# ---------------------------------------------------------------------- shared pieces
def _space_neighbours(space: Any) -> Any:
    fn = getattr(space, "neighbours", None)
    if fn is None:
        raise InputError(f"space: this method needs a space with neighbours(cell) (e.g. NB101Space), "
                         f"got {type(space).__name__}")
    return fn


def _history(search: Any, before: int) -> list[dict[str, Any]]:
    """Stored candidates of iterations ``< before``, by iteration."""
    return [r for r in search.store.candidates() if r["iteration"] < before]


def _scored(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["status"] == "ok" and r["score"] is not None]


def _ranked(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Successful rows best first (ties: the earlier iteration first)."""
    return sorted(_scored(rows), key=lambda r: (-r["score"], r["iteration"]))


def random_unevaluated(space: Any, exclude: set, n: int, seed: int) -> list[Cell]:
    r"""``n`` distinct random cells of ``space`` whose network key is not in ``exclude``.

    Draws ``space.sample(m, seed)`` with a growing ``m`` and shuffles each draw (a finite
    space may return its sample in its own order), keeping cells in the shuffled order.

    Args:
        space: any space with ``sample(n, seed)``.
        exclude: network keys (:func:`gemgraph.bootstrap.network_key`) not to return.
        n: how many cells.
        seed: the draw's seed.

    Raises:
        ValueError: when the space holds fewer than ``n`` cells outside ``exclude`` (exhausted).
    """
    n = check_int(n, "n", 0)
    rng = np.random.default_rng(seed)
    size = len(space) if hasattr(space, "__len__") else None
    m = 4 * n + 32
    for _ in range(12):
        cells = space.sample(m if size is None else min(m, size), seed=int(rng.integers(1 << 62)))
        out, keys = [], set()
        for i in rng.permutation(len(cells)).tolist():
            k = network_key(cells[i])
            if k not in exclude and k not in keys:
                keys.add(k)
                out.append(cells[i])
                if len(out) == n:
                    return out
        if size is not None and m >= size:
            break
        m *= 2
    raise InputError(f"space: fewer than {n} unevaluated distinct cells found (the space is exhausted)")


def _initial(search: Any, iterations: range, exclude: set) -> list[Cell]:
    """The random sampler's draws for ``iterations`` (so every method starts from the same cells),
    replaced by a fresh random cell where one was already evaluated or repeats within the batch."""
    out, taken = [], set(exclude)
    for t in iterations:
        c = search.candidate(t)
        if network_key(c) in taken:
            c = random_unevaluated(search.space, taken, 1, derive_seed(search.seed, "initial", t))[0]
        taken.add(network_key(c))
        out.append(c)
    return out


def mutation_candidates(space: Any, parents: Sequence[Cell], exclude: set, num_candidates: int,
                        seed: int) -> list[Cell]:
    r"""Candidates made by mutating ``parents``: their unevaluated neighbours, topped up at random.

    Each parent's unevaluated neighbours are shuffled (seeded); the candidates take one from each
    parent in turn (best parent first) until ``num_candidates`` are found or every neighbour is
    used; the rest are random unevaluated cells (:func:`random_unevaluated`).

    Args:
        space: a space with ``neighbours(cell)`` and ``sample``.
        parents: the cells to mutate, best first.
        exclude: network keys of the evaluated cells.
        num_candidates: how many candidates.
        seed: shuffles and the random top-up.

    Returns:
        ``num_candidates`` distinct cells (fewer only when the space is exhausted: then all that
        are left).
    """
    nbrs_of = _space_neighbours(space)
    rng = np.random.default_rng(seed)
    lists = []
    for p in parents:
        nb = [c for c in nbrs_of(p) if network_key(c) not in exclude]
        lists.append([nb[i] for i in rng.permutation(len(nb)).tolist()])
    out: list[Cell] = []
    taken = set(exclude)
    depth = 0
    while len(out) < num_candidates and any(depth < len(nb) for nb in lists):
        for nb in lists:
            if depth < len(nb) and len(out) < num_candidates:
                k = network_key(nb[depth])
                if k not in taken:
                    taken.add(k)
                    out.append(nb[depth])
        depth += 1
    if len(out) < num_candidates:
        want = num_candidates - len(out)
        try:
            out += random_unevaluated(space, taken, want, int(rng.integers(1 << 62)))
        except ValueError:  # a small finite space: whatever is left
            size = len(space) if hasattr(space, "__len__") else 0
            rest = space.sample(size, seed=0) if size else []
            out += [c for c in rest if network_key(c) not in taken][:want]
    return out


class _Batched:
    """``n_init`` random cells in one batch, then batches of ``batch_size`` (as the acquisition sampler)."""

    n_init: int
    batch_size: int

    def batches(self, iterations: int) -> list[range]:
        return init_then_batches(iterations, self.n_init, self.batch_size)


class _ModelGuided(_Batched):
    """The batch plan of BANANAS and NAS-BOWL: the random start, then per batch the
    ``num_candidates`` mutation candidates of the ``num_parents`` best evaluated cells
    (:func:`mutation_candidates`, seeded by ``"<name>-cands"`` and the batch's first iteration),
    scored by a model of the evaluated cells (:meth:`_scores`, higher is better), the
    ``len(iterations)`` best proposed (ties: the earlier candidate)."""

    name: str
    num_candidates: int
    num_parents: int

    def _scores(self, search: Any, train: list[Cell], y: np.ndarray, cands: list[Cell], start: int) -> np.ndarray:
        """(len(cands),) acquisition values of ``cands`` given the training cells ``train`` (by
        iteration) and their standardised scores ``y``; ``start`` is the batch's first iteration."""
        raise NotImplementedError

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        start = iterations.start
        rows = _history(search, start)
        evaluated = {network_key(r["cell"]) for r in rows}
        ranked = _ranked(rows)
        if start < self.n_init or len(ranked) < 2:
            return _initial(search, iterations, evaluated)
        k = len(iterations)
        cands = mutation_candidates(search.space, [r["cell"] for r in ranked[: self.num_parents]], evaluated,
                                    max(self.num_candidates, k), derive_seed(search.seed, f"{self.name}-cands", start))
        if len(cands) < k:
            raise InputError(f"space: only {len(cands)} unevaluated distinct cells left for a batch of {k} "
                             f"(iterations {start}..{iterations.stop - 1}); the space is exhausted")
        train = sorted(ranked, key=lambda r: r["iteration"])
        y = np.array([r["score"] for r in train], dtype=np.float64)
        y = (y - y.mean()) / (y.std() or 1.0)
        scores = self._scores(search, [r["cell"] for r in train], y, cands, start)
        best = np.argsort(-scores, kind="stable")[:k]
        return [cands[i] for i in best.tolist()]


# ---------------------------------------------------------------------- regularized evolution
class EvolutionSampler:
    r"""Regularized evolution (Real et al. 2019), one child per iteration.

    Args:
        population_size: P, the random initial population (one batch, the random sampler's
            first draws) and the number of most recent evaluations that form the population
            afterwards (ageing: each child pushes the oldest out).
        sample_size: S, tournament size: members drawn without replacement from the population;
            the best one's mutation is the child.

    The literature's settings (P = 100, S = 25 over thousands of queries in Real et al.; P = 30,
    S = 10 in NASLib for a few hundred) are scaled here to 100-150 queries: P = 20, S = 10.
    A child is a random *unevaluated* neighbour of the winner (mutation redrawn until new, as
    a table query would otherwise repeat); when the winner has none, the tournament's next-best
    member is mutated, and when none has any, a random unevaluated cell is the child.
    """

    name = "rea"
    needs_neighbours = True

    def __init__(self, population_size: int = 20, sample_size: int = 10) -> None:
        self.population_size = check_int(population_size, "population_size", 1)
        self.sample_size = check_int(sample_size, "sample_size", 1)
        if self.sample_size > self.population_size:
            raise InputError(f"sample_size: expected at most population_size={self.population_size}, "
                             f"got {self.sample_size}")

    def __repr__(self) -> str:
        return f"EvolutionSampler(population_size={self.population_size}, sample_size={self.sample_size})"

    def batches(self, iterations: int) -> list[range]:
        first = min(self.population_size, iterations)
        return ([range(0, first)] if first else []) + [range(t, t + 1) for t in range(first, iterations)]

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        t = iterations.start
        rows = _history(search, t)
        evaluated = {network_key(r["cell"]) for r in rows}
        if t < self.population_size:
            return _initial(search, iterations, evaluated)
        out = []
        for t in iterations:  # one per batch in a run; longer ranges are proposed in turn
            pop = _scored(rows)[-self.population_size:]
            rng = np.random.default_rng(derive_seed(search.seed, "rea", t))
            child = None
            if pop:
                pick = rng.choice(len(pop), size=min(self.sample_size, len(pop)), replace=False)
                members = sorted((pop[i] for i in pick.tolist()), key=lambda r: (-r["score"], -r["iteration"]))
                nbrs_of = _space_neighbours(search.space)
                for m in members:
                    nb = [c for c in nbrs_of(m["cell"]) if network_key(c) not in evaluated]
                    if nb:
                        child = nb[int(rng.integers(len(nb)))]
                        break
            if child is None:
                child = random_unevaluated(search.space, evaluated, 1, derive_seed(search.seed, "rea-random", t))[0]
            evaluated.add(network_key(child))
            out.append(child)
        return out


# ---------------------------------------------------------------------- local search
class LocalSearchSampler:
    r"""Local search (White et al. 2021): first-improvement hill climbing with random restarts.

    Args:
        n_init: random cells first (the random sampler's draws); the best is the start.

    Then, one cell per iteration: the next unevaluated neighbour of the current cell, in a
    random order seeded by the iteration at which the cell became current; when an evaluated
    neighbour is better than the current cell the search moves to it. When every neighbour of
    the current cell has been evaluated (a local optimum) the next cell is a random unevaluated
    one, which becomes the current cell (a restart).

    The state (current cell, neighbour order) is replayed from the stored results on every
    proposal, so it is a function of the seed and the store only (resume-safe).
    """

    name = "ls"
    needs_neighbours = True

    def __init__(self, n_init: int = 10) -> None:
        self.n_init = check_int(n_init, "n_init", 1)
        # restart cells already drawn: (seed, iteration, evaluated keys) -> cell (replays reuse them)
        self._restarts: dict[tuple[int, int, frozenset], Cell] = {}

    def __repr__(self) -> str:
        return f"LocalSearchSampler(n_init={self.n_init})"

    def batches(self, iterations: int) -> list[range]:
        first = min(self.n_init, iterations)
        return ([range(0, first)] if first else []) + [range(t, t + 1) for t in range(first, iterations)]

    def _order(self, search: Any, cell: Cell, since: int) -> list[Cell]:
        nb = _space_neighbours(search.space)(cell)
        perm = np.random.default_rng(derive_seed(search.seed, "ls", since)).permutation(len(nb))
        return [nb[i] for i in perm.tolist()]

    def propose(self, search: Any, iterations: range) -> list[Cell]:
        start = iterations.start
        rows = _history(search, start)
        if start < self.n_init:
            return _initial(search, iterations, {network_key(r["cell"]) for r in rows})
        by_it = {r["iteration"]: r for r in rows}
        evaluated = {network_key(r["cell"]) for r in rows if r["iteration"] < self.n_init}
        init = _ranked([r for r in rows if r["iteration"] < self.n_init])
        cur: dict[str, Any] | None = init[0] if init else None
        order = None if cur is None else self._order(search, cur["cell"], self.n_init - 1)
        pos = 0
        out = []
        for i in range(self.n_init, iterations.stop):
            # the proposal for iteration i
            prop: Cell | None = None
            if order is not None:
                while pos < len(order) and network_key(order[pos]) in evaluated:
                    pos += 1
                if pos < len(order):
                    prop = order[pos]
            restart = prop is None
            if prop is None:
                memo = (search.seed, i, frozenset(evaluated))
                prop = self._restarts.get(memo)
                if prop is None:
                    prop = random_unevaluated(search.space, evaluated, 1, derive_seed(search.seed, "ls-restart", i))[0]
                    self._restarts[memo] = prop
            if i >= start:
                out.append(prop)
                evaluated.add(network_key(prop))
                continue  # a batch longer than one (not the default) proposes without its results
            # what was stored for iteration i moves the search
            r = by_it.get(i)
            if r is None:
                continue
            evaluated.add(network_key(r["cell"]))
            ok = r["status"] == "ok" and r["score"] is not None
            if restart:
                cur = r if ok else None
            elif ok and cur is not None and r["score"] > cur["score"]:
                cur = r
            else:
                continue
            order = None if cur is None else self._order(search, cur["cell"], i)
            pos = 0
        return out


# ---------------------------------------------------------------------- BANANAS
def path_features(cells: Sequence[Cell]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    r"""The path encoding of cells (White et al. 2021, BANANAS), over the paths they contain.

    A path runs from the input (node 0) to the output (the last node); it is recorded as the
    tuple of its interior ops. Column ``j`` is 1 when the cell has path ``paths[j]``. The
    columns are the distinct paths present in ``cells`` (sorted), not every possible path:
    for a network fed these vectors the two are the same, since a path no cell has is a
    column of zeros that never reaches the output.

    Args:
        cells: cells with ops.

    Returns:
        ``(X, paths)``: X (n, P) float32 0/1, and the P paths.

    Raises:
        ValueError: for a cell without ops.
    """
    per_cell = []
    for k, c in enumerate(cells):
        if c.ops is None:
            raise InputError(f"cells: the path encoding needs ops; cell {k} has none")
        adj, ops, n = c.adjacency, c.ops, c.num_nodes
        to: list[list[tuple[str, ...]]] = [[] for _ in range(n)]
        to[0] = [()]
        for j in range(1, n):
            add = () if j == n - 1 else (ops[j],)
            to[j] = [p + add for i in np.flatnonzero(adj[:j, j]).tolist() for p in to[i]]
        per_cell.append(set(to[n - 1]))
    paths = sorted(set().union(*per_cell)) if per_cell else []
    col = {p: j for j, p in enumerate(paths)}
    X = np.zeros((len(per_cell), len(paths)), dtype=np.float32)
    for i, ps in enumerate(per_cell):
        X[i, [col[p] for p in ps]] = 1.0
    return X, paths


def _ensemble_mlp(X: np.ndarray, y: np.ndarray, Xc: np.ndarray, *, members: int, layers: int, width: int,
                  epochs: int, lr: float, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    r"""Train ``members`` feed-forward nets on (X, y) with the mean absolute error; return the
    mean and std of their predictions on ``Xc``.

    The members are one batched program: each layer's weights are a ``(members, in, out)``
    tensor (``torch.baddbmm``), all weights live in one flat buffer, the backward pass is
    written out (the chain rule of ``baddbmm``, ``relu`` and the absolute error, as autograd
    computes it) and Adam (PyTorch's update, default betas and eps) is a handful of in-place
    ops on that buffer, so a step costs tens of tensor calls rather than hundreds. Each member
    sees the same minibatches (one seeded shuffle per epoch). The fit runs on one thread
    (:class:`~gemgraph.utils.single_thread`, the caller's setting restored after): the tensors
    are tiny, OpenMP's spin-waits on a busy machine made two threads tens of times slower, and
    the result is the same for any ``torch.set_num_threads``.

    Args:
        X: (n, P) float32 training inputs.
        y: (n,) targets.
        Xc: (m, P) float32 inputs to predict.
        members: ensemble size; layers, width: hidden layers and their width (ReLU).
        epochs: passes over the data; lr: Adam's learning rate; batch_size: minibatch size.
        seed: initialisation (``torch.nn.Linear``'s uniform bounds) and the shuffles.

    Returns:
        ``(mean (m,), std (m,))`` over the members, float64.
    """
    with single_thread(), torch.no_grad():
        return _fit_ensemble(X, y, Xc, members=members, layers=layers, width=width, epochs=epochs, lr=lr,
                             batch_size=batch_size, seed=seed)


def _fit_ensemble(X: np.ndarray, y: np.ndarray, Xc: np.ndarray, *, members: int, layers: int, width: int,
                  epochs: int, lr: float, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    g = torch.Generator().manual_seed(int(seed) & ((1 << 63) - 1))
    dims = [X.shape[1]] + [width] * layers + [1]
    shapes = [s for a, b in zip(dims[:-1], dims[1:]) for s in ((members, a, b), (members, 1, b))]
    sizes = [math.prod(s) for s in shapes]
    flat, grad = torch.empty(sum(sizes)), torch.zeros(sum(sizes))
    params = [t.view(s) for t, s in zip(flat.split(sizes), shapes)]
    grads = [t.view(s) for t, s in zip(grad.split(sizes), shapes)]
    for (a, _), k in zip(zip(dims[:-1], dims[1:]), range(0, len(params), 2)):
        bound = 1.0 / math.sqrt(a)  # torch.nn.Linear's default initialisation
        for p in (params[k], params[k + 1]):
            p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * bound)
    Ws, cs, gWs, gcs = params[0::2], params[1::2], grads[0::2], grads[1::2]
    nl = len(Ws)

    def forward(x: torch.Tensor, keep: list[torch.Tensor] | None = None) -> torch.Tensor:
        h = x.expand(members, *x.shape)
        for k in range(nl):
            if keep is not None:
                keep.append(h)
            h = torch.baddbmm(cs[k], h, Ws[k])
            if k + 1 < nl:
                h = torch.relu(h)
        return h.squeeze(-1)  # (members, n)

    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim.Adam's defaults
    exp_avg, exp_avg_sq, denom = torch.zeros_like(flat), torch.zeros_like(flat), torch.empty_like(flat)
    Xt, yt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y.astype(np.float32))
    n, step = Xt.shape[0], 0
    WTs = [W.transpose(1, 2) for W in Ws]  # views of the flat buffer: they follow its updates
    relu_backward = torch.ops.aten.threshold_backward  # autograd's relu backward: grad where out > 0
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        Xp, yp = Xt[perm], yt[perm]
        for s in range(0, n, batch_size):
            hs: list[torch.Tensor] = []
            err = forward(Xp[s: s + batch_size], hs) - yp[s: s + batch_size]
            # d mean|err| / d out = sgn(err) / numel, as autograd's mean and abs backward
            gout = torch.sgn(err).mul_(1.0 / err.numel()).unsqueeze_(-1)  # (members, b, 1)
            for k in range(nl - 1, -1, -1):
                torch.sum(gout, dim=1, keepdim=True, out=gcs[k])
                torch.bmm(hs[k].transpose(1, 2), gout, out=gWs[k])
                if k:
                    gout = relu_backward(torch.bmm(gout, WTs[k]), hs[k], 0)
            step += 1  # torch.optim.Adam's single-tensor update on the flat buffer
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            torch.sqrt(exp_avg_sq, out=denom).div_((1 - beta2 ** step) ** 0.5).add_(eps)
            flat.addcdiv_(exp_avg, denom, value=-(lr / (1 - beta1 ** step)))
    p = forward(torch.from_numpy(np.ascontiguousarray(Xc, dtype=np.float32))).double().numpy()
    return p.mean(axis=0), p.std(axis=0)


class BananasSampler(_ModelGuided):
    r"""BANANAS (White et al. 2021): path encoding, an ensemble of MLPs, independent Thompson sampling.

    Args:
        n_init: random cells first (the random sampler's draws).
        batch_size: cells per batch afterwards (BANANAS: 10), the ensemble refitted before each.
        num_candidates: candidates per batch, made by mutating the ``num_parents`` best
            evaluated cells (:func:`mutation_candidates`; topped up with random cells).
        num_parents: how many of the best evaluated cells are mutated.
        n_members, layers, width, epochs, lr, train_batch: the ensemble (BANANAS: 5 feed-forward
            networks of 10 layers of width 20, Adam with learning rate 0.01, 200 epochs, mean
            absolute error, batches of 32), trained on the standardised scores.

    Acquisition: independent Thompson sampling: one draw from ``N(mean, std^2)`` of the
    ensemble per candidate, the ``batch_size`` largest draws proposed.
    """

    name = "bananas"
    needs_neighbours = True

    def __init__(self, n_init: int = 10, batch_size: int = 10, num_candidates: int = 100, num_parents: int = 10,
                 n_members: int = 5, layers: int = 10, width: int = 20, epochs: int = 200, lr: float = 0.01,
                 train_batch: int = 32) -> None:
        self.n_init = check_int(n_init, "n_init", 2)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.num_candidates = check_int(num_candidates, "num_candidates", 1)
        self.num_parents = check_int(num_parents, "num_parents", 1)
        self.n_members = check_int(n_members, "n_members", 1)
        self.layers = check_int(layers, "layers", 1)
        self.width = check_int(width, "width", 1)
        self.epochs = check_int(epochs, "epochs", 1)
        self.lr = check_finite(lr, "lr")
        if self.lr <= 0:
            raise InputError(f"lr: expected a learning rate > 0, got {lr}")
        self.train_batch = check_int(train_batch, "train_batch", 1)

    def __repr__(self) -> str:
        return (f"BananasSampler(n_init={self.n_init}, batch_size={self.batch_size}, "
                f"num_candidates={self.num_candidates}, num_parents={self.num_parents}, n_members={self.n_members}, "
                f"layers={self.layers}, width={self.width}, epochs={self.epochs}, lr={self.lr})")

    def _scores(self, search: Any, train: list[Cell], y: np.ndarray, cands: list[Cell], start: int) -> np.ndarray:
        X, _ = path_features(train + cands)
        mean, std = _ensemble_mlp(X[: len(train)], y, X[len(train):], members=self.n_members, layers=self.layers,
                                  width=self.width, epochs=self.epochs, lr=self.lr, batch_size=self.train_batch,
                                  seed=derive_seed(search.seed, "bananas-fit", start))
        return mean + std * np.random.default_rng(derive_seed(search.seed, "bananas-its", start)).standard_normal(
            len(cands))


# ---------------------------------------------------------------------- NAS-BOWL
def _wl_grams(cells: Sequence[Cell], n_train: int, n_iters: Sequence[int]) -> dict[int, np.ndarray]:
    """Normalised WL kernel (op labels) between ``cells`` and their first ``n_train``, per number
    of iterations: h -> (len(cells), n_train) (only the columns a GP needs, so many candidates fit)."""
    from .wl import WLKernel  # noqa: PLC0415

    out = {}
    for h in n_iters:
        F = WLKernel(n_iter=int(h), normalize=True, node_labels="op").normalized_features(list(cells))
        out[int(h)] = np.asarray((F @ F[:n_train].T).todense(), dtype=np.float64)
    return out


def gp_expected_improvement(K: dict[int, np.ndarray], y: np.ndarray, n_train: int,
                            noises: Sequence[float]) -> tuple[np.ndarray, dict[str, float]]:
    r"""Expected improvement of a zero-mean GP on a precomputed kernel, hyperparameters by likelihood.

    For each kernel ``K[h]`` and noise ratio ``r``, the GP ``y ~ N(0, s2 (K + r I))`` with the
    maximum-likelihood scale ``s2`` is scored by its log marginal likelihood; the best
    ``(h, r)`` gives the posterior of the latent function at the candidates and the expected
    improvement over the best training ``y``. The kernel is normalised (``k(x, x) = 1``).

    Args:
        K: h -> (n_train + m, n_train) kernel values between the training points followed by the
            m candidates (rows) and the training points (columns).
        y: (n_train,) standardised targets (higher is better).
        n_train: training points.
        noises: noise-to-signal ratios tried.

    Returns:
        ``(ei (m,), {"h", "noise", "log_likelihood"})``.
    """
    from scipy.special import ndtr  # noqa: PLC0415

    best: tuple[float, int, float, np.ndarray, np.ndarray, float] | None = None
    n = n_train
    for h, Kh in K.items():
        Ktt = Kh[:n, :n]
        for r in noises:
            try:
                L = np.linalg.cholesky(Ktt + float(r) * np.eye(n))
            except np.linalg.LinAlgError:
                continue
            alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
            s2 = max(float(y @ alpha) / n, 1e-12)
            ll = -0.5 * n * (1.0 + math.log(2 * math.pi * s2)) - float(np.log(np.diag(L)).sum())
            if best is None or ll > best[0]:
                best = (ll, h, float(r), L, alpha, s2)
    if best is None:
        raise InputError("K: no kernel matrix was positive definite for any noise level")
    ll, h, r, L, alpha, s2 = best
    Kh = K[h]
    Kct = Kh[n:, :n]
    mu = Kct @ alpha
    v = np.linalg.solve(L, Kct.T)
    var = s2 * np.maximum(1.0 - (v * v).sum(axis=0), 1e-12)
    sd = np.sqrt(var)
    imp = mu - float(y.max())
    z = imp / sd
    ei = imp * ndtr(z) + sd * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return ei, {"h": float(h), "noise": r, "log_likelihood": ll}


class BowlSampler(_ModelGuided):
    r"""NAS-BOWL (Ru et al. 2021): a GP on the Weisfeiler-Lehman kernel, expected improvement.

    Args:
        n_init: random cells first (the random sampler's draws).
        batch_size: cells per batch afterwards (the ``batch_size`` largest expected improvements),
            the GP refitted before each.
        num_candidates: candidates per batch, made by mutating the ``num_parents`` best
            evaluated cells (:func:`mutation_candidates`; topped up with random cells).
        num_parents: how many of the best evaluated cells are mutated.
        n_iters: WL iterations ``h`` tried (:class:`~gemgraph.wl.WLKernel`, op labels,
            normalised); the marginal likelihood picks one per batch, as NAS-BOWL does.
        noises: noise-to-signal ratios tried with each ``h``.
    """

    name = "bowl"
    needs_neighbours = True

    def __init__(self, n_init: int = 10, batch_size: int = 10, num_candidates: int = 200, num_parents: int = 10,
                 n_iters: Sequence[int] = (0, 1, 2, 3), noises: Sequence[float] = (1e-3, 1e-2, 1e-1)) -> None:
        self.n_init = check_int(n_init, "n_init", 2)
        self.batch_size = check_int(batch_size, "batch_size", 1)
        self.num_candidates = check_int(num_candidates, "num_candidates", 1)
        self.num_parents = check_int(num_parents, "num_parents", 1)
        if isinstance(n_iters, (str, bytes)) or not n_iters:
            raise InputError(f"n_iters: expected a non-empty sequence of ints >= 0, got {n_iters!r}")
        self.n_iters = tuple(check_int(h, "n_iters", 0) for h in n_iters)
        if isinstance(noises, (str, bytes)) or not noises:
            raise InputError(f"noises: expected a non-empty sequence of floats > 0, got {noises!r}")
        self.noises = tuple(check_finite(r, "noises") for r in noises)
        if min(self.noises) <= 0:
            raise InputError(f"noises: expected floats > 0, got {noises!r}")

    def __repr__(self) -> str:
        return (f"BowlSampler(n_init={self.n_init}, batch_size={self.batch_size}, "
                f"num_candidates={self.num_candidates}, num_parents={self.num_parents}, n_iters={self.n_iters}, "
                f"noises={self.noises})")

    def _scores(self, search: Any, train: list[Cell], y: np.ndarray, cands: list[Cell], start: int) -> np.ndarray:
        grams = _wl_grams(train + cands, len(train), self.n_iters)
        ei, _ = gp_expected_improvement(grams, y, len(train), self.noises)
        return ei
