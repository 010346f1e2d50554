r"""How long ``import gemgraph`` takes on top of ``import torch`` (which it needs), in fresh
interpreters, with the modules each loads.

Each repeat runs one new Python process that imports torch (the reference, timed) and then
gemgraph (timed), and reports the gemgraph modules and the heavy third-party packages loaded.
The median over ``--repeats`` of both and their ratio are printed; ``--tree`` points at another
checkout to compare (e.g. an older commit's worktree).

Usage::

    python benchmarks/import_time.py --repeats 5
    python benchmarks/import_time.py --repeats 5 --tree /path/to/other/checkout

Figures: ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

_PROBE = r"""
import json, sys, time
t0 = time.perf_counter(); import torch; t1 = time.perf_counter()
import gemgraph; t2 = time.perf_counter()
heavy = sorted({m.split('.')[0] for m in sys.modules}
               & {'sklearn', 'scipy', 'torch_geometric', 'matplotlib', 'sqlite3'})
print(json.dumps({"torch": t1 - t0, "gemgraph": t2 - t1, "modules": sorted(m for m in sys.modules
      if m.startswith('gemgraph')), "heavy": heavy, "file": gemgraph.__file__}))
"""


def measure(tree: Path, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-W", "ignore", "-c", _PROBE], capture_output=True, text=True,
                             check=True, cwd=tree, env=env)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"torch_s": statistics.median(r["torch"] for r in runs),
            "gemgraph_s": statistics.median(r["gemgraph"] for r in runs),
            "modules": runs[-1]["modules"], "heavy": runs[-1]["heavy"], "file": runs[-1]["file"]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--tree", default=None, help="another checkout to compare with this one")
    args = p.parse_args()
    trees = [Path(__file__).resolve().parents[1]] + ([Path(args.tree).resolve()] if args.tree else [])
    for tree in trees:
        m = measure(tree, args.repeats)
        print(f"{tree}: import torch {m['torch_s']:.3f} s (reference), import gemgraph on top "
              f"{m['gemgraph_s']:.3f} s ({m['gemgraph_s'] / m['torch_s']:.3f}x torch); "
              f"{len(m['modules'])} gemgraph modules; heavy packages loaded: {m['heavy'] or 'none'}")


if __name__ == "__main__":
    main()
