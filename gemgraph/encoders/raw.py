r"""The "raw" encoder: no learning, the flattened adjacency (+ one-hot ops) itself.

This is the "without embedding" arm of the paper's ablation: the same input the MLP sees.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import CellBatch, Encoder, register


@register("raw")
class RawEncoder(Encoder):
    r"""Identity encoder: ``f(A) = [vec(triu(A, 1)), onehot(ops)]``.

    Args:
        num_nodes: N (smaller cells are zero-padded).
        dim: ignored (kept for a uniform interface); :attr:`dim` is the input size.
        ops: op names to one-hot encode, or None.

    Shapes:
        (n cells) -> (n, N(N-1)/2 [+ N len(ops)]).
    """

    def __init__(self, num_nodes: int, dim: int = 128, ops: Sequence[str] | None = None) -> None:
        super().__init__(num_nodes, 1, ops)
        self.dim = self.flat_dim

    @property
    def config(self):
        return {**super().config, "dim": self.dim}

    def forward(self, batch: CellBatch) -> torch.Tensor:
        return self.flat_input(batch)
