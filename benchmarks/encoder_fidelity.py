"""Encoder fidelity to the WL kernel on held-out pairs of unseen 30-node cells, and speed.

For each encoder (default: raw, mlp, gin, gcn) this trains with ``train_encoder``'s defaults
(the "raw" baseline is only evaluated), prints RMSE / Pearson / Spearman between cosine
similarity and the WL kernel on pairs of test graphs never seen in training or early
stopping, the training time, and the time to embed 50,000 cells.

    python benchmarks/encoder_fidelity.py [--encoders raw,mlp,gin] [--nodes 30] [--time-limit 290]
                                          [--labels degree | degree,op]

``--labels degree`` (default) is the paper's setting: WL on degree labels, encoders on the
adjacency only. ``--labels degree,op`` is the presets' ops-aware setting: WL on (degree, op)
labels and encoders fed the one-hot ops of the space (conv1x1, sepconv3x3).

``--time-limit`` gives every trained encoder a budget (the one-cycle schedule is shortened to
fit; the "epochs" column shows what ran). The README's gin figure used ``--time-limit 290``;
the mlp figure the plain defaults (16 epochs, about 200 s on 2 idle cores).
"""
from __future__ import annotations

import argparse
import time

import torch

from gemgraph import SearchSpace, WLKernel, encoders
from gemgraph.embedding import train_encoder
from gemgraph.wl import label_names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoders", default="raw,mlp,gin,gcn")
    ap.add_argument("--nodes", type=int, default=30)
    ap.add_argument("--time-limit", type=float, default=None, help="override train_encoder's default")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu (the target), cuda or auto")
    ap.add_argument("--labels", default="degree", help="WL labels: degree (the paper's) or degree,op (ops-aware)")
    args = ap.parse_args()
    space = SearchSpace(num_nodes=args.nodes)
    names = label_names(args.labels, "--labels")
    kernel = WLKernel(n_iter=3, node_labels=names)
    enc_ops = ("input",) + space.ops if "op" in names else None  # node 0 is the input
    adj, ops = space.sample_tensors(50_000, seed=123)
    print(f"torch threads: {torch.get_num_threads()}; cells: {args.nodes} nodes; WL h=3 on {'+'.join(names)} labels; "
          f"encoder ops: {None if enc_ops is None else list(enc_ops)}")
    print(f"{'encoder':8s} {'RMSE':>7s} {'Pearson':>8s} {'Spearman':>9s} {'epochs':>7s} {'train s':>8s}"
          f" {'embed 50k s':>12s}")
    for name in args.encoders.split(","):
        enc = encoders.create(name, num_nodes=args.nodes, ops=enc_ops)
        kw = {} if args.time_limit is None else {"time_limit": args.time_limit}
        res = train_encoder(enc, space, kernel, seed=args.seed, progress=False, device=args.device, **kw)
        enc = res.encoder.cpu()
        enc.embed((adj[:1000], ops[:1000]))  # warm-up
        t = time.perf_counter()
        z = enc.embed((adj, ops))
        emb = time.perf_counter() - t
        r = res.report
        print(f"{name:8s} {r.rmse:7.4f} {r.pearson:8.4f} {r.spearman:9.4f} {len(res.history):7d} "
              f"{res.seconds:8.1f} {emb:12.2f}   (dim {z.shape[1]}, {r.n_pairs} pairs / {r.n_graphs} graphs)")


if __name__ == "__main__":
    main()
