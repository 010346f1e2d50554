r"""Speed of the NAS-Bench-101 ablation's parts, on one process (ratios are what to trust on a
shared machine).

Measures, on the dev file (or the bundled sample):

* loading and stacking the models (``nb101_pool``);
* embedding every model once (``embed_pool``) vs re-embedding the pool in every bootstrap;
* one predictor fit per budget K (the ablation does 2 per (budget, seed));
* one bootstrap ranking of the whole pool with precomputed vectors vs embedding it again;
* an estimate of the full default ablation (5 budgets x 30 seeds x 2 predictor arms) from
  those parts, without the encoder training (which ``--encoder-time-limit`` caps).

    python benchmarks/ablation_speed.py [--data FILE] [--repeats 3]
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from gemgraph import encoders
from gemgraph.ablation import DEFAULT_BUDGETS, NB101_OPS, embed_pool, load_nb101, nb101_pool
from gemgraph.bootstrap import bootstrap_optimize
from gemgraph.predictor import EfficiencyPredictor


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description="speed of the NB101 ablation's parts")
    p.add_argument("--data", default=None, help="official-layout .tfrecord (default: bundled sample)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dim", type=int, default=64, help="embedding dimension (untrained encoder: speed only)")
    args = p.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)

    t = time.perf_counter()
    nb = load_nb101(args.data)
    pool = nb101_pool(nb)
    print(f"load + pool: {time.perf_counter() - t:.2f} s  ({len(pool)} models; torch threads "
          f"{torch.get_num_threads()})")

    enc = encoders.create("mlp", num_nodes=7, dim=args.dim, ops=NB101_OPS).eval()
    raw = encoders.create("raw", num_nodes=7, ops=NB101_OPS)
    t_emb = best_of(lambda: embed_pool(enc, pool.batch, normalize=True), args.repeats)
    print(f"embed all models once: mlp {t_emb:.2f} s, raw "
          f"{best_of(lambda: embed_pool(raw, pool.batch), args.repeats):.3f} s")
    Z = {"embedding": embed_pool(enc, pool.batch, normalize=True), "raw": embed_pool(raw, pool.batch)}

    rng = np.random.default_rng(0)
    fit = {}
    for K in DEFAULT_BUDGETS:
        idx = rng.permutation(len(pool))[:K]
        for arm in Z:
            fit[(K, arm)] = best_of(lambda: EfficiencyPredictor(seed=0).fit(Z[arm][idx], pool.accuracy[idx]),
                                    args.repeats)
        print(f"predictor fit K={K:>5}: embedding {fit[(K, 'embedding')]:.3f} s, raw {fit[(K, 'raw')]:.3f} s")

    idx = rng.permutation(len(pool))[:500]
    pred = EfficiencyPredictor(seed=0).fit(Z["embedding"][idx], pool.accuracy[idx])
    t_vec = best_of(lambda: bootstrap_optimize(pred, enc, pool.batch, vectors=Z["embedding"], num_samples=50_000),
                    args.repeats)
    t_re = best_of(lambda: bootstrap_optimize(pred, enc, pool.batch, num_samples=50_000), 1)
    print(f"bootstrap over {min(50_000, len(pool))} candidates: precomputed vectors {t_vec:.3f} s, "
          f"re-embedding {t_re:.3f} s ({t_re / t_vec:.1f}x)")

    seeds = 30
    est = seeds * sum(fit.values()) + seeds * len(DEFAULT_BUDGETS) * 2 * t_vec + t_emb
    est_re = est + seeds * len(DEFAULT_BUDGETS) * 2 * (t_re - t_vec)
    print(f"estimated default ablation without encoder training: {est / 60:.1f} min "
          f"(re-embedding per run: {est_re / 60:.1f} min)")


if __name__ == "__main__":
    main()
