r"""Node features of cells, one definition for PyG ``Data`` and the GNN encoders.

:meth:`gemgraph.Cell.to_data` (hence :class:`~gemgraph.datasets.CellDataset` and the
NAS-Bench-101 datasets) and the ``"gin"`` / ``"gcn"`` encoders all call :func:`node_features`,
so a GNN trained by a PyG user on gemgraph's datasets sees what gemgraph's own encoders see:

* the **one-hot total degree** (in + out) over ``2 * num_nodes - 1`` classes: the WL kernel's
  initial label (DESIGN.md, "Graph embedding");
* then, when the cells carry ops, the **one-hot op** over ``op_vocab`` (default
  :data:`~gemgraph.cell.OPS`; an encoder uses its own ``ops``); padding rows are zero.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from .cell import OPS

__all__ = ["node_features", "feature_dim"]


def feature_dim(num_nodes: int, op_vocab: Sequence[str] | None = OPS) -> int:
    """Width of :func:`node_features`: ``2 * num_nodes - 1 (+ len(op_vocab))``."""
    return 2 * int(num_nodes) - 1 + (0 if op_vocab is None else len(op_vocab))


def node_features(adj: torch.Tensor, ops: torch.Tensor | None = None, *, num_nodes: int | None = None,
                  op_vocab: Sequence[str] | None = OPS) -> torch.Tensor:
    r"""One-hot degree (+ one-hot op) features of every node.

    Args:
        adj: (N, N) or (B, N, N) adjacency (bool or 0/1), zero-padded.
        ops: (N,) or (B, N) long indices into :data:`~gemgraph.cell.OPS`, -1 on padding; None:
            degree features only.
        num_nodes: size the degree one-hot is built for (degrees are clipped at
            ``2 * num_nodes - 2``); default N. Give the largest cell size to batch cells of
            different sizes.
        op_vocab: the ops to one-hot, in order (a subset of ``OPS``); ignored without ``ops``.

    Returns:
        float (..., N, :func:`feature_dim`) features (without ``ops``: ``2 * num_nodes - 1``).

    Raises:
        ValueError: for bad shapes, or an op outside ``op_vocab`` (the message names it).

    Shapes: adj (B, N, N), ops (B, N) -> (B, N, 2 num_nodes - 1 + len(op_vocab))
    """
    adj = torch.as_tensor(adj)
    if adj.dim() not in (2, 3) or adj.shape[-1] != adj.shape[-2]:
        raise ValueError(f"adj: expected shape (N, N) or (B, N, N), got {tuple(adj.shape)}")
    n_pad = adj.shape[-1]
    num_nodes = n_pad if num_nodes is None else int(num_nodes)
    if num_nodes < 1:
        raise ValueError(f"num_nodes: expected an int >= 1, got {num_nodes}")
    a = adj.long()
    deg = a.sum(-2) + a.sum(-1)  # in + out
    x = torch.nn.functional.one_hot(deg.clamp(max=2 * num_nodes - 2), 2 * num_nodes - 1).float()
    if ops is None or op_vocab is None:
        return x
    ops = torch.as_tensor(ops).long().to(adj.device)
    if ops.shape != adj.shape[:-1]:
        raise ValueError(f"ops: expected shape {tuple(adj.shape[:-1])}, got {tuple(ops.shape)}")
    lut = torch.full((len(OPS) + 1,), -1, dtype=torch.long, device=adj.device)  # OPS index -> vocab position
    for k, name in enumerate(op_vocab):
        if name not in OPS:
            raise ValueError(f"op_vocab: {name!r} is not one of {list(OPS)}")
        lut[OPS.index(name)] = k
    real = ops >= 0
    if bool((ops >= len(OPS)).any()):
        raise ValueError(f"ops: expected indices into OPS (< {len(OPS)}) or -1, got {int(ops.max())}")
    pos = lut[torch.where(real, ops, torch.full_like(ops, len(OPS)))]
    if bool((real & (pos < 0)).any()):
        bad = int(ops[real & (pos < 0)][0])
        raise ValueError(f"cells: op {OPS[bad]!r} is not among the ops {list(op_vocab)}")
    onehot = torch.zeros(*pos.shape, len(op_vocab), device=adj.device)
    onehot.scatter_(-1, pos.clamp(min=0)[..., None], 1.0)
    return torch.cat([x, onehot * real[..., None]], dim=-1)
