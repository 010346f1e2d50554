r"""Run directories: presets, creating / resuming a search, reports, GEMNet training.

A run directory ``RUN`` holds:

* ``run.sqlite``: the :class:`~gemgraph.store.RunStore` (config, every candidate, predictor
  checkpoints, the pick);
* ``encoder.pt``: the trained graph encoder (reused on resume); its identity (a content hash,
  name and config, :func:`encoder_identity`) is recorded in the store's meta ``"encoder"``, and
  a file that does not match it is refused (``--reembed`` accepts it and re-embeds);
* ``.lock``: held while a search writes the run;
* plots written by ``gemgraph plot``.

Presets (``config["preset"]``):

=========  =====  ==========  =====================================  ==========================
preset     nodes  iterations  proxy training                         encoder training
=========  =====  ==========  =====================================  ==========================
quick      30     8           16x16, width 8, 2 epochs, 5,000 images 20,000 graphs x 16 epochs
default    30     50          width 16, 5 epochs, 5,000 images       160,000 graphs x 16 epochs
paper      30     200         width 16, 10 epochs, 5,000 images      160,000 graphs x 16 epochs
=========  =====  ==========  =====================================  ==========================

Computation regimes (``macs``, ``min_ops``, ``macs_network``; see :data:`CIFAR_MACS_NETWORK`):
quick and default keep cells with >= 5 op nodes whose CifarNet (width 16, 32x32) has 25M-100M
MACs; ``imagenet-a`` / ``imagenet-b`` are the default preset with cells whose MobileNet
(width 0.5, 224x224) lands at 440M-486M / 535M-591M MACs (GEMNet-A / B: 463M / 563M in the
paper's Table 1); ``paper`` has no window. The search's candidates and the bootstrap's pool are
all sampled inside the window.

The quick preset trains candidates on one CPU thread (on a busy machine, contended threads
are much slower than one; see ``benchmarks/README.md``) on the proxy images average-pooled to 16x16
(``trainer.resolution``; with no data root, the 16x16 subset embedded in the package, so it
needs no download): all 5,000 train images, 2 epochs of batch 64 (156 SGD steps), lr 0.1,
accuracy on the 1,000 val images; it verifies (trains) the bootstrap's top 2. MACs are those
of the network at 32x32. ``benchmarks/proxy_rank.py`` measures the accuracy it reaches, the
cost, and the rank agreement with a 4x costlier proxy. All presets use the paper's 30-node
supernet with ops {conv1x1, sepconv3x3}, a cap of 8 concatenations, WL h = 3,
S = ACC - 0.1 ln(MMACs), and a bootstrap over 50,000 cells (quick: 5,000). The embedding is
ops-aware (WL on (degree, op) labels, the encoder fed the one-hot ops) except in ``paper``,
which keeps the paper's degree labels on the adjacency alone.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy import stats
from sklearn.base import clone

from ..config import changed_keys, resolve_config
from ..predictor import EfficiencyPredictor
from ..space import parse_macs_window
from ..store import RunLock, RunStore, cell_from_json, cell_to_json
from ..utils import check_int
from ..wl import WLKernel

# presets and configs live in gemgraph.config (typed, validated); re-exported where they were
from ..store import store_path  # noqa: F401  (re-export: gemgraph.runs.store_path)
from ..config import CIFAR_MACS_NETWORK, IMAGENET_MACS_NETWORK, PRESETS, RunConfig, build_config  # noqa: F401
from ..tables import format_table  # noqa: F401  (re-export: gemgraph.runs.format_table)
from .tables import dumps  # noqa: F401  (re-export: gemgraph.runs.dumps)

from ..builders import make_predictor, make_space, make_trainer, sampler_args  # noqa: F401  (moved here; re-exported)
from ..errors import InputError

log = logging.getLogger(__name__)


def load_data(cfg: dict[str, Any], data_root: str | os.PathLike | None = None, download: bool = False) -> None:
    r"""Read the run's proxy data now (train split and ``cfg["trainer"]["split"]``, at the
    trainer's resolution; the embedded subset without a data root; ``download``: fetched), so
    that a missing or damaged data file is reported before anything is trained. The data is
    read again by the trainer when it first trains (a fraction of a second).

    Raises:
        FileNotFoundError: no data under ``data_root`` / ``$GEMGRAPH_DATA``.
        ValueError: ``data``: the data file is corrupt, truncated or unreadable (named, with
            the reason).
    """
    where = os.fspath(data_root) if data_root is not None else f"$GEMGRAPH_DATA={os.environ.get('GEMGRAPH_DATA')!r}"
    try:
        make_trainer(cfg, data_root=None if data_root is None else os.fspath(data_root), device="cpu",
                     download=download).check_data()
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise InputError(f"data: the CIFAR-10 data under {where} is corrupt or unreadable "
                         f"({type(exc).__name__}: {exc})") from None


def encoder_identity(encoder: Any) -> dict[str, Any]:
    r"""What identifies a trained encoder: ``{"blake2b", "name", "config"}``, the hash over its
    name, config and every state-dict tensor (key, dtype, shape, bytes), independent of how the
    file was serialised."""
    h = hashlib.blake2b(digest_size=20)
    h.update(json.dumps({"name": encoder.name, "config": encoder.config}, sort_keys=True).encode())
    for key, t in sorted(encoder.state_dict().items()):
        t = t.detach().cpu().contiguous().reshape(-1)
        h.update(f"|{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes())
    return json.loads(json.dumps({"blake2b": h.hexdigest(), "name": encoder.name, "config": encoder.config}))


def _describe(ident: dict[str, Any]) -> str:
    return f"{ident.get('name')} {ident.get('config')} (hash {str(ident.get('blake2b'))[:12]})"


def prepare_encoder(run_dir: str | os.PathLike, cfg: dict[str, Any], store: Any, *, device: str = "auto",
                    progress: bool = True, reembed: bool = False):
    r"""The run's encoder: ``RUN/encoder.pt`` if it is the one this run was made with, else trained
    (deterministically from the run's seed) and saved.

    The encoder's identity (:func:`encoder_identity`) is recorded in the store's meta
    ``"encoder"`` when it is trained (and, for runs made before identities were recorded, when
    first loaded). A file whose identity differs from the recorded one (swapped, edited, or
    retrained to something else) or that no longer loads is refused, since the stored
    predictor and pick belong to the recorded encoder.

    Args:
        reembed: accept ``encoder.pt`` as it now is (or train one when it is missing or
            unreadable) and record it as the run's encoder: the caller must then refit the
            predictor on the re-embedded candidates (the search does at every step; the
            ``bootstrap`` / ``plot`` commands do with ``--reembed``).

    Raises:
        ValueError: ``encoder.pt`` does not match the run's recorded encoder, or cannot be
            loaded while an encoder is recorded (unless ``reembed``).
    """
    from .. import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric
    from ..embedding import train_encoder  # noqa: PLC0415 - loads gemgraph.encoders (torch_geometric)

    path = Path(run_dir) / "encoder.pt"
    recorded = store.get_meta("encoder")
    hint = "pass --reembed (reembed=True) to use it and re-embed the run's candidates, or restore the run's encoder.pt"
    if path.exists():
        try:
            enc = encoders.load(path)
        except ValueError as exc:
            if recorded is not None and not reembed:
                raise InputError(f"encoder: {path} cannot be loaded ({exc}); this run was made with the encoder "
                                 f"{_describe(recorded)}: restore its encoder.pt, or pass --reembed (reembed=True) "
                                 "to train a new one and re-embed the run's candidates") from None
            log.warning("%s cannot be loaded (%s); training the encoder again", path, exc)
            enc = None  # e.g. damaged: retrain (deterministic) below
        if enc is not None:
            ident = encoder_identity(enc)
            if recorded is None:
                log.info("%s: no encoder identity recorded (a run made before they were); recording %s",
                         run_dir, _describe(ident))
                store.set_meta("encoder", ident)
            elif ident != recorded:
                if not reembed:
                    raise InputError(f"encoder: {path} is {_describe(ident)}, not the encoder this run was made with, "
                                     f"{_describe(recorded)}; {hint}")
                log.warning("%s: re-embedding with %s (was %s)", run_dir, _describe(ident), _describe(recorded))
                store.set_meta("encoder", ident)
            return enc
    e = cfg["encoder"]
    # .get: runs stored before the ops-aware embedding used degree labels, adjacency only
    labels = e.get("labels", "degree")
    enc = encoders.create(e["name"], num_nodes=cfg["nodes"], dim=e["dim"],
                          ops=("input", *cfg["ops"]) if e.get("use_ops", False) else None)
    res = train_encoder(enc, make_space(cfg, regime=False),
                        WLKernel(n_iter=e["wl_iter"],
                                 node_labels=tuple(labels) if isinstance(labels, list) else labels),
                        seed=cfg["seed"],
                        n_train=e["n_train"], max_epochs=e["max_epochs"], time_limit=e["time_limit"],
                        device=device, progress=progress)
    enc = res.encoder.cpu()
    ident = encoder_identity(enc)
    if recorded is not None and ident != recorded and not reembed:
        raise InputError(f"encoder: {path} was missing or unreadable and training it again gave {_describe(ident)}, "
                         f"not the encoder this run was made with, {_describe(recorded)}; {hint}")
    enc.save(path)
    store.set_meta("encoder", ident)
    store.set_meta("encoder_fidelity", res.report.to_dict())
    store.set_meta("encoder_seconds", res.seconds)
    return enc


def candidate_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A stored candidate as JSON-ready dict (the cell as ``{"n", "edges", "ops"}``)."""
    out = {k: v for k, v in row.items() if k != "cell"}
    out["cell"] = cell_to_json(row["cell"])
    out["num_edges"] = row["cell"].num_edges
    return out


def predictor_cv(run_dir: str | os.PathLike, folds: int = 5, seed: int | None = None) -> dict[str, Any] | None:
    r"""How well the run's predictor ranks candidates it has not seen: k-fold cross-validation.

    The successful candidates of the run are embedded with the run's encoder
    (``RUN/encoder.pt``); an unfitted copy of the run's predictor (``sklearn.base.clone`` of
    the latest checkpoint, else of :func:`make_predictor`: same class, same settings) is fit
    on k-1 folds and predicts the held-out fold (``sklearn.model_selection.cross_val_predict``,
    shuffled :class:`~sklearn.model_selection.KFold`); the Spearman rank correlation of the
    out-of-fold predictions with the measured scores is the figure. Nothing is written.

    Args:
        run_dir: the run directory.
        folds: k (at most the number of candidates: leave-one-out then).
        seed: seed of the fold split (default: the run's seed).

    Returns:
        ``{"spearman", "pvalue", "n", "folds", "measured", "predicted"}`` (``spearman`` None
        when the out-of-fold predictions are constant), or None when the run has fewer than
        4 successful candidates or no encoder file.
    """
    from sklearn.model_selection import KFold, cross_val_predict  # noqa: PLC0415 - loads for --cv only

    from .. import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric

    folds = check_int(folds, "folds", minimum=2)
    path = Path(run_dir) / "encoder.pt"
    with RunStore(store_path(run_dir), readonly=True) as st:
        cfg = st.config
        rows = sorted((r for r in st.candidates(status="ok") if r["score"] is not None), key=lambda r: r["iteration"])
        ck = st.latest_predictor()
    if len(rows) < 4 or not path.exists():
        return None
    if ck is not None:
        template = EfficiencyPredictor.from_state_dict(ck[1])
    else:
        template = make_predictor(cfg)
    Z = encoders.load(path).embed([r["cell"] for r in rows]).numpy().astype(np.float64)
    y = np.array([r["score"] for r in rows], dtype=np.float64)
    k = min(folds, len(rows))
    cv = KFold(n_splits=k, shuffle=True, random_state=int(cfg["seed"] if seed is None else seed) % (2**32))
    pred = cross_val_predict(clone(template), Z, y, cv=cv)
    if np.ptp(pred) == 0 or np.ptp(y) == 0:
        rho, pval = None, None
    else:
        res = stats.spearmanr(y, pred)
        rho, pval = float(res.statistic), float(res.pvalue)
    return {"spearman": rho, "pvalue": pval, "n": len(rows), "folds": k,
            "measured": y.tolist(), "predicted": pred.tolist()}


def report(run_dir: str | os.PathLike, cv_folds: int = 5) -> dict[str, Any]:
    """Everything about a run as a JSON-ready dict: ``iterations_done``, ``iterations`` (the
    run's length: the config's, or what ``search --resume RUN --iterations T`` extended it to,
    kept in meta ``"iterations"``; the stored config never changes), ``candidates`` (each
    with its unique ``id``), ``best`` (the best evaluated candidate by score), ``pick``
    (the newest bootstrap choice), ``picks`` (the whole pick history, oldest first, each
    ``{"id", "created_at", "settings", "payload"}``), ``config``, ``meta`` and ``predictor_cv``
    (the predictor's cross-validated rank correlation, :func:`predictor_cv` with ``cv_folds``
    folds; None with ``cv_folds=0`` or too few candidates). A run whose status says
    ``"running"`` while no process holds its lock has ``meta["status"] = "killed"`` (its process
    died without a word, e.g. by ``SIGKILL``; ``search --resume`` continues it)."""
    cv = predictor_cv(run_dir, folds=cv_folds) if cv_folds else None
    with RunStore(store_path(run_dir), readonly=True) as st:
        rows = st.candidates()
        summ = st.summary()
        best = None
        ok = [r for r in rows if r["status"] == "ok" and r["score"] is not None]
        if ok:
            best = candidate_dict(max(ok, key=lambda r: r["score"]))
        meta = {k: st.get_meta(k) for k in ("encoder_fidelity", "encoder_seconds", "status", "search_seconds",
                                             "gemnet", "encoder", "iterations")}
        if meta["status"] == "running" and RunLock(run_dir).holder() is None:
            meta["status"] = "killed"
        picks = st.picks()
        return {
            "run": str(run_dir), "config": st.config, "iterations_done": summ["iterations_done"],
            "iterations": int(meta["iterations"] or st.config.get("iterations") or 0),
            "n_ok": summ["n_ok"], "n_failed": summ["n_failed"],
            "candidates": [candidate_dict(r) for r in rows], "best": best,
            "pick": picks[-1]["payload"] if picks else None, "picks": picks,
            "meta": {k: v for k, v in meta.items() if v is not None}, "predictor_cv": cv,
            "regime": regime_report(st.config, picks[-1]["payload"] if picks else None),
        }


def pick_rows(pick: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The stored pick's top-k as table rows: rank, op nodes and edges (after pruning), predicted
    and measured score (verified by the bootstrap, or evaluated in the search; None when only
    predicted), how it was measured, accuracy and MMACs."""
    if not pick:
        return []
    out = []
    for i, e in enumerate(pick.get("top", [])):
        cell = cell_from_json(e["cell"]).prune()
        out.append({"rank": i + 1, "op_nodes": cell.num_nodes - 1, "edges": cell.num_edges,
                    "predicted": e.get("predicted"), "verified": e.get("verified"),
                    "measured": e.get("verified") if e.get("measured") is None else e.get("measured"),
                    "how": "verified" if e.get("verified") is not None else
                    ("searched" if e.get("measured") is not None else "predicted"), "accuracy": e.get("accuracy"),
                    "mmacs": None if e.get("macs") is None else e["macs"] / 1e6})
    return out


def regime_report(cfg: dict[str, Any], pick: dict[str, Any] | None) -> dict[str, Any] | None:
    """The run's computation regime (window, ``min_ops``, the network it is measured on) and,
    once there is a pick, the pick's MACs on that network (closed form) and whether it lies
    inside; None for a run without a regime (or a store whose config is not a search run's)."""
    if not all(k in cfg for k in ("nodes", "ops", "max_concat", "edge_prob")):
        return None
    space = make_space(cfg)
    if not space.constrained:
        return None
    out: dict[str, Any] = {"macs": None if space.macs is None else list(space.macs), "min_ops": space.min_ops,
                           "network": space.cost.config}
    if pick:
        cell = cell_from_json(pick["best"])
        out["pick_macs"] = int(space.cost.macs([cell])[0])
        out["pick_op_nodes"] = cell.prune().num_nodes - 1
        out["pick_inside"] = space.contains(cell)
    return out


# ---------------------------------------------------------------------- run directories for the CLI
def probe_writable(folder: Path, arg: str) -> None:
    """ValueError naming ``arg`` unless a file can be created in ``folder`` (catches read-only
    mounts and immutable folders too, which permission bits do not show for root)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise InputError(f"{arg}: expected a writable folder, got {str(folder)!r} ({exc.strerror or exc})") from None


def check_run_dir(run_dir: Path, arg: str) -> None:
    """A run directory to write: a folder (created if missing) in which files can be created."""
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(f"{arg}: expected a run directory, got the file {str(run_dir)!r}")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{arg}: cannot create the run directory {str(run_dir)!r} ({exc.strerror or exc})") from None
    probe_writable(run_dir, arg)


def check_writable_run(run_dir: Path, arg: str) -> None:
    """An existing run that is about to be written: its folder and ``run.sqlite`` writable."""

    try:
        probe_writable(run_dir, arg)
        with open(store_path(run_dir), "r+b"):
            pass
    except (ValueError, OSError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else str(exc).split("(")[-1].rstrip(")")
        raise InputError(f"{arg}: the run {str(run_dir)!r} is read-only here ({why}); copy it to a writable place "
                         f"to continue it (gemgraph report reads it as it is)") from None


#: search flags that set the run's config: flag -> (argparse dest, config key)
_SEARCH_CONFIG_FLAGS = {
    "--preset": ("preset", "preset"), "--nodes": ("nodes", "nodes"), "--seed": ("seed", "seed"),
    "--max-concat": ("max_concat", "max_concat"), "--epochs": ("epochs", "trainer.epochs"),
    "--width": ("width", "trainer.width"), "--num-samples": ("num_samples", "bootstrap.num_samples"),
    "--top-k": ("top_k", "bootstrap.top_k"), "--verify-top": ("verify_top", "bootstrap.verify_top"),
    "--sampler": ("sampler", "sampler.name"), "--sampler-batch": ("sampler_batch", "sampler.batch_size"),
    "--train-images": ("train_images", "trainer.max_train_images"), "--objective": ("objective", "objective"),
}


def _regime_overrides(args: argparse.Namespace) -> dict:
    """``--macs LOW:HIGH`` / ``--min-ops K`` as config overrides (checked here, before any work)."""
    out: dict = {}
    if getattr(args, "macs", None) is not None:
        out["macs"] = list(parse_macs_window(args.macs, "--macs"))
    if getattr(args, "min_ops", None) is not None:
        if args.min_ops < 1:
            raise InputError(f"--min-ops: expected an int >= 1, got {args.min_ops}")
        out["min_ops"] = args.min_ops
    return out


def _flag_overrides(args: argparse.Namespace) -> dict[str, tuple[str, Any]]:
    """The config keys the given search flags set: key -> (flag, value); the regime flags parsed."""
    out = {key: (flag, getattr(args, dest)) for flag, (dest, key) in _SEARCH_CONFIG_FLAGS.items()
           if getattr(args, dest, None) is not None}
    for key, value in _regime_overrides(args).items():
        out[key] = ("--macs" if key == "macs" else "--min-ops", value)
    return out


def _probe_regime(cfg: dict) -> None:
    """Fail before any training when no cell of the run's space meets its MAC window / min_ops
    (a bounded number of draws: ``SearchSpace.max_draws``)."""
    space = make_space(cfg)
    if space.constrained:
        try:
            space.sample(1, seed=cfg["seed"])
        except ValueError as exc:
            raise InputError(f"the computation regime (--macs / --min-ops, or the preset's) cannot be met: "
                             f"{exc}") from None


#: config keys -> the search flag that sets them (for messages naming what the user typed)
_KEY_FLAGS = {key: flag for flag, (_, key) in _SEARCH_CONFIG_FLAGS.items()}
_KEY_FLAGS.update({"iterations": "--iterations", "macs": "--macs", "min_ops": "--min-ops"})


def _named_by_flag(exc: InputError, args: argparse.Namespace) -> InputError:
    """``exc`` ("nodes: expected ...") with the config key replaced by the flag that set it
    (``--nodes: expected ...``) when that flag was given; else as it is."""
    msg = str(exc)
    key = msg.split(":", 1)[0]
    flag = _KEY_FLAGS.get(key)
    given = flag is not None and (key == "iterations" and getattr(args, "iterations", None) is not None
                                  or key in _flag_overrides(args))
    return InputError(flag + msg[len(key):]) if given and flag else exc


def _free_memory() -> int | None:
    """Bytes of free physical memory (None where the OS does not say)."""
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return None


def check_search_inputs(cfg: dict, args: argparse.Namespace) -> None:
    """Every value of a search checked before any file is made or anything trained: the device,
    the parts the config builds (space, predictor, sampler, encoder name) and the memory the
    sampled cells need (the bootstrap's ``num_samples`` and the encoder's ``n_train`` cells of
    ``nodes`` x ``nodes`` bytes each). ValueError naming the flag or config key."""
    from .. import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric
    from ..samplers import SAMPLERS, make_sampler  # noqa: PLC0415
    from ..utils import resolve_device  # noqa: PLC0415

    device = getattr(args, "device", "auto")
    try:
        resolve_device(device)
        if str(device).startswith("cuda:") and int(str(device)[5:]) >= torch.cuda.device_count():
            raise InputError(f"device: {device!r} was requested but this machine has {torch.cuda.device_count()} "
                             "CUDA device(s)")
    except ValueError as exc:
        raise InputError(f"--device: {str(exc).split(': ', 1)[-1]}") from None
    if cfg["encoder"]["name"] not in encoders.available():
        raise InputError(f"encoder.name: expected one of {encoders.available()}, got {cfg['encoder']['name']!r}")
    try:
        make_space(cfg)
        make_predictor(cfg)
        name, opts = sampler_args(cfg)
        if name not in SAMPLERS:
            raise InputError(f"sampler.name: expected one of {list(SAMPLERS)}, got {name!r}")
        make_sampler(name, **opts)
    except InputError as exc:
        raise _named_by_flag(exc, args) from None
    n = int(cfg["nodes"])
    per_cell = n * n + 8 * n  # the adjacency bytes and int64 ops of one sampled cell
    avail = _free_memory()
    if avail is None:  # pragma: no cover - not POSIX
        return
    for key, count in (("bootstrap.num_samples", cfg["bootstrap"]["num_samples"]),
                       ("encoder.n_train", cfg["encoder"]["n_train"])):
        if count * per_cell > avail:
            most = max(1, avail // per_cell)
            name = _KEY_FLAGS.get(key) if key in _flag_overrides(args) else key
            raise InputError(f"{name}: expected at most ~{most:,} cells of {n} nodes for this machine's "
                             f"{avail / 2**30:.1f} GiB of free memory (they need {count * per_cell / 2**30:.1f} GiB), "
                             f"got {count:,}")


def _resume_conflicts(args: argparse.Namespace, cfg: dict) -> None:
    """A resumed run keeps its config: a flag giving another value is refused (equal ones pass)."""
    bad = []
    for key, (flag, given) in _flag_overrides(args).items():
        stored = cfg
        for part in key.split("."):
            stored = stored.get(part) if isinstance(stored, dict) else None
        if given != stored:
            bad.append(f"{flag} {given} (the run has {stored})")

    for source, key, given, stored in changed_keys(RunConfig.from_stored(cfg), file=getattr(args, "config", None),
                                                   sets=getattr(args, "set", None)):
        bad.append(f"{source} {key}={json.dumps(given)} (the run has {json.dumps(stored)})")
    if bad:
        raise InputError(f"--resume: a resumed run keeps its config, got {'; '.join(bad)}; drop the flag(s), or start "
                         "a new run with --out (only --iterations may change, to extend the run)")


def open_search(args: argparse.Namespace):
    """Create or resume a run: (run_dir, config, store, data). Every path and the proxy data are
    checked (and the data read) before the store is created and before anything is trained."""
    if args.resume:
        run_dir = Path(args.resume)
        if not store_path(run_dir).exists():
            raise FileNotFoundError(f"--resume: no run store at {store_path(run_dir)}")
        check_writable_run(run_dir, "--resume")
        with RunStore(store_path(run_dir), readonly=True) as existing:
            cfg = RunConfig.from_stored(existing.config).to_dict()  # a run stored before a key existed: its value
        _resume_conflicts(args, cfg)
        if getattr(args, "iterations", None) is not None and args.iterations < 2:
            raise InputError(f"--iterations: expected an int >= 2 (the run's length), got {args.iterations}")
        check_search_inputs(cfg, args)
        data = load_data(cfg, args.data, download=getattr(args, "download", False))
        store = RunStore(store_path(run_dir))
    else:
        if not args.out:
            raise InputError("--out: give a run directory for a new search (or --resume RUN)")
        run_dir = Path(args.out)
        if run_dir.exists() and not run_dir.is_dir():
            raise InputError(f"--out: expected a run directory, got the file {str(run_dir)!r}")
        # precedence: preset < --config < --set < the flags (gemgraph.config.resolve_config)
        flags = {key: value for key, (_, value) in _flag_overrides(args).items() if key != "preset"}
        try:
            cfg = resolve_config(args.preset, file=args.config, sets=args.set,
                                 overrides={"iterations": args.iterations, **flags}).to_dict()
        except InputError as exc:
            raise _named_by_flag(exc, args) from None
        check_search_inputs(cfg, args)
        _probe_regime(cfg)
        data = load_data(cfg, args.data, download=args.download)
        check_run_dir(run_dir, "--out")
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
                raise InputError(f"--out: {run_dir} already holds a run with another config; use --resume {run_dir} "
                                 "to continue it, or another directory")
        # the same run (its stored config may predate keys that now take their old values): open it as it is
        store = RunStore(store_path(run_dir)) if same else RunStore(store_path(run_dir), create=True, config=cfg)
    return run_dir, cfg, store, data


def load_run(run_dir: str, reembed: bool = False):
    """(store, config, encoder, fitted predictor, space) of a run, for the commands that use
    its predictor. With ``reembed`` the encoder is accepted as ``encoder.pt`` now is and the
    predictor is refitted on the re-embedded candidates (the stored checkpoint belongs to the
    previous encoder)."""
    if not store_path(run_dir).exists():
        raise FileNotFoundError(f"RUN: no run store at {store_path(run_dir)}")
    check_writable_run(Path(run_dir), "RUN")
    store = RunStore(store_path(run_dir))
    try:
        cfg = RunConfig.from_stored(store.config).to_dict()  # keys a run stored before they existed: their old values
        encoder = prepare_encoder(run_dir, cfg, store, progress=False, reembed=reembed)
        if reembed:  # the search's own refit, on the re-embedded candidates
            from ..search import NASGEM  # noqa: PLC0415 - loads PyG (and its torch.jit warning) at CLI start otherwise

            predictor = make_predictor(cfg)
            if not NASGEM(make_space(cfg), encoder, predictor, None, store, checkpoint_every=0, progress=False).refit():
                raise InputError(f"RUN: {run_dir} has fewer than 2 successful candidates to refit the predictor on")
        else:
            ck = store.latest_predictor()
            if ck is None:
                raise InputError(f"RUN: {run_dir} has no predictor checkpoint yet (fewer than 2 successful candidates)")
            predictor = EfficiencyPredictor.from_state_dict(ck[1])
    except BaseException:
        store.close()
        raise
    return store, cfg, encoder, predictor, make_space(cfg)
