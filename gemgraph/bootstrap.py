r"""Bootstrap optimisation: embed many candidate cells, rank them by the predictor.

The paper samples 50,000 cells from the supernet (respecting the concatenation cap), embeds
them and takes the argmax of the efficiency-score predictor. Sampling, embedding and
prediction are batched tensors end to end; only the returned top-k become
:class:`~gemgraph.Cell` objects.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .cell import Cell
from .encoders.base import CellBatch, Encoder, as_batch
from .predictor import EfficiencyPredictor
from .space import SearchSpace
from .utils import check_int


@dataclass
class Candidate:
    """One ranked candidate.

    Attributes:
        cell: the cell.
        predicted: predicted efficiency score (ensemble mean).
        std: ensemble spread (0 for a single-member predictor).
        index: position in the candidate pool (sample index for a space).
    """

    cell: Cell
    predicted: float
    std: float
    index: int


@dataclass
class BootstrapResult:
    """What :func:`bootstrap_optimize` returns.

    Attributes:
        candidates: the top-k distinct candidates, best first.
        num_evaluated: how many candidates were embedded and scored.
        predicted: predicted score of every candidate in the pool, (num_evaluated,).
        pool_index: (num_evaluated,) int64, the pool position (sample index for a space) of
            each entry of ``predicted``; differs from ``arange`` when a pool larger than
            ``num_samples`` was subsampled.
    """

    candidates: list[Candidate] = field(default_factory=list)
    num_evaluated: int = 0
    predicted: np.ndarray | None = None
    pool_index: np.ndarray | None = None

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    def __repr__(self) -> str:
        b = self.candidates[0] if self.candidates else None
        best = "none" if b is None else f"{b.predicted:.4f} (#{b.index})"
        return f"BootstrapResult(num_evaluated={self.num_evaluated}, top_k={len(self.candidates)}, best={best})"


def _pool(candidates: Any, num_samples: int, seed: int, num_nodes: int) -> tuple[CellBatch, np.ndarray, int]:
    """The candidate pool as a CellBatch, the pool indices it holds, and the full pool size."""
    if isinstance(candidates, SearchSpace):
        adj, ops = candidates.sample_tensors(num_samples, seed=seed)
        return CellBatch.from_tensors(adj, ops, num_nodes), np.arange(adj.shape[0]), int(adj.shape[0])
    if isinstance(candidates, (CellBatch, tuple, torch.Tensor)):
        batch = as_batch(candidates, num_nodes)
    else:
        cells = list(candidates)
        if not cells:
            raise ValueError("candidates_or_space: expected a SearchSpace or a non-empty sequence of cells")
        batch = CellBatch.from_cells(cells, num_nodes)
    n = len(batch)
    if n > num_samples:  # draw num_samples of the pool without replacement
        idx = np.sort(np.random.default_rng(seed).choice(n, num_samples, replace=False))
        return batch[torch.from_numpy(idx)], idx, n
    return batch, np.arange(n), n


def _to_cell(batch: CellBatch, i: int) -> Cell:
    m = int(batch.sizes[i])
    adj = batch.adj[i, :m, :m].to(torch.uint8).numpy()
    if batch.ops is None:
        return Cell._trusted(adj, None)
    from .cell import OPS

    return Cell._trusted(adj, tuple(OPS[k] for k in batch.ops[i, :m].tolist()))


def bootstrap_optimize(
    predictor: EfficiencyPredictor,
    encoder: Encoder,
    candidates_or_space: SearchSpace | Sequence[Cell] | Any,
    *,
    num_samples: int = 50_000,
    top_k: int = 1,
    seed: int = 0,
    batch_size: int = 8192,
    kappa: float = 0.0,
    vectors: torch.Tensor | np.ndarray | None = None,
) -> BootstrapResult:
    r"""Rank candidate cells by predicted efficiency score.

    Args:
        predictor: a fitted :class:`EfficiencyPredictor` on ``encoder``'s vectors.
        encoder: the graph encoder the predictor was trained on.
        candidates_or_space: a :class:`SearchSpace` (``num_samples`` cells are sampled,
            respecting its ``max_concat``), or a pool of candidates (list of cells, a
            ``(adj, ops)`` tuple or a :class:`CellBatch`); a pool larger than ``num_samples``
            is subsampled without replacement.
        num_samples: candidates to score (the paper uses 50,000).
        top_k: how many best candidates to return, distinct as networks (equal after
            :meth:`Cell.prune`).
        seed: sampling seed.
        batch_size: cells per embedding / prediction batch.
        kappa: rank by ``mean + kappa * std`` (optimism under uncertainty; needs an ensemble
            predictor to matter). 0 = the predicted mean, as in the paper.
        vectors: optional precomputed ``encoder`` vectors of the whole pool, (pool size, d),
            row i = candidate i (only with a pool, not a :class:`SearchSpace`). They are
            subsampled together with the pool and used instead of embedding it again, so a
            fixed pool (e.g. every NAS-Bench-101 model) is embedded once and ranked by many
            predictors. They must come from ``encoder``: they are not checked against it.

    Returns:
        :class:`BootstrapResult` with the top-k candidates, best first.
    """
    check_int(num_samples, "num_samples", 1)
    check_int(top_k, "top_k", 1)
    check_int(batch_size, "batch_size", 1)
    if not isinstance(encoder, Encoder):
        raise ValueError(f"encoder: expected a gemgraph Encoder, got {type(encoder).__name__}")
    if not hasattr(predictor, "members_"):
        raise ValueError("predictor: expected a fitted EfficiencyPredictor (call fit() first)")
    if vectors is not None and isinstance(candidates_or_space, SearchSpace):
        raise ValueError("vectors: precomputed vectors need a fixed pool of candidates, not a SearchSpace")
    batch, pool_idx, n_pool = _pool(candidates_or_space, int(num_samples), seed, encoder.num_nodes)
    if vectors is not None:
        vectors = torch.as_tensor(vectors)
        if vectors.dim() != 2 or vectors.shape[0] != n_pool:
            raise ValueError(f"vectors: expected shape ({n_pool}, d), one row per pool candidate, "
                             f"got {tuple(vectors.shape)}")
        if len(pool_idx) != n_pool:
            vectors = vectors[torch.from_numpy(pool_idx)]
    mus, sds = [], []
    for s in range(0, len(batch), batch_size):
        if vectors is not None:
            z = vectors[s : s + batch_size]
        else:
            z = encoder.embed(batch[s : s + batch_size], batch_size=batch_size)
        mu, sd = predictor.predict(z, return_std=True)
        mus.append(mu)
        sds.append(sd)
    mu = np.concatenate(mus)
    sd = np.concatenate(sds)
    key = mu + kappa * sd
    order = np.argsort(-key, kind="stable")
    out: list[Candidate] = []
    seen: set[Cell] = set()
    for i in order:
        cell = _to_cell(batch, int(i))
        try:  # distinct *networks*: isolated (dropped) nodes do not make a cell different
            key_cell = cell.prune()
        except ValueError:
            key_cell = cell
        if key_cell in seen:
            continue
        seen.add(key_cell)
        out.append(Candidate(cell=cell, predicted=float(mu[i]), std=float(sd[i]), index=int(pool_idx[i])))
        if len(out) >= top_k:
            break
    return BootstrapResult(candidates=out, num_evaluated=len(batch), predicted=mu, pool_index=pool_idx)
