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


def _open_search(args: argparse.Namespace):
    """Create or resume a run: (run_dir, config, store)."""
    from pathlib import Path

    from .runs import build_config, store_path
    from .store import RunStore

    if args.resume:
        run_dir = Path(args.resume)
        if not store_path(run_dir).exists():
            raise FileNotFoundError(f"--resume: no run store at {store_path(run_dir)}")
        store = RunStore(store_path(run_dir))
        cfg = store.config
    else:
        if not args.out:
            raise ValueError("--out: give a run directory for a new search (or --resume RUN)")
        run_dir = Path(args.out)
        regime = _regime_overrides(args)
        cfg = build_config(args.preset, nodes=args.nodes, iterations=args.iterations, seed=args.seed,
                           max_concat=args.max_concat, **regime, **{"bootstrap.num_samples": args.num_samples,
                                                          "bootstrap.top_k": args.top_k,
                                                          "bootstrap.verify_top": args.verify_top,
                                                          "trainer.epochs": args.epochs,
                                                          "trainer.width": args.width})
        if store_path(run_dir).exists():
            existing = RunStore(store_path(run_dir), readonly=True)
            same = existing.config == cfg
            existing.close()
            if not same:
                raise ValueError(f"--out: {run_dir} already holds a run with another config; use --resume {run_dir} "
                                 "to continue it, or another directory")
        _probe_regime(cfg)
        run_dir.mkdir(parents=True, exist_ok=True)
        store = RunStore(store_path(run_dir), create=True, config=cfg)
    return run_dir, cfg, store


def _pick_table(top: list[dict], verified: bool) -> str:
    """The bootstrap's top-k as a table: rank, edges, concatenations, predicted (and verified) score."""
    from .runs import format_table

    cols = [("rank", "rank", "d"), ("edges", "edges", "d"), ("concat", "concat", "d"), ("predicted", "predicted", ".4f")]
    if verified:
        cols.append(("verified", "verified", ".4f"))
    return format_table([{"rank": i + 1, "edges": e["cell"].num_edges, "concat": e["cell"].num_concat,
                          "predicted": e["predicted"], "verified": e.get("verified")} for i, e in enumerate(top)], cols)


def _cmd_search(args: argparse.Namespace) -> int:
    import time

    from .runs import format_table, make_predictor, make_space, make_trainer, prepare_encoder
    from .search import NASGEM
    from .store import RunLock

    run_dir, cfg, store = _open_search(args)
    iterations = int(args.iterations if (args.resume and args.iterations) else cfg["iterations"])
    with RunLock(run_dir), store:
        t0 = time.perf_counter()
        store.set_meta("status", "running")
        done = len(store)
        print(f"run {run_dir}: preset {cfg['preset']}, {cfg['nodes']}-node cells, {iterations} iterations"
              + (f" ({done} already done, resuming)" if done else ""))
        encoder = prepare_encoder(run_dir, cfg, store, device=args.device, progress=not args.quiet)
        fid = store.get_meta("encoder_fidelity")
        if fid:
            print(f"encoder fidelity (held-out pairs): Pearson {fid['pearson']:.3f}, RMSE {fid['rmse']:.3f}")
        executor = "local"
        if args.executor == "ray":
            from .search import RayExecutor

            executor = RayExecutor(address=args.ray_address)
        b = cfg["bootstrap"]
        search = NASGEM(make_space(cfg), encoder, make_predictor(cfg),
                        make_trainer(cfg, device=args.device, data_root=args.data), store,
                        seed=cfg["seed"], num_samples=b["num_samples"], top_k=b["top_k"], verify_top=b["verify_top"],
                        executor=executor, progress=not args.quiet)
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
    return 0


def _load_run(run_dir: str):
    from .predictor import EfficiencyPredictor
    from .runs import make_space, prepare_encoder, store_path
    from .store import RunStore

    store = RunStore(store_path(run_dir))
    cfg = store.config
    encoder = prepare_encoder(run_dir, cfg, store, progress=False)
    ck = store.latest_predictor()
    if ck is None:
        store.close()
        raise ValueError(f"RUN: {run_dir} has no predictor checkpoint yet (fewer than 2 successful candidates)")
    return store, cfg, encoder, EfficiencyPredictor.from_state_dict(ck[1]), make_space(cfg)


def _cmd_report(args: argparse.Namespace) -> int:
    from .runs import dumps, format_table, report, store_path

    if not store_path(args.run).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(args.run)}")
    rep = report(args.run)
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
    if rep["pick"]:
        top = rep["pick"]["top"][0]
        print(f"pick: {top['cell']['n']}-node cell with {len(top['cell']['edges'])} edges, "
              f"predicted score {top['predicted']:.4f}")
    reg = rep.get("regime")
    if reg and "pick_macs" in reg:
        lo, hi = reg["macs"] if reg["macs"] else (0, None)
        net = reg["network"]
        print(f"regime: {lo / 1e6:g}M-{'inf' if hi is None else f'{hi / 1e6:g}M'} MACs on {net['network']} "
              f"{net['input_size'][0]}x{net['input_size'][1]}, >= {reg['min_ops'] or 1} op nodes; the pick: "
              f"{reg['pick_macs'] / 1e6:.1f}M MACs, {reg['pick_op_nodes']} op nodes, "
              f"{'inside' if reg['pick_inside'] else 'OUTSIDE'}")
    return 0


