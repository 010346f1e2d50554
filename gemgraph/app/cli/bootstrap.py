r"""``gemgraph bootstrap``: re-run the bootstrap optimisation of a run."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ...errors import InputError
from ..runs import check_writable_run, load_run
from ..tables import pick_table
from ._common import add_json, add_reembed, add_seed, _log, _run_log, RUN_SEED_HELP, _sub, _top_json


def _check_bootstrap_size(num_samples: int, num_nodes: int) -> None:
    """Refuse a bootstrap whose sampled cells cannot fit in memory (the cells are sampled as
    one tensor: ``num_samples x N x N`` bytes of adjacency plus ``N`` int64 ops each)."""
    need = num_samples * (num_nodes * num_nodes + 8 * num_nodes)
    try:
        avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return
    if need > avail:
        most = max(1, avail // (num_nodes * num_nodes + 8 * num_nodes))
        raise InputError(f"--num-samples: expected at most ~{most:,} cells of {num_nodes} nodes for this machine's "
                         f"{avail / 2**30:.1f} GiB of free memory (the sampled cells alone need "
                         f"{need / 2**30:.1f} GiB), got {num_samples:,}")


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    import time

    from ...search import NASGEM
    from ...store import RunLock

    for flag, value in (("--num-samples", args.num_samples), ("--top-k", args.top_k)):
        if value is not None and value < 1:
            raise InputError(f"{flag}: expected an int >= 1, got {value}")
    from ..runs import store_path

    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    check_writable_run(Path(args.run), "RUN")
    with _run_log(args.run, args), RunLock(args.run):
        store, cfg, encoder, predictor, space = load_run(args.run, reembed=args.reembed)
        with store:
            b = cfg.bootstrap
            num_samples = b.num_samples if args.num_samples is None else args.num_samples
            _check_bootstrap_size(num_samples, space.num_nodes)
            previous = store.pick()
            seed = cfg.seed if args.seed is None else args.seed
            top_k = b.top_k if args.top_k is None else args.top_k
            search = NASGEM(space, encoder, predictor, None, store, seed=seed, num_samples=num_samples,
                            top_k=top_k, progress=not args.quiet)
            if not args.quiet:
                print(f"bootstrap: embedding and ranking {num_samples:,} sampled cells ...", file=sys.stderr,
                      flush=True)
            t0 = time.perf_counter()
            res = search.bootstrap()
            secs = time.perf_counter() - t0
            assert res.bootstrap is not None, "NASGEM.bootstrap() returned no bootstrap result"
            num_evaluated = res.bootstrap.num_evaluated
            _log.info("bootstrap over %d cells (seed %d, top-k %d) in %.1f s", num_evaluated, seed, top_k, secs)
            kept = [e for e in (previous or {}).get("top", []) if e.get("verified") is not None]
    if args.json:
        from ..tables import dumps

        print(dumps({"run": str(args.run), "num_samples": num_samples, "num_evaluated": num_evaluated,
                     "seed": seed, "top_k": top_k, "seconds": secs, "top": _top_json(res.top),
                     "previous_verified": kept[0]["verified"] if kept else None}))
        return 0
    print(f"bootstrap over {num_evaluated} cells in {secs:.1f} s")
    print(pick_table(res.top))
    if kept:
        print(f"note: the previous pick (verified score {kept[0]['verified']:.4f}) is kept in the pick "
              f"history: gemgraph report {args.run} --history")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph bootstrap``: its options and its handler."""
    b = _sub(sub, "bootstrap", "re-run the bootstrap optimisation of a run",
             "  gemgraph bootstrap runs/quick --num-samples 50000\n"
             "  gemgraph bootstrap runs/quick --seed 3 --top-k 10 --json\n")
    b.add_argument("run", metavar="RUN", help="run directory with a predictor checkpoint")
    b.add_argument("--num-samples", type=int, default=None, help="cells sampled and ranked (omitted: the run's)")
    b.add_argument("--top-k", type=int, default=None, help="candidates kept (omitted: the run's)")
    add_seed(b, RUN_SEED_HELP, default=None)
    add_reembed(b)
    add_json(b, "the new pick")
    b.set_defaults(func=_cmd_bootstrap)
