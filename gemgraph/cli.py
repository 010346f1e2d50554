r"""The ``gemgraph`` command-line tool.

Subcommands are small functions registered in :func:`build_parser`; each prints a short
summary and writes its outputs to the paths it is given. Bad input (arguments, paths, damaged
files) is one line on stderr naming the argument, exit code 2; an output pipe closed early
(``gemgraph report RUN | head -1``) ends the command quietly.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path


# ---------------------------------------------------------------------- path checks (before any work)
def _probe_writable(folder: Path, arg: str) -> None:
    """ValueError naming ``arg`` unless a file can be created in ``folder`` (catches read-only
    mounts and immutable folders too, which permission bits do not show for root)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ValueError(f"{arg}: expected a writable folder, got {str(folder)!r} ({exc.strerror or exc})") from None


def _check_out_file(out: str, arg: str = "--out") -> None:
    """``out`` must be a file path whose folder exists and is writable (checked before training)."""
    path = Path(out)
    if path.is_dir():
        raise ValueError(f"{arg}: expected a file path (e.g. encoder.pt), got the directory {out!r}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{arg}: expected a file in an existing folder, but {str(parent)!r} is not a folder")
    _probe_writable(parent, arg)


def _check_run_dir(run_dir: Path, arg: str) -> None:
    """A run directory to write: a folder (created if missing) in which files can be created."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{arg}: expected a run directory, got the file {str(run_dir)!r}")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{arg}: cannot create the run directory {str(run_dir)!r} ({exc.strerror or exc})") from None
    _probe_writable(run_dir, arg)


def _check_writable_run(run_dir: Path, arg: str) -> None:
    """An existing run that is about to be written: its folder and ``run.sqlite`` writable."""
    from .runs import store_path

    try:
        _probe_writable(run_dir, arg)
        with open(store_path(run_dir), "r+b"):
            pass
    except (ValueError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc).split("(")[-1].rstrip(")")
        raise ValueError(f"{arg}: the run {str(run_dir)!r} is read-only here ({why}); copy it to a writable place "
                         f"to continue it (gemgraph report reads it as it is)") from None


class _naming:
    """Context manager: an ``error`` raised inside (while ``active``) becomes a ValueError whose
    message starts with the argument ``arg`` (so the CLI's one line names it)."""

    def __init__(self, arg: str, error: type[BaseException], active: object = True) -> None:
        self.arg, self.error, self.active = arg, error, active

    def __enter__(self) -> "_naming":
        return self

    def __exit__(self, typ, exc, tb) -> bool:
        if self.active and typ is not None and issubclass(typ, self.error):
            raise ValueError(f"{self.arg}: {exc}") from None
        return False


def _mark(store, status: str) -> None:
    """Replace the run's status ``"running"`` (only that one: a finished run stays finished) by
    ``status``, never masking the exception being handled."""
    try:
        if store.get_meta("status") == "running":
            store.set_meta("status", status)
    except Exception:  # pragma: no cover - e.g. the disk is full
        pass


def _cmd_embed(args: argparse.Namespace) -> int:
    from . import encoders
    from .embedding import train_encoder
    from .space import SearchSpace
    from .wl import WLKernel

    if args.out:
        _check_out_file(args.out)
    from .wl import label_names

    space = SearchSpace(num_nodes=args.nodes, max_concat=args.max_concat)
    labels = label_names(args.labels, "--labels")
    kernel = WLKernel(n_iter=args.wl_iter, node_labels=labels)
    kw = {} if args.hidden is None else {"hidden": [int(h) for h in args.hidden.split(",")]}
    if args.encoder in ("gin", "gcn") and "hidden" in kw:
        kw["hidden"] = kw["hidden"][0]
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


#: search flags that set the run's config: flag -> (argparse dest, config key)
_SEARCH_CONFIG_FLAGS = {
    "--preset": ("preset", "preset"), "--nodes": ("nodes", "nodes"), "--seed": ("seed", "seed"),
    "--max-concat": ("max_concat", "max_concat"), "--epochs": ("epochs", "trainer.epochs"),
    "--width": ("width", "trainer.width"), "--num-samples": ("num_samples", "bootstrap.num_samples"),
    "--top-k": ("top_k", "bootstrap.top_k"), "--verify-top": ("verify_top", "bootstrap.verify_top"),
    "--sampler": ("sampler", "sampler.name"), "--sampler-batch": ("sampler_batch", "sampler.batch_size"),
    "--train-images": ("train_images", "trainer.max_train_images"),
}


def _regime_overrides(args: argparse.Namespace) -> dict:
    """``--macs LOW:HIGH`` / ``--min-ops K`` as config overrides (checked here, before any work)."""
    from .space import parse_macs_window

    out: dict = {}
    if getattr(args, "macs", None) is not None:
        out["macs"] = list(parse_macs_window(args.macs, "--macs"))
    if getattr(args, "min_ops", None) is not None:
        if args.min_ops < 1:
            raise ValueError(f"--min-ops: expected an int >= 1, got {args.min_ops}")
        out["min_ops"] = args.min_ops
    return out


def _probe_regime(cfg: dict) -> None:
    """Fail before any training when no cell of the run's space meets its MAC window / min_ops
    (a bounded number of draws: ``SearchSpace.max_draws``)."""
    from .runs import make_space

    space = make_space(cfg)
    if space.constrained:
        try:
            space.sample(1, seed=cfg["seed"])
        except ValueError as exc:
            raise ValueError(f"the computation regime (--macs / --min-ops, or the preset's) cannot be met: {exc}") from None


def _resume_conflicts(args: argparse.Namespace, cfg: dict) -> None:
    """A resumed run keeps its config: a flag giving another value is refused (equal ones pass)."""
    bad = []
    for flag, (dest, key) in _SEARCH_CONFIG_FLAGS.items():
        given = getattr(args, dest, None)
        if given is None:
            continue
        stored = cfg
        for part in key.split("."):
            stored = stored.get(part) if isinstance(stored, dict) else None
        if given != stored:
            bad.append(f"{flag} {given} (the run has {stored})")
    from .config import RunConfig, changed_keys

    for source, key, given, stored in changed_keys(RunConfig.from_stored(cfg), file=getattr(args, "config", None),
                                                   sets=getattr(args, "set", None)):
        bad.append(f"{source} {key}={json.dumps(given)} (the run has {json.dumps(stored)})")
    if bad:
        raise ValueError(f"--resume: a resumed run keeps its config, got {'; '.join(bad)}; drop the flag(s), or start "
                         "a new run with --out (only --iterations may change, to extend the run)")


def _open_search(args: argparse.Namespace):
    """Create or resume a run: (run_dir, config, store, data). Every path and the proxy data are
    checked (and the data read) before the store is created and before anything is trained."""
    from .config import RunConfig, resolve_config
    from .runs import load_data, store_path
    from .store import RunStore

    if args.resume:
        run_dir = Path(args.resume)
        if not store_path(run_dir).exists():
            raise FileNotFoundError(f"--resume: no run store at {store_path(run_dir)}")
        _check_writable_run(run_dir, "--resume")
        with RunStore(store_path(run_dir), readonly=True) as existing:
            cfg = RunConfig.from_stored(existing.config).to_dict()  # a run stored before a key existed: its value
        _resume_conflicts(args, cfg)
        data = load_data(cfg, args.data, download=getattr(args, "download", False))
        store = RunStore(store_path(run_dir))
    else:
        if not args.out:
            raise ValueError("--out: give a run directory for a new search (or --resume RUN)")
        run_dir = Path(args.out)
        if run_dir.exists() and not run_dir.is_dir():
            raise ValueError(f"--out: expected a run directory, got the file {str(run_dir)!r}")
        regime = _regime_overrides(args)
        # precedence: preset < --config < --set < the flags (gemgraph.config.resolve_config)
        cfg = resolve_config(args.preset, file=args.config, sets=args.set, overrides={
            "nodes": args.nodes, "iterations": args.iterations, "seed": args.seed, "max_concat": args.max_concat,
            **regime, "bootstrap.num_samples": args.num_samples, "bootstrap.top_k": args.top_k,
            "bootstrap.verify_top": args.verify_top, "trainer.epochs": args.epochs, "trainer.width": args.width,
            "sampler.name": args.sampler, "sampler.batch_size": args.sampler_batch,
            "trainer.max_train_images": args.train_images}).to_dict()
        _probe_regime(cfg)
        data = load_data(cfg, args.data, download=args.download)
        _check_run_dir(run_dir, "--out")
        same = False
        if store_path(run_dir).exists():
            existing = RunStore(store_path(run_dir), readonly=True)
            try:
                same = RunConfig.from_stored(existing.config).to_dict() == cfg
            except ValueError:  # not a search run's config
                same = False
            finally:
                existing.close()
            if not same:
                raise ValueError(f"--out: {run_dir} already holds a run with another config; use --resume {run_dir} "
                                 "to continue it, or another directory")
        # the same run (its stored config may predate keys that now take their old values): open it as it is
        store = RunStore(store_path(run_dir)) if same else RunStore(store_path(run_dir), create=True, config=cfg)
    return run_dir, cfg, store, data


def _pick_table(top: list[dict], verified: bool) -> str:
    """The bootstrap's top-k as a table: rank, edges, concatenations, predicted (and verified) score."""
    from .runs import format_table

    cols = [("rank", "rank", "d"), ("edges", "edges", "d"), ("concat", "concat", "d"), ("predicted", "predicted", ".4f"),
            ("measured", "measured", ".4f"), ("how", "", "s")]
    return format_table([{"rank": i + 1, "edges": e["cell"].num_edges, "concat": e["cell"].num_concat,
                          "predicted": None if e.get("measured") is not None and e.get("verified") is None
                          else e["predicted"], "measured": e.get("measured"),
                          "how": "verified" if e.get("verified") is not None
                          else ("evaluated in the search" if e.get("measured") is not None else "predicted only")}
                         for i, e in enumerate(top)], cols)


def _cmd_search(args: argparse.Namespace) -> int:
    from .store import RunLock

    run_dir, cfg, store, data = _open_search(args)
    iterations = int(args.iterations if (args.resume and args.iterations) else cfg["iterations"])
    with RunLock(run_dir), store:
        store.set_meta("status", "running")
        try:
            _search(args, run_dir, cfg, store, data, iterations)
        except KeyboardInterrupt:
            _mark(store, "interrupted")
            raise
        except BaseException:
            _mark(store, "failed")
            raise
    from .runs import predictor_cv

    cv = predictor_cv(run_dir)
    if cv is not None and cv["spearman"] is not None:
        print(f"predictor check: Spearman {cv['spearman']:.3f} between measured scores and out-of-fold predictions "
              f"({cv['folds']}-fold cross-validation over {cv['n']} evaluated candidates)")
    return 0


def _search(args: argparse.Namespace, run_dir: Path, cfg: dict, store, data, iterations: int) -> None:
    import time

    from .runs import format_table, make_predictor, make_space, make_trainer, prepare_encoder, sampler_args
    from .search import NASGEM

    t0 = time.perf_counter()
    done = len(store)
    print(f"run {run_dir}: preset {cfg['preset']}, {cfg['nodes']}-node cells, {iterations} iterations"
          + (f" ({done} already done, resuming)" if done else ""))
    encoder = prepare_encoder(run_dir, cfg, store, device=args.device, progress=not args.quiet,
                              reembed=args.reembed)
    fid = store.get_meta("encoder_fidelity")
    if fid:
        print(f"encoder fidelity (held-out pairs): Pearson {fid['pearson']:.3f}, RMSE {fid['rmse']:.3f}")
    executor = "local"
    if args.executor == "ray":
        from .search import RayExecutor

        executor = RayExecutor(address=args.ray_address, log_to_driver=args.ray_log_to_driver)
    b = cfg["bootstrap"]
    sampler, sampler_opts = sampler_args(cfg)
    search = NASGEM(make_space(cfg), encoder, make_predictor(cfg),
                    make_trainer(cfg, device=args.device, data_root=args.data, data=data, download=args.download),
                    store,
                    seed=cfg["seed"], num_samples=b["num_samples"], top_k=b["top_k"], verify_top=b["verify_top"],
                    sampler=sampler, sampler_options=sampler_opts, executor=executor, progress=not args.quiet)
    print(f"sampler: {search.sampler!r}")
    try:
        res = search.run(iterations)
    finally:
        if executor != "local":
            executor.close()
    secs = time.perf_counter() - t0
    store.set_meta("status", "finished")
    store.set_meta("search_seconds", (store.get_meta("search_seconds") or 0.0) + secs)
    rows = sorted([r for r in store.candidates(status="ok")], key=lambda r: -r["score"])[:5]
    print(f"\nevaluated {res.iterations_done} candidates ({res.n_failed} failed) in {secs:.1f} s")
    print("best evaluated candidates:")
    print(format_table([{**r, "edges": r["cell"].num_edges, "mmacs": r["macs"] / 1e6} for r in rows],
                       [("id", "id", "d"), ("iteration", "iter", "d"), ("edges", "edges", "d"),
                        ("accuracy", "acc", ".3f"), ("mmacs", "MMACs", ".1f"), ("score", "score", ".4f"),
                        ("seconds", "train s", ".1f")]))
    print(f"bootstrap pick over {res.bootstrap.num_evaluated} sampled cells:")
    print(_pick_table(res.top, verified=True))
    print(f"saved in {run_dir} (gemgraph report {run_dir}; gemgraph train {run_dir} --epochs E)")


def _load_run(run_dir: str, reembed: bool = False):
    """(store, config, encoder, fitted predictor, space) of a run, for the commands that use
    its predictor. With ``reembed`` the encoder is accepted as ``encoder.pt`` now is and the
    predictor is refitted on the re-embedded candidates (the stored checkpoint belongs to the
    previous encoder)."""
    from .predictor import EfficiencyPredictor
    from .runs import make_predictor, make_space, prepare_encoder, store_path
    from .store import RunStore

    if not store_path(run_dir).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(run_dir)}")
    _check_writable_run(Path(run_dir), "RUN")
    store = RunStore(store_path(run_dir))
    try:
        from .config import RunConfig

        cfg = RunConfig.from_stored(store.config).to_dict()  # keys a run stored before they existed: their old values
        encoder = prepare_encoder(run_dir, cfg, store, progress=False, reembed=reembed)
        if reembed:
            import numpy as np

            rows = sorted((r for r in store.candidates(status="ok") if r["score"] is not None),
                          key=lambda r: r["iteration"])
            if len(rows) < 2:
                raise ValueError(f"RUN: {run_dir} has fewer than 2 successful candidates to refit the predictor on")
            predictor = make_predictor(cfg).fit(encoder.embed([r["cell"] for r in rows]),
                                                np.array([r["score"] for r in rows], dtype=np.float64))
        else:
            ck = store.latest_predictor()
            if ck is None:
                raise ValueError(f"RUN: {run_dir} has no predictor checkpoint yet (fewer than 2 successful candidates)")
            predictor = EfficiencyPredictor.from_state_dict(ck[1])
    except BaseException:
        store.close()
        raise
    return store, cfg, encoder, predictor, make_space(cfg)


