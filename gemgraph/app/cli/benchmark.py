r"""``gemgraph benchmark``: search methods against each other on NAS-Bench-101 or NAS-Bench-Graph."""
from __future__ import annotations

import argparse
import json

from ...errors import InputError
from ._common import (
    add_device,
    add_json,
    add_no_plot,
    add_predictor,
    add_seed,
    _naming,
    NB101_DATA_HELP,
    _predictor_options,
    _sub,
)


def _cmd_benchmark(args: argparse.Namespace) -> int:
    import time

    from ...benchmark import nb101_benchmark, nbgraph_benchmark, parse_methods

    t0 = time.perf_counter()
    methods = parse_methods(args.methods)  # fail on a bad name before any work
    checks = [(c, int(x)) for c, x in (("--trials", args.trials), ("--queries", args.queries))]
    for name, v in checks:
        if v < 1:
            raise InputError(f"{name}: expected an int >= 1, got {v}")
    names = [m if f is None else f"{m}:{f}" for m, f in methods]
    common = dict(methods=names, trials=args.trials, queries=args.queries, seed=args.seed, n_init=args.n_init,
                  batch_size=args.batch_size, top_k=args.top_k, predictor=_predictor_options(args),
                  device=args.device, plot=not args.no_plot, progress=not args.quiet)
    out = args.out or f"{args.benchmark}-benchmark"
    if args.benchmark == "nbgraph":
        from ...nbgraph import check_dataset

        if args.dataset is None:
            raise InputError("--dataset: expected a NAS-Bench-Graph dataset with 'benchmark nbgraph', got none")
        check_dataset(args.dataset)
        if args.data is not None:
            raise InputError("--data: 'benchmark nbgraph' reads the tables of the nas-bench-graph package; "
                             f"got {args.data!r}")
        res = nbgraph_benchmark(args.dataset, out, **common)
    else:
        if args.dataset is not None:
            raise InputError(f"--dataset: only 'benchmark nbgraph' takes one, got {args.dataset!r}")
        from nasbench import NASBenchFormatError

        with _naming("--data", NASBenchFormatError, args.data):
            res = nb101_benchmark(args.data, out, metric=args.metric, **common)
    if args.json:
        print(json.dumps({"info": res.info, "summary": res.summary, "failures": res.failures}, indent=2, default=str))
        return 0 if not res.failures else 1
    info = res.info
    if args.benchmark == "nbgraph":
        print(f"NAS-Bench-Graph {args.dataset}: {info['models']} architectures (the complete space), best "
              f"validation {100 * info['best_accuracy']:.3f}%")
    else:
        src = args.data or "bundled NAS-Bench-101 sample (20,001 models)"
        print(f"data: {src}: {info['models']} models, best {args.metric} {100 * info['best_accuracy']:.3f}%")
    e = info.get("encoder") or {}
    if e:
        fid = e.get("fidelity", {})
        how = "reused from the cache" if e.get("cached") else f"trained in {e.get('seconds', 0):.0f} s"
        print(f"embedding encoder ({how}): WL fidelity on unseen cells Pearson {fid.get('pearson', float('nan')):.3f}")
    print(f"{args.trials} trials x {args.queries} queries; {args.n_init} random models, then batches of "
          f"{args.batch_size}; nasgem verifies its top {args.top_k}")
    qs = sorted({q for q in (50, 100, args.queries) if q <= args.queries})
    print(res.table(qs))
    for m, secs in info["seconds"].items():
        if m not in ("encoder", "total"):
            print(f"  {m}: {secs:.1f} s")
    if res.failures:
        print(f"warning: {len(res.failures)} trial(s) failed (see {out}/failures.csv); first: "
              f"{res.failures[0]['method']} trial {res.failures[0]['trial']}: {res.failures[0]['error']}")
    print(f"total {time.perf_counter() - t0:.1f} s; outputs in {out}")
    return 0 if not res.failures else 1


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph benchmark``: its options and its handler."""
    from ...benchmark import DEFAULT_METHODS, FEATURES, METHODS

    bm = _sub(sub, "benchmark", "search methods against each other on NAS-Bench-101 or NAS-Bench-Graph (regret curves)",
              "  gemgraph benchmark nb101 --queries 150 --trials 100 "
              "--methods random,nasgem:both,nasgem-seq:embedding --out nb101-bench\n"
              "  gemgraph benchmark nb101 --trials 5 --no-plot --json\n"
              "  gemgraph benchmark nbgraph --dataset cora --trials 20 --queries 100 --out cora-bench\n")
    bm.add_argument("benchmark", choices=["nb101", "nbgraph"],
                    help="benchmark (nb101: NAS-Bench-101; nbgraph: NAS-Bench-Graph, with --dataset)")
    bm.add_argument("--dataset", default=None,
                    help="nbgraph: cora, citeseer, pubmed, cs, physics, photo, computers, arxiv or proteins")
    bm.add_argument("--data", default=None, help="nb101: " + NB101_DATA_HELP)
    bm.add_argument("--queries", type=int, default=150, help="evaluations per trial")
    bm.add_argument("--trials", type=int, default=100, help="independent seeded trials per method")
    bm.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                    help=f"comma-separated METHOD or METHOD:FEATURES; methods {list(METHODS)}, features "
                         f"{list(FEATURES)} (default features: embedding)")
    bm.add_argument("--n-init", type=int, default=10, help="random models before the first predictor-guided batch")
    bm.add_argument("--batch-size", type=int, default=10, help="models per guided batch (and report spacing)")
    bm.add_argument("--top-k", type=int, default=10, help="nasgem: top predictions verified at equal evaluations")
    bm.add_argument("--metric", default="validation_accuracy", help="the accuracy searched for")
    add_predictor(bm, "the paper's single-MLP regression predictor")
    add_seed(bm, "base seed (trial i depends on (seed, i) only)")
    bm.add_argument("--out", default=None,
                    help="output folder (regret.csv, summary.csv, regret.png; omitted: BENCHMARK-benchmark)")
    add_device(bm, " (encoder training)")
    add_no_plot(bm, "regret.png")
    add_json(bm, "info, summary and failures")
    bm.set_defaults(func=_cmd_benchmark)
