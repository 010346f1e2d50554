"""CellBatch.to_cells (the one batch -> cells conversion, used by SearchSpace.to_cells) against the
loop SearchSpace.to_cells had before, in the same process on the same tensors.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/batch_to_cells.py [--n 20000]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gemgraph import Cell, SearchSpace
from gemgraph.batch import CellBatch
from gemgraph.cell import OPS


def reference(adj: torch.Tensor, ops: torch.Tensor | None) -> list[Cell]:
    """SearchSpace.to_cells before the move (verbatim, with the then-private constructor's new name)."""
    a = adj.to(torch.uint8).cpu().numpy()
    if ops is None:
        return [Cell.from_checked(a[i], None) for i in range(a.shape[0])]
    names = np.array(OPS, dtype=object)[ops.cpu().numpy()]
    return [Cell.from_checked(a[i], tuple(names[i])) for i in range(a.shape[0])]


def best_of(fn, repeat: int = 5) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    args = ap.parse_args()
    torch.set_num_threads(1)
    adj, ops = SearchSpace(30, max_concat=8).sample_tensors(args.n, seed=0)
    assert reference(adj, ops) == CellBatch.from_tensors(adj, ops).to_cells()
    t_ref = best_of(lambda: reference(adj, ops))
    t_new = best_of(lambda: SearchSpace.to_cells(adj, ops))
    print(f"{args.n} cells of 30 nodes: reference loop {t_ref * 1e3:.1f} ms, CellBatch.to_cells {t_new * 1e3:.1f} ms "
          f"(ratio new/ref {t_new / t_ref:.2f})")


if __name__ == "__main__":
    main()
