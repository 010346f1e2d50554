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