def _cmd_report(args: argparse.Namespace) -> int:
    from .runs import dumps, format_table, pick_rows, report, store_path

    if args.top < 0:
        raise ValueError(f"--top: expected an int >= 0, got {args.top}")
    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    if args.cv_folds == 1 or args.cv_folds < 0:
        raise ValueError(f"--cv-folds: expected 0 (off) or an int >= 2, got {args.cv_folds}")
    rep = report(args.run, cv_folds=args.cv_folds)
    if args.json:
        print(dumps(rep))
        return 0
    cfg = rep["config"]
    print(f"run {args.run}: preset {cfg['preset']}, {rep['iterations_done']}/{cfg['iterations']} iterations, "
          f"{rep['n_failed']} failed, status {rep['meta'].get('status', '?')}")
    rows = sorted([c for c in rep["candidates"] if c["score"] is not None], key=lambda c: -c["score"])
    print(format_table([{**c, "mmacs": (c["macs"] or 0) / 1e6} for c in rows[: args.top]],
                       [("id", "id", "d"), ("iteration", "iter", "d"), ("num_edges", "edges", "d"),
                        ("accuracy", "acc", ".3f"), ("mmacs", "MMACs", ".1f"), ("score", "score", ".4f")]))
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
                            ("mmacs", "MMACs", ".1f"), ("predicted", "predicted", ".4f"),
                            ("measured", "measured", ".4f"), ("how", "", "s"), ("accuracy", "acc", ".3f")]))
        if rows:
            print(f"evaluated candidates' scores: {rows[-1]['score']:.4f} .. {rows[0]['score']:.4f}")
    if args.history:
        print("pick history (oldest first):")
        print(_history_table(rep["picks"]))
    cv = rep.get("predictor_cv")
    if cv is not None:
        rho = "undefined (constant predictions)" if cv["spearman"] is None else f"{cv['spearman']:.3f}"
        print(f"predictor check: Spearman {rho} between measured scores and out-of-fold predictions "
              f"({cv['folds']}-fold cross-validation over {cv['n']} evaluated candidates)")
    reg = rep.get("regime")
    if reg and "pick_macs" in reg:
        lo, hi = reg["macs"] if reg["macs"] else (0, None)
        net = reg["network"]
        print(f"regime: {lo / 1e6:g}M-{'inf' if hi is None else f'{hi / 1e6:g}M'} MACs on {net['network']} "
              f"{net['input_size'][0]}x{net['input_size'][1]}, >= {reg['min_ops'] or 1} op nodes; the pick: "
              f"{reg['pick_macs'] / 1e6:.1f}M MACs, {reg['pick_op_nodes']} op nodes, "
              f"{'inside' if reg['pick_inside'] else 'OUTSIDE'}")
    return 0


