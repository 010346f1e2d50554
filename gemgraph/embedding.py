r"""Training a graph encoder so that cosine similarity matches the WL kernel.

Given cells G1, G2 of the same node count, the encoder f is trained with

    loss = (cos(f(A1), f(A2)) - k_WL(G1, G2))^2

on random pairs. The WL kernel is evaluated once per *graph* (one feature pass over all
cells, then a Gram matrix), never per pair. Three disjoint sets of cells are drawn: training
graphs, validation graphs (early stopping) and test graphs (the fidelity report), so both
early stopping and the report use graphs the encoder never saw.
"""
from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy import stats
from tqdm.auto import tqdm

from .cell import Cell
from .encoders.base import CellBatch, Encoder
from .space import SearchSpace
from .utils import check_int, resolve_device, single_thread, warmup_cosine
from .wl import WLKernel
from .errors import InputError


@dataclass
class FidelityReport:
    r"""How well cosine similarity of embeddings matches the WL kernel on pairs.

    Attributes:
        rmse: root mean squared error between cosine and WL values.
        pearson: Pearson correlation.
        spearman: Spearman rank correlation.
        n_pairs: number of pairs.
        n_graphs: number of distinct graphs the pairs were drawn from.
    """

    rmse: float
    pearson: float
    spearman: float
    n_pairs: int
    n_graphs: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"RMSE {self.rmse:.4f}  Pearson {self.pearson:.4f}  Spearman {self.spearman:.4f}  "
            f"({self.n_pairs} pairs of {self.n_graphs} unseen graphs)"
        )


@dataclass
class TrainResult:
    """What :func:`train_encoder` returns.

    Attributes:
        encoder: the trained encoder (best validation state restored), in eval mode.
        history: one dict per epoch: ``epoch``, ``train_loss``, ``val_rmse``, ``seconds``.
        report: :class:`FidelityReport` on held-out pairs of unseen test graphs.
        best_epoch: epoch whose weights were kept.
        seconds: total wall time.
        time_limited: True when ``time_limit`` shortened or stopped the run (the result then
            depends on the machine's speed).
    """

    encoder: Encoder
    history: list[dict[str, float]] = field(default_factory=list)
    report: FidelityReport | None = None
    best_epoch: int = 0
    seconds: float = 0.0
    time_limited: bool = False


