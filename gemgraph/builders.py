r"""Library-level builders: a :class:`~gemgraph.config.RunConfig` -> a search and its parts.

Everything a run's config means is decided here, by reading the config's typed attributes
(``cfg.trainer.epochs``, ``cfg.space.macs``), so the command line (:mod:`gemgraph.app`), the
reference check (:mod:`gemgraph.validate`), the benchmarks and a user's own script build the
same search from the same config::

    from gemgraph.builders import make_search
    from gemgraph.config import PRESETS
    from gemgraph.store import RunStore

    cfg = PRESETS["quick"].with_overrides({"iterations": 4})
    with RunStore("run.sqlite", create=True, config=cfg.to_dict()) as store:
        result = make_search(cfg, store).run(cfg.iterations)

Each builder also takes the plain dict form a run store keeps (``RunConfig.to_dict()``), read
with :meth:`~gemgraph.config.RunConfig.from_stored` (keys added after a run was stored take the
values gemgraph had without them).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .config import RunConfig
from .errors import InputError
from .predictor import EfficiencyPredictor
from .space import SearchSpace

if TYPE_CHECKING:  # pragma: no cover
    from .encoders.base import Encoder
    from .evaluate import ProxyTrainer
    from .search import NASGEM
    from .wl import WLKernel

__all__ = ["as_run_config", "make_space", "make_kernel", "make_encoder", "train_run_encoder", "make_trainer",
           "make_predictor", "sampler_args", "make_search"]


def as_run_config(cfg: RunConfig | Mapping[str, Any], argument: str = "cfg") -> RunConfig:
    r"""``cfg`` as a :class:`~gemgraph.config.RunConfig`: itself, or its stored dict form read
    with :meth:`~gemgraph.config.RunConfig.from_stored`.

    Raises:
        InputError: ``cfg`` is neither, or a dict that is not a whole run config.
    """
    if isinstance(cfg, RunConfig):
        return cfg
    if isinstance(cfg, Mapping):
        return RunConfig.from_stored(cfg)
    raise InputError(f"{argument}: expected a RunConfig (or its dict form), got {type(cfg).__name__}")


def make_space(cfg: RunConfig | Mapping[str, Any], regime: bool = True) -> SearchSpace:
    r"""The run's :class:`~gemgraph.SearchSpace` (``cfg.space``).

    Args:
        cfg: the run's config.
        regime: False: without the MAC window and ``min_ops`` (the space the encoder learns,
            the unrestricted supernet, as in the paper).
    """
    s = as_run_config(cfg).space
    macs = s.macs if regime else None
    return SearchSpace(num_nodes=s.nodes, ops=tuple(s.ops), max_concat=s.max_concat, edge_prob=s.edge_prob,
                       macs=macs, min_ops=s.min_ops if regime else None,
                       cost=None if s.macs_network is None else dict(s.macs_network))


def make_kernel(cfg: RunConfig | Mapping[str, Any]) -> "WLKernel":
    r"""The WL kernel the run's encoder is trained to match (``cfg.encoder.wl_iter``, ``labels``)."""
    from .wl import WLKernel  # noqa: PLC0415 - gemgraph.wl is not needed to build a space or trainer

    e = as_run_config(cfg).encoder
    return WLKernel(n_iter=e.wl_iter, node_labels=e.labels if isinstance(e.labels, str) else tuple(e.labels))


def make_encoder(cfg: RunConfig | Mapping[str, Any]) -> "Encoder":
    r"""The run's (untrained) graph encoder (``cfg.encoder.name`` / ``dim`` / ``use_ops``), for
    cells of ``cfg.space.nodes`` nodes."""
    from . import encoders  # noqa: PLC0415 - gemgraph.encoders loads torch_geometric

    c = as_run_config(cfg)
    if c.encoder.name not in encoders.available():
        raise InputError(f"encoder.name: expected one of {encoders.available()}, got {c.encoder.name!r}")
    return encoders.create(c.encoder.name, num_nodes=c.space.nodes, dim=c.encoder.dim,
                           ops=("input", *c.space.ops) if c.encoder.use_ops else None)


def train_run_encoder(cfg: RunConfig | Mapping[str, Any], *, device: str = "auto", progress: bool = False):
    r"""Train the run's encoder on cells of the unrestricted supernet to match its WL kernel,
    deterministically from ``cfg.seed`` (``cfg.encoder.n_train`` graphs, ``max_epochs``,
    ``time_limit``).

    Returns:
        the :class:`~gemgraph.embedding.TrainResult` (``.encoder``, on ``device``; ``.report``,
        its held-out fidelity; ``.seconds``).
    """
    from .embedding import train_encoder  # noqa: PLC0415 - loads gemgraph.encoders (torch_geometric)

    c = as_run_config(cfg)
    e = c.encoder
    return train_encoder(make_encoder(c), make_space(c, regime=False), make_kernel(c), seed=c.seed,
                         n_train=e.n_train, max_epochs=e.max_epochs, time_limit=e.time_limit, device=device,
                         progress=progress)


