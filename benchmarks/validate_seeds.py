r"""Does the 30-node search pick better cells than the cost alone, or random search, would?

Runs ``gemgraph search --preset P --seed s`` for each search seed (README command 1's job, the
same CLI), then ``gemgraph.validate.validate_run`` on each run (the reference protocol
:data:`gemgraph.validate.REFERENCE`, ``--ref-seeds`` repeats), and prints, over the search
seeds, the mean reference accuracy and objective score of each role (pick, best_measured,
cost_only, random) and the paired differences pick - cost_only, pick - random and
pick - best_measured (one value per search seed: the run's mean over its reference seeds)
with Student-t 95% intervals. The target (issue 18): both pick - cost_only and pick - random
above 0 with their intervals.

Everything is resumable: a finished run is not searched again, and each validation keeps its
trainings in ``OUT/validate-S/trainings.jsonl``. ``--summarise`` prints what is there.

Usage::

    python benchmarks/validate_seeds.py --data /work/shared/data --out out/vs --preset quick-regime --seeds 5
    python benchmarks/validate_seeds.py --data /work/shared/data --out out/vs --summarise

Figures and their load: ``benchmarks/README.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

try:
    import gemgraph  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemgraph.stats import mean_ci
from gemgraph.validate import REFERENCE, ROLES, validate_run


def _search(out: Path, preset: str, seed: int, extra: list[str]) -> float:
    run = out / f"run-{seed}"
    if (run / "run.sqlite").exists():
        rep = subprocess.run([sys.executable, "-m", "gemgraph", "report", str(run), "--json", "--cv-folds", "0"],
                             capture_output=True, text=True, check=True)
        if json.loads(rep.stdout).get("pick"):
            return float("nan")
    t0 = time.perf_counter()
    env = {k: v for k, v in os.environ.items() if k != "GEMGRAPH_DATA"}  # README command 1: no data root
    cmd = [sys.executable, "-m", "gemgraph", "search", "--preset", preset, "--seed", str(seed), "--out", str(run),
           "--quiet", *extra]
    if run.exists():
        cmd = [sys.executable, "-m", "gemgraph", "search", "--resume", str(run), "--quiet"]
    subprocess.run(cmd, check=True, env=env)
    return time.perf_counter() - t0


def _ci(x: list[float]) -> str:
    x = [v for v in x if v is not None and np.isfinite(v)]
    if len(x) < 2:
        return f"{x[0]:+.4f} (n=1)" if x else "n/a"
    iv = mean_ci(x, method="t")
    return f"{iv.estimate:+.4f} [{iv.low:+.4f}, {iv.high:+.4f}] (n={len(x)})"


def summarise(vals: list[dict]) -> str:
    lines = []
    if not vals:
        return "nothing validated yet"
    obj = {v["objective"] for v in vals}
    lines.append(f"{len(vals)} runs, objective {', '.join(sorted(obj))}; reference {vals[0]['protocol']}")
    for role in ROLES:
        accs = [next(r for r in v["roles"] if r["role"] == role)["accuracy"] for v in vals]
        scores = [next(r for r in v["roles"] if r["role"] == role)["score"] for v in vals]
        macs = [next(r for r in v["roles"] if r["role"] == role)["macs"] / 1e6 for v in vals]
        lines.append(f"  {role:>13s}: reference accuracy {_ci(accs)}, score {_ci(scores)}, "
                     f"MMACs {np.mean(macs):.1f} (regime network)")
    for other in ("cost_only", "random", "best_measured"):
        d = []
        for v in vals:
            sp = next(r for r in v["roles"] if r["role"] == "pick")["score"]
            so = next(r for r in v["roles"] if r["role"] == other)["score"]
            if sp is not None and so is not None:
                d.append(sp - so)
        lines.append(f"  paired pick - {other} (score, per search seed): {_ci(d)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=os.environ.get("GEMGRAPH_DATA"), help="data root holding cifar10-ref/")
    p.add_argument("--out", required=True)
    p.add_argument("--preset", default="quick-regime")
    p.add_argument("--seeds", type=int, default=5, help="search seeds 0 .. S-1")
    p.add_argument("--first-seed", type=int, default=0)
    p.add_argument("--ref-seeds", type=int, default=REFERENCE.seeds, help="reference repeats per cell")
    p.add_argument("--search-args", default="", help="extra arguments for gemgraph search (one string)")
    p.add_argument("--summarise", action="store_true", help="print what is stored; search and train nothing")
    a = p.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    vals = []
    for seed in range(a.first_seed, a.first_seed + a.seeds):
        vfile = out / f"validate-{seed}" / "validate.json"
        if a.summarise:
            if vfile.exists():
                vals.append(json.loads(vfile.read_text()))
            continue
        secs = _search(out, a.preset, seed, a.search_args.split())
        if np.isfinite(secs):
            print(f"seed {seed}: search {secs:.0f} s", flush=True)
        t0 = time.perf_counter()
        v = validate_run(out / f"run-{seed}", out=out / f"validate-{seed}", seeds=a.ref_seeds, data_root=a.data)
        print(f"seed {seed}: validation {time.perf_counter() - t0:.0f} s; {v!r}", flush=True)
        vals.append(v.to_dict())
    text = summarise(vals)
    print(text)
    (out / "summary.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
