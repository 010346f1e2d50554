r"""The default encoder: an MLP on the flattened adjacency (the paper's choice)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from .base import CellBatch, Encoder, register


@register("mlp")
class MLPEncoder(Encoder):
    hidden_option_kind = "widths"
    r"""MLP on the flattened strictly-upper-triangular adjacency (plus one-hot ops).

    Args:
        num_nodes: N (smaller cells are zero-padded).
        dim: embedding dimension.
        ops: op names to one-hot encode, or None (adjacency only).
        hidden: widths of the hidden layers (each Linear -> LayerNorm -> ReLU).

    Shapes:
        input (n, N(N-1)/2 [+ N len(ops)]) -> (n, dim).
    """

    def __init__(
        self, num_nodes: int, dim: int = 128, ops: Sequence[str] | None = None, hidden: Sequence[int] = (1024, 512)
    ) -> None:
        super().__init__(num_nodes, dim, ops)
        hidden = [int(h) for h in hidden]
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden: expected positive layer widths, got {hidden}")
        self.hidden = tuple(hidden)
        layers: list[nn.Module] = []
        width = self.flat_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LayerNorm(h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, dim))
        self.net = nn.Sequential(*layers)

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "hidden": list(self.hidden)}

    def forward(self, batch: CellBatch) -> torch.Tensor:
        return self.net(self.flat_input(batch))
