r"""The NAS-Bench-Graph comparison over datasets: one table from the benchmark folders.

Reads ``DIR/<dataset>/regret.csv`` for each dataset benchmarked with
``gemgraph benchmark nbgraph --dataset D --out DIR/D`` and prints, at each query count, the mean
validation regret (% points) of every method, whether ``--method`` (default ``nasgem-seq:raw``)
is at or below the best peer's mean, and its paired difference to regularized evolution
(trial by trial, Student-t 95% interval), then the average over the datasets.

Usage::

    python benchmarks/nbgraph_table.py out/nbg [--method nasgem-seq:raw] [--queries 50,100]
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph.benchmark import PEERS
from gemgraph.stats import mean_ci


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("root")
    p.add_argument("--method", default="nasgem-seq:raw")
    p.add_argument("--queries", default="50,100")
    a = p.parse_args(argv)
    qs = [int(q) for q in a.queries.split(",")]
    root = Path(a.root)
    wins = defaultdict(int)
    avg: dict[tuple[str, int], list[float]] = defaultdict(list)
    n_data = 0
    for d in sorted(x for x in root.iterdir() if (x / "regret.csv").exists()):
        rows = list(csv.DictReader((d / "regret.csv").open()))
        reg: dict[tuple[str, int], dict[int, float]] = defaultdict(dict)
        for r in rows:
            reg[(r["method"], int(r["queries"]))][int(r["trial"])] = 100 * float(r["regret"])
        methods = sorted({m for m, _ in reg}, key=lambda m: (m != "random", m not in PEERS, m))
        n_data += 1
        print(f"{d.name}:")
        for q in qs:
            means = {m: float(np.mean(list(reg[(m, q)].values()))) for m in methods if (m, q) in reg}
            for m, v in means.items():
                avg[(m, q)].append(v)
            peers = {m: v for m, v in means.items() if m in PEERS}
            line = "  ".join(f"{m} {v:.3f}" for m, v in means.items())
            verdict = ""
            if a.method in means and peers:
                best_peer = min(peers, key=lambda m: peers[m])
                ok = means[a.method] <= peers[best_peer] + 1e-12
                wins[q] += ok
                verdict = f" | {a.method} {'<=' if ok else '>'} best peer ({best_peer} {peers[best_peer]:.3f})"
                if "rea" in means:
                    t = sorted(set(reg[(a.method, q)]) & set(reg[("rea", q)]))
                    diff = [reg[(a.method, q)][i] - reg[("rea", q)][i] for i in t]
                    iv = mean_ci(diff, method="t")
                    verdict += f"; {a.method} - rea {iv.estimate:+.3f} [{iv.low:+.3f}, {iv.high:+.3f}]"
            print(f"  q={q}: {line}{verdict}")
    print(f"\n{n_data} datasets; {a.method} at or below the best peer: "
          + ", ".join(f"q={q}: {wins[q]}/{n_data}" for q in qs))
    for q in qs:
        line = "  ".join(f"{m} {np.mean(v):.3f}" for (m, qq), v in sorted(avg.items()) if qq == q)
        print(f"average over the datasets, q={q}: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
