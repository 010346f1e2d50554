r"""Predictor-guided search against random search on NAS-Bench-101, through the real search loop.

``NASGEM`` runs on ``NB101Space`` (the models of a file) with ``NB101Evaluator`` (accuracies
looked up instead of training): the same loop, sampler and predictor a 30-node search uses.
The run prints the regret (best accuracy in the data - best found) after every batch, for the
acquisition sampler and for random search on the same first draws.

    python examples/nb101_search.py [--queries 150] [--seed 0] [--sampler ucb]

For many seeded trials with confidence intervals use ``gemgraph benchmark nb101``.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from gemgraph.ablation import embed_pool, train_nb101_encoder
from gemgraph.encoders import CachedEncoder
from gemgraph.memstore import MemoryStore
from gemgraph.nb101 import NB101Evaluator, NB101Space, load_nb101, nb101_pool
from gemgraph.predictor import EfficiencyPredictor
from gemgraph.search import NASGEM


def main() -> None:
    p = argparse.ArgumentParser(description="predictor-guided search vs random search on NAS-Bench-101")
    p.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled 20k sample)")
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--sampler", default="mean", choices=["mean", "ucb", "thompson"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--encoder-options", type=json.loads, default={},
                   help='JSON options of train_nb101_encoder, e.g. \'{"n_train": 200, "max_epochs": 2}\'')
    args = p.parse_args()

    pool = nb101_pool(load_nb101(args.data))
    # WL-supervised, cached under $GEMGRAPH_CACHE (default ~/.cache/gemgraph)
    enc, info = train_nb101_encoder(progress=False, **args.encoder_options)
    # L2-normalised embedding; every model embedded once, then looked up
    features = CachedEncoder.from_vectors(pool.batch, embed_pool(enc.cpu(), pool.batch, normalize=True))
    print(f"{len(pool)} models, best validation accuracy {100 * pool.best_accuracy:.2f}%; "
          f"encoder WL fidelity Pearson {info['fidelity']['pearson']:.3f}")

    curves = {}
    for sampler in ("random", args.sampler):
        store = MemoryStore()
        search = NASGEM(NB101Space(pool), features, EfficiencyPredictor(seed=args.seed), NB101Evaluator(pool), store,
                        seed=args.seed, sampler=sampler, sampler_options={} if sampler == "random" else
                        {"n_init": 10, "batch_size": 10}, checkpoint_every=0, progress=False)
        search.evaluate_all(args.queries)
        acc = np.array([r["accuracy"] for r in store.candidates()])
        curves[sampler] = pool.best_accuracy - np.maximum.accumulate(acc)
    print(f"{'queries':>8} " + " ".join(f"{s:>10}" for s in curves) + "   (regret, % points)")
    for q in range(10, args.queries + 1, 10):
        print(f"{q:>8} " + " ".join(f"{100 * c[q - 1]:>10.3f}" for c in curves.values()))


if __name__ == "__main__":
    main()
