r"""The ``gemgraph`` command-line tool.

Subcommands are small functions registered in :func:`build_parser`; each prints a short
summary and writes its outputs to the paths it is given.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def _cmd_embed(args: argparse.Namespace) -> int:
    from . import encoders
    from .embedding import train_encoder
    from .space import SearchSpace
    from .wl import WLKernel

    space = SearchSpace(num_nodes=args.nodes, max_concat=args.max_concat)
    kernel = WLKernel(n_iter=args.wl_iter, node_labels="degree")
    kw = {} if args.hidden is None else {"hidden": [int(h) for h in args.hidden.split(",")]}
    if args.encoder in ("gin", "gcn") and "hidden" in kw:
        kw["hidden"] = kw["hidden"][0]
    enc = encoders.create(args.encoder, num_nodes=args.nodes, dim=args.dim, **kw)
    res = train_encoder(
        enc, space, kernel, seed=args.seed, n_train=args.train_graphs, max_epochs=args.epochs,
        time_limit=args.time_limit, device=args.device, progress=not args.quiet,
    )
    if args.out:
        res.encoder.save(args.out)
    out = {"encoder": args.encoder, "nodes": args.nodes, "dim": res.encoder.dim, "epochs": len(res.history),
           "best_epoch": res.best_epoch, "seconds": round(res.seconds, 1), "fidelity": res.report.to_dict(),
           "saved": args.out}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{type(res.encoder).__name__}({res.encoder.extra_repr()})")
        print(f"trained {len(res.history)} epochs (best {res.best_epoch}) in {res.seconds:.1f} s")
        print(f"fidelity on held-out pairs of unseen {args.nodes}-node cells: {res.report}")
        if args.out:
            print(f"saved to {args.out}")
    return 0


def _cmd_ablation(args: argparse.Namespace) -> int:
    import time
    import warnings

    from .ablation import nb101_ablation

    def ints(text: str, name: str) -> list[int]:
        try:
            return [int(x) for x in str(text).split(",") if x.strip()]
        except ValueError:
            raise ValueError(f"{name}: expected comma-separated integers, got {text!r}") from None

    t0 = time.perf_counter()
    enc_opts = {"dim": args.encoder_dim, "wl_iter": args.wl_iter, "n_train": args.encoder_train_graphs,
                "max_epochs": args.encoder_epochs,
                "time_limit": None if args.encoder_time_limit <= 0 else args.encoder_time_limit}
    if args.encoder_hidden:
        hid = ints(args.encoder_hidden, "--encoder-hidden")
        enc_opts["hidden"] = hid[0] if args.encoder in ("gin", "gcn") else hid
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        res = nb101_ablation(
            args.data, args.out, budgets=ints(args.budgets, "--budgets"), seeds=args.seeds, metric=args.metric,
            epochs=args.epochs, num_samples=args.num_samples, top_k=args.top_k, encoder=args.encoder,
            encoder_options=enc_opts, predictor={"n_members": args.ensemble}, seed=args.seed, device=args.device,
            plot=not args.no_plot, progress=not args.quiet,
        )
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning) and "excluded" in str(w.message)]
    info = res.info
    if args.json:
        print(json.dumps({"info": info, "summary": res.summary, "paired": res.paired}, indent=2, default=str))
        return 0
    src = args.data or "bundled NAS-Bench-101 sample (20,001 models)"
    print(f"data: {src}: {info['models_used']} models with {args.metric} at {args.epochs} epochs, "
          f"best {100 * info['best_accuracy']:.3f}%")
    for n in notes:
        print(f"note: {n}")
    e = info["encoder"]
    fid = e["fidelity"]
    how = "reused" if e.get("cached") else f"trained in {e['seconds']:.0f} s"
    print(f"encoder ({args.encoder}, {how}): "
          f"WL fidelity on unseen cells RMSE {fid['rmse']:.4f}, Pearson {fid['pearson']:.3f}")
    print(f"{len(info['seeds'])} seeds x {len(info['budgets'])} budgets, {info['num_candidates']} bootstrap "
          f"candidates per run, top-k variants with k = {info['top_k']}")
    print(res.table())
    key = [p for p in res.paired if (p["arm"], p["baseline"]) in
           {("embedding", "raw"), (f"embedding_top{args.top_k}", f"raw_top{args.top_k}"),
            (f"embedding_top{args.top_k}", f"random+{args.top_k}")}]
    if key:
        print("paired (bias of baseline - bias of arm, % points; > 0 = arm better):")
        for p in key:
            print(f"  K={p['budget']:>5}  {p['arm']:>16} vs {p['baseline']:<14} {100 * p['mean_diff']:+.3f} "
                  f"[{100 * p['ci_low']:+.3f}, {100 * p['ci_high']:+.3f}]  wins/ties/losses "
                  f"{p['wins']}/{p['ties']}/{p['losses']}")
    print(f"total {time.perf_counter() - t0:.1f} s; outputs in {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gemgraph", description="NASGEM: neural architecture search via graph embedding")
    from . import __version__

    p.add_argument("--version", action="version", version=f"gemgraph {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("embed", help="train a graph encoder on the WL kernel and report its fidelity")
    e.add_argument("--nodes", type=int, default=30, help="cell size N (default 30, the paper's)")
    e.add_argument("--encoder", default="mlp", help="encoder name: mlp (default), gin, gcn, raw")
    e.add_argument("--dim", type=int, default=128, help="embedding dimension")
    e.add_argument("--hidden", default=None, help="hidden widths, comma separated (encoder default if omitted)")
    e.add_argument("--max-concat", type=int, default=None, help="cap on concatenations in sampled cells")
    e.add_argument("--wl-iter", type=int, default=3, help="WL iterations h (default 3)")
    e.add_argument("--train-graphs", type=int, default=40_000, help="distinct training graphs")
    e.add_argument("--epochs", type=int, default=100, help="maximum epochs (early stopping applies)")
    e.add_argument("--time-limit", type=float, default=270.0, help="stop training after this many seconds")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    e.add_argument("--out", default=None, help="where to save the encoder (.pt)")
    e.add_argument("--json", action="store_true", help="print the summary as JSON")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_cmd_embed)
    ab = sub.add_parser("ablation", help="the NAS-Bench-101 ablation: predictor with vs without graph embedding")
    ab.add_argument("benchmark", choices=["nb101"], help="benchmark (nb101: NAS-Bench-101)")
    ab.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled 20k sample)")
    ab.add_argument("--budgets", default="100,200,500,1000,2000", help="evaluated models K, comma separated")
    ab.add_argument("--seeds", type=int, default=30, help="seeds per budget (default 30)")
    ab.add_argument("--out", default="nb101-ablation", help="output folder (default ./nb101-ablation)")
    ab.add_argument("--metric", default="validation_accuracy",
                    help="validation_accuracy (default) or test_accuracy (when the file has it)")
    ab.add_argument("--epochs", type=int, default=108, help="training budget of the metric (default 108)")
    ab.add_argument("--num-samples", type=int, default=50_000, help="bootstrap candidates per run (default 50000)")
    ab.add_argument("--top-k", type=int, default=10, help="k of the top-k variants (default 10; 0: none)")
    ab.add_argument("--encoder", default="mlp", help="encoder of the embedding arm: mlp (default), gin, gcn")
    ab.add_argument("--encoder-dim", type=int, default=64, help="embedding dimension (default 64)")
    ab.add_argument("--encoder-hidden", default=None, help="encoder hidden widths, comma separated")
    ab.add_argument("--encoder-train-graphs", type=int, default=10_000, help="encoder training cells")
    ab.add_argument("--encoder-epochs", type=int, default=15, help="encoder epochs (early stopping applies)")
    ab.add_argument("--encoder-time-limit", type=float, default=120.0, help="encoder seconds cap (0: none)")
    ab.add_argument("--wl-iter", type=int, default=3, help="WL iterations h (default 3)")
    ab.add_argument("--ensemble", type=int, default=1, help="predictor ensemble members (default 1)")
    ab.add_argument("--seed", type=int, default=0)
    ab.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda (encoder)")
    ab.add_argument("--no-plot", action="store_true", help="do not write bias.png")
    ab.add_argument("--json", action="store_true", help="print info, summary and paired differences as JSON")
    ab.add_argument("--quiet", action="store_true", help="no progress bars")
    ab.set_defaults(func=_cmd_ablation)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gemgraph`` console script."""
    import warnings

    # torch_geometric imports torch.jit.script, deprecated in recent torch: not our users' concern
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"gemgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gemgraph {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
