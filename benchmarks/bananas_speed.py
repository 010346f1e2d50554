r"""BANANAS's ensemble refit: the batched hand-written version against autograd + torch.optim.Adam.

Runs ``bananas`` trials of the NAS-Bench-Graph benchmark (the same draws as ``gemgraph benchmark
nbgraph``; ``--dataset nb101``: the NB101 dev pool of ``gemgraph benchmark nb101``) twice each in
one process, once with :func:`gemgraph.peers._ensemble_mlp` and once with the autograd reference
below (the ensemble as first written: stacked weights, autograd, ``torch.optim.Adam``, run on the
caller's torch threads), alternating which goes first, and prints each trial's times, whether
the two gave the same regrets, and the means.

Usage::

    python benchmarks/bananas_speed.py [--dataset cora] [--trials 20] [--queries 100] [--threads 1]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph import peers
from gemgraph.benchmark import run_trial
from gemgraph.encoders import create
from gemgraph.nb101 import NB101_OPS, load_nb101, nb101_pool
from gemgraph.nbgraph import load_nbgraph


def autograd_ensemble(X: np.ndarray, y: np.ndarray, Xc: np.ndarray, *, members: int, layers: int, width: int,
                      epochs: int, lr: float, batch_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference: the same initialisation, shuffles and updates through autograd and torch.optim.Adam."""
    g = torch.Generator().manual_seed(int(seed) & ((1 << 63) - 1))
    dims = [X.shape[1]] + [width] * layers + [1]
    params = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / math.sqrt(a)
        params += [((torch.rand(members, a, b, generator=g) * 2 - 1) * bound).requires_grad_(),
                   ((torch.rand(members, 1, b, generator=g) * 2 - 1) * bound).requires_grad_()]

    def forward(x: torch.Tensor) -> torch.Tensor:
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cora", help="a NAS-Bench-Graph dataset, or nb101")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's setting)")
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.dataset == "nb101":  # the NB101 dev pool, as gemgraph benchmark nb101 builds it
        pool = nb101_pool(load_nb101(None, progress=False), "validation_accuracy", 108)
        raw = create("raw", num_nodes=7, ops=NB101_OPS)
    else:
        pool = load_nbgraph(a.dataset)
        raw = create("raw", num_nodes=int(pool.batch.adj.shape[1]), ops=pool.vocab)
    fits = {"batched": peers._ensemble_mlp, "autograd": autograd_ensemble}
    times: dict[str, list[float]] = {k: [] for k in fits}
    regrets: dict[str, list[dict[int, float]]] = {k: [] for k in fits}
    try:
        for t in range(a.trials):
            for which in (("autograd", "batched") if t % 2 == 0 else ("batched", "autograd")):
                peers._ensemble_mlp = fits[which]  # type: ignore[assignment]
                t0 = time.perf_counter()
                rows = run_trial("bananas", None, pool, raw, trial=t, queries=a.queries)
                times[which].append(time.perf_counter() - t0)
                regrets[which].append({r["queries"]: r["regret"] for r in rows})
            same = regrets["autograd"][-1] == regrets["batched"][-1]
            print(f"trial {t}: autograd {times['autograd'][-1]:.2f} s, batched {times['batched'][-1]:.2f} s, "
                  f"{'the same regrets' if same else 'DIFFERENT regrets'}", flush=True)
    finally:
        peers._ensemble_mlp = fits["batched"]  # type: ignore[assignment]
    qs = [q for q in (50, 100) if q <= a.queries]
    for k in fits:
        reg = {q: round(100 * float(np.mean([r[q] for r in regrets[k]])), 3) for q in qs}
        print(f"{k}: mean trial {np.mean(times[k]):.2f} s, regret (% points) {reg}")
    print(f"ratio autograd / batched: {np.sum(times['autograd']) / np.sum(times['batched']):.2f}x "
          f"(torch threads {torch.get_num_threads()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
