r"""What a NAS-Bench-101 *subset* pool does to the mutation-based methods: neighbourhood sizes and
how often evolution and local search can actually mutate.

Prints, for every ``--every``-th model of the pool: its neighbours in the whole space
(:func:`gemgraph.nb101.nb101_neighbours`) and inside the pool (:meth:`NB101Space.neighbours`),
and the accuracy correlation between a model and the mean of its in-pool neighbours (the
locality mutation relies on). Then, for ``--trials`` trials of ``rea`` and ``ls`` through the
benchmark's loop: the share of proposals after the random start that are a neighbour of an
earlier evaluated model (a mutation / a local step) rather than a random cell (a fallback /
restart), and the mean accuracy of each kind.

    python benchmarks/nb101_peer_neighbourhoods.py [--data FILE] [--every 20] [--trials 10]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from gemgraph import encoders
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import NB101_OPS, NB101Evaluator, NB101Space, load_nb101, nb101_neighbours, nb101_pool
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM
from gemgraph.utils import derive_seed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled 20k sample)")
    p.add_argument("--every", type=int, default=20, help="every n-th model for the neighbourhood statistics")
    p.add_argument("--trials", type=int, default=10)
    p.add_argument("--queries", type=int, default=150)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average)")
    t0 = time.perf_counter()
    pool = nb101_pool(load_nb101(args.data))
    space = NB101Space(pool)
    idx = np.arange(0, len(pool), args.every)
    full, inside, pairs = [], [], []
    for i in idx.tolist():
        cell = pool.cells([i])[0]
        full.append(len(nb101_neighbours(cell)))
        nb = space.neighbours(cell)
        inside.append(len(nb))
        if nb:
            pairs.append((pool.accuracy[i], np.mean([pool.accuracy[space.index(c)] for c in nb])))
    full_a, in_a = np.array(full), np.array(inside)
    r = np.corrcoef(np.array(pairs).T)[0, 1] if len(pairs) > 2 else float("nan")
    print(f"pool: {len(pool)} models; {len(idx)} looked at")
    print(f"neighbours in the whole space: mean {full_a.mean():.1f} (min {full_a.min()}, max {full_a.max()})")
    print(f"neighbours inside the pool:    mean {in_a.mean():.2f}; none for {100 * (in_a == 0).mean():.1f}% of models; "
          f"share kept {in_a.sum() / full_a.sum():.3f} (pool / space = {len(pool) / 423_624:.3f})")
    print(f"accuracy vs mean in-pool neighbour accuracy: Pearson {r:.3f} over {len(pairs)} models")
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    for method, start in (("rea", 20), ("ls", 10)):
        kinds: dict[str, list[float]] = {"neighbour": [], "random": []}
        for trial in range(args.trials):
            store = MemoryStore()
            s = NASGEM(NB101Space(pool), raw, EfficiencyPredictor(n_members=1), NB101Evaluator(pool), store,
                       seed=derive_seed(0, "trial", trial), sampler=method, checkpoint_every=0, progress=False)
            s.evaluate_all(args.queries)
            rows = store.candidates()
            near_seen: set = set()  # neighbours of every model evaluated so far
            for r_ in rows:
                if r_["iteration"] >= start:
                    kinds["neighbour" if r_["cell"] in near_seen else "random"].append(r_["accuracy"])
                near_seen.update(space.neighbours(r_["cell"]))
        n = sum(len(v) for v in kinds.values())
        print(f"{method}: {n} proposals after the random start over {args.trials} trials: "
              + "; ".join(f"{k} {100 * len(v) / n:.1f}% (mean accuracy {100 * np.mean(v):.2f}%)" if v else f"{k} 0%"
                          for k, v in kinds.items()))
    print(f"pool mean accuracy {100 * pool.accuracy.mean():.2f}%; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
