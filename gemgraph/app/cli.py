r"""The ``gemgraph`` command-line tool.

Subcommands are small functions registered in :func:`build_parser`; each prints a short
summary and writes its outputs to the paths it is given. Bad input (arguments, paths, damaged
files: :class:`~gemgraph.errors.InputError` and OS errors about paths) is one line on stderr
naming the argument, exit code 2; any other exception is a bug: its traceback and exit code 1.
An output pipe closed early (``gemgraph report RUN | head -1``) ends the command quietly.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any
from pathlib import Path

from ..config import PRESETS
from ..errors import InputError
from .runs import check_writable_run, load_run, open_search, probe_writable
from .tables import history_table, pick_table

_log = logging.getLogger(__name__)


# ---------------------------------------------------------------------- path checks (before any work)
def _check_out_file(out: str, arg: str = "--out") -> None:
    """``out`` must be a file path whose folder exists and is writable (checked before training)."""
    path = Path(out)
    if path.is_dir():
        raise InputError(f"{arg}: expected a file path (e.g. encoder.pt), got the directory {out!r}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"{arg}: expected a file in an existing folder, but {str(parent)!r} is not a folder")
    probe_writable(parent, arg)


class _naming:
    """Context manager: an ``error`` raised inside (while ``active``) becomes an InputError whose
    message starts with the argument ``arg`` (so the CLI's one line names it)."""

    def __init__(self, arg: str, error: type[BaseException], active: object = True) -> None:
        self.arg, self.error, self.active = arg, error, active

    def __enter__(self) -> "_naming":
        return self

    def __exit__(self, typ, exc, tb) -> bool:
        if self.active and typ is not None and issubclass(typ, self.error):
            raise InputError(f"{self.arg}: {exc}") from None
        return False


def _mark(store, status: str) -> None:
    """Replace the run's status ``"running"`` (only that one: a finished run stays finished) by
    ``status``, never masking the exception being handled."""
    try:
        if store.get_meta("status") == "running":
            store.set_meta("status", status)
    except Exception:  # noqa: BLE001 - never mask the error being handled  # pragma: no cover - e.g. the disk is full
        pass


def _ints(text: str, name: str) -> list[int]:
    """Comma-separated ints of the option ``name`` (an InputError naming it otherwise)."""
    try:
        out = [int(x) for x in str(text).split(",") if x.strip()]
    except ValueError:
        raise InputError(f"{name}: expected comma-separated integers, got {text!r}") from None
    if not out:
        raise InputError(f"{name}: expected comma-separated integers, got {text!r}")
    return out


def _cmd_embed(args: argparse.Namespace) -> int:
    from .. import encoders
    from ..embedding import train_encoder
    from ..space import SearchSpace
    from ..wl import WLKernel

    from ..config import MAX_NODES
    from ..utils import resolve_device

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
    from ..wl import label_names

    space = SearchSpace(num_nodes=args.nodes, max_concat=args.max_concat)
    labels = label_names(args.labels, "--labels")
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


def _cmd_search(args: argparse.Namespace) -> int:
    from ..store import RunLock
    from ..utils import CannotWriteError

    if args.workers < 0:
        raise InputError(f"--workers: expected 0 (CPU cores / trainer.num_threads) or an int >= 1, got {args.workers}")
    run_dir, cfg, store, data = open_search(args)
    # the run's length: the config's, or what a resume extended it to (meta "iterations"; a
    # resume never shortens it)
    target = int(store.get_meta("iterations") or cfg["iterations"])
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
        from .runs import predictor_cv

        cv = predictor_cv(run_dir)
        summary["predictor_cv"] = None if cv is None else {k: cv[k] for k in ("spearman", "pvalue", "n", "folds")}
        if cv is not None and cv["spearman"] is not None:
            _log.info("predictor check: Spearman %.3f over %d candidates (%d folds)", cv["spearman"], cv["n"],
                      cv["folds"])
    if args.json:
        from .tables import dumps

        print(dumps(summary))
    elif cv is not None and cv["spearman"] is not None:
        print(f"predictor check: Spearman {cv['spearman']:.3f} between measured scores and out-of-fold predictions "
              f"({cv['folds']}-fold cross-validation over {cv['n']} evaluated candidates)")
    return 0


def _search(args: argparse.Namespace, run_dir: Path, cfg: dict, store, data, iterations: int) -> dict:
    """Run the search; print its text summary (unless ``--json``) and return it as a dict."""
    import time

    from ..search import NASGEM
    from .runs import (
        candidate_dict,
        format_table,
        make_predictor,
        make_space,
        make_trainer,
        prepare_encoder,
        sampler_args,
    )

    say = (lambda *a, **k: None) if args.json else print
    t0 = time.perf_counter()
    done = len(store)
    head = (f"run {run_dir}: preset {cfg['preset']}, {cfg['nodes']}-node cells, {iterations} iterations"
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
        from ..executors import RayExecutor

        executor = RayExecutor(address=args.ray_address, log_to_driver=args.ray_log_to_driver)
    elif args.executor in ("auto", "process"):
        executor = _process_executor(args, cfg)
    b = cfg["bootstrap"]
    sampler, sampler_opts = sampler_args(cfg)
    search = NASGEM(make_space(cfg), encoder, make_predictor(cfg),
                    make_trainer(cfg, device=args.device, data_root=args.data, data=data, download=args.download),
                    store,
                    seed=cfg["seed"], num_samples=b["num_samples"], top_k=b["top_k"], verify_top=b["verify_top"],
                    sampler=sampler, sampler_options=sampler_opts, executor=executor, progress=not args.quiet)
    say(f"sampler: {search.sampler!r}")
    try:
        res = search.run(iterations)
    finally:
        if not isinstance(executor, str):
            executor.close()
    secs = time.perf_counter() - t0
    store.set_meta("status", "finished")
    store.set_meta("search_seconds", (store.get_meta("search_seconds") or 0.0) + secs)
    rows = sorted([r for r in store.candidates(status="ok")], key=lambda r: -r["score"])[:5]
    _log.info("evaluated %d candidates (%d failed) in %.1f s", res.iterations_done, res.n_failed, secs)
    summary = {"run": str(run_dir), "preset": cfg["preset"], "objective": cfg.get("objective", "efficiency"),
               "nodes": cfg["nodes"], "iterations": iterations,
               "resumed_from": done, "iterations_done": res.iterations_done, "n_failed": res.n_failed,
               "seconds": secs, "encoder_fidelity": fid, "sampler": repr(search.sampler),
               "best": [candidate_dict(r) for r in rows],
               "pick": {"num_evaluated": res.bootstrap.num_evaluated, "top": _top_json(res.top)}}
    if args.json:
        return summary
    print(f"\nevaluated {res.iterations_done} candidates ({res.n_failed} failed) in {secs:.1f} s")
    print("best evaluated candidates:")
    print(format_table([{**r, "edges": r["cell"].num_edges, "mmacs": r["macs"] / 1e6} for r in rows],
                       [("id", "id", "d"), ("iteration", "iter", "d"), ("edges", "edges", "d"),
                        ("accuracy", "acc", ".3f"), ("mmacs", f"MMACs (CifarNet-{cfg['trainer']['width']})", ".1f"),
                        ("score", "score", ".4f"), ("seconds", "train s", ".1f")]))
    print(f"objective {cfg.get('objective', 'efficiency')}; MMACs per 32x32 image on the proxy's network "
          f"(CifarNet-{cfg['trainer']['width']}), as the score counts them")
    print(f"bootstrap pick over {res.bootstrap.num_evaluated} sampled cells:")
    print(pick_table(res.top))
    print(f"saved in {run_dir} (gemgraph report {run_dir}; gemgraph train {run_dir} --epochs E)")
    return summary


def _top_json(top: list[dict]) -> list[dict]:
    """The bootstrap's top-k, JSON-ready (cells as ``{"n", "edges", "ops"}``)."""
    from ..store import cell_to_json

    return [{**e, "cell": cell_to_json(e["cell"])} for e in top]


def _process_executor(args: argparse.Namespace, cfg: dict) -> Any:
    """``--executor auto``: candidates trained in parallel processes when each training is pinned to
    a few CPU threads (the quick preset: 1) and the machine has cores to spare, on the CPU only;
    ``--executor process``: always (``--workers``, default cores / threads)."""
    from ..executors import ProcessExecutor, _cpu_count

    threads = cfg["trainer"].get("num_threads")
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


def _cmd_report(args: argparse.Namespace) -> int:
    from .runs import dumps, format_table, pick_rows, report, store_path

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

    from ..search import NASGEM
    from ..store import RunLock

    for flag, value in (("--num-samples", args.num_samples), ("--top-k", args.top_k)):
        if value is not None and value < 1:
            raise InputError(f"{flag}: expected an int >= 1, got {value}")
    from .runs import store_path

    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    check_writable_run(Path(args.run), "RUN")
    with _run_log(args.run, args), RunLock(args.run):
        store, cfg, encoder, predictor, space = load_run(args.run, reembed=args.reembed)
        with store:
            b = cfg["bootstrap"]
            num_samples = b["num_samples"] if args.num_samples is None else args.num_samples
            _check_bootstrap_size(num_samples, space.num_nodes)
            previous = store.pick()
            seed = cfg["seed"] if args.seed is None else args.seed
            top_k = b["top_k"] if args.top_k is None else args.top_k
            search = NASGEM(space, encoder, predictor, None, store, seed=seed, num_samples=num_samples,
                            top_k=top_k, progress=not args.quiet)
            if not args.quiet:
                print(f"bootstrap: embedding and ranking {num_samples:,} sampled cells ...", file=sys.stderr,
                      flush=True)
            t0 = time.perf_counter()
            res = search.bootstrap()
            secs = time.perf_counter() - t0
            _log.info("bootstrap over %d cells (seed %d, top-k %d) in %.1f s", res.bootstrap.num_evaluated, seed,
                      top_k, secs)
            kept = [e for e in (previous or {}).get("top", []) if e.get("verified") is not None]
    if args.json:
        from .tables import dumps

        print(dumps({"run": str(args.run), "num_samples": num_samples, "num_evaluated": res.bootstrap.num_evaluated,
                     "seed": seed, "top_k": top_k, "seconds": secs, "top": _top_json(res.top),
                     "previous_verified": kept[0]["verified"] if kept else None}))
        return 0
    print(f"bootstrap over {res.bootstrap.num_evaluated} cells in {secs:.1f} s")
    print(pick_table(res.top))
    if kept:
        print(f"note: the previous pick (verified score {kept[0]['verified']:.4f}) is kept in the pick "
              f"history: gemgraph report {args.run} --history")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from ..cost import count
    from ..evaluate import ProxyTrainer
    from ..nn import MobileNet
    from ..store import RunStore, cell_from_json
    from .runs import dumps, store_path

    if args.dataset != "cifar10":
        raise InputError(f"--dataset: only 'cifar10' is supported, got {args.dataset!r}")
    with RunStore(store_path(args.run)) as store, _run_log(args.run, args):
        pick = store.pick()
        if pick is None:
            raise InputError(f"RUN: {args.run} has no pick yet; run `gemgraph search` (or `gemgraph bootstrap`) first")
        cell = cell_from_json(pick["best"])
        trainer = ProxyTrainer(epochs=args.epochs, width=args.width, cells_per_stage=args.cells_per_stage,
                               batch_size=args.batch_size, lr=args.lr, max_train_images=None, split=args.split,
                               root=args.data, device=args.device, seed=store.config["seed"], progress=not args.quiet,
                               download=args.download)
        res, model = trainer.fit(cell)
        _log.info("GEMNet trained %d epochs: status %s, %s accuracy %.4f", args.epochs, res.status, args.split,
                  res.accuracy)
        macs224, params224 = count(MobileNet(cell, num_classes=1000), (3, 224, 224))
        out = {"cell": pick["best"], "epochs": args.epochs, "width": args.width,
               "cells_per_stage": args.cells_per_stage,
               "split": args.split, **res.to_dict(), "imagenet_mobilenet_macs": macs224,
               "imagenet_mobilenet_params": params224}
        if model is not None:
            from pathlib import Path

            from ..export import GEMNET_FILE, save_gemnet

            out["saved"] = str(save_gemnet(Path(args.run) / GEMNET_FILE, model, cell, meta=out))
        store.set_meta("gemnet", out)
    if args.json:
        print(dumps(out))
    else:
        print(f"GEMNet (CifarNet width {args.width}, {args.cells_per_stage} cell(s)/stage) "
              f"trained {args.epochs} epochs: "
              f"status {res.status}{'' if res.ok else ' (' + str(res.error) + ')'}")
        print(f"  {args.split} accuracy {res.accuracy:.4f}   MACs {res.macs / 1e6:.1f} M"
              f"   params {res.params / 1e6:.3f} M"
              f"   score {res.score:.4f}   train {res.train_seconds:.1f} s")
        print(f"  as a 224x224 ImageNet MobileNet (GEMNet setting): {macs224 / 1e6:.0f} M MACs, "
              f"{params224 / 1e6:.2f} M params")
        if "saved" in out:
            print(f"  saved to {out['saved']} (gemgraph.load_gemnet; `gemgraph export` for json / pt / onnx)")
    return 0 if res.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from ..export import export_run
    from .runs import dumps

    try:
        rep = export_run(args.run, args.format, args.out, data=args.data, num_images=args.num_images, atol=args.atol,
                         seed=args.seed)
    except RuntimeError as exc:  # the exporter failed on this network: a failed job, not bad input
        if isinstance(exc, InputError):  # e.g. a StoreError (an InputError and a RuntimeError)
            raise
        first = (str(exc).strip().splitlines() or [""])[0]
        print(f"gemgraph export: failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
    if args.json:
        print(dumps(rep))
    else:
        line = f"{rep['format']} written to {rep['path']}"
        if rep["format"] == "json":
            line += f" ({rep['nodes']}-node cell, {rep['edges']} edges)"
        else:
            checks = ["onnx.checker ok"] if rep["format"] == "onnx" else []
            if rep.get("max_abs_diff") is not None:
                checks.append(f"max |diff| vs torch {rep['max_abs_diff']:.2e} on {rep['images']} "
                              f"(atol {rep['atol']:g})")
            elif rep["format"] == "onnx":
                checks.append("onnxruntime not installed: not run")
            line += ": " + ", ".join(checks)
        print(line)
    return 0 if rep["ok"] else 1


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..plots import score_surface

    if args.out:
        _check_out_file(args.out)
    store, cfg, encoder, predictor, space = load_run(args.run, reembed=args.reembed)
    with store:
        out = Path(args.out) if args.out else Path(args.run) / "surface.png"
        info = score_surface(store, encoder, predictor, space, out, num_samples=args.num_samples,
                             seed=cfg["seed"] if args.seed is None else args.seed)
    if args.json:
        from .tables import dumps

        print(dumps({"what": args.what, "run": str(args.run), "path": str(out),
                     **{k: v for k, v in info.items() if k != "figure"}}))
        return 0
    print(f"score surface of {info['num_samples']} cells written to {out} "
          f"(explained variance: embedding {info['evr_embedding']:.2f}, raw {info['evr_raw']:.2f})")
    return 0


def _cmd_ablation(args: argparse.Namespace) -> int:
    import time
    import warnings

    from ..ablation import nb101_ablation

    t0 = time.perf_counter()
    enc_opts = {"dim": args.encoder_dim, "wl_iter": args.wl_iter, "n_train": args.encoder_train_graphs,
                "max_epochs": args.encoder_epochs,
                "time_limit": None if args.encoder_time_limit <= 0 else args.encoder_time_limit}
    if args.encoder_hidden:
        from .. import encoders

        enc_opts["hidden"] = encoders.hidden_option(args.encoder, _ints(args.encoder_hidden, "--encoder-hidden"),
                                                    "--encoder-hidden")
    if args.data is not None and not Path(args.data).is_file():
        raise FileNotFoundError(f"--data: no such NAS-Bench-101 file {args.data!r}")
    from nasbench import NASBenchFormatError

    with warnings.catch_warnings(record=True) as caught, _naming("--data", NASBenchFormatError, args.data):
        warnings.simplefilter("always", UserWarning)
        res = nb101_ablation(
            args.data, args.out, budgets=_ints(args.budgets, "--budgets"), seeds=args.seeds, metric=args.metric,
            epochs=args.epochs, num_samples=args.num_samples, top_k=args.top_k, encoder=args.encoder,
            encoder_options=enc_opts, predictor=_predictor_options(args), kappa=args.kappa, seed=args.seed,
            device=args.device,
            plot=not args.no_plot, progress=not args.quiet,
        )
    # the library's own UserWarnings (e.g. models without the metric, excluded) become notes in the
    # text output; any other warning is shown as Python would have shown it
    import gemgraph

    pkg = str(Path(gemgraph.__file__).parent)
    notes = []
    for w in caught:
        if issubclass(w.category, UserWarning) and str(Path(w.filename).resolve()).startswith(pkg):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
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
    if e.get("hit_time_limit"):
        print("note: --encoder-time-limit shortened the encoder's training; the encoder (and the results) depend "
              "on this machine's speed")
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


def _predictor_options(args: argparse.Namespace) -> dict:
    from ..predictor import PAPER_PREDICTOR

    if getattr(args, "paper_predictor", False):
        return dict(PAPER_PREDICTOR)
    return {"n_members": args.ensemble}


def _cmd_benchmark(args: argparse.Namespace) -> int:
    import time

    from ..benchmark import nb101_benchmark, nbgraph_benchmark, parse_methods

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
        from ..nbgraph import check_dataset

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


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..validate import REFERENCE, validate_run
    from .runs import dumps, format_table

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


def _cmd_config(args: argparse.Namespace) -> int:
    from ..config import RunConfig, resolve_config

    if args.run is not None:
        if args.preset or args.config or args.set:
            raise InputError("--run: shows the run's stored config; drop --preset / --config / --set")
        from .runs import store_path
        from ..store import RunStore

        if not store_path(args.run).exists():
            raise FileNotFoundError(f"--run: no run store at {store_path(args.run)}")
        with RunStore(store_path(args.run), readonly=True) as st:
            cfg = RunConfig.from_stored(st.config)
    else:
        cfg = resolve_config(args.preset, file=args.config, sets=args.set)
    print(json.dumps(cfg.to_dict(), indent=2) if args.json else cfg.to_lines())
    return 0


# ---------------------------------------------------------------------- logging (configured here only)
#: the packages whose loggers the CLI configures (the library only creates loggers, never handlers)
_LOG_PACKAGES = ("gemgraph", "nasbench")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: a search run's log file, ``RUN/log.txt`` (appended by every command that writes the run)
RUN_LOG = "log.txt"


def _log_level(args: argparse.Namespace) -> int:
    """The stderr log level: ``--log-level`` if given, else DEBUG with ``-vv``, INFO with ``-v``,
    ERROR with ``-q`` (``-q -v``: no progress bars, INFO lines), else WARNING."""
    import logging

    if args.log_level:
        return getattr(logging, args.log_level)
    if args.verbose:
        return logging.INFO if args.verbose == 1 else logging.DEBUG
    return logging.ERROR if args.quiet else logging.WARNING


class _Logging:
    """Context manager: a stderr handler (and the level) on the ``gemgraph`` and ``nasbench``
    loggers for one ``main()`` call; everything is restored on exit (no handler outlives it)."""

    def __init__(self, level: int, stream=None) -> None:
        self.level, self.stream = level, stream
        self.handler = None
        self._saved: list = []

    def __enter__(self) -> "_Logging":
        import logging

        self.handler = logging.StreamHandler(self.stream if self.stream is not None else sys.stderr)
        self.handler.setLevel(self.level)
        self.handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt="%H:%M:%S"))
        for name in _LOG_PACKAGES:
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level))
            lg.addHandler(self.handler)
            lg.setLevel(self.level)
        return self

    def __exit__(self, *exc) -> bool:
        for lg, level in self._saved:
            lg.removeHandler(self.handler)
            lg.setLevel(level)
        self._saved.clear()
        return False