def make_trainer(cfg: RunConfig | Mapping[str, Any], device: str = "auto", data_root: str | None = None,
                 progress: bool = False, data: tuple[Any, Any] | None = None,
                 download: bool = False) -> "ProxyTrainer":
    r"""The run's :class:`~gemgraph.evaluate.ProxyTrainer` (``cfg.trainer``, the objective, ``lam``
    and the seed).

    Args:
        cfg: the run's config.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``.
        data_root: folder with ``cifar10-proxy/`` (None: ``$GEMGRAPH_DATA``, else the 16x16 subset
            embedded in the package).
        progress: a tqdm bar per training.
        data: already loaded ``(train, eval)`` datasets at 32x32 (the trainer pools them to its
            resolution); None: read from ``data_root`` when first used.
        download: fetch the proxy set when it is missing.
    """
    from .evaluate import ProxyTrainer  # noqa: PLC0415 - gemgraph.evaluate (flop counter) kept off CLI start-up

    c = as_run_config(cfg)
    t = c.trainer
    train, ev = (None, None) if data is None else data
    return ProxyTrainer(epochs=t.epochs, batch_size=t.batch_size, lr=t.lr, width=t.width,
                        cells_per_stage=t.cells_per_stage, max_train_images=t.max_train_images,
                        split=t.split, root=data_root, train_data=train, eval_data=ev, device=device,
                        seed=c.seed, lam=c.lam, objective=c.objective, num_threads=t.num_threads,
                        resolution=t.resolution, max_eval_images=t.max_eval_images, download=download,
                        progress=progress)


def sampler_args(cfg: RunConfig | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    r"""``(name, options)`` of the run's sampler (``cfg.sampler``), as
    :func:`gemgraph.samplers.make_sampler` takes them: only the options that sampler uses."""
    s = as_run_config(cfg).sampler
    if s.name in ("random", "rea"):
        return s.name, {}
    if s.name == "ls":
        return s.name, {"n_init": s.n_init}
    opts: dict[str, Any] = {"batch_size": s.batch_size, "n_init": s.n_init}
    if s.name in ("acquisition", "ucb"):
        opts["kappa"] = s.kappa
    return s.name, opts


def make_predictor(cfg: RunConfig | Mapping[str, Any]) -> EfficiencyPredictor:
    r"""The run's (unfitted) :class:`~gemgraph.predictor.EfficiencyPredictor` (``cfg.predictor``,
    seeded with ``cfg.seed``)."""
    c = as_run_config(cfg)
    p = c.predictor
    return EfficiencyPredictor(hidden=p.hidden, n_members=p.n_members, seed=c.seed, target=p.target, loss=p.loss)


def make_search(cfg: RunConfig | Mapping[str, Any], store: Any, *, encoder: "Encoder | None" = None,
                trainer: Any = "proxy", executor: str | Any = "local", device: str = "auto",
                data_root: str | None = None, progress: bool = False) -> "NASGEM":
    r"""The run's :class:`~gemgraph.search.NASGEM` loop, ready for ``.run(cfg.iterations)``.

    Args:
        cfg: the run's config.
        store: the run's :class:`~gemgraph.store.RunStore` (or a :class:`~gemgraph.memstore.MemoryStore`).
        encoder: a trained encoder; None: trained now from the config (:func:`train_run_encoder`).
        trainer: ``"proxy"``: the run's :func:`make_trainer` (``device``, ``data_root``); None:
            bootstrap only (no candidate is trained); or any evaluator with ``evaluate(cell)``.
        executor: where candidates train: ``"local"``, ``"ray"`` or an executor object
            (:mod:`gemgraph.executors`).
        device: for the encoder's training and the proxy trainer.
        data_root: the proxy data's folder (see :func:`make_trainer`).
        progress: tqdm bars.
    """
    from .search import NASGEM  # noqa: PLC0415 - loads PyG (and its torch.jit warning)

    c = as_run_config(cfg)
    if encoder is None:
        encoder = train_run_encoder(c, device=device, progress=progress).encoder.cpu()
    if isinstance(trainer, str):
        if trainer != "proxy":
            raise InputError(f"trainer: expected 'proxy', None or an evaluator with evaluate(cell), got {trainer!r}")
        trainer = make_trainer(c, device=device, data_root=data_root, progress=False)
    name, opts = sampler_args(c)
    b = c.bootstrap
    return NASGEM(make_space(c), encoder, make_predictor(c), trainer, store, seed=c.seed,
                  num_samples=b.num_samples, top_k=b.top_k, verify_top=b.verify_top, sampler=name,
                  sampler_options=opts, executor=executor, progress=progress)
