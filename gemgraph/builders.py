r"""Library-level builders: a run config (the dict form of :class:`~gemgraph.config.RunConfig`)
-> the parts of a search: its space, proxy trainer, predictor and sampler arguments.

The command line (:mod:`gemgraph.app.runs`) and library code (:mod:`gemgraph.validate`, the
benchmarks) build a run's parts through these, so a config means the same thing everywhere.
"""
from __future__ import annotations

from typing import Any

from .predictor import EfficiencyPredictor
from .space import SearchSpace

__all__ = ["make_space", "make_trainer", "make_predictor", "sampler_args"]


def make_space(cfg: dict[str, Any], regime: bool = True) -> SearchSpace:
    """The run's :class:`~gemgraph.SearchSpace`; ``regime=False``: without the MAC window and
    ``min_ops`` (the encoder learns the unrestricted supernet, as in the paper)."""
    if not regime:
        cfg = {**cfg, "macs": None, "min_ops": None}
    macs = cfg.get("macs")  # .get: runs stored before computation regimes have no window
    return SearchSpace(num_nodes=cfg["nodes"], ops=tuple(cfg["ops"]), max_concat=cfg["max_concat"],
                       edge_prob=tuple(cfg["edge_prob"]), macs=None if macs is None else tuple(macs),
                       min_ops=cfg.get("min_ops"), cost=cfg.get("macs_network"))


def make_trainer(cfg: dict[str, Any], device: str = "auto", data_root: str | None = None, progress: bool = False,
                 data: tuple[Any, Any] | None = None, download: bool = False):
    """The run's :class:`~gemgraph.evaluate.ProxyTrainer`; ``data`` = already loaded ``(train,
    eval)`` datasets at 32x32 (the trainer pools them to its resolution), else they are read from
    ``data_root`` (or the embedded subset; ``download``: fetched) when first used."""
    from .evaluate import ProxyTrainer  # noqa: PLC0415 - gemgraph.evaluate (flop counter) kept off CLI start-up

    t = cfg["trainer"]
    train, ev = (None, None) if data is None else data
    return ProxyTrainer(epochs=t["epochs"], batch_size=t["batch_size"], lr=t["lr"], width=t["width"],
                        cells_per_stage=t["cells_per_stage"], max_train_images=t["max_train_images"],
                        split=t["split"], root=data_root, train_data=train, eval_data=ev, device=device,
                        seed=cfg["seed"], lam=cfg["lam"], objective=cfg.get("objective", "efficiency"),
                        num_threads=t.get("num_threads"),
                        resolution=t.get("resolution"), max_eval_images=t.get("max_eval_images"), download=download,
                        progress=progress)


def sampler_args(cfg: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(name, options)`` of the run's sampler (runs made before samplers existed: ``"random"``)."""
    sc = dict(cfg.get("sampler") or {"name": "random"})
    name = sc.pop("name", "random")
    if name in ("random", "rea"):
        return name, {}
    if name == "ls":
        return name, {"n_init": sc.get("n_init", 10)}
    opts = {"batch_size": sc.get("batch_size", 10), "n_init": sc.get("n_init", 10)}
    if name in ("acquisition", "ucb"):
        opts["kappa"] = sc.get("kappa", 1.0)
    return name, opts


def make_predictor(cfg: dict[str, Any]) -> EfficiencyPredictor:
    """The run's (unfitted) :class:`~gemgraph.predictor.EfficiencyPredictor`."""
    p = cfg["predictor"]
    extra = {k: p[k] for k in ("target", "loss") if k in p}
    return EfficiencyPredictor(hidden=p["hidden"], n_members=p["n_members"], seed=cfg["seed"], **extra)