class _QuietFileHandler(logging.FileHandler):
    """The run log's handler: a record that cannot be written (a full disk) is dropped, not
    reported with a ``--- Logging error ---`` traceback on stderr (the command's own error line
    says what went wrong)."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


class _run_log:
    """Context manager: while a command writes the run ``run_dir``, the ``gemgraph`` / ``nasbench``
    log records at INFO (or the chosen level where lower) are appended to ``RUN/log.txt``, with
    the command line first and, when the command stops on an error, that error last. The
    handler is removed and closed on exit. A log file that cannot be opened is a warning, not an
    error (the run itself is what matters)."""

    def __init__(self, run_dir, args: argparse.Namespace) -> None:
        import logging

        self.path = Path(run_dir) / RUN_LOG
        self.level = min(logging.INFO, getattr(args, "log_level_value", logging.WARNING))
        self.argv = getattr(args, "argv", None)
        self.handler = None
        self._saved: list = []

    def __enter__(self) -> "_run_log":
        import logging

        try:
            self.handler = _QuietFileHandler(self.path, mode="a", encoding="utf-8")
        except OSError as exc:
            logging.getLogger(__name__).warning("cannot write the run log %s (%s)", self.path, exc.strerror or exc)
            return self
        self.handler.setLevel(self.level)
        self.handler.setFormatter(logging.Formatter(_LOG_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
        for name in _LOG_PACKAGES:
            lg = logging.getLogger(name)
            self._saved.append((lg, lg.level))
            lg.addHandler(self.handler)
            if lg.getEffectiveLevel() > self.level:
                lg.setLevel(self.level)
        self._write(logging.INFO, "gemgraph " + " ".join(self.argv) if self.argv is not None else "gemgraph")
        return self

    def _write(self, level: int, msg: str) -> None:
        """A record for the file only (the console has its own line for it)."""
        import logging

        if self.handler is not None:
            self.handler.handle(logging.getLogger(__name__).makeRecord(__name__, level, __file__, 0, msg, (), None))

    def __exit__(self, typ, exc, tb) -> bool:
        import logging

        if self.handler is None:
            return False
        if typ is not None:
            if issubclass(typ, KeyboardInterrupt):
                self._write(logging.ERROR, "interrupted" + (" (SIGTERM)" if issubclass(typ, Terminated) else ""))
            else:
                self._write(logging.ERROR, f"stopped: {typ.__name__}: {exc}")
        for lg, level in self._saved:
            lg.removeHandler(self.handler)
            lg.setLevel(level)
        self._saved.clear()
        self.handler.close()
        self.handler = None
        return False


# ---------------------------------------------------------------------- the parser
class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown (``(default: X)``) where there is one to show (not None / False / 0 counts:
    their help says what happens), epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("%(default)" in text or not action.option_strings or action.default is None
                or action.default is False or action.default is argparse.SUPPRESS
                or isinstance(action, argparse._CountAction)):
            return text
        return text + " (default: %(default)s)"


def _device(text: str) -> str:
    """argparse type of ``--device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``."""
    import re

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected auto, cpu, cuda or cuda:N, got {text!r}")
    return text


def _seed(text: str) -> int:
    """argparse type of ``--seed``: an int in [0, 2**63 - 1] (what torch and numpy take)."""
    from ..config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected an int in [0, {MAX_SEED:,}], got {text}")
    return value


_DEVICE_HELP = "auto (CUDA when available, else CPU), cpu, cuda or cuda:N"


def _add_logging(parser: argparse.ArgumentParser, top: bool) -> None:
    """-v / -q / --log-level, accepted before the subcommand (``top``) and after it."""
    g = parser.add_argument_group("output and logging")
    sfx = "_top" if top else ""
    g.add_argument("-v", "--verbose", action="count", default=0, dest="verbose" + sfx,
                   help="more log lines on stderr: -v INFO (e.g. nasbench's parse and cache lines), -vv DEBUG "
                        "(default: WARNING)")
    g.add_argument("-q", "--quiet", action="store_true", dest="quiet" + sfx,
                   help="no progress bars or progress lines, and log errors only (with -v: no bars, INFO lines)")
    g.add_argument("--log-level", default=None, choices=_LOG_LEVELS, dest="log_level" + sfx,
                   help="stderr log level, overriding -v / -q (default: WARNING)")


_EXIT_CODES = """\
exit status:
  0    success (also when the reader of the output goes away: `gemgraph report RUN | head -1`)
  1    the job ran but failed: `train` (the GEMNet's training failed), `export` (the exporter failed or the
       export differs from torch by more than --atol), `benchmark` (a trial failed); or a bug: any other
       error (an internal ValueError, KeyError, ...) prints its full traceback and a line asking to report it
  2    bad input, one line on stderr naming the argument: usage errors, bad values, missing or damaged files,
       paths that cannot be read or written, a missing optional package, a run in use by another process; a
       file or the run store that cannot be written (e.g. no space left on device: nothing half-written is
       left, a search run is marked "stopped" and `gemgraph search --resume RUN` continues it)
  130  interrupted (Ctrl-C); a search run is marked "interrupted" and `gemgraph search --resume RUN` continues it
  143  terminated (SIGTERM: kill, systemd, SLURM, Kubernetes), handled as Ctrl-C is: a search run is marked
       "interrupted", a line on stderr and in RUN/log.txt, and `gemgraph search --resume RUN` continues it

