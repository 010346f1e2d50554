r"""How the predictor's settings change the NAS-Bench-101 ablation (how the defaults were chosen).

For each predictor setting (the paper's single regression MLP, gemgraph's rank-target
ensemble, the pairwise ranking loss, ...), runs the ablation's draws (``run_ablation``: same
seeds, budgets and encoder for every setting) and prints the mean bias of the top-1 arms
(paper rule and incumbent-aware) and of the equal-evaluation top-10 variants, with the time of
the runs. Quality figures do not depend on the machine; the seconds do (load is printed).

    python benchmarks/predictor_choice.py [--data FILE] [--seeds 10] [--budgets 100,500,2000]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import torch

from gemgraph import encoders
from gemgraph.ablation import embed_pool, run_ablation, summarize, train_nb101_encoder
from gemgraph.nb101 import NB101_OPS, load_nb101, nb101_pool
from gemgraph.predictor import PAPER_PREDICTOR

SETTINGS = {
    "paper (1 MLP, standardised targets)": dict(PAPER_PREDICTOR),
    "default (rank targets, 5 members)": {},
    "rank, 5 members, paper's training": {"lr": 3e-3, "max_epochs": 500, "patience": 50},
    "pairwise loss, 5 members": {"loss": "pairwise"},
    "standardised targets, 5 members": {"target": "none"},
}


def main() -> None:
    p = argparse.ArgumentParser(description="predictor settings on the NB101 ablation's draws")
    p.add_argument("--data", default=None)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--budgets", default="100,500,2000")
    p.add_argument("--settings", default=None, help="JSON dict name -> predictor options (default: the built-in list)")
    args = p.parse_args()
    torch.set_num_threads(1)
    budgets = [int(b) for b in args.budgets.split(",")]
    settings = json.loads(args.settings) if args.settings else SETTINGS
    print(f"load {os.getloadavg()[0]:.2f}; {args.seeds} seeds x budgets {budgets}")
    pool = nb101_pool(load_nb101(args.data))
    enc, info = train_nb101_encoder(progress=False)
    enc = enc.to("cpu")
    print(f"encoder: Pearson {info['fidelity']['pearson']:.3f} ({'cached' if info['cached'] else 'trained'})")
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    vec = {"embedding": embed_pool(enc, pool.batch, normalize=True), "raw": embed_pool(raw, pool.batch)}
    arms = ("embedding", "raw", "embedding_paper", "raw_paper", "embedding_top10", "raw_top10", "random", "random+10")
    print(f"{'setting':<40} {'K':>5} " + " ".join(f"{a:>16}" for a in arms) + "   seconds  (mean bias, % points)")
    for name, opts in settings.items():
        t0 = time.perf_counter()
        rows = run_ablation(pool, {"embedding": enc, "raw": raw}, vec, budgets=budgets, seeds=args.seeds,
                            predictor=opts, progress=False)
        secs = time.perf_counter() - t0
        mean = {(r["budget"], r["arm"]): 100 * r["mean"] for r in summarize(rows, ci="t")}
        for K in budgets:
            print(f"{name:<40} {K:>5} " + " ".join(f"{mean[(K, a)]:>16.3f}" for a in arms)
                  + (f"   {secs:7.1f}" if K == budgets[0] else ""))


if __name__ == "__main__":
    main()
