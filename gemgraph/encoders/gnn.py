r"""Graph neural network encoders ("gin", "gcn") built from PyG layers.

The whole batch is one disjoint graph (built vectorised from the padded adjacency, no Python
loop over cells). Messages flow from each node's *successors* to the node, mirroring the WL
kernel's out-neighbour aggregation; initial node features are
:func:`gemgraph.features.node_features` (one-hot total degree, the WL kernel's initial label,
plus one-hot ops when the encoder uses ops), the function ``Cell.to_data`` uses too. Read-out concatenates
the sum-pooled node states of every layer (the analogue of WL's per-iteration histograms),
then a linear map to ``dim``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ..features import feature_dim, node_features
from .base import CellBatch, Encoder, register
from ..errors import InputError


class _GNNEncoder(Encoder):
    """Shared constructor and forward of the PyG message-passing encoders."""

    hidden_option_kind = "width"

    def __init__(
        self, num_nodes: int, dim: int = 128, ops: Sequence[str] | None = None, hidden: int = 64, layers: int = 3
    ) -> None:
        super().__init__(num_nodes, dim, ops)
        if int(layers) < 1 or int(hidden) < 1:
            raise InputError(f"hidden, layers: expected positive ints, got {hidden}, {layers}")
        self.hidden, self.layers = int(hidden), int(layers)
        in_dim = feature_dim(num_nodes, self.ops)
        self.inp = nn.Linear(in_dim, self.hidden)
        self.convs = nn.ModuleList([self.make_conv(self.hidden) for _ in range(self.layers)])
        self.out = nn.Sequential(
            nn.Linear(self.hidden * (self.layers + 1), 2 * self.hidden), nn.ReLU(), nn.Linear(2 * self.hidden, dim)
        )

    def make_conv(self, h: int) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def config(self) -> dict[str, Any]:
        return {**super().config, "hidden": self.hidden, "layers": self.layers}

    def graph_inputs(self, batch: CellBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Node features (n*N, F), edge_index (2, E) successor -> node, real-node mask (n, N)."""
        n, N, _ = batch.adj.shape
        adj = batch.adj
        if self.ops is not None and batch.ops is None:
            self.op_onehot(batch)  # raises: this encoder needs ops
        x = node_features(adj, batch.ops if self.ops is not None else None, num_nodes=N, op_vocab=self.ops,
                          vocab=batch.vocab)
        b, i, j = adj.nonzero(as_tuple=True)
        # edge i -> j in the cell; message from j (successor) to i, as WL's out-neighbours
        edge_index = torch.stack([b * N + j, b * N + i])
        mask = torch.arange(N, device=adj.device)[None, :] < batch.sizes[:, None]
        return x.reshape(n * N, -1), edge_index, mask

    def forward(self, batch: CellBatch) -> torch.Tensor:
        n, N = batch.adj.shape[:2]
        x, edge_index, mask = self.graph_inputs(batch)
        h = torch.relu(self.inp(x))
        m = mask.reshape(n * N, 1).float()
        pooled = [(h * m).reshape(n, N, -1).sum(1)]
        for conv in self.convs:
            h = torch.relu(conv(h, edge_index))
            pooled.append((h * m).reshape(n, N, -1).sum(1))
        return self.out(torch.cat(pooled, dim=1) / N)


@register("gin")
class GINEncoder(_GNNEncoder):
    r"""GIN (Xu et al. 2019) encoder: ``layers`` PyG ``GINConv`` with 2-layer MLPs.

    Args:
        num_nodes: N; dim: output size; ops: op names to one-hot (or None);
        hidden: node state width; layers: number of message-passing layers.

    Shapes:
        (n cells of <= N nodes) -> (n, dim).
    """

    def make_conv(self, h: int) -> nn.Module:
        from torch_geometric.nn import GINConv  # noqa: PLC0415 - PyG loads in seconds: only when a GNN is built

        return GINConv(nn.Sequential(nn.Linear(h, h), nn.ReLU(), nn.Linear(h, h)), train_eps=True)


@register("gcn")
class GCNEncoder(_GNNEncoder):
    r"""GCN (Kipf & Welling 2017) encoder: ``layers`` PyG ``GCNConv``.

    Args: as :class:`GINEncoder`.
    """

    def make_conv(self, h: int) -> nn.Module:
        from torch_geometric.nn import GCNConv  # noqa: PLC0415 - PyG loads in seconds: only when a GNN is built

        return GCNConv(h, h)
