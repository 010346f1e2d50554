"""Cost of sampling inside a computation regime (SearchSpace macs= / min_ops=) against plain sampling.

    python benchmarks/regime_sampling.py [--num-samples 50000]

Samples ``--num-samples`` 30-node cells (``max_concat=8``, the presets' space) without a
window, then with the presets' windows (CifarNet width 16 at 32x32: the default preset's
25M-100M; MobileNet width 0.5 at 224x224: GEMNet-A 440M-486M and GEMNet-B 535M-591M), each
with ``min_ops=5``, and prints the time, the acceptance rate and the ratio to plain sampling.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from gemgraph import SearchSpace
from gemgraph.cost import CellCost

REGIMES = {
    "default (cifarnet-16, 25M-100M)": ((25e6, 100e6), {"network": "cifarnet", "width": 16}),
    "imagenet-a (mobilenet-0.5, 440M-486M)": ((440e6, 486e6), {"network": "mobilenet", "width": 0.5}),
    "imagenet-b (mobilenet-0.5, 535M-591M)": ((535e6, 591e6), {"network": "mobilenet", "width": 0.5}),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--num-samples", type=int, default=50_000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average), torch threads 1")
    n = args.num_samples
    plain = SearchSpace(30, max_concat=8)
    plain.sample_tensors(100, seed=0)  # warm-up
    t = time.perf_counter()
    plain.sample_tensors(n, seed=1)
    t_plain = time.perf_counter() - t
    print(f"plain: {n} cells in {t_plain:.2f} s")
    probe = plain.sample_tensors(20_000, seed=2)
    for name, (window, cost) in REGIMES.items():
        space = SearchSpace(30, max_concat=8, macs=window, min_ops=5, cost=CellCost(**cost))
        rate = float(space.accept(*probe).float().mean())
        t = time.perf_counter()
        space.sample_tensors(n, seed=1)
        dt = time.perf_counter() - t
        t = time.perf_counter()
        space.sample(1, seed=3)
        t1 = time.perf_counter() - t
        print(f"{name}: acceptance {100 * rate:.1f}%, {n} cells in {dt:.2f} s ({dt / t_plain:.1f}x plain); "
              f"one cell (a search candidate) in {1e3 * t1:.0f} ms")


if __name__ == "__main__":
    main()
