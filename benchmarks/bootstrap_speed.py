"""Bootstrap optimisation speed: sample + embed + predict 50,000 30-node cells (2 CPU cores target <= 10 s).

    python benchmarks/bootstrap_speed.py [--num-samples 50000] [--max-concat 8]

Prints the time of each stage and of bootstrap_optimize end to end (the encoder and the
predictor are untrained / fitted on random scores: their weights do not change the cost).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from gemgraph import SearchSpace, encoders
from gemgraph.bootstrap import bootstrap_optimize
from gemgraph.predictor import EfficiencyPredictor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--num-samples", type=int, default=50_000)
    ap.add_argument("--max-concat", type=int, default=8)
    ap.add_argument("--encoder", default="mlp")
    args = ap.parse_args()
    space = SearchSpace(30, max_concat=args.max_concat)
    enc = encoders.create(args.encoder, num_nodes=30)
    cells = space.sample(100, seed=0)
    pred = EfficiencyPredictor(seed=0).fit(enc.embed(cells), np.random.default_rng(0).normal(size=100))
    t = time.perf_counter()
    adj, ops = space.sample_tensors(args.num_samples, seed=1)
    t1 = time.perf_counter()
    z = enc.embed((adj, ops))
    t2 = time.perf_counter()
    pred.predict(z)
    t3 = time.perf_counter()
    print(f"sample {args.num_samples}: {t1 - t:.2f} s | embed ({args.encoder}): {t2 - t1:.2f} s"
          f" | predict: {t3 - t2:.2f} s")
    t = time.perf_counter()
    r = bootstrap_optimize(pred, enc, space, num_samples=args.num_samples, top_k=5, seed=1)
    print(f"bootstrap_optimize end to end: {time.perf_counter() - t:.2f} s ({r})")


if __name__ == "__main__":
    main()