def _pairs_same_size(sizes: np.ndarray, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Random pairs (i, j), i != j, of equal size, groups weighted by their number of pairs."""
    groups = [np.flatnonzero(sizes == s) for s in np.unique(sizes)]
    groups = [g for g in groups if len(g) >= 2]
    if not groups:
        raise InputError("cells: need at least two cells of the same node count to form pairs")
    w = np.array([len(g) * (len(g) - 1) for g in groups], dtype=np.float64)
    counts = rng.multinomial(n_pairs, w / w.sum())
    out = []
    for g, c in zip(groups, counts):
        if c == 0:
            continue
        a = rng.integers(0, len(g), c)
        b = (a + rng.integers(1, len(g), c)) % len(g)  # b != a
        out.append(np.stack([g[a], g[b]], axis=1))
    pairs = np.concatenate(out)
    return pairs[rng.permutation(len(pairs))]


def _graph_batches(sizes: np.ndarray, batch_size: int, gen: torch.Generator) -> list[np.ndarray]:
    """One epoch of graph batches: every graph once, each batch of a single node count."""
    batches = []
    for sz in np.unique(sizes):
        g = np.flatnonzero(sizes == sz)
        g = g[torch.randperm(len(g), generator=gen).numpy()]
        batches += [g[i : i + batch_size] for i in range(0, len(g), batch_size) if len(g[i : i + batch_size]) >= 2]
    order = torch.randperm(len(batches), generator=gen).numpy()
    return [batches[i] for i in order]


def _batch_count(sizes: np.ndarray, batch_size: int) -> int:
    """Number of batches :func:`_graph_batches` yields per epoch (batches of < 2 graphs are dropped)."""
    if batch_size < 2:
        return 0
    counts = np.unique(sizes, return_counts=True)[1]
    return int((counts // batch_size).sum() + (counts % batch_size >= 2).sum())


def pair_values(F: Any, pairs: np.ndarray) -> np.ndarray:
    """Kernel values ``F[i] . F[j]`` for row pairs of unit-norm WL features: (P,) float64."""
    return np.asarray(F[pairs[:, 0]].multiply(F[pairs[:, 1]]).sum(axis=1)).ravel()


def batch_gram(F: Any, idx: np.ndarray) -> np.ndarray:
    """Dense (B, B) kernel among the rows ``idx`` of unit-norm WL features ``F`` (CSR).

    The batch's columns are compacted first, so the cost is proportional to the batch's
    entries, not to the number of WL labels of the whole training set.
    """
    Fi = F[idx]
    cols, inv = np.unique(Fi.indices, return_inverse=True)
    Fs = sp.csr_matrix((Fi.data, inv.ravel(), Fi.indptr), shape=(Fi.shape[0], len(cols)))
    return (Fs @ Fs.T).toarray()


def pair_cosine(z: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of embedding rows ``z[pairs[:, 0]]`` and ``z[pairs[:, 1]]``: (P,)."""
    return torch.nn.functional.cosine_similarity(z[pairs[:, 0]], z[pairs[:, 1]], dim=1, eps=1e-8)


def fidelity(encoder: Encoder, cells: Sequence[Cell], kernel: WLKernel, n_pairs: int = 20_000,
             seed: int = 0) -> FidelityReport:
    r"""Fidelity of ``encoder`` to ``kernel`` on random same-size pairs of ``cells``.

    Args:
        encoder: any encoder (``"raw"`` gives the no-embedding baseline).
        cells: the graphs to draw pairs from (use graphs the encoder was not trained on).
        kernel: the WL kernel (normalised).
        n_pairs: number of pairs.
        seed: pair sampling seed.
    """
    cells = list(cells)
    K = kernel.fit_transform(cells)
    sizes = np.array([c.num_nodes for c in cells])
    pairs = _pairs_same_size(sizes, n_pairs, np.random.default_rng(seed))
    z = encoder.embed(cells)
    cos = pair_cosine(z, torch.from_numpy(pairs)).double().numpy()
    return _report(cos, K[pairs[:, 0], pairs[:, 1]], len(cells))


def _report(cos: np.ndarray, target: np.ndarray, n_graphs: int) -> FidelityReport:
    rmse = float(np.sqrt(np.mean((cos - target) ** 2)))
    if np.std(cos) == 0 or np.std(target) == 0:
        pear = spear = float("nan")
    else:
        pear = float(stats.pearsonr(cos, target)[0])
        spear = float(stats.spearmanr(cos, target)[0])
    return FidelityReport(rmse, pear, spear, int(len(cos)), int(n_graphs))


def _draw_cells(source: Any, n: int, seed: int) -> list[Cell]:
    if isinstance(source, SearchSpace):
        return source.sample(n, seed=seed)
    cells = list(source)
    if not cells or not all(isinstance(c, Cell) for c in cells):
        raise InputError("space: expected a SearchSpace or a non-empty sequence of gemgraph.Cell")
    return cells


def _split_unique(cells: list[Cell], n_train: int, n_val: int, n_test: int,
                  seed: int) -> tuple[list[Cell], list[Cell], list[Cell]]:
    """Disjoint train/val/test sets of *distinct* graphs."""
    uniq = list(dict.fromkeys(cells))  # distinct, order kept
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(uniq))
    need = n_train + n_val + n_test
    if len(uniq) < need:
        # scale down proportionally for small pools (e.g. a small list of cells)
        if len(uniq) < 6:
            raise InputError(f"space: need at least 6 distinct cells to train and evaluate, got {len(uniq)}")
        f = len(uniq) / need
        n_val, n_test = max(2, int(n_val * f)), max(2, int(n_test * f))
        n_train = len(uniq) - n_val - n_test
    pick = [uniq[i] for i in order[: n_train + n_val + n_test]]
    return pick[:n_train], pick[n_train : n_train + n_val], pick[n_train + n_val :]


