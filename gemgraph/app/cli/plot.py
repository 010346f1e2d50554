r"""``gemgraph plot``: plots of a run."""
from __future__ import annotations

import argparse

from ..runs import load_run
from ._common import add_json, add_reembed, add_seed, _check_out_file, RUN_SEED_HELP, _sub


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ...plots import score_surface

    if args.out:
        _check_out_file(args.out)
    store, cfg, encoder, predictor, space = load_run(args.run, reembed=args.reembed)
    with store:
        out = Path(args.out) if args.out else Path(args.run) / "surface.png"
        info = score_surface(store, encoder, predictor, space, out, num_samples=args.num_samples,
                             seed=cfg.seed if args.seed is None else args.seed)
    if args.json:
        from ..tables import dumps

        print(dumps({"what": args.what, "run": str(args.run), "path": str(out),
                     **{k: v for k, v in info.items() if k != "figure"}}))
        return 0
    print(f"score surface of {info['num_samples']} cells written to {out} "
          f"(explained variance: embedding {info['evr_embedding']:.2f}, raw {info['evr_raw']:.2f})")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph plot``: its options and its handler."""
    pl = _sub(sub, "plot", "plots of a run",
              "  gemgraph plot surface runs/quick\n"
              "  gemgraph plot surface runs/quick --num-samples 5000 --out surface.png --json\n")
    pl.add_argument("what", choices=["surface"], help="surface: PCA score surface (paper Fig. 3)")
    pl.add_argument("run", metavar="RUN", help="run directory with a predictor checkpoint")
    pl.add_argument("--out", default=None, help="PNG path (omitted: RUN/surface.png)")
    pl.add_argument("--num-samples", type=int, default=50_000, help="cells sampled for the surface")
    add_seed(pl, RUN_SEED_HELP, default=None)
    add_reembed(pl)
    add_json(pl, "what was plotted (path, cells, explained variances)")
    pl.set_defaults(func=_cmd_plot)
