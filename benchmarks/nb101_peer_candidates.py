r"""A control for the NB101 subset-pool comparison: BANANAS and NAS-BOWL given the *whole pool* as
candidates (as ``nasgem-seq`` has), instead of mutations of their best cells topped up at random.

Runs ``bowl`` and ``bananas`` with ``num_candidates`` = the pool size (the unevaluated neighbours
of the best cells first, then every other unevaluated model) through the benchmark's loop and
seeds (trial ``i`` uses ``derive_seed(seed, "trial", i)``, as :func:`gemgraph.benchmark.run_trial`),
and pairs them with the rows of a ``regret.csv`` from ``nb101_search_quality.py`` / ``gemgraph
benchmark nb101`` made with the same seed (its ``bananas``, ``bowl`` and ``nasgem-seq``).

    python benchmarks/nb101_peer_candidates.py --against RUN/benchmark/regret.csv [--trials 20] [--data FILE]
"""
from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np
import torch

from gemgraph import encoders
from gemgraph.benchmark import summarize_regret
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import NB101_OPS, NB101Evaluator, NB101Space, load_nb101, nb101_pool
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM
from gemgraph.utils import derive_seed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--against", required=True, help="regret.csv of a benchmark run with the same --seed")
    p.add_argument("--data", default=None)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="bowl,bananas")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average)", flush=True)
    pool = nb101_pool(load_nb101(args.data))
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    with open(args.against) as f:
        ref = [r for r in csv.DictReader(f) if int(r["trial"]) < args.trials]
    rows = [dict(r, trial=int(r["trial"]), queries=int(r["queries"]), regret=float(r["regret"])) for r in ref]
    qs = sorted({100, args.queries})
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        for trial in range(args.trials):
            tseed = derive_seed(args.seed, "trial", trial)
            store = MemoryStore()
            s = NASGEM(NB101Space(pool), raw, EfficiencyPredictor(seed=derive_seed(tseed, "predictor")),
                       NB101Evaluator(pool), store, seed=tseed, top_k=10, sampler=method,
                       sampler_options={"n_init": 10, "batch_size": 10, "num_candidates": len(pool)},
                       checkpoint_every=0, progress=False)
            s.evaluate_all(args.queries)
            acc = np.maximum.accumulate([r["accuracy"] for r in store.candidates()])
            for q in qs:
                rows.append({"method": f"{method}-pool", "trial": trial, "queries": q,
                             "regret": float(pool.best_accuracy - acc[q - 1])})
            print(f"{method}-pool trial {trial}: regret at {qs}: "
                  + ", ".join(f"{100 * (pool.best_accuracy - acc[q - 1]):.3f}" for q in qs), flush=True)
        print(f"{method}-pool: {time.perf_counter() - t0:.0f} s for {args.trials} trials", flush=True)
    rows = [r for r in rows if r["queries"] in qs]
    for base in ("nasgem-seq", *[m for m in args.methods.split(",")]):
        summ = summarize_regret(rows, baseline=base)
        print(f"\nagainst {base} (paired: regret({base}) - regret(method), % points, 95% BCa CI):")
        for r in summ:
            if r["method"] != base:
                print(f"  {r['method']:<14} q={r['queries']:>3}: {100 * r['mean']:.3f} [{100 * r['ci_low']:.3f}, "
                      f"{100 * r['ci_high']:.3f}]  paired {100 * r['paired_diff']:+.3f} "
                      f"[{100 * r['paired_low']:+.3f}, {100 * r['paired_high']:+.3f}]")


if __name__ == "__main__":
    main()