def _history_table(picks: list[dict]) -> str:
    """The pick history as a table: id, time, settings, best predicted / verified score."""
    from .runs import format_table

    rows = []
    for h in picks:
        st, top = h["settings"], (h["payload"].get("top") or [{}])
        best = top[0] if isinstance(top, list) and top and isinstance(top[0], dict) else {}
        rows.append({"id": h["id"], "created_at": h["created_at"][:19].replace("T", " "),
                     "num_samples": st.get("num_samples"), "seed": st.get("seed"), "top_k": st.get("top_k"),
                     "verified": st.get("verified"), "predicted": best.get("predicted"),
                     "best_verified": best.get("verified")})
    return format_table(rows, [("id", "pick", "d"), ("created_at", "created (UTC)", "s"),
                               ("num_samples", "samples", "d"), ("seed", "seed", "d"), ("top_k", "top-k", "d"),
                               ("verified", "verified", "d"), ("predicted", "predicted", ".4f"),
                               ("best_verified", "best verified", ".4f")])


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
        raise ValueError(f"--num-samples: expected at most ~{most:,} cells of {num_nodes} nodes for this machine's "
                         f"{avail / 2**30:.1f} GiB of free memory (the sampled cells alone need "
                         f"{need / 2**30:.1f} GiB), got {num_samples:,}")


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    import time

    from .search import NASGEM
    from .store import RunLock

    for flag, value in (("--num-samples", args.num_samples), ("--top-k", args.top_k)):
        if value is not None and value < 1:
            raise ValueError(f"{flag}: expected an int >= 1, got {value}")
    from .runs import store_path

    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    _check_writable_run(Path(args.run), "RUN")
    with RunLock(args.run):
        store, cfg, encoder, predictor, space = _load_run(args.run, reembed=args.reembed)
        with store:
            b = cfg["bootstrap"]
            num_samples = b["num_samples"] if args.num_samples is None else args.num_samples
            _check_bootstrap_size(num_samples, space.num_nodes)
            previous = store.pick()
            search = NASGEM(space, encoder, predictor, _NoTrainer(), store,
                            seed=cfg["seed"] if args.seed is None else args.seed, num_samples=num_samples,
                            top_k=b["top_k"] if args.top_k is None else args.top_k, progress=not args.quiet)
            if not args.quiet:
                print(f"bootstrap: embedding and ranking {num_samples:,} sampled cells ...", file=sys.stderr,
                      flush=True)
            t0 = time.perf_counter()
            res = search.bootstrap()
            print(f"bootstrap over {res.bootstrap.num_evaluated} cells in {time.perf_counter() - t0:.1f} s")
            print(_pick_table(res.top, verified=False))
            kept = [e for e in (previous or {}).get("top", []) if e.get("verified") is not None]
            if kept:
                print(f"note: the previous pick (verified score {kept[0]['verified']:.4f}) is kept in the pick "
                      f"history: gemgraph report {args.run} --history")
    return 0