def _cmd_bootstrap(args: argparse.Namespace) -> int:
    from .search import NASGEM

    store, cfg, encoder, predictor, space = _load_run(args.run)
    with store:
        b = cfg["bootstrap"]
        search = NASGEM(space, encoder, predictor, _NoTrainer(), store, seed=cfg["seed"] if args.seed is None else args.seed,
                        num_samples=args.num_samples or b["num_samples"], top_k=args.top_k or b["top_k"], progress=False)
        import time

        t0 = time.perf_counter()
        res = search.bootstrap()
        print(f"bootstrap over {res.bootstrap.num_evaluated} cells in {time.perf_counter() - t0:.1f} s")
        print(_pick_table(res.top, verified=False))
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
                               root=args.data, device=args.device, seed=store.config["seed"], progress=not args.quiet)
        res = trainer.evaluate(cell)
        macs224, params224 = count(MobileNet(cell, num_classes=1000), (3, 224, 224))
        out = {"cell": pick["best"], "epochs": args.epochs, "width": args.width, "cells_per_stage": args.cells_per_stage,
               "split": args.split, **res.to_dict(), "imagenet_mobilenet_macs": macs224, "imagenet_mobilenet_params": params224}
        store.set_meta("gemnet", out)
    if args.json:
        print(dumps(out))
    else:
        print(f"GEMNet (CifarNet width {args.width}, {args.cells_per_stage} cell(s)/stage) trained {args.epochs} epochs: "
              f"status {res.status}{'' if res.ok else ' (' + str(res.error) + ')'}")
        print(f"  {args.split} accuracy {res.accuracy:.4f}   MACs {res.macs / 1e6:.1f} M   params {res.params / 1e6:.3f} M"
              f"   score {res.score:.4f}   train {res.train_seconds:.1f} s")
        print(f"  as a 224x224 ImageNet MobileNet (GEMNet setting): {macs224 / 1e6:.0f} M MACs, {params224 / 1e6:.2f} M params")
    return 0 if res.ok else 1


def _cmd_plot(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .plots import score_surface

    store, cfg, encoder, predictor, space = _load_run(args.run)
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
    s.add_argument("--preset", default="default", choices=["quick", "default", "paper", "imagenet-a", "imagenet-b"],
                   help="settings bundle (see gemgraph.runs.PRESETS); flags below override it")
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
    s.add_argument("--num-samples", type=int, default=None, help="bootstrap samples (paper: 50,000)")
    s.add_argument("--top-k", type=int, default=None, help="bootstrap candidates kept")
    s.add_argument("--verify-top", type=int, default=None, help="train this many of the top-k and re-rank")
    s.add_argument("--executor", default="local", choices=["local", "ray"], help="where candidates are trained")
    s.add_argument("--ray-address", default=None, help="existing Ray cluster (default: start a local one)")
    s.add_argument("--data", default=None, help="data root (default $GEMGRAPH_DATA)")
    s.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=_cmd_search)

    r = sub.add_parser("report", help="summarise a run (table, or JSON with --json)")
    r.add_argument("run", metavar="RUN")
    r.add_argument("--json", action="store_true")
    r.add_argument("--top", type=int, default=10, help="candidates shown in the table")
    r.set_defaults(func=_cmd_report)

    b = sub.add_parser("bootstrap", help="re-run the bootstrap optimisation of a run")
    b.add_argument("run", metavar="RUN")
    b.add_argument("--num-samples", type=int, default=None)
    b.add_argument("--top-k", type=int, default=None)
    b.add_argument("--seed", type=int, default=None)
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
    t.add_argument("--device", default="auto")
    t.add_argument("--json", action="store_true")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_cmd_train)

    pl = sub.add_parser("plot", help="plots of a run")
    pl.add_argument("what", choices=["surface"], help="surface: PCA score surface (paper Fig. 3)")
    pl.add_argument("run", metavar="RUN")
    pl.add_argument("--out", default=None, help="PNG path (default RUN/surface.png)")
    pl.add_argument("--num-samples", type=int, default=50_000)
    pl.add_argument("--seed", type=int, default=None)
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
    ab.add_argument("--encoder-train-graphs", type=int, default=10_000, help="encoder training cells")
    ab.add_argument("--encoder-epochs", type=int, default=12, help="encoder epochs of the one-cycle schedule (default 12; early stopping applies)")
    ab.add_argument("--encoder-time-limit", type=float, default=300.0,
                    help="budget on encoder training seconds; the schedule is shortened to fit (default 300; 0: none)")
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
    from .store import StoreError

    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, ImportError, StoreError) as exc:
        print(f"gemgraph {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gemgraph {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
