r"""Feature sets: several encoders side by side (e.g. a learned embedding next to the raw encoding)."""
from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from .base import CellBatch, Encoder
from ..errors import InputError


class ConcatEncoder(Encoder):
    r"""Concatenates the outputs of several encoders, each optionally L2-normalised.

    A composition of existing (trained) encoders, not trained itself: NAS-Bench-101 benchmarks
    use it for the ``"both"`` feature set (WL embedding + raw adjacency and ops). It is not in
    the name registry and cannot be saved: save its parts.

    Args:
        parts: the encoders (all with the same ``num_nodes``).
        normalize: per part, whether to L2-normalise its vectors (learned embeddings are
            trained on cosine similarity, so only their directions carry meaning); one bool
            applies to all parts.

    Shapes:
        CellBatch of n cells -> (n, sum of the parts' dims).
    """

    name = "concat"

    def __init__(self, parts: Sequence[Encoder], normalize: bool | Sequence[bool] = False) -> None:
        parts = list(parts)
        if not parts or not all(isinstance(p, Encoder) for p in parts):
            raise InputError(f"parts: expected a non-empty sequence of gemgraph Encoders, got {parts!r}")
        sizes = {p.num_nodes for p in parts}
        if len(sizes) != 1:
            raise InputError(f"parts: expected encoders of one num_nodes, got {sorted(sizes)}")
        norm = [bool(normalize)] * len(parts) if isinstance(normalize, bool) else [bool(v) for v in normalize]
        if len(norm) != len(parts):
            raise InputError(f"normalize: expected one bool per part ({len(parts)}), got {len(norm)}")
        super().__init__(num_nodes=parts[0].num_nodes, dim=sum(p.dim for p in parts))
        self.parts = torch.nn.ModuleList(parts)
        self.normalize = norm

    def extra_repr(self) -> str:
        names = ", ".join(f"{type(p).__name__}{'(normalised)' if n else ''}"
                          for p, n in zip(self.parts, self.normalize))
        return f"[{names}], dim={self.dim}"

    def forward(self, batch: CellBatch) -> torch.Tensor:
        outs = []
        for p, n in zip(self.parts, self.normalize):
            z = p(batch).float()
            outs.append(torch.nn.functional.normalize(z, dim=1, eps=1e-12) if n else z)
        return torch.cat(outs, dim=1)

    def save(self, path: str | os.PathLike) -> None:
        raise InputError("ConcatEncoder: cannot be saved as one file; save each of its parts")