class _NoTrainer:
    def evaluate(self, cell):  # pragma: no cover - never called (verify_top=0)
        raise RuntimeError("no trainer")


def _cmd_train(args: argparse.Namespace) -> int:
    from .cost import count
    from .evaluate import ProxyTrainer
    from .nn import MobileNet
    from .runs import dumps, store_path
    from .store import RunStore, cell_from_json

    if args.dataset != "cifar10":
        raise ValueError(f"--dataset: only 'cifar10' is supported, got {args.dataset!r}")
    with RunStore(store_path(args.run)) as store:
        pick = store.pick()
        if pick is None:
            raise ValueError(f"RUN: {args.run} has no pick yet; run `gemgraph search` (or `gemgraph bootstrap`) first")
        cell = cell_from_json(pick["best"])
        trainer = ProxyTrainer(epochs=args.epochs, width=args.width, cells_per_stage=args.cells_per_stage,
                               batch_size=args.batch_size, lr=args.lr, max_train_images=None, split=args.split,
                               root=args.data, device=args.device, seed=store.config["seed"], progress=not args.quiet,
                               download=args.download)
        res, model = trainer.fit(cell)
        macs224, params224 = count(MobileNet(cell, num_classes=1000), (3, 224, 224))
        out = {"cell": pick["best"], "epochs": args.epochs, "width": args.width, "cells_per_stage": args.cells_per_stage,
               "split": args.split, **res.to_dict(), "imagenet_mobilenet_macs": macs224, "imagenet_mobilenet_params": params224}
        if model is not None:
            from pathlib import Path

            from .export import GEMNET_FILE, save_gemnet

            out["saved"] = str(save_gemnet(Path(args.run) / GEMNET_FILE, model, cell, meta=out))
        store.set_meta("gemnet", out)
    if args.json:
        print(dumps(out))
    else:
        print(f"GEMNet (CifarNet width {args.width}, {args.cells_per_stage} cell(s)/stage) trained {args.epochs} epochs: "
              f"status {res.status}{'' if res.ok else ' (' + str(res.error) + ')'}")
        print(f"  {args.split} accuracy {res.accuracy:.4f}   MACs {res.macs / 1e6:.1f} M   params {res.params / 1e6:.3f} M"
              f"   score {res.score:.4f}   train {res.train_seconds:.1f} s")
        print(f"  as a 224x224 ImageNet MobileNet (GEMNet setting): {macs224 / 1e6:.0f} M MACs, {params224 / 1e6:.2f} M params")
        if "saved" in out:
            print(f"  saved to {out['saved']} (gemgraph.load_gemnet; `gemgraph export` for json / pt / onnx)")
    return 0 if res.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_run
    from .runs import dumps
    from .store import StoreError

    try:
        rep = export_run(args.run, args.format, args.out, data=args.data, num_images=args.num_images, atol=args.atol,
                         seed=args.seed)
    except RuntimeError as exc:  # the exporter failed on this network: a failed job, not bad input
        if isinstance(exc, StoreError):
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
                checks.append(f"max |diff| vs torch {rep['max_abs_diff']:.2e} on {rep['images']} (atol {rep['atol']:g})")
            elif rep["format"] == "onnx":
                checks.append("onnxruntime not installed: not run")
            line += ": " + ", ".join(checks)
        print(line)
    return 0 if rep["ok"] else 1


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .plots import score_surface

    if args.out:
        _check_out_file(args.out)
    store, cfg, encoder, predictor, space = _load_run(args.run, reembed=args.reembed)
    with store:
        out = Path(args.out) if args.out else Path(args.run) / "surface.png"
        info = score_surface(store, encoder, predictor, space, out, num_samples=args.num_samples,
                             seed=cfg["seed"] if args.seed is None else args.seed)
    print(f"score surface of {info['num_samples']} cells written to {out} "
          f"(explained variance: embedding {info['evr_embedding']:.2f}, raw {info['evr_raw']:.2f})")
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
    if args.data is not None and not Path(args.data).is_file():
        raise FileNotFoundError(f"--data: no such NAS-Bench-101 file {args.data!r}")
    from nasbench import NASBenchFormatError

    with warnings.catch_warnings(record=True) as caught, _naming("--data", NASBenchFormatError, args.data):
        warnings.simplefilter("always", UserWarning)
        res = nb101_ablation(
            args.data, args.out, budgets=ints(args.budgets, "--budgets"), seeds=args.seeds, metric=args.metric,
            epochs=args.epochs, num_samples=args.num_samples, top_k=args.top_k, encoder=args.encoder,
            encoder_options=enc_opts, predictor=_predictor_options(args), kappa=args.kappa, seed=args.seed,
            device=args.device,
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
    from .predictor import PAPER_PREDICTOR

    if getattr(args, "paper_predictor", False):
        return dict(PAPER_PREDICTOR)
    return {"n_members": args.ensemble}


def _cmd_benchmark(args: argparse.Namespace) -> int:
    import time

    from .benchmark import nb101_benchmark, parse_methods

    t0 = time.perf_counter()
    methods = parse_methods(args.methods)  # fail on a bad name before any work
    checks = [(c, int(x)) for c, x in (("--trials", args.trials), ("--queries", args.queries))]
    for name, v in checks:
        if v < 1:
            raise ValueError(f"{name}: expected an int >= 1, got {v}")
    res = nb101_benchmark(args.data, args.out, methods=[m if f is None else f"{m}:{f}" for m, f in methods],
                          trials=args.trials, queries=args.queries, seed=args.seed, n_init=args.n_init,
                          batch_size=args.batch_size, top_k=args.top_k, metric=args.metric,
                          predictor=_predictor_options(args), device=args.device, plot=not args.no_plot,
                          progress=not args.quiet)
    if args.json:
        print(json.dumps({"info": res.info, "summary": res.summary, "failures": res.failures}, indent=2, default=str))
        return 0 if not res.failures else 1
    info = res.info
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
        print(f"warning: {len(res.failures)} trial(s) failed (see {args.out}/failures.csv); first: "
              f"{res.failures[0]['method']} trial {res.failures[0]['trial']}: {res.failures[0]['error']}")
    print(f"total {time.perf_counter() - t0:.1f} s; outputs in {args.out}")
    return 0 if not res.failures else 1


def _cmd_config(args: argparse.Namespace) -> int:
    from .config import RunConfig, resolve_config

    if args.run is not None:
        if args.preset or args.config or args.set:
            raise ValueError("--run: shows the run's stored config; drop --preset / --config / --set")
        from .runs import store_path
        from .store import RunStore

        if not store_path(args.run).exists():
            raise FileNotFoundError(f"--run: no run store at {store_path(args.run)}")
        with RunStore(store_path(args.run), readonly=True) as st:
            cfg = RunConfig.from_stored(st.config)
    else:
        cfg = resolve_config(args.preset, file=args.config, sets=args.set)
    print(json.dumps(cfg.to_dict(), indent=2) if args.json else cfg.to_lines())
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
    e.add_argument("--labels", default="degree,op",
                   help="WL node labels: degree,op (default: ops-aware, the encoder also gets the one-hot ops) "
                        "or degree (the paper's: degree labels, adjacency only; also 'paper')")
    e.add_argument("--train-graphs", type=int, default=160_000, help="distinct training graphs (default 160000)")
    e.add_argument("--epochs", type=int, default=16, help="epochs of the one-cycle schedule (default 16)")
    e.add_argument("--time-limit", type=float, default=0,
                   help="time budget in seconds; the schedule is shortened to fit it (default 0: none)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    e.add_argument("--out", default=None, help="where to save the encoder (.pt)")
    e.add_argument("--json", action="store_true", help="print the summary as JSON")
    e.add_argument("--quiet", action="store_true", help="no progress bar")
    e.set_defaults(func=_cmd_embed)

    s = sub.add_parser("search", help="run (or resume) the NASGEM search and bootstrap a GEMNet cell")
    s.add_argument("--preset", default=None, choices=["quick", "default", "paper", "imagenet-a", "imagenet-b"],
                   help="settings bundle (default: default; see gemgraph.runs.PRESETS); flags below override it")
    # typed config (gemgraph.config): precedence preset < --config < --set < the flags below
    s.add_argument("--config", default=None, metavar="FILE",
                   help="settings file, JSON or TOML, in the run config's dict form (partial: keys left out keep the "
                        "preset's; `gemgraph config show --json` writes a full one); overrides the preset")
    s.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE",
                   help="set one config key, repeatable (e.g. --set trainer.lr=0.05 --set macs=[0,null]); VALUE is JSON "
                        "when it parses, else a string; overrides --config; the flags below override it")
    s.add_argument("--nodes", type=int, default=None, help="cell size N (preset: 30)")
    s.add_argument("--iterations", type=int, default=None, help="T, candidates to train (with --resume: extend to T)")
    s.add_argument("--out", default=None, help="run directory to create")
    s.add_argument("--resume", default=None, metavar="RUN", help="continue the run in RUN")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--max-concat", type=int, default=None, help="cap on concatenations per cell")
    s.add_argument("--macs", default=None, metavar="LOW:HIGH",
                   help="computation regime: MACs per image, K/M/G suffixes, HIGH may be empty (e.g. 25M:100M; "
                        "0: lifts the window), measured in closed form on the preset's macs_network (CIFAR "
                        "presets: CifarNet width 16 at 32x32; imagenet-*: MobileNet width 0.5 at 224x224)")
    s.add_argument("--min-ops", type=int, default=None, help="minimum operation nodes per cell (presets: 5)")
    s.add_argument("--epochs", type=int, default=None, help="proxy training epochs per candidate")
    s.add_argument("--width", type=int, default=None, help="proxy network width")
    s.add_argument("--train-images", type=int, default=None,
                   help="proxy training images per candidate, a class-balanced subset (preset: all 5,000)")
    s.add_argument("--num-samples", type=int, default=None, help="bootstrap samples (paper: 50,000)")
    s.add_argument("--top-k", type=int, default=None, help="bootstrap candidates kept")
    s.add_argument("--verify-top", type=int, default=None, help="train this many of the top-k and re-rank")
    from .samplers import available as _samplers

    s.add_argument("--sampler", default=None, choices=_samplers(),
                   help="how candidates are proposed: random (the paper) or predictor-guided batches "
                        "(acquisition/mean, ucb, thompson) (preset: random)")
    s.add_argument("--sampler-batch", type=int, default=None,
                   help="candidates per predictor-guided batch (preset: 10; Ray trains a batch in parallel)")
    s.add_argument("--executor", default="local", choices=["local", "ray"], help="where candidates are trained")
    s.add_argument("--ray-address", default=None, help="existing Ray cluster (default: start a local one)")
    s.add_argument("--ray-log-to-driver", action="store_true",
                   help="show the Ray workers' output (and tracebacks) here (default: in Ray's log folder)")
    s.add_argument("--reembed", action="store_true",
                   help="with --resume: accept RUN/encoder.pt as it now is (or retrain it) and re-embed")
    s.add_argument("--data", default=None,
                   help="data root (default $GEMGRAPH_DATA; with neither, the 16x16 CIFAR-10 subset embedded in the "
                        "package, which serves the quick preset)")
    s.add_argument("--download", action="store_true",
                   help="fetch full CIFAR-10 through torchvision into --data (or $GEMGRAPH_DATA) when absent")
    s.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=_cmd_search)

    cf = sub.add_parser("config", help="print a resolved run config (preset < --config < --set), or a run's")
    cf.add_argument("action", choices=["show"])
    cf.add_argument("--preset", default=None, choices=["quick", "default", "paper", "imagenet-a", "imagenet-b"])
    cf.add_argument("--config", default=None, metavar="FILE", help="settings file, JSON or TOML")
    cf.add_argument("--set", action="append", default=None, metavar="SECTION.KEY=VALUE", help="repeatable")
    cf.add_argument("--run", default=None, metavar="RUN", help="the stored config of the run in RUN")
    cf.add_argument("--json", action="store_true", help="JSON (a file --config reads) instead of key = value lines")
    cf.set_defaults(func=_cmd_config)

    r = sub.add_parser("report", help="summarise a run (table, or JSON with --json)")
    r.add_argument("run", metavar="RUN")
    r.add_argument("--json", action="store_true")
    r.add_argument("--top", type=int, default=10, help="candidates shown in the table")
    r.add_argument("--history", action="store_true", help="also list every pick (oldest first)")
    r.add_argument("--cv-folds", type=int, default=5,
                   help="folds of the predictor's cross-validated rank check (default 5; 0: skip it)")
    r.set_defaults(func=_cmd_report)

    b = sub.add_parser("bootstrap", help="re-run the bootstrap optimisation of a run")
    b.add_argument("run", metavar="RUN")
    b.add_argument("--num-samples", type=int, default=None)
    b.add_argument("--top-k", type=int, default=None)
    b.add_argument("--seed", type=int, default=None)
    b.add_argument("--reembed", action="store_true",
                   help="accept RUN/encoder.pt as it now is and refit the predictor on re-embedded candidates")
    b.add_argument("--quiet", action="store_true", help="no progress line or bar")
    b.set_defaults(func=_cmd_bootstrap)

    t = sub.add_parser("train", help="train the picked GEMNet longer and report accuracy, MACs, params")
    t.add_argument("run", metavar="RUN")
    t.add_argument("--dataset", default="cifar10")
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--width", type=int, default=32)
    t.add_argument("--cells-per-stage", type=int, default=2)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--split", default="test", choices=["val", "test"])
    t.add_argument("--data", default=None, help="data root (default $GEMGRAPH_DATA)")
    t.add_argument("--download", action="store_true",
                   help="fetch full CIFAR-10 through torchvision into --data (or $GEMGRAPH_DATA) when absent")
    t.add_argument("--device", default="auto")
    t.add_argument("--json", action="store_true")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_cmd_train)

    ex = sub.add_parser("export", help="export the trained GEMNet of a run: cell spec, torch.export program or ONNX",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                        epilog="examples: gemgraph export runs/quick --format onnx; "
                               "gemgraph export runs/quick --format json --out cell.json. "
                               "Exit status: 0 ok, 1 the export failed or differs from torch by more than --atol, 2 bad input.")
    ex.add_argument("run", metavar="RUN", help="run folder (pt / onnx need RUN/gemnet.pt from `gemgraph train`)")
    ex.add_argument("--format", default="onnx", choices=["json", "pt", "onnx"],
                    help="json: cell spec; pt: torch.export program (.pt2); onnx: ONNX graph")
    ex.add_argument("--out", default=None, help="output file (None: RUN/gemnet.json, .pt2 or .onnx)")
    ex.add_argument("--data", default=None, help="data root of the check images (None: $GEMGRAPH_DATA)")
    ex.add_argument("--num-images", type=int, default=16, help="check batch: CIFAR-10 proxy test images")
    ex.add_argument("--atol", type=float, default=1e-4, help="largest accepted |export - torch| on the check batch")
    ex.add_argument("--seed", type=int, default=0, help="seed of the check-image draw")
    ex.add_argument("--json", action="store_true", help="print the export report as JSON")
    ex.set_defaults(func=_cmd_export)

    pl = sub.add_parser("plot", help="plots of a run")
    pl.add_argument("what", choices=["surface"], help="surface: PCA score surface (paper Fig. 3)")
    pl.add_argument("run", metavar="RUN")
    pl.add_argument("--out", default=None, help="PNG path (default RUN/surface.png)")
    pl.add_argument("--num-samples", type=int, default=50_000)
    pl.add_argument("--seed", type=int, default=None)
    pl.add_argument("--reembed", action="store_true",
                    help="accept RUN/encoder.pt as it now is and refit the predictor on re-embedded candidates")
    pl.set_defaults(func=_cmd_plot)
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
    ab.add_argument("--encoder-train-graphs", type=int, default=40_000, help="encoder training cells (default 40000)")
    ab.add_argument("--encoder-epochs", type=int, default=25,
                    help="encoder epochs of the one-cycle schedule (default 25; early stopping applies)")
    ab.add_argument("--encoder-time-limit", type=float, default=600.0,
                    help="budget on encoder training seconds; the schedule is shortened to fit (default 600; 0: none)")
    ab.add_argument("--wl-iter", type=int, default=1, help="WL iterations h on op labels (default 1)")
    ab.add_argument("--ensemble", type=int, default=5, help="predictor ensemble members (default 5)")
    ab.add_argument("--paper-predictor", action="store_true",
                    help="the paper's predictor: one MLP regressing the standardised accuracy (gemgraph 0.1's default)")
    ab.add_argument("--kappa", type=float, default=0.0,
                    help="incumbent-aware pick by mean + kappa * std (default 0; < 0 pessimistic)")
    ab.add_argument("--seed", type=int, default=0)
    ab.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda (encoder)")
    ab.add_argument("--no-plot", action="store_true", help="do not write bias.png")
    ab.add_argument("--json", action="store_true", help="print info, summary and paired differences as JSON")
    ab.add_argument("--quiet", action="store_true", help="no progress bars")
    ab.set_defaults(func=_cmd_ablation)
    from .benchmark import DEFAULT_METHODS, FEATURES, METHODS

    bm = sub.add_parser("benchmark", help="search methods against random search on NAS-Bench-101 (regret curves)",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                        epilog="example: gemgraph benchmark nb101 --queries 150 --trials 100 "
                               "--methods random,nasgem:both,nasgem-seq:embedding --out nb101-bench")
    bm.add_argument("benchmark", choices=["nb101"], help="benchmark (nb101: NAS-Bench-101)")
    bm.add_argument("--data", default=None, help="official-layout .tfrecord (default: the bundled 20k sample)")
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
    bm.add_argument("--seed", type=int, default=0, help="base seed (trial i depends on (seed, i) only)")
    bm.add_argument("--out", default="nb101-benchmark", help="output folder (regret.csv, summary.csv, regret.png)")
    bm.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda (encoder training)")
    bm.add_argument("--no-plot", action="store_true", help="do not write regret.png")
    bm.add_argument("--json", action="store_true", help="print info, summary and failures as JSON")
    bm.add_argument("--quiet", action="store_true", help="no progress bars")
    bm.set_defaults(func=_cmd_benchmark)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gemgraph`` console script."""
    import warnings

    # torch_geometric imports torch.jit.script, deprecated in recent torch: not our users' concern
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.*deprecated", category=FutureWarning)
    parser = build_parser()
    args = parser.parse_args(argv)
    import zipfile

    from .store import StoreError

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
    except (ValueError, FileNotFoundError, ImportError, StoreError) as exc:
        print(f"gemgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (zipfile.BadZipFile, EOFError) as exc:  # a damaged data file read past the checks
        print(f"gemgraph {args.command}: error: --data: a data file is corrupt or truncated "
              f"({type(exc).__name__}: {exc})", file=sys.stderr)
        return 2
    except OSError as exc:  # a path that cannot be read or written, named by the OS message
        print(f"gemgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gemgraph {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
