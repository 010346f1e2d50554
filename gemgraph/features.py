r"""Node features of cells, one definition for PyG ``Data`` and the GNN encoders.

:meth:`gemgraph.Cell.to_data` (hence :class:`~gemgraph.datasets.CellDataset` and the
NAS-Bench-101 datasets) and the ``"gin"`` / ``"gcn"`` encoders all call :func:`node_features`,
so a GNN trained by a PyG user on gemgraph's datasets sees what gemgraph's own encoders see:

* the **one-hot total degree** (in + out) over ``2 * num_nodes - 1`` classes: the WL kernel's
  initial label (the paper's degree labels, :mod:`gemgraph.wl`);
* then, when the cells carry ops, the **one-hot op** over ``op_vocab`` (default: the names of
  the ops' own vocabulary, :data:`~gemgraph.cell.OPS` for the supernet's; an encoder uses its
  own ``ops``); padding rows are zero.

Op indices are read in a vocabulary (``vocab``, an :class:`~gemgraph.vocab.OpVocabulary`,
default the supernet's) and one-hot encoded by *name*, so any space's ops work.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .vocab import OPS, OpVocabulary, as_vocab
from .errors import InputError

__all__ = ["node_features", "feature_dim"]


#: ``op_vocab`` default: the names of ``vocab`` (the supernet's :data:`OPS` by default).
_OWN: Any = ("<the vocabulary's names>",)


def feature_dim(num_nodes: int, op_vocab: Sequence[str] | OpVocabulary | None = OPS) -> int:
    """Width of :func:`node_features`: ``2 * num_nodes - 1 (+ len(op_vocab))``."""
    return 2 * int(num_nodes) - 1 + (0 if op_vocab is None else len(op_vocab))


def node_features(adj: torch.Tensor, ops: torch.Tensor | None = None, *, num_nodes: int | None = None,
                  op_vocab: Sequence[str] | OpVocabulary | None = _OWN,
                  vocab: OpVocabulary | None = None) -> torch.Tensor:
    r"""One-hot degree (+ one-hot op) features of every node.

    Args:
        adj: (N, N) or (B, N, N) adjacency (bool or 0/1), zero-padded.
        ops: (N,) or (B, N) long indices into ``vocab`` (:data:`~gemgraph.cell.OPS` by
            default), -1 on padding; None: degree features only.
        num_nodes: size the degree one-hot is built for (degrees are clipped at
            ``2 * num_nodes - 2``); default N. Give the largest cell size to batch cells of
            different sizes.
        op_vocab: the op names to one-hot, in order (default: all of ``vocab``'s names; a
            subset of them, e.g. an encoder's ``ops``); None or no ``ops``: no op part.
        vocab: the :class:`~gemgraph.vocab.OpVocabulary` that ``ops`` index (default
            :data:`~gemgraph.vocab.DEFAULT_VOCAB`).

    Returns:
        float (..., N, :func:`feature_dim`) features (without ``ops``: ``2 * num_nodes - 1``).

    Raises:
        ValueError: for bad shapes, or an op outside ``op_vocab`` (the message names it).

    Shapes: adj (B, N, N), ops (B, N) -> (B, N, 2 num_nodes - 1 + len(op_vocab))
    """
    adj = torch.as_tensor(adj)
    if adj.dim() not in (2, 3) or adj.shape[-1] != adj.shape[-2]:
        raise InputError(f"adj: expected shape (N, N) or (B, N, N), got {tuple(adj.shape)}")
    n_pad = adj.shape[-1]
    num_nodes = n_pad if num_nodes is None else int(num_nodes)
    if num_nodes < 1:
        raise InputError(f"num_nodes: expected an int >= 1, got {num_nodes}")
    a = adj.long()
    deg = a.sum(-2) + a.sum(-1)  # in + out
    x = torch.nn.functional.one_hot(deg.clamp(max=2 * num_nodes - 2), 2 * num_nodes - 1).float()
    if ops is None or op_vocab is None:
        return x
    voc = as_vocab(vocab)
    names = voc.names if op_vocab is _OWN else (op_vocab.names if isinstance(op_vocab, OpVocabulary)
                                                 else tuple(op_vocab))
    ops = torch.as_tensor(ops).long().to(adj.device)
    if ops.shape != adj.shape[:-1]:
        raise InputError(f"ops: expected shape {tuple(adj.shape[:-1])}, got {tuple(ops.shape)}")
    V = len(voc)
    # vocabulary index -> one-hot position (or -1); the last slot is padding
    lut = torch.full((V + 1,), -1, dtype=torch.long, device=adj.device)
    for k, name in enumerate(names):  # a name the vocabulary lacks keeps its slot, never set
        if name in voc:
            lut[voc.index(name)] = k
    real = ops >= 0
    if bool((ops >= V).any()):
        raise InputError(f"ops: expected indices into the vocabulary (< {V}) or -1, got {int(ops.max())}")
    pos = lut[torch.where(real, ops, torch.full_like(ops, V))]
    if bool((real & (pos < 0)).any()):
        bad = int(ops[real & (pos < 0)][0])
        raise InputError(f"cells: op {voc.names[bad]!r} is not among the ops {list(names)}")
    op_vocab = names
    onehot = torch.zeros(*pos.shape, len(op_vocab), device=adj.device)
    onehot.scatter_(-1, pos.clamp(min=0)[..., None], 1.0)
    return torch.cat([x, onehot * real[..., None]], dim=-1)
