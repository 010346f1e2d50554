"""Closed-form MACs / params (gemgraph.cost.CellCost) against torch's FLOP counter (gemgraph.cost.count).

    python benchmarks/closed_form_macs.py [--cells 1000] [--bulk 50000]

For each network type (CifarNet width 16 at 32x32, the proxy; MobileNet width 0.5 at 224x224,
the GEMNet setting) it draws ``--cells`` random 30-node cells (half from the presets' space,
``SearchSpace(30, max_concat=8)``, half uncapped with edge density up to 0.9), builds each
network, counts it with the FLOP counter and checks that the closed form gives the same MACs
and parameters for every cell; then it times the closed form on ``--bulk`` cells and prints
the per-cell times and their ratio. Exits 1 on any mismatch.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import torch

from gemgraph import SearchSpace
from gemgraph.cost import CellCost, count

NETWORKS = {
    "cifarnet": {"network": "cifarnet", "width": 16},
    "mobilenet": {"network": "mobilenet", "width": 0.5},
}


def random_cells(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` 30-node cells: half capped at 8 concatenations (the presets), half uncapped and dense."""
    a1, o1 = SearchSpace(30, max_concat=8).sample_tensors(n - n // 2, seed=seed)
    a2, o2 = SearchSpace(30, edge_prob=(0.02, 0.9)).sample_tensors(n // 2, seed=seed + 1)
    return torch.cat([a1, a2]), torch.cat([o1, o2])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cells", type=int, default=1000, help="cells checked against the FLOP counter per network")
    ap.add_argument("--bulk", type=int, default=50_000, help="cells for timing the closed form")
    ap.add_argument("--networks", default="cifarnet,mobilenet")
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average), torch threads 1")
    failed = 0
    for name in args.networks.split(","):
        cost = CellCost(**NETWORKS[name])
        adj, ops = random_cells(args.cells, seed=0)
        cells = SearchSpace.to_cells(adj, ops)
        t = time.perf_counter()
        macs, params = cost((adj, ops))
        t_closed_small = time.perf_counter() - t
        build = flops = 0.0
        mismatches = 0
        for i, cell in enumerate(cells):
            t0 = time.perf_counter()
            model = cost.build(cell)
            t1 = time.perf_counter()
            ref = count(model, (3,) + cost.input_size)
            flops += time.perf_counter() - t1
            build += t1 - t0
            if ref != (int(macs[i]), int(params[i])):
                mismatches += 1
                if mismatches <= 5:
                    print(f"  MISMATCH cell {i}: flop counter {ref}, closed form {(int(macs[i]), int(params[i]))}")
        failed += mismatches
        bulk_adj, bulk_ops = SearchSpace(30, max_concat=8).sample_tensors(args.bulk, seed=2)
        t = time.perf_counter()
        cost((bulk_adj, bulk_ops))
        t_bulk = time.perf_counter() - t
        per_ref = (build + flops) / len(cells)
        per_closed = t_bulk / args.bulk
        print(f"{cost}")
        print(f"  {len(cells)} cells: {len(cells) - mismatches} equal to the FLOP counter (MACs and params), "
              f"{mismatches} differ; MACs {int(macs.min()) / 1e6:.1f}M-{int(macs.max()) / 1e6:.1f}M")
        print(f"  FLOP counter: {1e3 * per_ref:.1f} ms/cell (build {1e3 * build / len(cells):.1f} + count "
              f"{1e3 * flops / len(cells):.1f}); closed form: {1e3 * t_closed_small:.1f} ms for the {len(cells)}, "
              f"{t_bulk:.3f} s for {args.bulk} cells = {1e6 * per_closed:.2f} us/cell")
        print(f"  speed-up per cell: {per_ref / per_closed:,.0f}x"
              f" (count alone: {flops / len(cells) / per_closed:,.0f}x)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
