r"""Bootstrap optimisation: embed many candidate cells, rank them by the predictor.

The paper samples 50,000 cells from the supernet (respecting the concatenation cap), embeds
them and takes the argmax of the efficiency-score predictor. Sampling, embedding and
prediction are batched tensors end to end; only the returned top-k become
:class:`~gemgraph.Cell` objects.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .cell import Cell
from .encoders.base import CellBatch, as_batch
from .protocols import GraphEncoder, Predictor
from .space import SearchSpace
from .utils import check_finite, check_int
from .errors import InputError


#: Acquisition rules of :func:`bootstrap_optimize`: the ensemble mean, an upper (or, with a
#: negative ``kappa``, lower) confidence bound ``mean + kappa * std``, or a Thompson-style draw
#: ``N(mean, std^2)`` per candidate.
ACQUISITIONS: tuple[str, ...] = ("mean", "ucb", "thompson")


@dataclass
class Candidate:
    """One ranked candidate.

    Attributes:
        cell: the cell.
        predicted: predicted efficiency score (ensemble mean; for a measured incumbent, its
            measured score).
        std: ensemble spread (0 for a single-member predictor).
        index: position in the candidate pool (for a space: the sample index, or the member's
            position when the space has ``sample_indices``, e.g. NB101Space; -1 for an incumbent).
        measured: the measured score for an already evaluated candidate (an incumbent), None
            for a predicted-only one.
        key: the value it was ranked by (acquisition value, or the measured score).
    """

    cell: Cell
    predicted: float
    std: float
    index: int
    measured: float | None = None
    key: float = float("nan")


@dataclass
class BootstrapResult:
    """What :func:`bootstrap_optimize` returns.

    Attributes:
        candidates: the top-k distinct candidates, best first.
        num_evaluated: how many candidates were embedded and scored.
        predicted: predicted score of every candidate in the pool, (num_evaluated,).
        pool_index: (num_evaluated,) int64, the pool position of each entry of ``predicted``
            (for a space: the sample index, or the member's position when the space has
            ``sample_indices``); differs from ``arange`` when a pool larger than
            ``num_samples`` was subsampled.
        std: (num_evaluated,) ensemble spread of every candidate.
    """

    candidates: list[Candidate] = field(default_factory=list)
    num_evaluated: int = 0
    predicted: np.ndarray | None = None
    pool_index: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def __repr__(self) -> str:
        b = self.candidates[0] if self.candidates else None
        if b is None:
            best = "none"
        elif b.measured is not None:
            best = f"measured {b.measured:.4f}"
        else:
            best = f"{b.predicted:.4f} (#{b.index})"
        return f"BootstrapResult(num_evaluated={self.num_evaluated}, top_k={len(self.candidates)}, best={best})"


def network_key(cell: Cell) -> Cell:
    """Cells equal as networks (isolated, dropped nodes aside) share this key: the pruned cell
    (:meth:`Cell.prune`), or the cell itself when it has no network (nothing survives pruning)."""
    try:
        return cell.prune()
    except ValueError:
        return cell


def _is_space(x: Any) -> bool:
    """A space to sample from (a SearchSpace, an NB101Space, ...), as opposed to a fixed pool."""
    return hasattr(x, "sample_tensors") and hasattr(x, "num_nodes")


def _pool(candidates: Any, num_samples: int, seed: int, num_nodes: int) -> tuple[CellBatch, np.ndarray, int]:
    """The candidate pool as a CellBatch, the pool indices it holds, and the full pool size."""
    if _is_space(candidates):
        adj, ops = candidates.sample_tensors(num_samples, seed=seed)
        # a finite space (e.g. NB101Space) says which of its members it drew
        idx = candidates.sample_indices(num_samples, seed=seed) if hasattr(candidates, "sample_indices") else None
        if idx is None or len(idx) != adj.shape[0]:
            idx = np.arange(adj.shape[0])
        batch = CellBatch.from_tensors(adj, ops, num_nodes, getattr(candidates, "vocab", None))
        return batch, np.asarray(idx, dtype=np.int64), int(adj.shape[0])
    if isinstance(candidates, (CellBatch, tuple, torch.Tensor)):
        batch = as_batch(candidates, num_nodes)
    else:
        cells = list(candidates)
        if not cells:
            raise InputError("candidates_or_space: expected a SearchSpace or a non-empty sequence of cells")
        batch = CellBatch.from_cells(cells, num_nodes)
    n = len(batch)
    if n > num_samples:  # draw num_samples of the pool without replacement
        idx = np.sort(np.random.default_rng(seed).choice(n, num_samples, replace=False))
        return batch[torch.from_numpy(idx)], idx, n
    return batch, np.arange(n), n


def bootstrap_optimize(
    predictor: Predictor,
    encoder: GraphEncoder,
    candidates_or_space: SearchSpace | Sequence[Cell] | Any,
    *,
    num_samples: int = 50_000,
    top_k: int = 1,
    seed: int = 0,
    batch_size: int = 8192,
    acquisition: str = "mean",
    kappa: float = 0.0,
    incumbents: Sequence[tuple[Cell, float]] | None = None,
    exclude: Iterable[Cell] | None = None,
    vectors: torch.Tensor | np.ndarray | None = None,
    min_predicted: int = 0,
    progress: bool = False,
) -> BootstrapResult:
    r"""Rank candidate cells by predicted efficiency score (incumbent-aware).

    Args:
        predictor: a fitted predictor (:class:`~gemgraph.protocols.Predictor`, e.g. an
            :class:`~gemgraph.predictor.EfficiencyPredictor`) on ``encoder``'s vectors.
        encoder: the graph encoder the predictor was trained on.
        candidates_or_space: a :class:`SearchSpace` (``num_samples`` cells are sampled,
            respecting its constraints), or a pool of candidates (list of cells, a
            ``(adj, ops)`` tuple or a :class:`CellBatch`); a pool larger than ``num_samples``
            is subsampled without replacement.
        num_samples: candidates to score (the paper uses 50,000).
        top_k: how many best candidates to return, distinct as networks (equal after
            :meth:`Cell.prune`).
        seed: sampling seed (and the seed of Thompson draws).
        batch_size: cells per embedding / prediction batch.
        acquisition: how a predicted-only candidate is ranked (:data:`ACQUISITIONS`):
            ``"mean"`` (the paper; ``kappa`` then also applies), ``"ucb"``
            (``mean + kappa * std``: ``kappa > 0`` optimistic, ``< 0`` pessimistic) or
            ``"thompson"`` (one draw from ``N(mean, std^2)`` per candidate).
        kappa: the ``std`` multiplier of ``"mean"`` / ``"ucb"`` (needs an ensemble to
            matter); 0 = the predicted mean, as in the paper.
        incumbents: already evaluated candidates as ``(cell, measured score)`` pairs. They
            take part with their *measured* score instead of a prediction, so a
            predicted-only candidate is ranked above an incumbent only when its acquisition
            value beats that measurement; the same network is never returned twice.
            Non-finite scores are ignored.
        exclude: networks never to return (e.g. every evaluated cell, when choosing what to
            evaluate next); compared after :meth:`Cell.prune`.
        vectors: optional precomputed ``encoder`` vectors of the whole pool, (pool size, d),
            row i = candidate i (only with a pool, not a :class:`SearchSpace`). They are
            subsampled together with the pool and used instead of embedding it again, so a
            fixed pool (e.g. every NAS-Bench-101 model) is embedded once and ranked by many
            predictors. They must come from ``encoder``: they are not checked against it.
        min_predicted: return at least this many predicted-only candidates (while the pool
            has them), even when measured incumbents fill the top-k: the list then runs past
            ``top_k`` (e.g. to verify the best unevaluated candidates).
        progress: a tqdm bar over the scored batches.

    Returns:
        :class:`BootstrapResult` with the top-k candidates (more with ``min_predicted``), best first.

    Raises:
        ValueError: for bad counts, an unknown acquisition, an unfitted predictor, or
            ``vectors`` of the wrong shape.
    """
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 1)
    check_int(batch_size, "batch_size", 1)
    check_int(min_predicted, "min_predicted", 0)
    if acquisition not in ACQUISITIONS:
        raise InputError(f"acquisition: expected one of {list(ACQUISITIONS)}, got {acquisition!r}")
    check_finite(kappa, "kappa")
    if not isinstance(encoder, GraphEncoder):
        raise InputError(f"encoder: expected a graph encoder with num_nodes and embed(cells) (e.g. a gemgraph "
                         f"Encoder), got {type(encoder).__name__}")
    check_is_fitted(predictor, msg="predictor: expected a fitted %(name)s (call fit() first)")
    if vectors is not None and _is_space(candidates_or_space):
        raise InputError("vectors: precomputed vectors need a fixed pool of candidates, not a SearchSpace")
    batch, pool_idx, n_pool = _pool(candidates_or_space, int(num_samples), seed, encoder.num_nodes)
    if vectors is not None:
        vectors = torch.as_tensor(vectors)
        if vectors.dim() != 2 or vectors.shape[0] != n_pool:
            raise InputError(f"vectors: expected shape ({n_pool}, d), one row per pool candidate, "
                             f"got {tuple(vectors.shape)}")
        if len(pool_idx) != n_pool:
            vectors = vectors[torch.from_numpy(pool_idx)]
    starts = range(0, len(batch), batch_size)
    if progress:
        starts = tqdm(starts, desc="bootstrap", unit="batch", total=len(starts))
    mus, sds = [], []
    for s in starts:
        if vectors is not None:
            z = vectors[s : s + batch_size]
        else:
            z = encoder.embed(batch[s : s + batch_size], batch_size=batch_size)
        mu, sd = predictor.predict(z, return_std=True)
        mus.append(mu)
        sds.append(sd)
    mu = np.concatenate(mus)
    sd = np.concatenate(sds)
    if acquisition == "thompson":
        key = np.random.default_rng([int(seed), 0x7405]).normal(mu, sd)
    else:
        key = mu + float(kappa) * sd
    skip = {network_key(c) for c in (exclude or ())}
    inc: dict[Cell, tuple[Cell, float]] = {}
    for cell, score in incumbents or ():
        if not isinstance(cell, Cell):
            raise InputError(f"incumbents: expected (Cell, score) pairs, got a {type(cell).__name__}")
        if score is None or not math.isfinite(float(score)):
            continue
        k = network_key(cell)
        if k not in inc or float(score) > inc[k][1]:
            inc[k] = (cell, float(score))
    measured = sorted(((s, k, c) for k, (c, s) in inc.items() if k not in skip), key=lambda t: -t[0])
    order = np.argsort(-key, kind="stable")
    out: list[Candidate] = []
    seen: set[Cell] = set(skip)
    pos, m, n_pred = 0, 0, 0  # merge the predicted order with the measured incumbents
    while (len(out) < top_k or n_pred < min_predicted) and (pos < len(order) or m < len(measured)):
        if len(out) >= top_k and pos >= len(order):
            break  # only more incumbents are left: no predicted candidate to add
        take_measured = m < len(measured) and (pos >= len(order) or measured[m][0] >= key[order[pos]])
        if take_measured:
            score, k, cell = measured[m]  # keys of `measured` are distinct and not in `skip`
            m += 1
            seen.add(k)
            out.append(Candidate(cell=cell, predicted=score, std=0.0, index=-1, measured=score, key=score))
            continue
        i = int(order[pos])
        pos += 1
        cell = batch.cell(i)
        k = network_key(cell)
        if k in seen or k in inc:  # an incumbent stands with its measured score, merged above
            continue
        seen.add(k)
        n_pred += 1
        out.append(Candidate(cell=cell, predicted=float(mu[i]), std=float(sd[i]), index=int(pool_idx[i]),
                             key=float(key[i])))
    return BootstrapResult(candidates=out, num_evaluated=len(batch), predicted=mu, pool_index=pool_idx, std=sd)
