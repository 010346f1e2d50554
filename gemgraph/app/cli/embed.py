r"""``gemgraph embed``: train a graph encoder on the WL kernel and report its fidelity."""
from __future__ import annotations

import argparse
import json

from ._common import add_device, add_json, add_seed, _check_out_file, _ints, _naming, _sub
from ...errors import InputError


def _cmd_embed(args: argparse.Namespace) -> int:
    from ... import encoders
    from ...embedding import train_encoder
    from ...space import SearchSpace
    from ...wl import WLKernel

    from ...config import MAX_NODES
    from ...utils import resolve_device

    for flag, value, lo, hi in (("--nodes", args.nodes, 2, MAX_NODES), ("--dim", args.dim, 1, 4096),
                                ("--train-graphs", args.train_graphs, 2, None), ("--epochs", args.epochs, 1, None),
                                ("--wl-iter", args.wl_iter, 0, 20)):
        if value < lo or (hi is not None and value > hi):
            raise InputError(f"{flag}: expected an int {f'>= {lo}' if hi is None else f'in [{lo}, {hi:,}]'}, "
                             f"got {value}")
    if not args.time_limit >= 0:
        raise InputError(f"--time-limit: expected seconds >= 0 (0: none), got {args.time_limit}")
    with _naming("--device", InputError):
        resolve_device(args.device)
    if args.out:
        _check_out_file(args.out)
    from ...wl import label_names

    space = SearchSpace(num_nodes=args.nodes, max_concat=args.max_concat)
    labels = label_names(args.labels, "--labels")
    assert labels is not None, "label_names() of a string gave no names"  # None only for a callable
    kernel = WLKernel(n_iter=args.wl_iter, node_labels=labels)
    kw = {} if args.hidden is None else {"hidden": encoders.hidden_option(args.encoder, _ints(args.hidden, "--hidden"),
                                                                           "--hidden")}
    # op labels need an encoder that sees the ops; degree labels (the paper's) use the adjacency only
    enc = encoders.create(args.encoder, num_nodes=args.nodes, dim=args.dim,
                          ops=("input",) + space.ops if "op" in labels else None, **kw)
    res = train_encoder(
        enc, space, kernel, seed=args.seed, n_train=args.train_graphs, max_epochs=args.epochs,
        time_limit=args.time_limit if args.time_limit > 0 else None, device=args.device, progress=not args.quiet,
    )
    assert res.report is not None, "train_encoder() returned no fidelity report"
    if args.out:
        res.encoder.save(args.out)
    out = {"encoder": args.encoder, "nodes": args.nodes, "labels": list(labels), "ops": enc.ops and list(enc.ops),
           "dim": res.encoder.dim, "epochs": len(res.history),
           "best_epoch": res.best_epoch, "seconds": round(res.seconds, 1), "fidelity": res.report.to_dict(),
           "time_limited": res.time_limited, "saved": args.out}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(f"{type(res.encoder).__name__}({res.encoder.extra_repr()})")
        print(f"trained {len(res.history)} epochs (best {res.best_epoch}) in {res.seconds:.1f} s"
              + (" (shortened to fit --time-limit: depends on this machine's speed)" if res.time_limited else ""))
        print(f"fidelity on held-out pairs of unseen {args.nodes}-node cells: {res.report}")
        if args.out:
            print(f"saved to {args.out}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph embed``: its options and its handler."""
    from ... import encoders

    e = _sub(sub, "embed", "train a graph encoder on the WL kernel and report its fidelity",
             "  gemgraph embed --nodes 30 --epochs 4 --out encoder.pt\n"
             "  gemgraph embed --encoder gin --labels degree --time-limit 600 --json\n")
    e.add_argument("--nodes", type=int, default=30, help="cell size N (30: the paper's)")
    e.add_argument("--encoder", default="mlp", choices=encoders.available(), help="encoder name")
    e.add_argument("--dim", type=int, default=128, help="embedding dimension")
    e.add_argument("--hidden", default=None, help="hidden widths, comma separated (omitted: the encoder's default)")
    e.add_argument("--max-concat", type=int, default=None,
                   help="cap on concatenations in sampled cells (omitted: no cap)")
    e.add_argument("--wl-iter", type=int, default=3, help="WL iterations h")
    e.add_argument("--labels", default="degree,op",
                   help="WL node labels: degree,op (ops-aware, the encoder also gets the one-hot ops) "
                        "or degree (the paper's: degree labels, adjacency only; also 'paper')")
    e.add_argument("--train-graphs", type=int, default=160_000, help="distinct training graphs")
    e.add_argument("--epochs", type=int, default=16, help="epochs of the one-cycle schedule")
    e.add_argument("--time-limit", type=float, default=0,
                   help="time budget in seconds; the schedule is shortened to fit it (0: none)")
    add_seed(e, "seed of the sampled cells, the pairs and the weights")
    add_device(e)
    e.add_argument("--out", default=None, help="where to save the encoder (.pt; omitted: not saved)")
    add_json(e, "the summary")
    e.set_defaults(func=_cmd_embed)
