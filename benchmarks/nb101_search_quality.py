r"""Search quality on NAS-Bench-101 against random search: the ablation (paper Fig. 4) and the
regret benchmark, with the targets of the search-quality issue checked.

Runs, with gemgraph's defaults (or the paper's predictor with ``--paper-predictor``):

1. ``nb101_ablation``: 5 budgets x ``--seeds`` seeds; prints the bias table, the paired
   embedding-minus-raw differences and the equal-evaluation comparisons against random search;
2. ``nb101_benchmark``: ``--trials`` trials x ``--queries`` queries of ``random``, the field's
   methods (``rea``, ``ls``, ``bananas``, ``bowl``), ``nasgem`` and ``nasgem-seq``
   (``--methods``); prints the regret table with ratios to random search, and the paired
   differences of ``nasgem-seq`` against each peer;

then one line per target (PASS / FAIL with the figure). Timings are wall-clock seconds of this
process; run it on an idle machine (``uptime`` is printed) and compare ratios, not seconds,
across machines.

    python benchmarks/nb101_search_quality.py [--data FILE] [--seeds 30] [--trials 100] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from gemgraph.ablation import nb101_ablation
from gemgraph.benchmark import DEFAULT_METHODS, PEERS, nb101_benchmark, summarize_regret
from gemgraph.predictor import PAPER_PREDICTOR


def main() -> None:
    p = argparse.ArgumentParser(description="NB101 search quality against random search, with the issue's targets")
    p.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled 20k sample)")
    p.add_argument("--seeds", type=int, default=30)
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--queries", type=int, default=150)
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    p.add_argument("--paper-predictor", action="store_true")
    p.add_argument("--skip-ablation", action="store_true")
    p.add_argument("--skip-benchmark", action="store_true")
    p.add_argument("--out", default="runs/nb101-quality")
    args = p.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    pred = dict(PAPER_PREDICTOR) if args.paper_predictor else None
    print(f"load: {os.getloadavg()[0]:.2f} (1-min average), torch threads 1")
    checks = []
    if not args.skip_ablation:
        t0 = time.perf_counter()
        ab = nb101_ablation(args.data, out / "ablation", seeds=args.seeds, predictor=pred, progress=False)
        secs = time.perf_counter() - t0
        fid = ab.info["encoder"]["fidelity"]
        print(f"\nablation: {secs:.1f} s (encoder {'reused' if ab.info['encoder'].get('cached') else 'trained'}: "
              f"{ab.info['timings_s']['encoder']:.1f} s, Pearson {fid['pearson']:.3f}; runs "
              f"{ab.info['timings_s']['runs']:.1f} s)")
        print(ab.table())
        mean = {(r["budget"], r["arm"]): r["mean"] * 100 for r in ab.summary}
        paired = {(r["budget"], r["arm"], r["baseline"]): r for r in ab.paired}
        print("paired differences, % points (> 0: first arm better), 95% BCa CI:")
        for (K, a, b), r in sorted(paired.items()):
            if (a, b) in {("embedding", "raw"), ("embedding_paper", "raw_paper"), ("embedding_top10", "random+10"),
                          ("raw_top10", "random+10"), ("embedding_top10", "raw_top10")}:
                print(f"  K={K:>5} {a:>16} vs {b:<12} {100 * r['mean_diff']:+.3f} "
                      f"[{100 * r['ci_low']:+.3f}, {100 * r['ci_high']:+.3f}]")
        for arm, limits in (("embedding", (0.65, 0.55, 0.45)), ("raw", (0.45, 0.40, 0.40))):
            for K, lim in zip((100, 500, 2000), limits):
                v = mean[(K, arm)]
                checks.append((f"ablation top-1 {arm} K={K}: B {v:.3f} <= {lim}", v <= lim))
        for K in (500, 1000, 2000):
            r = paired[(K, "embedding", "raw")]
            checks.append((f"ablation embedding - raw K={K}: CI [{100 * r['ci_low']:+.3f}, {100 * r['ci_high']:+.3f}] "
                           "includes 0 or favours the embedding", r["ci_high"] >= 0))
        for arm in ("embedding_top10", "raw_top10"):
            for K in sorted({k for k, _ in mean}):
                r = paired[(K, arm, "random+10")]
                ok = r["mean_diff"] >= 0 and (K > 500 or r["ci_low"] > 0)
                checks.append((f"equal evaluations {arm} vs random+10 K={K}: {100 * r['mean_diff']:+.3f} "
                               f"[{100 * r['ci_low']:+.3f}, {100 * r['ci_high']:+.3f}]", ok))
        checks.append((f"ablation time {secs:.0f} s <= 180 s", secs <= 180))
    if not args.skip_benchmark:
        t0 = time.perf_counter()
        bm = nb101_benchmark(args.data, out / "benchmark", methods=args.methods, trials=args.trials,
                             queries=args.queries, predictor=pred, progress=False)
        print(f"\nbenchmark: {time.perf_counter() - t0:.1f} s; per method: "
              + ", ".join(f"{k} {v:.0f} s" for k, v in bm.info["seconds"].items() if k not in ("encoder", "total")))
        print(bm.table(sorted({50, 100, args.queries})))
        s = {(r["method"], r["queries"]): r for r in bm.summary}
        methods = [m for m in bm.info["methods"] if m != "random"]
        seq = next((m for m in methods if m.startswith("nasgem-seq")), None)
        one = next((m for m in methods if m == "nasgem" or m.startswith("nasgem:")), None)
        if seq:
            for q, lim in ((args.queries, 0.10), (100, 0.30)):
                r = s[(seq, q)]
                checks.append((f"benchmark {seq} at {q}: {r['ratio_to_random']:.3f}x random <= {lim}x",
                               r["ratio_to_random"] <= lim))
        if one:
            r = s[(one, args.queries)]
            checks.append((f"benchmark {one} at {args.queries}: {100 * r['mean']:.3f} < random "
                           f"{100 * s[('random', args.queries)]['mean']:.3f} (paired CI [{100 * r['paired_low']:+.3f}, "
                           f"{100 * r['paired_high']:+.3f}])", r["mean"] < s[("random", args.queries)]["mean"]))
        peers = [m for m in methods if m in PEERS]
        if seq and peers:
            print(f"\npaired regret differences, peer - {seq}, % points (> 0: {seq} better), 95% BCa CI:")
            for peer in peers:
                ps = {(r["method"], r["queries"]): r for r in summarize_regret(bm.rows, baseline=peer)}
                for q in sorted({100, args.queries}):
                    r = ps[(seq, q)]
                    text = (f"{seq} ahead of {peer} at {q}: {100 * r['mean']:.3f} vs {100 * s[(peer, q)]['mean']:.3f}, "
                            f"paired {100 * r['paired_diff']:+.3f} [{100 * r['paired_low']:+.3f}, "
                            f"{100 * r['paired_high']:+.3f}]")
                    print(f"  {text}")
                    checks.append((f"benchmark {text} (CI above 0)", r["paired_low"] > 0))
        for m in methods:
            secs = bm.info["seconds"][m]
            checks.append((f"benchmark {m}: {secs:.0f} s for {args.trials} trials <= 600 s", secs <= 600))
    print("\ntargets:")
    for text, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "targets.json").write_text(json.dumps([{"target": t, "pass": bool(ok)} for t, ok in checks], indent=2))


if __name__ == "__main__":
    main()
