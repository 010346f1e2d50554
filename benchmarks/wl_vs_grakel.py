"""WL kernel: gemgraph.WLKernel vs GraKel on the same cells, in the same process.

Prints wall time of each, the speed-up, and the largest absolute difference of the
normalised Gram matrices. Usage: python benchmarks/wl_vs_grakel.py [--n 5000] [--h 3]

``--sweep`` instead times the normalised Gram step alone for several dense/sparse crossover
factors (``gemgraph.wl._DENSE_FACTOR``; 1600 is the default), relative to the default.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from grakel import Graph
from grakel.kernels import VertexHistogram, WeisfeilerLehman

from gemgraph import SearchSpace, WLKernel, wl


def grakel_gram(cells, h: int) -> np.ndarray:
    graphs = [
        Graph(c.adjacency.astype(float), node_labels=dict(enumerate((c.in_degree + c.out_degree).tolist())))
        for c in cells
    ]
    return WeisfeilerLehman(n_iter=h, normalize=True, base_graph_kernel=VertexHistogram).fit_transform(graphs)


def sweep(kern: WLKernel, cells, repeats: int) -> None:
    """Best-of-``repeats`` time of the normalised Gram step per crossover factor."""
    F = kern.features(cells)
    df = np.bincount(F.indices, minlength=F.shape[1]).astype(np.float64)
    n = float(F.shape[0])
    default = wl._DENSE_FACTOR
    times = {}
    try:
        for f in (100.0, 400.0, default, 6400.0, 25600.0, 1e5):
            wl._DENSE_FACTOR = f
            ts = []
            for _ in range(repeats):
                t = time.perf_counter()
                kern._gram(F, normalize=True)
                ts.append(time.perf_counter() - t)
            times[f] = min(ts)
    finally:
        wl._DENSE_FACTOR = default
    print(f"Gram step of {F.shape[0]} cells ({F.shape[1]} labels), best of {repeats}")
    for f, t in times.items():
        dense = int(((df >= 2) & (df * df * f > n * n)).sum())
        print(f"factor {f:>9.0f}: {dense:5d} dense labels  {t:7.3f} s  ({t / times[default]:.2f}x the default)")
    # the dense block's product: wl._dense_product against numpy's A @ A.T, same process
    cols = np.flatnonzero((df >= 2) & (df * df * default > n * n))
    D = F[:, cols].toarray()
    for name, fn in (("wl._dense_product", lambda: wl._dense_product(D)), ("numpy D @ D.T", lambda: D @ D.T)):
        ts = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        print(f"dense product {D.shape[0]} x {D.shape[1]}: {name:18s} {min(ts):7.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--nodes", type=int, default=30)
    ap.add_argument("--h", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sweep", action="store_true", help="time the Gram step for several crossover factors")
    args = ap.parse_args()
    cells = SearchSpace(args.nodes).sample(args.n, seed=0)
    kern = WLKernel(n_iter=args.h, node_labels="degree")
    if args.sweep:
        sweep(kern, cells, args.repeats)
        return
    ours = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        K1 = kern.fit_transform(cells)
        ours.append(time.perf_counter() - t)
    t = time.perf_counter()
    K2 = grakel_gram(cells, args.h)
    theirs = time.perf_counter() - t
    best, med = min(ours), float(np.median(ours))
    print(f"cells: {args.n} x {args.nodes} nodes, h = {args.h}")
    print(f"gemgraph WLKernel : {best:8.3f} s (best of {args.repeats}; all: {', '.join(f'{x:.3f}' for x in ours)})")
    print(f"GraKel            : {theirs:8.3f} s (Graph construction included)")
    print(f"speed-up          : {theirs / best:8.1f}x on the best run, {theirs / med:.1f}x on the median ({med:.3f} s)")
    print(f"max |K_ours - K_grakel| = {np.abs(K1 - K2).max():.3e}")


if __name__ == "__main__":
    main()
