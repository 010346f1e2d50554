r"""``gemgraph search``: run (or resume) the NASGEM search and bootstrap a GEMNet cell."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import InputError
from ..runs import open_search
from ..tables import pick_table
if TYPE_CHECKING:  # pragma: no cover
    from ...config import RunConfig
from ._common import preset_list, add_device, add_download, add_json, _log, _mark, _run_log, _sub, _top_json


def _cmd_search(args: argparse.Namespace) -> int:
    from ...store import RunLock
    from ...utils import CannotWriteError

    if args.workers < 0:
        raise InputError(f"--workers: expected 0 (CPU cores / trainer.num_threads) or an int >= 1, got {args.workers}")
    run_dir, cfg, store, data = open_search(args)
    # the run's length: the config's, or what a resume extended it to (meta "iterations"; a
    # resume never shortens it)
    target = int(store.get_meta("iterations") or cfg.iterations)
    iterations = max(target, int(args.iterations)) if (args.resume and args.iterations) else target
    with _run_log(run_dir, args), RunLock(run_dir), store:
        store.set_meta("status", "running")
        if iterations != target:
            store.set_meta("iterations", iterations)
        try:
            summary = _search(args, run_dir, cfg, store, data, iterations)
        except KeyboardInterrupt:
            _mark(store, "interrupted")
            raise
        except CannotWriteError as exc:  # e.g. the disk is full: nothing half-written, the run resumable
            _mark(store, "stopped")
            exc.hint = f"; free some space, then `gemgraph search --resume {run_dir}` continues the run"
            raise
        except BaseException:
            _mark(store, "failed")
            raise
        from ..runs import predictor_cv

        cv = predictor_cv(run_dir)
        summary["predictor_cv"] = None if cv is None else {k: cv[k] for k in ("spearman", "pvalue", "n", "folds")}
        if cv is not None and cv["spearman"] is not None:
            _log.info("predictor check: Spearman %.3f over %d candidates (%d folds)", cv["spearman"], cv["n"],
                      cv["folds"])
    if args.json:
        from ..tables import dumps

        print(dumps(summary))
    elif cv is not None and cv["spearman"] is not None:
        print(f"predictor check: Spearman {cv['spearman']:.3f} between measured scores and out-of-fold predictions "
              f"({cv['folds']}-fold cross-validation over {cv['n']} evaluated candidates)")
    return 0


def _search(args: argparse.Namespace, run_dir: Path, cfg: RunConfig, store, data, iterations: int) -> dict:
    """Run the search; print its text summary (unless ``--json``) and return it as a dict."""
    import time

    from ...builders import make_search, make_trainer
    from ..runs import candidate_dict, format_table, prepare_encoder

    say = (lambda *a, **k: None) if args.json else print
    t0 = time.perf_counter()
    done = len(store)
    head = (f"run {run_dir}: preset {cfg.preset}, {cfg.space.nodes}-node cells, {iterations} iterations"
            + (f" ({done} already done, resuming)" if done else ""))
    _log.info("%s", head)
    say(head)
    encoder = prepare_encoder(run_dir, cfg, store, device=args.device, progress=not args.quiet,
                              reembed=args.reembed)
    fid = store.get_meta("encoder_fidelity")
    if fid:
        say(f"encoder fidelity (held-out pairs): Pearson {fid['pearson']:.3f}, RMSE {fid['rmse']:.3f}")
    executor: Any = "local"
    if args.executor == "ray":
        from ...executors import RayExecutor

        executor = RayExecutor(address=args.ray_address, log_to_driver=args.ray_log_to_driver)
    elif args.executor in ("auto", "process"):
        executor = _process_executor(args, cfg)
    trainer = make_trainer(cfg, device=args.device, data_root=args.data, data=data, download=args.download)
    search = make_search(cfg, store, encoder=encoder, trainer=trainer, executor=executor, device=args.device,
                         progress=not args.quiet)
    say(f"sampler: {search.sampler!r}")
    try:
        res = search.run(iterations)
    finally:
        if not isinstance(executor, str):
            executor.close()
    secs = time.perf_counter() - t0
    boot = res.bootstrap
    assert boot is not None, "NASGEM.run() returned no bootstrap result"
    store.set_meta("status", "finished")
    store.set_meta("search_seconds", (store.get_meta("search_seconds") or 0.0) + secs)
    rows = sorted([r for r in store.candidates(status="ok")], key=lambda r: -r["score"])[:5]
    _log.info("evaluated %d candidates (%d failed) in %.1f s", res.iterations_done, res.n_failed, secs)
    summary = {"run": str(run_dir), "preset": cfg.preset, "objective": cfg.objective,
               "nodes": cfg.space.nodes, "iterations": iterations,
               "resumed_from": done, "iterations_done": res.iterations_done, "n_failed": res.n_failed,
               "seconds": secs, "encoder_fidelity": fid, "sampler": repr(search.sampler),
               "best": [candidate_dict(r) for r in rows],
               "pick": {"num_evaluated": boot.num_evaluated, "top": _top_json(res.top)}}
    if args.json:
        return summary
    net = f"CifarNet-{cfg.trainer.width}"
    print(f"\nevaluated {res.iterations_done} candidates ({res.n_failed} failed) in {secs:.1f} s")
    print("best evaluated candidates:")
    print(format_table([{**r, "edges": r["cell"].num_edges, "mmacs": r["macs"] / 1e6} for r in rows],
                       [("id", "id", "d"), ("iteration", "iter", "d"), ("edges", "edges", "d"),
                        ("accuracy", "acc", ".3f"), ("mmacs", f"MMACs ({net})", ".1f"),
                        ("score", "score", ".4f"), ("seconds", "train s", ".1f")]))
    print(f"objective {cfg.objective}; MMACs per 32x32 image on the proxy's network ({net}), as the score "
          "counts them")
    print(f"bootstrap pick over {boot.num_evaluated} sampled cells:")
    print(pick_table(res.top))
    print(f"saved in {run_dir} (gemgraph report {run_dir}; gemgraph train {run_dir} --epochs E)")
    return summary


def _process_executor(args: argparse.Namespace, cfg: RunConfig) -> Any:
    """``--executor auto``: candidates trained in parallel processes when each training is pinned to
    a few CPU threads (the quick preset: 1) and the machine has cores to spare, on the CPU only;
    ``--executor process``: always (``--workers``, default cores / threads)."""
    from ...executors import ProcessExecutor, _cpu_count

    threads = cfg.trainer.num_threads
    cores = _cpu_count()
    workers = args.workers or max(1, cores // (threads or cores))
    if args.executor == "process":
        return ProcessExecutor(workers)
    if args.device == "cuda" or threads is None or workers < 2:
        return "local"
    import torch

    if args.device == "auto" and torch.cuda.is_available():
        return "local"
    return ProcessExecutor(workers)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``gemgraph search``: its options and its handler."""
    from ...config import PRESETS
    from ...samplers import available as _samplers

    s = _sub(sub, "search", "run (or resume) the NASGEM search and bootstrap a GEMNet cell",
             "  gemgraph search --preset quick --out runs/quick\n"
             "  gemgraph search --resume runs/quick --iterations 16     # extend the run to 16 candidates\n"
             "  gemgraph search --preset default --macs 25M:100M --sampler ucb --out runs/ucb -v\n"
             "  gemgraph search --preset quick --out runs/q --json > summary.json\n", preset_list())
    s.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="settings bundle, listed below (omitted: default); --config, --set and the flags below "
                        "override it")
    # typed config (gemgraph.config): precedence preset < --config < --set < the flags below
    s.add_argument("--config", default=None, metavar="FILE",
                   help="settings file, JSON or TOML, in the run config's dict form (partial: keys left out keep the "
                        "preset's; `gemgraph config show --json` writes a full one); overrides the preset")
    s.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE",
                   help="set one config key, repeatable (e.g. --set trainer.lr=0.05 --set macs=[0,null]); "
                        "VALUE is JSON "
                        "when it parses, else a string; overrides --config; the flags below override it")
    s.add_argument("--nodes", type=int, default=None, help="cell size N (preset: 30)")
    s.add_argument("--iterations", type=int, default=None,
                   help="T, candidates to train (preset's; with --resume: extend the run to T)")
    s.add_argument("--out", default=None, help="run directory to create")
    s.add_argument("--resume", default=None, metavar="RUN", help="continue the run in RUN")
    s.add_argument("--seed", type=int, default=None, help="the run's seed (preset: 0)")
    s.add_argument("--max-concat", type=int, default=None, help="cap on concatenations per cell (preset: 8)")
    s.add_argument("--macs", default=None, metavar="LOW:HIGH",
                   help="computation regime: MACs per image, K/M/G suffixes, HIGH may be empty (e.g. 25M:100M; "
                        "0: lifts the window), measured in closed form on the preset's macs_network (CIFAR "
                        "presets: CifarNet width 16 at 32x32; imagenet-*: MobileNet width 0.5 at 224x224)")
    s.add_argument("--min-ops", type=int, default=None, help="minimum operation nodes per cell (presets: 5)")
    s.add_argument("--epochs", type=int, default=None, help="proxy training epochs per candidate (preset's)")
    s.add_argument("--width", type=int, default=None, help="proxy network width (preset's)")
    s.add_argument("--train-images", type=int, default=None,
                   help="proxy training images per candidate, a class-balanced subset (preset: all 5,000)")
    s.add_argument("--num-samples", type=int, default=None, help="bootstrap samples (paper: 50,000; quick: 5,000)")
    s.add_argument("--top-k", type=int, default=None, help="bootstrap candidates kept (preset: 5)")
    s.add_argument("--verify-top", type=int, default=None,
                   help="train this many of the top-k and re-rank (preset's: quick 2, default 0, paper 3)")
    s.add_argument("--sampler", default=None, choices=_samplers(),
                   help="how candidates are proposed: random (the paper) or predictor-guided batches "
                        "(acquisition/mean, ucb, thompson); rea, ls, bananas, bowl need a space with "
                        "neighbours (NAS-Bench-101 benchmarks) (preset: random)")
    s.add_argument("--sampler-batch", type=int, default=None,
                   help="candidates per predictor-guided batch (preset: 10; Ray trains a batch in parallel)")
    s.add_argument("--objective", default=None, choices=["efficiency", "regime"],
                   help="what the search maximises: efficiency (the paper's S = acc - lam ln MMACs) or regime "
                        "(the accuracy inside the MAC window; needs one) (omitted: the preset's)")
    s.add_argument("--executor", default="auto", choices=["auto", "local", "process", "ray"],
                   help="where candidates are trained: local (one after another), process (--workers local "
                        "processes), ray; auto: process when the trainer is pinned to a few threads "
                        "(trainer.num_threads; the quick preset: 1) on a CPU with cores to spare, else local")
    s.add_argument("--workers", type=int, default=0,
                   help="worker processes of --executor process/auto (0: CPU cores / trainer.num_threads)")
    s.add_argument("--ray-address", default=None, help="existing Ray cluster (omitted: start a local one)")
    s.add_argument("--ray-log-to-driver", action="store_true",
                   help="show the Ray workers' output (and tracebacks) here (default: in Ray's log folder)")
    s.add_argument("--reembed", action="store_true",
                   help="with --resume: accept RUN/encoder.pt as it now is (or retrain it) and re-embed")
    s.add_argument("--data", default=None,
                   help="data root (omitted: $GEMGRAPH_DATA; with neither, the 16x16 CIFAR-10 subset embedded in the "
                        "package, which serves the quick preset)")
    add_download(s)
    add_device(s)
    add_json(s, "the run's summary (candidates, pick, predictor check)")
    s.set_defaults(func=_cmd_search)
