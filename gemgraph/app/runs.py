r"""The command line's side of run directories: creating or resuming a search from the parsed
arguments (every value checked first, flags named in errors). A run directory's parts (its
encoder, report, predictor cross-validation) are :mod:`gemgraph.rundir`'s; the builders that
turn a config into a search are :mod:`gemgraph.builders`'; both are re-exported here.

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
import json
import logging
import os
from pathlib import Path
from typing import Any

import torch

from ..builders import as_run_config, make_predictor, make_space, make_trainer, sampler_args  # noqa: F401
from ..config import changed_keys, resolve_config
from ..errors import InputError
from ..space import parse_macs_window
from ..store import RunStore

# re-exported where they were: the configs (gemgraph.config), the builders, a run directory's
# parts (gemgraph.rundir), the tables
from ..store import store_path  # noqa: F401  (re-export: gemgraph.runs.store_path)
from ..config import CIFAR_MACS_NETWORK, IMAGENET_MACS_NETWORK, PRESETS, RunConfig, build_config  # noqa: F401
from ..tables import format_table  # noqa: F401  (re-export: gemgraph.runs.format_table)
from .tables import dumps  # noqa: F401  (re-export: gemgraph.runs.dumps)
from ..rundir import (  # noqa: F401  (re-exports: gemgraph.runs.report ...)
    candidate_dict,
    check_run_dir,
    check_writable_run,
    encoder_identity,
    load_data,
    load_run,
    pick_rows,
    predictor_cv,
    prepare_encoder,
    probe_writable,
    regime_report,
    report,
)

log = logging.getLogger(__name__)



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
            space.sample(1, seed=as_run_config(cfg).seed)
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
    c = as_run_config(cfg)
    if c.encoder.name not in encoders.available():
        raise InputError(f"encoder.name: expected one of {encoders.available()}, got {c.encoder.name!r}")
    try:
        make_space(cfg)
        make_predictor(cfg)
        name, opts = sampler_args(cfg)
        if name not in SAMPLERS:
            raise InputError(f"sampler.name: expected one of {list(SAMPLERS)}, got {name!r}")
        make_sampler(name, **opts)
    except InputError as exc:
        raise _named_by_flag(exc, args) from None
    n = int(c.space.nodes)
    per_cell = n * n + 8 * n  # the adjacency bytes and int64 ops of one sampled cell
    avail = _free_memory()
    if avail is None:  # pragma: no cover - not POSIX
        return
    for key, count in (("bootstrap.num_samples", c.bootstrap.num_samples), ("encoder.n_train", c.encoder.n_train)):
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
    """Create or resume a run: (run_dir, its :class:`~gemgraph.config.RunConfig`, store, data).
    Every path and the proxy data are checked (and the data read) before the store is created
    and before anything is trained."""
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
    return run_dir, RunConfig.from_stored(cfg), store, data