logging: the library logs through `logging` (loggers gemgraph.* and nasbench.*); the CLI prints them on stderr
at WARNING (-v INFO, -vv DEBUG, -q ERROR, --log-level L), with time and logger name. `search` (new and
--resume), `bootstrap` and `train` also append INFO lines to RUN/log.txt. Results go to stdout (--json: one JSON
document, nothing else); progress bars and log lines go to stderr.
"""


def _sub(sub, name: str, help: str, examples: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help, description=help, formatter_class=_HelpFormatter,
                       epilog="examples:\n" + examples)
    _add_logging(p, top=False)
    return p


def _json_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as one JSON document on stdout (nothing else)")


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__, encoders
    from ..samplers import available as _samplers

    p = argparse.ArgumentParser(prog="gemgraph", description="NASGEM: neural architecture search via graph embedding",
                                formatter_class=_HelpFormatter, epilog=_EXIT_CODES)
    p.add_argument("--version", action="version", version=f"gemgraph {__version__}",
                   help="print the version and exit")
    _add_logging(p, top=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="embed, search, report, validate, bootstrap, train, export, plot, ablation, benchmark "
                                "(gemgraph COMMAND -h for its options)")

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
    e.add_argument("--seed", type=_seed, default=0, help="seed of the sampled cells, the pairs and the weights")
    e.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP)
    e.add_argument("--out", default=None, help="where to save the encoder (.pt; omitted: not saved)")
    _json_flag(e, "the summary")
    e.set_defaults(func=_cmd_embed)

    s = _sub(sub, "search", "run (or resume) the NASGEM search and bootstrap a GEMNet cell",
             "  gemgraph search --preset quick --out runs/quick\n"
             "  gemgraph search --resume runs/quick --iterations 16     # extend the run to 16 candidates\n"
             "  gemgraph search --preset default --macs 25M:100M --sampler ucb --out runs/ucb -v\n"
             "  gemgraph search --preset quick --out runs/q --json > summary.json\n")
    s.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="settings bundle (omitted: default; see gemgraph.config.PRESETS); --config, --set and the "
                        "flags below override it")
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
    s.add_argument("--download", action="store_true",
                   help="fetch full CIFAR-10 through torchvision into --data (or $GEMGRAPH_DATA) when absent")
    s.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP)
    _json_flag(s, "the run's summary (candidates, pick, predictor check)")
    s.set_defaults(func=_cmd_search)

    cf = _sub(sub, "config", "print a resolved run config (preset < --config < --set), or a run's stored one",
              "  gemgraph config show --preset quick\n"
              "  gemgraph config show --preset quick --set trainer.epochs=3 --json > my.json\n"
              "  gemgraph config show --run runs/quick\n")
    cf.add_argument("action", choices=["show"], help="what to do (show: print the config)")
    cf.add_argument("--preset", default=None, choices=list(PRESETS),
                    help="settings bundle (omitted: the --set / --config preset key, else default)")
    cf.add_argument("--config", default=None, metavar="FILE", help="settings file, JSON or TOML; overrides the preset")
    cf.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE",
                    help="set one config key, repeatable; overrides --config")
    cf.add_argument("--run", default=None, metavar="RUN", help="show the stored config of the run in RUN instead")
    _json_flag(cf, "the config (a file --config reads) instead of key = value lines")
    cf.set_defaults(func=_cmd_config)

    r = _sub(sub, "report", "summarise a run (table, or JSON with --json)",
             "  gemgraph report runs/quick\n"
             "  gemgraph report runs/quick --history --top 20\n"
             "  gemgraph report runs/quick --json | jq .pick.best\n")
    r.add_argument("run", metavar="RUN", help="run directory (made by gemgraph search)")
    _json_flag(r, "everything about the run")
    r.add_argument("--top", type=int, default=10, help="candidates shown in the table")
    r.add_argument("--history", action="store_true", help="also list every pick (oldest first)")
    r.add_argument("--cv-folds", type=int, default=5,
                   help="folds of the predictor's cross-validated rank check (0: skip it)")
    r.set_defaults(func=_cmd_report)

    b = _sub(sub, "bootstrap", "re-run the bootstrap optimisation of a run",
             "  gemgraph bootstrap runs/quick --num-samples 50000\n"
             "  gemgraph bootstrap runs/quick --seed 3 --top-k 10 --json\n")
    b.add_argument("run", metavar="RUN", help="run directory with a predictor checkpoint")
    b.add_argument("--num-samples", type=int, default=None, help="cells sampled and ranked (omitted: the run's)")
    b.add_argument("--top-k", type=int, default=None, help="candidates kept (omitted: the run's)")
    b.add_argument("--seed", type=_seed, default=None, help="seed of the sampled cells (omitted: the run's)")
    b.add_argument("--reembed", action="store_true",
                   help="accept RUN/encoder.pt as it now is and refit the predictor on re-embedded candidates")
    _json_flag(b, "the new pick")
    b.set_defaults(func=_cmd_bootstrap)

    t = _sub(sub, "train", "train the picked GEMNet longer and report accuracy, MACs, params",
             "  gemgraph train runs/quick --epochs 30\n"
             "  gemgraph train runs/quick --epochs 2 --width 8 --device cpu --json\n")
    t.add_argument("run", metavar="RUN", help="run directory with a pick (saves RUN/gemnet.pt)")
    t.add_argument("--dataset", default="cifar10", choices=["cifar10"], help="training data")
    t.add_argument("--epochs", type=int, default=30, help="training epochs")
    t.add_argument("--width", type=int, default=32, help="CifarNet width (channels of the first stage)")
    t.add_argument("--cells-per-stage", type=int, default=2, help="cells stacked per stage")
    t.add_argument("--batch-size", type=int, default=128, help="SGD batch size")
    t.add_argument("--lr", type=float, default=0.1, help="peak learning rate")
    t.add_argument("--split", default="test", choices=["val", "test"], help="split the accuracy is measured on")
    t.add_argument("--data", default=None, help="data root (omitted: $GEMGRAPH_DATA)")
    t.add_argument("--download", action="store_true",
                   help="fetch full CIFAR-10 through torchvision into --data (or $GEMGRAPH_DATA) when absent")
    t.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP)
    _json_flag(t, "the result")
    t.set_defaults(func=_cmd_train)

    ex = _sub(sub, "export", "export the trained GEMNet of a run: cell spec, torch.export program or ONNX",
              "  gemgraph export runs/quick --format onnx\n"
              "  gemgraph export runs/quick --format json --out cell.json\n"
              "exit status: 0 ok, 1 the export failed or differs from torch by more than --atol, 2 bad input\n")
    ex.add_argument("run", metavar="RUN", help="run folder (pt / onnx need RUN/gemnet.pt from `gemgraph train`)")
    ex.add_argument("--format", default="onnx", choices=["json", "pt", "onnx"],
                    help="json: cell spec; pt: torch.export program (.pt2); onnx: ONNX graph")
    ex.add_argument("--out", default=None, help="output file (omitted: RUN/gemnet.json, .pt2 or .onnx)")
    ex.add_argument("--data", default=None, help="data root of the check images (omitted: $GEMGRAPH_DATA)")
    ex.add_argument("--num-images", type=int, default=16, help="check batch: CIFAR-10 proxy test images")
    ex.add_argument("--atol", type=float, default=1e-4, help="largest accepted |export - torch| on the check batch")
    ex.add_argument("--seed", type=_seed, default=0, help="seed of the check-image draw")
    _json_flag(ex, "the export report")
    ex.set_defaults(func=_cmd_export)

    pl = _sub(sub, "plot", "plots of a run",
              "  gemgraph plot surface runs/quick\n"
              "  gemgraph plot surface runs/quick --num-samples 5000 --out surface.png --json\n")
    pl.add_argument("what", choices=["surface"], help="surface: PCA score surface (paper Fig. 3)")
    pl.add_argument("run", metavar="RUN", help="run directory with a predictor checkpoint")
    pl.add_argument("--out", default=None, help="PNG path (omitted: RUN/surface.png)")
    pl.add_argument("--num-samples", type=int, default=50_000, help="cells sampled for the surface")
    pl.add_argument("--seed", type=_seed, default=None, help="seed of the sampled cells (omitted: the run's)")
    pl.add_argument("--reembed", action="store_true",
                    help="accept RUN/encoder.pt as it now is and refit the predictor on re-embedded candidates")
    _json_flag(pl, "what was plotted (path, cells, explained variances)")
    pl.set_defaults(func=_cmd_plot)

    ab = _sub(sub, "ablation", "the NAS-Bench-101 ablation: predictor with vs without graph embedding",
              "  gemgraph ablation nb101 --out nb101-ablation\n"
              "  gemgraph ablation nb101 --budgets 100,500 --seeds 5 --encoder gin --json\n")
    ab.add_argument("benchmark", choices=["nb101"], help="benchmark (nb101: NAS-Bench-101)")
    ab.add_argument("--data", default=None, help="official-layout .tfrecord (omitted: the bundled 20k sample)")
    ab.add_argument("--budgets", default="100,200,500,1000,2000", help="evaluated models K, comma separated")
    ab.add_argument("--seeds", type=int, default=30, help="seeds per budget")
    ab.add_argument("--out", default="nb101-ablation", help="output folder")
    ab.add_argument("--metric", default="validation_accuracy",
                    help="validation_accuracy or test_accuracy (when the file has it)")
    ab.add_argument("--epochs", type=int, default=108, help="training budget of the metric")
    ab.add_argument("--num-samples", type=int, default=50_000, help="bootstrap candidates per run")
    ab.add_argument("--top-k", type=int, default=10, help="k of the top-k variants (0: none)")
    ab.add_argument("--encoder", default="mlp", choices=encoders.available(), help="encoder of the embedding arm")
    ab.add_argument("--encoder-dim", type=int, default=64, help="embedding dimension")
    ab.add_argument("--encoder-hidden", default=None,
                    help="encoder hidden widths, comma separated (omitted: the encoder's default)")
    ab.add_argument("--encoder-train-graphs", type=int, default=40_000, help="encoder training cells")
    ab.add_argument("--encoder-epochs", type=int, default=25,
                    help="encoder epochs of the one-cycle schedule (early stopping applies)")
    ab.add_argument("--encoder-time-limit", type=float, default=600.0,
                    help="budget on encoder training seconds; the schedule is shortened to fit (0: none)")
    ab.add_argument("--wl-iter", type=int, default=1, help="WL iterations h on op labels")
    ab.add_argument("--ensemble", type=int, default=5, help="predictor ensemble members")
    ab.add_argument("--paper-predictor", action="store_true",
                    help="the paper's predictor: one MLP regressing the standardised accuracy (gemgraph 0.1's default)")
    ab.add_argument("--kappa", type=float, default=0.0,
                    help="incumbent-aware pick by mean + kappa * std (< 0 pessimistic)")
    ab.add_argument("--seed", type=_seed, default=0, help="base seed of the draws and the encoder")
    ab.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP + " (encoder training)")
    ab.add_argument("--no-plot", action="store_true", help="do not write bias.png")
    _json_flag(ab, "info, summary and paired differences")
    ab.set_defaults(func=_cmd_ablation)
    from ..benchmark import DEFAULT_METHODS, FEATURES, METHODS

    bm = _sub(sub, "benchmark", "search methods against each other on NAS-Bench-101 or NAS-Bench-Graph (regret curves)",
              "  gemgraph benchmark nb101 --queries 150 --trials 100 "
              "--methods random,nasgem:both,nasgem-seq:embedding --out nb101-bench\n"
              "  gemgraph benchmark nb101 --trials 5 --no-plot --json\n"
              "  gemgraph benchmark nbgraph --dataset cora --trials 20 --queries 100 --out cora-bench\n")
    bm.add_argument("benchmark", choices=["nb101", "nbgraph"],
                    help="benchmark (nb101: NAS-Bench-101; nbgraph: NAS-Bench-Graph, with --dataset)")
    bm.add_argument("--dataset", default=None,
                    help="nbgraph: cora, citeseer, pubmed, cs, physics, photo, computers, arxiv or proteins")
    bm.add_argument("--data", default=None, help="nb101: official-layout .tfrecord (omitted: the bundled 20k sample)")
    bm.add_argument("--queries", type=int, default=150, help="evaluations per trial")
    bm.add_argument("--trials", type=int, default=100, help="independent seeded trials per method")
    bm.add_argument("--methods", default=",".join(DEFAULT_METHODS),
                    help=f"comma-separated METHOD or METHOD:FEATURES; methods {list(METHODS)}, features "
                         f"{list(FEATURES)} (default features: embedding)")
    bm.add_argument("--n-init", type=int, default=10, help="random models before the first predictor-guided batch")
    bm.add_argument("--batch-size", type=int, default=10, help="models per guided batch (and report spacing)")
    bm.add_argument("--top-k", type=int, default=10, help="nasgem: top predictions verified at equal evaluations")
    bm.add_argument("--metric", default="validation_accuracy", help="the accuracy searched for")
    bm.add_argument("--ensemble", type=int, default=5, help="predictor ensemble members")
    bm.add_argument("--paper-predictor", action="store_true", help="the paper's single-MLP regression predictor")
    bm.add_argument("--seed", type=_seed, default=0, help="base seed (trial i depends on (seed, i) only)")
    bm.add_argument("--out", default=None,
                    help="output folder (regret.csv, summary.csv, regret.png; omitted: BENCHMARK-benchmark)")
    bm.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP + " (encoder training)")
    bm.add_argument("--no-plot", action="store_true", help="do not write regret.png")
    _json_flag(bm, "info, summary and failures")
    bm.set_defaults(func=_cmd_benchmark)

    va = _sub(sub, "validate", "train a finished run's pick, its best candidate, the cost-only pick and random "
              "search's answer under the reference protocol and compare them",
              "  gemgraph validate runs/quick --data /path/to/data\n"
              "  gemgraph validate runs/quick --seeds 5 --json | jq .paired\n")
    va.add_argument("run", metavar="RUN", help="run directory with a pick (made by gemgraph search)")
    va.add_argument("--out", default=None, help="output folder (omitted: RUN/validate); reruns reuse its trainings")
    va.add_argument("--seeds", type=int, default=3, help="seeded reference repeats per cell")
    va.add_argument("--data", default=None, help="data root holding cifar10-ref/ (omitted: $GEMGRAPH_DATA)")
    va.add_argument("--device", default="auto", type=_device, help=_DEVICE_HELP)
    va.add_argument("--threads", type=int, default=1, help="CPU threads per training (0: torch's setting)")
    va.add_argument("--no-plot", action="store_true", help="do not write validate.png")
    _json_flag(va, "the validation")
    va.set_defaults(func=_cmd_validate)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gemgraph`` console script: the exit status (see the top-level
    help's table); argparse's usage errors return 2 (and ``--help`` / ``--version`` 0) rather
    than raising SystemExit."""
    import warnings

    with warnings.catch_warnings():
        # torch_geometric imports torch.jit.script, deprecated in recent torch: not our users' concern
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit\._script")
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # usage error (2, message already on stderr), --help / --version (0)
            return exc.code if isinstance(exc.code, int) else 2
        args.argv = list(sys.argv[1:] if argv is None else argv)
        args.verbose += args.verbose_top
        args.quiet = args.quiet or args.quiet_top
        args.log_level = args.log_level or args.log_level_top
        args.log_level_value = _log_level(args)
        with _Logging(args.log_level_value), _on_sigterm():
            return _run(args)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, systemd, SLURM, Kubernetes) while a command runs: handled as Ctrl-C is
    (a search run is marked "interrupted", a line on stderr and in ``RUN/log.txt``), exit 143."""


class _on_sigterm:
    """Context manager: while ``main()`` runs (in the main thread), SIGTERM raises
    :class:`Terminated`; the previous handler is restored on exit."""

    def __enter__(self) -> "_on_sigterm":
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame) -> None:
        raise Terminated()

    def __exit__(self, *exc) -> bool:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _one_line(exc: BaseException) -> str:
    """The error line of ``exc``: its message as one line (no colour codes); a message of
    several lines is logged in full at INFO (``-v``)."""
    from ..utils import one_line

    text = str(exc)
    line = one_line(text, limit=4000)
    if line != text:
        _log.info("%s in full: %s", type(exc).__name__, text)
    return line


#: OS errors about a path the user gave (a missing file, no permission, a folder where a file
#: was expected, ...): bad input, one line; an OSError naming a file (``filename``) counts too
_PATH_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError)

#: the line after an internal error's traceback
BUG_LINE = ("this is a bug in gemgraph, not a problem with your input: please report it to the gemgraph "
            "maintainers (issue tracker) with the command line and the traceback above")


def _is_input_error(exc: BaseException) -> bool:
    """Whether ``exc`` is bad input (exit 2, one line) rather than a bug (exit 1, traceback)."""
    import zipfile

    from ..utils import CannotWriteError

    if isinstance(exc, (InputError, CannotWriteError, _PATH_ERRORS, zipfile.BadZipFile, EOFError)):
        return True
    return isinstance(exc, OSError) and exc.filename is not None


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; errors at the edge become an exit status: bad input
    (:class:`~gemgraph.errors.InputError`, OS errors about paths, a damaged data file) one line
    on stderr and 2; anything else is a bug: its traceback, a line saying so, and 1."""
    import zipfile

    from ..utils import CannotWriteError

    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return code
    except BrokenPipeError:
        # the reader went away (`gemgraph report RUN | head -1`): stop quietly, and keep
        # Python from failing again when it flushes stdout at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
            pass
        return 0
    except KeyboardInterrupt as exc:
        term = isinstance(exc, Terminated)
        print(f"gemgraph {args.command}: interrupted{' (SIGTERM)' if term else ''}", file=sys.stderr)
        return 143 if term else 130
    except Exception as exc:  # noqa: BLE001 - the edge: every error becomes an exit status
        if not _is_input_error(exc):
            import traceback

            traceback.print_exc(file=sys.stderr)
            print(f"gemgraph {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)}\n"
                  f"gemgraph {args.command}: {BUG_LINE}", file=sys.stderr)
            return 1
        if isinstance(exc, CannotWriteError):  # a full disk: one line naming the path (and how to go on)
            line = f"{exc}{getattr(exc, 'hint', '')}"
        elif isinstance(exc, (zipfile.BadZipFile, EOFError)):  # a damaged data file read past the checks
            line = f"--data: a data file is corrupt or truncated ({type(exc).__name__}: {exc})"
        else:  # InputError, or a path that cannot be read or written (named by the OS message)
            line = _one_line(exc)
        print(f"gemgraph {args.command}: error: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
