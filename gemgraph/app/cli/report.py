r"""``gemgraph report``: summarise a run (tables, or JSON)."""
from __future__ import annotations

import argparse

from ...errors import InputError
from ..tables import history_table
from ._common import add_json, _sub


def _cmd_report(args: argparse.Namespace) -> int:
    from ..runs import dumps, format_table, pick_rows, report, store_path

    if args.top < 0:
        raise InputError(f"--top: expected an int >= 0, got {args.top}")
    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    if args.cv_folds == 1 or args.cv_folds < 0:
        raise InputError(f"--cv-folds: expected 0 (off) or an int >= 2, got {args.cv_folds}")
    rep = report(args.run, cv_folds=args.cv_folds)
    if args.json:
        print(dumps(rep))
        return 0
    cfg = rep["config"]
    objective = cfg.get("objective", "efficiency")
    score_is = ("S = acc - %g ln(MMACs)" % cfg["lam"]) if objective == "efficiency" else "S = acc inside the regime"
    print(f"run {args.run}: preset {cfg['preset']}, {rep['iterations_done']}/{rep['iterations']} iterations, "
          f"{rep['n_failed']} failed, status {rep['meta'].get('status', '?')}; objective {objective} ({score_is})")
    rows = sorted([c for c in rep["candidates"] if c["score"] is not None], key=lambda c: -c["score"])
    proxy_net = f"CifarNet-{cfg['trainer']['width']}"
    print(format_table([{**c, "mmacs": (c["macs"] or 0) / 1e6} for c in rows[: args.top]],
                       [("id", "id", "d"), ("iteration", "iter", "d"), ("num_edges", "edges", "d"),
                        ("accuracy", "acc", ".3f"), ("mmacs", f"MMACs ({proxy_net})", ".1f"),
                        ("score", "score", ".4f")]))
    print(f"MMACs ({proxy_net}): per 32x32 image on the proxy's network, as the score counts them")
    sampler = (cfg.get("sampler") or {}).get("name", "random")
    print(f"sampler: {rep['pick'].get('sampler', sampler) if rep['pick'] else sampler}")
    if rep["pick"]:
        top = rep["pick"]["top"][0]
        measured, verified = top.get("measured"), top.get("verified")
        if verified is not None:
            how = f"predicted score {top['predicted']:.4f}, verified score {verified:.4f}"
        elif measured is not None:
            how = f"measured score {measured:.4f} (evaluated in the search)"
        else:
            how = f"predicted score {top['predicted']:.4f} (not evaluated)"
        print(f"pick: {top['cell']['n']}-node cell with {len(top['cell']['edges'])} edges, {how}"
              + (f" (newest of {len(rep['picks'])} picks; --history lists them)"
                 if len(rep["picks"]) > 1 and not args.history else ""))
        print(format_table(pick_rows(rep["pick"]),
                           [("rank", "rank", "d"), ("op_nodes", "op nodes", "d"), ("edges", "edges", "d"),
                            ("mmacs", f"MMACs ({proxy_net})", ".1f"), ("predicted", "predicted", ".4f"),
                            ("measured", "measured", ".4f"), ("how", "", "s"), ("accuracy", "acc", ".3f")]))
        if rows:
            print(f"evaluated candidates' scores: {rows[-1]['score']:.4f} .. {rows[0]['score']:.4f}")
    if args.history:
        print("pick history (oldest first):")
        print(history_table(rep["picks"]))
    cv = rep.get("predictor_cv")
    if cv is not None:
        rho = "undefined (constant predictions)" if cv["spearman"] is None else f"{cv['spearman']:.3f}"
        print(f"predictor check: Spearman {rho} between measured scores and out-of-fold predictions "
              f"({cv['folds']}-fold cross-validation over {cv['n']} evaluated candidates)")
    reg = rep.get("regime")
    if reg and "pick_macs" in reg:
        lo, hi = reg["macs"] if reg["macs"] else (0, None)
        net = reg["network"]
        where = (f"{net['network']}-{net['width']:g}" if "width" in net else net["network"]) + \
            f" {net['input_size'][0]}x{net['input_size'][1]}"
        print(f"regime: {lo / 1e6:g}M-{'inf' if hi is None else f'{hi / 1e6:g}M'} MACs on {where}, "
              f">= {reg['min_ops'] or 1} op nodes; the pick: "
              f"{reg['pick_macs'] / 1e6:.1f}M MACs on {where}, {reg['pick_op_nodes']} op nodes, "
              f"{'inside' if reg['pick_inside'] else 'OUTSIDE'}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph report``: its options and its handler."""
    r = _sub(sub, "report", "summarise a run (table, or JSON with --json)",
             "  gemgraph report runs/quick\n"
             "  gemgraph report runs/quick --history --top 20\n"
             "  gemgraph report runs/quick --json | jq .pick.best\n")
    r.add_argument("run", metavar="RUN", help="run directory (made by gemgraph search)")
    add_json(r, "everything about the run")
    r.add_argument("--top", type=int, default=10, help="candidates shown in the table")
    r.add_argument("--history", action="store_true", help="also list every pick (oldest first)")
    r.add_argument("--cv-folds", type=int, default=5,
                   help="folds of the predictor's cross-validated rank check (0: skip it)")
    r.set_defaults(func=_cmd_report)
