r"""``gemgraph validate``: a finished run's pick against its best candidate, the cost-only pick and random
search's answer, under the reference protocol."""
from __future__ import annotations

import argparse
import os

from ...errors import InputError
from ._common import add_device, add_json, add_no_plot, _sub


def _cmd_validate(args: argparse.Namespace) -> int:
    from ...validate import REFERENCE, validate_run
    from ..runs import dumps, format_table

    if args.seeds < 1:
        raise InputError(f"--seeds: expected an int >= 1, got {args.seeds}")
    if args.threads < 0:
        raise InputError(f"--threads: expected 0 (torch's setting) or an int >= 1, got {args.threads}")
    v = validate_run(args.run, out=args.out, protocol=REFERENCE, seeds=args.seeds, data_root=args.data,
                     device=args.device, num_threads=args.threads or None, progress=not args.quiet,
                     plot=not args.no_plot)
    d = v.to_dict()
    if args.json:
        print(dumps(d))
        return 0
    net = d["regime"]["network"]
    where = f"{net['network']} {net['input_size'][0]}x{net['input_size'][1]}"
    print(f"run {args.run}: objective {d['objective']} (lam {d['lam']:g}); reference: {v.protocol}; "
          f"{len(v.seeds)} seed(s)")
    rows = []
    for r in d["roles"]:
        lo, hi = r["accuracy_ci"] or (None, None)
        rows.append({**r, "mmacs": r["macs"] / 1e6, "lo": lo, "hi": hi,
                     "same": r["same_as"] or ""})
    print(format_table(rows, [("role", "role", "s"), ("accuracy", "ref acc", ".4f"), ("lo", "ci lo", ".4f"),
                              ("hi", "ci hi", ".4f"), ("score", "score", ".4f"), ("mmacs", f"MMACs ({where})", ".1f"),
                              ("op_nodes", "op nodes", "d"), ("proxy_score", "proxy score", ".4f"),
                              ("same", "same cell as", "s")]))
    for k, p in d["paired"].items():
        ci = "n/a (fewer than 2 seeds)" if p["ci"] is None else f"[{p['ci'][0]:+.4f}, {p['ci'][1]:+.4f}]"
        mean = "n/a" if p["mean"] is None else f"{p['mean']:+.4f}"
        print(f"paired {k} ({d['objective']} score): {mean} {ci} over {p['n']} seed(s)")
    out = args.out or os.path.join(args.run, "validate")
    print(f"written: {out}/validate.csv, validate.json" + ("" if args.no_plot else ", validate.png"))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph validate``: its options and its handler."""
    va = _sub(sub, "validate", "train a finished run's pick, its best candidate, the cost-only pick and random "
              "search's answer under the reference protocol and compare them",
              "  gemgraph validate runs/quick --data /path/to/data\n"
              "  gemgraph validate runs/quick --seeds 5 --json | jq .paired\n")
    va.add_argument("run", metavar="RUN", help="run directory with a pick (made by gemgraph search)")
    va.add_argument("--out", default=None, help="output folder (omitted: RUN/validate); reruns reuse its trainings")
    va.add_argument("--seeds", type=int, default=3, help="seeded reference repeats per cell")
    va.add_argument("--data", default=None, help="data root holding cifar10-ref/ (omitted: $GEMGRAPH_DATA)")
    add_device(va)
    va.add_argument("--threads", type=int, default=1, help="CPU threads per training (0: torch's setting)")
    add_no_plot(va, "validate.png")
    add_json(va, "the validation")
    va.set_defaults(func=_cmd_validate)
