r"""Run directories: presets, creating / resuming a search, reports, GEMNet training.

A run directory ``RUN`` holds:

* ``run.sqlite``: the :class:`~gemgraph.store.RunStore` (config, every candidate, predictor
  checkpoints, the pick);
* ``encoder.pt``: the trained graph encoder (reused on resume);
* ``.lock``: held while a search writes the run;
* plots written by ``gemgraph plot``.

Presets (``config["preset"]``):

=========  =====  ==========  =====================================  ==========================
preset     nodes  iterations  proxy training                         encoder training
=========  =====  ==========  =====================================  ==========================
quick      30     8           width 8, 1 epoch, 500 images, 1 cell   20,000 graphs x 16 epochs
default    30     50          width 16, 5 epochs, 5,000 images       160,000 graphs x 16 epochs
paper      30     200         width 16, 10 epochs, 5,000 images      160,000 graphs x 16 epochs
=========  =====  ==========  =====================================  ==========================

Computation regimes (``macs``, ``min_ops``, ``macs_network``; see :data:`CIFAR_MACS_NETWORK`):
quick and default keep cells with >= 5 op nodes whose CifarNet (width 16, 32x32) has 25M-100M
MACs; ``imagenet-a`` / ``imagenet-b`` are the default preset with cells whose MobileNet
(width 0.5, 224x224) lands at 440M-486M / 535M-591M MACs (GEMNet-A / B: 463M / 563M in the
paper's Table 1); ``paper`` has no window. The search's candidates and the bootstrap's pool are
all sampled inside the window.

The quick preset trains candidates on one CPU thread: on a busy 2-core machine two contended
threads were measured 10-20x slower than one. All presets use the paper's 30-node supernet with ops {conv1x1, sepconv3x3}, a cap of 8
concatenations, WL h = 3, S = ACC - 0.1 ln(MMACs), and a bootstrap over 50,000 cells (quick:
5,000). The embedding is ops-aware (WL on (degree, op) labels, the encoder fed the one-hot ops)
except in ``paper``, which keeps the paper's degree labels on the adjacency alone.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any


def _apply(cfg: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` with top-level or ``"section.key"`` overrides set in place (None = keep); returns it."""
    for key, value in overrides.items():
        if value is None:
            continue
        if "." in key:
            sec, sub = key.split(".", 1)
            if sec not in cfg or not isinstance(cfg[sec], dict):
                raise ValueError(f"{key}: unknown config section {sec!r}")
            cfg[sec][sub] = value
        else:
            cfg[key] = value
    return cfg


_DEFAULT: dict[str, Any] = {
    "nodes": 30, "iterations": 50, "max_concat": 8, "ops": ["conv1x1", "sepconv3x3"], "edge_prob": [0.1, 0.5],
    "encoder": {"name": "mlp", "dim": 128, "wl_iter": 3, "n_train": 160000, "time_limit": None, "max_epochs": 16},
    "trainer": {"epochs": 5, "width": 16, "cells_per_stage": 1, "max_train_images": None, "batch_size": 128,
                "lr": 0.1, "split": "val"},
    "predictor": {"hidden": 128, "n_members": 1},
    "bootstrap": {"num_samples": 50000, "top_k": 5, "verify_top": 0},
    "lam": 0.1, "seed": 0,
}

#: Settings bundles: ``quick`` and ``paper`` are the ``default`` with the keys below changed.
PRESETS: dict[str, dict[str, Any]] = {
    "quick": _apply(copy.deepcopy(_DEFAULT), {
        "iterations": 8, "encoder.n_train": 20000, "trainer.epochs": 1, "trainer.width": 8,
        "trainer.max_train_images": 500, "trainer.batch_size": 64, "trainer.lr": 0.05, "trainer.num_threads": 1,
        "bootstrap.num_samples": 5000}),
    "default": _DEFAULT,
    "paper": _apply(copy.deepcopy(_DEFAULT), {"iterations": 200, "trainer.epochs": 10, "bootstrap.verify_top": 3}),
}