def _reset_parameters(module: torch.nn.Module, seed: int) -> None:
    """Re-initialise every sub-module that has ``reset_parameters``, from ``seed`` only."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in module.modules():
            reset = getattr(m, "reset_parameters", None)
            if m is not module and callable(reset):
                reset()


def _onecycle(step: int, total: int, warmup: float = 0.05) -> float:
    """Learning-rate factor at ``step`` of ``total``: linear warm-up from 1/25 to 1 over the
    first ``warmup`` fraction, then cosine decay to 0 at ``total`` (clamped after it); see
    :func:`gemgraph.utils.warmup_cosine`."""
    return warmup_cosine(step, total, max(1, int(round(warmup * total))), start=1.0 / 25)


def train_encoder(
    encoder: Encoder,
    space: SearchSpace | Sequence[Cell],
    kernel: WLKernel | None = None,
    *,
    seed: int = 0,
    n_train: int = 160_000,
    n_val: int = 500,
    n_test: int = 500,
    val_pairs: int = 20_000,
    batch_size: int = 256,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    max_epochs: int = 16,
    patience: int = 8,
    schedule: str = "onecycle",
    time_limit: float | None = None,
    device: str | torch.device = "auto",
    progress: bool = True,
) -> TrainResult:
    r"""Train ``encoder`` so that cosine similarity of embeddings matches the WL kernel.

    Args:
        encoder: the encoder to train (its weights are re-initialised from ``seed``). A
            parameter-free encoder (``"raw"``) is only evaluated.
        space: a :class:`SearchSpace` to sample cells from, or a sequence of cells (e.g. the
            NAS-Bench-101 cells) to draw the disjoint train/val/test graphs from.
        kernel: the (normalised) WL kernel; default ``WLKernel(n_iter=3, node_labels="degree")``.
        seed: the only source of randomness (cells, pairs, initial weights).
        n_train, n_val, n_test: numbers of distinct training / early-stopping / report graphs.
        val_pairs: pairs for validation and for the report.
        batch_size: graphs per optimisation step; the loss covers all ``B (B - 1) / 2``
            pairs among them (a batch holds graphs of one node count).
        lr, weight_decay: Adam settings.
        max_epochs, patience: stop after ``max_epochs`` or when validation RMSE has not
            improved for ``patience`` epochs; the best weights are restored.
        schedule: learning-rate schedule: ``"onecycle"`` (linear warm-up over the first 5% of
            the steps from ``lr / 25`` to ``lr``, then cosine decay to ~0 at the last epoch; the
            run length is set by ``max_epochs``, so results do not depend on the machine's
            speed) or ``"plateau"`` (constant ``lr``, halved when the validation RMSE stalls
            for 2 epochs).
        time_limit: a budget in seconds (None: none). Training stops once it is spent; with
            ``"onecycle"``, when the epochs measured so far show that ``max_epochs`` will not
            fit, the schedule is shortened to the epochs that do, so the learning rate still
            anneals (the run then depends on the machine's speed; ``history`` records the
            ``planned_epochs``).
        device: ``"auto"`` (CUDA if available), ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm progress bar.

    Returns:
        :class:`TrainResult` with the encoder, per-epoch history and the fidelity report on
        held-out pairs of unseen graphs.
    """
    t0 = time.perf_counter()
    if not isinstance(encoder, Encoder):
        raise InputError(f"encoder: expected a gemgraph Encoder, got {type(encoder).__name__}")
    kernel = WLKernel(n_iter=3, node_labels="degree") if kernel is None else kernel
    if not isinstance(kernel, WLKernel) or not kernel.normalize:
        raise InputError("kernel: expected a normalised gemgraph.WLKernel (values in [0, 1])")
    for name, value, lo in [("n_train", n_train, 2), ("n_val", n_val, 2), ("n_test", n_test, 2),
                        ("val_pairs", val_pairs, 1),
                        ("batch_size", batch_size, 1), ("max_epochs", max_epochs, 0), ("patience", patience, 1)]:
        check_int(value, name, lo)
    if not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"lr: expected a positive finite float, got {lr!r}")
    if schedule not in ("onecycle", "plateau"):
        raise InputError(f"schedule: expected 'onecycle' or 'plateau', got {schedule!r}")
    dev = resolve_device(device)

    pool = _draw_cells(space, n_train + n_val + n_test + 64, seed)
    train, val, test = _split_unique(pool, n_train, n_val, n_test, seed + 1)
    for c in train + val + test:
        if c.num_nodes > encoder.num_nodes:
            raise InputError(f"space: cells of {c.num_nodes} nodes exceed the encoder's num_nodes={encoder.num_nodes}")

    # WL: one feature pass for all graphs (each graph once), pair values from the features
    F = kernel.normalized_features(train + val + test)
    nt, nv = len(train), len(val)
    F_train, F_val, F_test = F[:nt], F[nt : nt + nv], F[nt + nv :]
    rng = np.random.default_rng(seed + 2)
    sizes = lambda cs: np.array([c.num_nodes for c in cs])  # noqa: E731
    vpairs = _pairs_same_size(sizes(val), val_pairs, rng)
    tpairs = _pairs_same_size(sizes(test), val_pairs, rng)
    v_target = torch.from_numpy(pair_values(F_val, vpairs))
    t_target = pair_values(F_test, tpairs)

    encoder.to(dev)
    xb_train = CellBatch.from_cells(train, encoder.num_nodes).to(dev)
    xb_val = CellBatch.from_cells(val, encoder.num_nodes)
    xb_test = CellBatch.from_cells(test, encoder.num_nodes)
    train_sizes = sizes(train)

    def val_rmse() -> float:
        z = encoder.embed(xb_val)
        cos = pair_cosine(z, torch.from_numpy(vpairs)).double()
        return float(torch.sqrt(torch.mean((cos - v_target) ** 2)))

    result = TrainResult(encoder=encoder)
    params = [p for p in encoder.parameters() if p.requires_grad]
    if params and max_epochs > 0:
        _reset_parameters(encoder, seed)
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        steps = _batch_count(train_sizes, batch_size)
        plan = {"total": max(1, steps * max_epochs), "epochs": max_epochs}
        if schedule == "onecycle":
            step_sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _onecycle(s, plan["total"]))
            sched = None
        else:
            step_sched = None
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=2)
        best, best_state, best_epoch, bad = val_rmse(), copy.deepcopy(encoder.state_dict()), 0, 0
        gen = torch.Generator().manual_seed(seed + 3)
        bar = None
        if progress:
            bar = tqdm(total=max_epochs, desc=f"train {encoder.name} encoder", unit="epoch")
        t_train = time.perf_counter()
        # one intra-op thread on the CPU: BLAS and reductions split their sums by the thread count,
        # so the same seed would train a (slightly) different encoder on another machine
        with single_thread() if dev.type == "cpu" else contextlib.nullcontext():
            for epoch in range(1, max_epochs + 1):
                if epoch > plan["epochs"]:
                    break
                encoder.train()
                lr_now = opt.param_groups[0]["lr"]
                total, count = 0.0, 0
                for idx in _graph_batches(train_sizes, batch_size, gen):
                    target = torch.from_numpy(batch_gram(F_train, idx)).float().to(dev)
                    z = torch.nn.functional.normalize(encoder(xb_train[torch.from_numpy(idx).to(dev)]), dim=1, eps=1e-8)
                    cos = z @ z.T
                    iu = torch.triu_indices(len(idx), len(idx), 1, device=dev)
                    loss = torch.mean((cos[iu[0], iu[1]] - target[iu[0], iu[1]]) ** 2)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(f"train_encoder: non-finite loss at epoch {epoch}; "
                                                 f"try a lower lr (lr={lr})")
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    if step_sched is not None:
                        step_sched.step()
                    n_pairs = iu.shape[1]
                    total += float(loss.detach()) * n_pairs
                    count += n_pairs
                v = val_rmse()
                if sched is not None:
                    sched.step(v)
                now = time.perf_counter()
                if time_limit is not None and schedule == "onecycle" and epoch < plan["epochs"]:
                    # shorten the schedule to the epochs that fit in what is left of the budget
                    per_epoch = (now - t_train) / epoch
                    fit = epoch + int(max(0.0, time_limit - (now - t0)) // per_epoch)
                    if fit < plan["epochs"]:
                        plan["epochs"] = max(epoch, fit)
                        plan["total"] = max(1, steps * plan["epochs"])
                result.history.append({"epoch": epoch, "train_loss": total / max(count, 1), "val_rmse": v,
                                       "seconds": now - t0, "lr": lr_now, "planned_epochs": plan["epochs"]})
                if v < best - 1e-5:
                    best, best_state, best_epoch, bad = v, copy.deepcopy(encoder.state_dict()), epoch, 0
                else:
                    bad += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(train=f"{total / max(count, 1):.4f}", val_rmse=f"{v:.4f}", best=best_epoch)
                if time_limit is not None and time.perf_counter() - t0 > time_limit and epoch < plan["epochs"]:
                    result.time_limited = True
                    break
                if bad >= patience:
                    break
        if bar is not None:
            bar.close()
        encoder.load_state_dict(best_state)
        result.best_epoch = best_epoch
        result.time_limited = result.time_limited or plan["epochs"] < max_epochs
    encoder.eval()
    z = encoder.embed(xb_test)
    cos_test = pair_cosine(z, torch.from_numpy(tpairs)).double().numpy()
    result.report = _report(cos_test, t_target, len(test))
    result.seconds = time.perf_counter() - t0
    return result