#: Computation regimes (issue 11): MAC window per image (``macs``, ``[low, high]``; ``high`` None =
#: no upper bound), minimum operation nodes after pruning (``min_ops``), and the network the
#: window is measured on (``macs_network``, a :class:`~gemgraph.cost.CellCost` config, counted in
#: closed form). The CIFAR presets measure on the reference proxy network, CifarNet width 16 at
#: 32x32, whatever the trainer's width; ``imagenet-a`` / ``imagenet-b`` on the GEMNet network,
#: MobileNet width 0.5 (expansion 1) at 224x224, at the paper's budgets +- 5% (GEMNet-A 463M,
#: GEMNet-B 563M MACs). ``paper`` has no window (the paper searches its proxy unconstrained).
CIFAR_MACS_NETWORK: dict[str, Any] = {"network": "cifarnet", "width": 16, "cells_per_stage": 1, "input_size": [32, 32]}
IMAGENET_MACS_NETWORK: dict[str, Any] = {"network": "mobilenet", "width": 0.5, "expansion": 1.0, "input_size": [224, 224]}
#: Ops-aware embedding (issue 11): WL on combined (degree, op) labels and the encoder fed the
#: one-hot ops (``encoder.labels``, ``encoder.use_ops``); ``paper`` keeps the paper's degree
#: labels on the adjacency only.
for _name, _labels, _use_ops in (("quick", ["degree", "op"], True), ("default", ["degree", "op"], True),
                                 ("paper", "degree", False)):
    PRESETS[_name]["encoder"].update(labels=_labels, use_ops=_use_ops)
for _name, _macs, _min_ops in (("quick", [25e6, 100e6], 5), ("default", [25e6, 100e6], 5), ("paper", None, None)):
    PRESETS[_name].update(macs=_macs, min_ops=_min_ops, macs_network=copy.deepcopy(CIFAR_MACS_NETWORK))
for _name, _window in (("imagenet-a", [440e6, 486e6]), ("imagenet-b", [535e6, 591e6])):
    PRESETS[_name] = {**copy.deepcopy(_DEFAULT), "macs": _window, "min_ops": 5,
                      "macs_network": copy.deepcopy(IMAGENET_MACS_NETWORK)}


def build_config(preset: str = "default", **overrides: Any) -> dict[str, Any]:
    """A run config from a preset, with top-level or ``"section.key"`` overrides (None = keep)."""
    if preset not in PRESETS:
        raise ValueError(f"preset: expected one of {sorted(PRESETS)}, got {preset!r}")
    cfg = copy.deepcopy(PRESETS[preset])
    cfg["preset"] = preset
    return _apply(cfg, overrides)


def store_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / "run.sqlite"


def make_space(cfg: dict[str, Any], regime: bool = True):
    """The run's :class:`~gemgraph.SearchSpace`; ``regime=False``: without the MAC window and
    ``min_ops`` (the encoder learns the unrestricted supernet, as in the paper)."""
    from .space import SearchSpace

    if not regime:
        cfg = {**cfg, "macs": None, "min_ops": None}
    macs = cfg.get("macs")  # .get: runs stored before computation regimes have no window
    return SearchSpace(num_nodes=cfg["nodes"], ops=tuple(cfg["ops"]), max_concat=cfg["max_concat"],
                       edge_prob=tuple(cfg["edge_prob"]), macs=None if macs is None else tuple(macs),
                       min_ops=cfg.get("min_ops"), cost=cfg.get("macs_network"))


def make_trainer(cfg: dict[str, Any], device: str = "auto", data_root: str | None = None, progress: bool = False):
    from .evaluate import ProxyTrainer

    t = cfg["trainer"]
    return ProxyTrainer(epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"], width=t["width"],
                        cells_per_stage=t["cells_per_stage"], max_train_images=t["max_train_images"],
                        split=t["split"], root=data_root, device=device, seed=cfg["seed"], lam=cfg["lam"],
                        num_threads=t.get("num_threads"), progress=progress)


def make_predictor(cfg: dict[str, Any]):
    from .predictor import EfficiencyPredictor

    p = cfg["predictor"]
    return EfficiencyPredictor(hidden=p["hidden"], n_members=p["n_members"], seed=cfg["seed"])


def prepare_encoder(run_dir: str | os.PathLike, cfg: dict[str, Any], store: Any, *, device: str = "auto",
                    progress: bool = True):
    """Load ``RUN/encoder.pt``, or train it (deterministically from the run's seed) and save it."""
    from . import encoders
    from .embedding import train_encoder
    from .wl import WLKernel

    path = Path(run_dir) / "encoder.pt"
    if path.exists():
        try:
            return encoders.load(path)
        except ValueError:
            pass  # a torn write from a killed run: retrain (deterministic) below
    e = cfg["encoder"]
    # .get: runs stored before the ops-aware embedding used degree labels, adjacency only
    labels = e.get("labels", "degree")
    enc = encoders.create(e["name"], num_nodes=cfg["nodes"], dim=e["dim"],
                          ops=("input", *cfg["ops"]) if e.get("use_ops", False) else None)
    res = train_encoder(enc, make_space(cfg, regime=False),
                        WLKernel(n_iter=e["wl_iter"], node_labels=tuple(labels) if isinstance(labels, list) else labels),
                        seed=cfg["seed"],
                        n_train=e["n_train"], max_epochs=e["max_epochs"], time_limit=e["time_limit"],
                        device=device, progress=progress)
    enc = res.encoder.cpu()
    enc.save(path)
    store.set_meta("encoder_fidelity", res.report.to_dict())
    store.set_meta("encoder_seconds", res.seconds)
    return enc


def candidate_dict(row: dict[str, Any]) -> dict[str, Any]:
    """A stored candidate as JSON-ready dict (the cell as ``{"n", "edges", "ops"}``)."""
    from .store import cell_to_json

    out = {k: v for k, v in row.items() if k != "cell"}
    out["cell"] = cell_to_json(row["cell"])
    out["num_edges"] = row["cell"].num_edges
    return out


def report(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Everything about a run as a JSON-ready dict: ``iterations_done``, ``candidates`` (each
    with its unique ``id``), ``best`` (the best evaluated candidate by score), ``pick``
    (the bootstrap's choice), ``config`` and ``meta``."""
    from .store import RunStore

    with RunStore(store_path(run_dir), readonly=True) as st:
        rows = st.candidates()
        summ = st.summary()
        best = None
        ok = [r for r in rows if r["status"] == "ok" and r["score"] is not None]
        if ok:
            best = candidate_dict(max(ok, key=lambda r: r["score"]))
        meta = {k: st.get_meta(k) for k in ("encoder_fidelity", "encoder_seconds", "status", "search_seconds",
                                             "gemnet")}
        return {
            "run": str(run_dir), "config": st.config, "iterations_done": summ["iterations_done"],
            "n_ok": summ["n_ok"], "n_failed": summ["n_failed"],
            "candidates": [candidate_dict(r) for r in rows], "best": best, "pick": st.pick(),
            "meta": {k: v for k, v in meta.items() if v is not None},
            "regime": regime_report(st.config, st.pick()),
        }


def regime_report(cfg: dict[str, Any], pick: dict[str, Any] | None) -> dict[str, Any] | None:
    """The run's computation regime (window, ``min_ops``, the network it is measured on) and,
    once there is a pick, the pick's MACs on that network (closed form) and whether it lies
    inside; None for a run without a regime."""
    space = make_space(cfg)
    if not space.constrained:
        return None
    out: dict[str, Any] = {"macs": None if space.macs is None else list(space.macs), "min_ops": space.min_ops,
                           "network": space.cost.config}
    if pick:
        from .store import cell_from_json

        cell = cell_from_json(pick["best"])
        out["pick_macs"] = int(space.cost.macs([cell])[0])
        out["pick_op_nodes"] = cell.prune().num_nodes - 1
        out["pick_inside"] = space.contains(cell)
    return out


def format_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> str:
    """Plain-text table: ``columns`` = (key, header, format)."""
    head = [h for _, h, _ in columns]
    body = []
    for r in rows:
        line = []
        for key, _, fmt in columns:
            v = r.get(key)
            line.append("-" if v is None else format(v, fmt))
        body.append(line)
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    out = ["  ".join(h.rjust(w) for h, w in zip(head, widths)), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(out)


def dumps(obj: Any) -> str:
    """JSON with NaN/inf as null (numpy values as Python values)."""
    from .store import _plain

    return json.dumps(_plain(obj), indent=2)
